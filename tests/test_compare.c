/* test_compare: rd_cmp_ulp and rd_cmp_floats, the exact comparison behind
 * `reprodist check`. Expected values are built from bit patterns (nextafterf
 * and explicit IEEE encodings), never from the code under test. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"

#include "check.h"

static float from_bits(uint32_t b) {
  float f;
  memcpy(&f, &b, 4);
  return f;
}

/* ulp(a, b) must equal want, in both argument orders. */
static void ulp_is(float a, float b, uint64_t want, const char *what) {
  uint64_t ab = rd_cmp_ulp(a, b), ba = rd_cmp_ulp(b, a);
  CHECK(ab == want && ba == want, "ulp(%s): got %llu / %llu (both orders), expected %llu", what,
        (unsigned long long)ab, (unsigned long long)ba, (unsigned long long)want);
}

static void test_ulp(void) {
  const float pz = 0.0f, nz = -0.0f, tiny = from_bits(1), ntiny = from_bits(0x80000001u);
  const float fmax = from_bits(0x7f7fffffu), inf = from_bits(0x7f800000u), ninf = from_bits(0xff800000u);
  ulp_is(1.0f, 1.0f, 0, "equal");
  ulp_is(pz, pz, 0, "+0, +0");
  ulp_is(pz, nz, 1, "+0, -0 (bits differ, adjacent)");
  ulp_is(pz, tiny, 1, "+0, smallest subnormal");
  ulp_is(nz, ntiny, 1, "-0, -smallest subnormal");
  ulp_is(tiny, ntiny, 3, "across zero: s, +0, -0, -s");
  ulp_is(from_bits(5), from_bits(0x80000007u), 13, "across zero: 5 + 1 + 7");
  ulp_is(fmax, inf, 1, "FLT_MAX, +inf");
  ulp_is(ninf, inf, 2ull * 0x7f800000u + 1, "-inf, +inf: the whole line");
  /* Adjacent floats are 1 apart everywhere: normals, subnormals, powers of 2. */
  const float probes[] = {1.0f, -1.0f, 0.1f, -3.5e-20f, 1.17549435e-38f, 2.0f, 65536.0f, -1e30f, 1e-40f, -1e-44f};
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
    float x = probes[i];
    float up = nextafterf(x, INFINITY), down = nextafterf(x, -INFINITY);
    char what[64];
    snprintf(what, sizeof what, "%g and its upper neighbour", (double)x);
    ulp_is(x, up, 1, what);
    snprintf(what, sizeof what, "%g and its lower neighbour", (double)x);
    ulp_is(x, down, 1, what);
    snprintf(what, sizeof what, "%g, 2 steps up", (double)x);
    ulp_is(x, nextafterf(up, INFINITY), 2, what);
  }
  /* Far apart: 1.0 (0x3f800000) and 2.0 (0x40000000) are 2^23 apart. */
  ulp_is(1.0f, 2.0f, 1u << 23, "1 and 2");
  ulp_is(-1.0f, 1.0f, 2ull * 0x3f800000u + 1, "-1 and 1");
  /* NaN: defined by its bits; the same NaN is 0 away from itself, and a NaN is
   * farther from 1 than +inf is (its bits lie beyond inf's). */
  const float qnan = from_bits(0x7fc00000u);
  ulp_is(qnan, qnan, 0, "the same NaN");
  CHECK(rd_cmp_ulp(qnan, 1.0f) > rd_cmp_ulp(inf, 1.0f), "NaN vs 1 should be farther than inf vs 1 (got %llu)",
        (unsigned long long)rd_cmp_ulp(qnan, 1.0f));
  CHECK(rd_cmp_ulp(qnan, from_bits(0x7fc00001u)) == 1, "two NaNs with adjacent payloads are 1 apart");
}

static void test_floats(void) {
  rd_cmp c;
  float a[8] = {0.5f, -1.0f, 3.0f, 0.0f, 1e-3f, -2.0f, 7.0f, 100.0f}, b[8];

  memcpy(b, a, sizeof a);
  memset(&c, 0xff, sizeof c); /* rd_cmp_floats must clear it */
  rd_cmp_floats(a, b, 8, &c);
  CHECK(c.differ == 0 && c.max_abs == 0.0 && c.max_ulp == 0, "identical: differ %zu max_abs %g max_ulp %llu",
        c.differ, c.max_abs, (unsigned long long)c.max_ulp);

  rd_cmp_floats(a, b, 0, &c);
  CHECK(c.differ == 0, "n = 0: nothing differs");

  /* One element, 1 ulp up. */
  memcpy(b, a, sizeof a);
  b[4] = nextafterf(a[4], INFINITY);
  rd_cmp_floats(a, b, 8, &c);
  CHECK(c.differ == 1 && c.first == 4 && c.max_ulp == 1, "one 1-ulp change: differ %zu first %zu ulp %llu", c.differ,
        c.first, (unsigned long long)c.max_ulp);
  CHECK(c.max_abs == (double)b[4] - (double)a[4], "max_abs %.17g, expected %.17g", c.max_abs,
        (double)b[4] - (double)a[4]);

  /* Several: count, first index, max |diff| and max ulp from different elements. */
  memcpy(b, a, sizeof a);
  b[2] = 3.5f;                               /* |diff| 0.5, 2^21 ulp */
  b[6] = nextafterf(nextafterf(7.0f, 0), 0); /* 2 ulp, |diff| tiny */
  b[7] = 90.0f;                              /* |diff| 10, 10 * 2^17 ulp */
  rd_cmp_floats(a, b, 8, &c);
  CHECK(c.differ == 3, "three changed: differ %zu", c.differ);
  CHECK(c.first == 2, "first differing index %zu, expected 2", c.first);
  CHECK(c.max_abs == 10.0, "max_abs %g, expected 10", c.max_abs);
  /* 3.0 -> 3.5 inside [2, 4) where an ulp is 2^-22: 2^21 ulp, the largest;
   * 100 -> 90 inside [64, 128) (ulp 2^-17) is only 10 * 2^17 ulp. */
  CHECK(c.max_ulp == 1ull << 21, "max_ulp %llu, expected %llu (element 2)", (unsigned long long)c.max_ulp,
        1ull << 21);
  CHECK(rd_cmp_ulp(100.0f, 90.0f) == 10ull << 17, "ulp(100, 90) %llu, expected %llu",
        (unsigned long long)rd_cmp_ulp(100.0f, 90.0f), 10ull << 17);

  /* First index 0 and last index n-1. */
  memcpy(b, a, sizeof a);
  b[0] = -0.5f;
  b[7] = nextafterf(100.0f, 0);
  rd_cmp_floats(a, b, 8, &c);
  CHECK(c.differ == 2 && c.first == 0, "first at 0: differ %zu first %zu", c.differ, c.first);

  /* +0 vs -0 differ bitwise: counted, |diff| 0, 1 ulp. */
  memcpy(b, a, sizeof a);
  b[3] = -0.0f;
  rd_cmp_floats(a, b, 8, &c);
  CHECK(c.differ == 1 && c.first == 3 && c.max_abs == 0.0 && c.max_ulp == 1,
        "+0 vs -0: differ %zu first %zu max_abs %g ulp %llu", c.differ, c.first, c.max_abs,
        (unsigned long long)c.max_ulp);

  /* NaN vs number: counted, max_abs is inf. */
  memcpy(b, a, sizeof a);
  b[5] = from_bits(0x7fc00000u);
  rd_cmp_floats(a, b, 8, &c);
  CHECK(c.differ == 1 && c.first == 5 && isinf(c.max_abs), "NaN vs number: differ %zu first %zu max_abs %g", c.differ,
        c.first, c.max_abs);

  /* The same NaN bits on both sides are identical (a bitwise comparison, not ==). */
  float na[2] = {from_bits(0x7fc00000u), 1.0f}, nb[2] = {from_bits(0x7fc00000u), 1.0f};
  rd_cmp_floats(na, nb, 2, &c);
  CHECK(c.differ == 0, "same NaN bits: differ %zu", c.differ);
  /* Different NaN payloads differ. */
  nb[0] = from_bits(0x7fc00001u);
  rd_cmp_floats(na, nb, 2, &c);
  CHECK(c.differ == 1 && c.first == 0, "NaN payloads: differ %zu", c.differ);

  /* A large vector: every 97th element 1 ulp off. */
  enum { N = 10000 };
  static float x[N], y[N];
  size_t want = 0;
  for (size_t i = 0; i < N; i++) {
    x[i] = y[i] = (float)((double)i * 0.37 - 1000.0);
    if (i % 97 == 13) y[i] = nextafterf(x[i], -INFINITY), want++;
  }
  rd_cmp_floats(x, y, N, &c);
  CHECK(c.differ == want && c.first == 13 && c.max_ulp == 1, "large: differ %zu (want %zu) first %zu ulp %llu",
        c.differ, want, c.first, (unsigned long long)c.max_ulp);
}

int main(void) {
  test_ulp();
  test_floats();
  printf("%d passed, %d failed\n", passes, fails);
  return fails ? 1 : 0;
}
