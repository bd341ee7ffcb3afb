/* test_kern: the portable kernels (kern.h, pmath.h).
 *  - GEMM: on every path this CPU runs (scalar, avx2, avx512; neon on aarch64),
 *    every element equals the specification computed here by the plain loop
 *    (one fmaf chain over k in increasing order, from 0 or from C), bit for
 *    bit: transposes, beta 0 and 1, edge tiles, k beyond one cache block, m and
 *    n beyond one block, strided operands; padding of C is never written.
 *  - gemm_grad with a fold set (kern.h): on every path, the product folded into
 *    the waiting nodes has the bits of the push's additions after the
 *    product, the slot is never written, and every product that must fold does.
 *  - RD_ISA selection: unknown or unsupported names are refused.
 *  - exp, log, tanh, sigmoid: within 1 ulp of float64 libm over sweeps of the
 *    input ranges training reaches; the special values; and their bits equal
 *    the known answers in tests/pmath_kat.txt (regenerate, only when a change of
 *    bits is intended: test_kern --write-kat > tests/pmath_kat.txt). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern.h"
#include "pmath.h"
#include "seed.h"

#include "check.h"

static float val(uint64_t s, uint64_t i) { return (float)(rd_seed_uniform(rd_seed_word(s, i, 0)) * 2.0 - 1.0); }

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* ---- GEMM ------------------------------------------------------------------- */
/* The specification, directly. */
static void spec_gemm(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                      int64_t ldb, float beta, float *c, int64_t ldc) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      float acc = beta != 0.0f ? c[i * ldc + j] : 0.0f;
      for (int64_t p = 0; p < k; p++)
        acc = fmaf(ta ? a[p * lda + i] : a[i * lda + p], tb ? b[j * ldb + p] : b[p * ldb + j], acc);
      c[i * ldc + j] = acc;
    }
}

/* With pad, A's and B's rows lie a few floats further apart than their
 * width; without, exactly their width (so a multiple of 128 or 256 when the
 * width is). */
static void check_gemm(rd_isa isa, int ta, int tb, int64_t m, int64_t n, int64_t k, int beta, int pad) {
  const int64_t lda = (ta ? m : k) + (pad ? 3 : 0), ldb = (tb ? k : n) + (pad ? 5 : 0), ldc = n + 7;
  const int64_t arows = ta ? k : m, brows = tb ? n : k;
  float *a = malloc(sizeof(float) * (size_t)(arows * lda + 1));
  float *b = malloc(sizeof(float) * (size_t)(brows * ldb + 1));
  float *c = malloc(sizeof(float) * (size_t)(m * ldc + 1)), *want = malloc(sizeof(float) * (size_t)(m * ldc + 1));
  for (int64_t i = 0; i < arows * lda; i++) a[i] = val(1, (uint64_t)i);
  for (int64_t i = 0; i < brows * ldb; i++) b[i] = val(2, (uint64_t)i) * (i % 7 == 0 ? 1e-3f : 1.0f);
  for (int64_t i = 0; i < m * ldc; i++) c[i] = want[i] = val(3, (uint64_t)i);
  spec_gemm(ta, tb, m, n, k, a, lda, b, ldb, (float)beta, want, ldc);
  rd_kern_gemm_isa(isa, ta, tb, m, n, k, a, lda, b, ldb, (float)beta, c, ldc);
  int64_t bad = -1;
  for (int64_t i = 0; i < m * ldc && bad < 0; i++)
    if (bits(c[i]) != bits(want[i])) bad = i;
  CHECK(bad < 0, "%s gemm ta=%d tb=%d m=%" PRId64 " n=%" PRId64 " k=%" PRId64 " beta=%d pad=%d: element %" PRId64
                 " (row %" PRId64 ", col %" PRId64 ") is %a, the fmaf chain gives %a",
        rd_kern_isa_name(isa), ta, tb, m, n, k, beta, pad, bad, bad / ldc, bad % ldc, bad >= 0 ? c[bad] : 0.0f,
        bad >= 0 ? want[bad] : 0.0f);
  free(a), free(b), free(c), free(want);
}

/* Every shape of the list in all 4 transposes and both betas. */
static void check_shapes(rd_isa isa, const int64_t (*shapes)[3], size_t count, int pad) {
  for (size_t s = 0; s < count; s++)
    for (int t = 0; t < 4; t++)
      for (int beta = 0; beta < 2; beta++)
        check_gemm(isa, t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2], beta, pad);
}

static void test_gemm(void) {
  /* m, n, k: single elements, partial tiles, k over the 256-step block, m over
   * the 240-row block, n over the 2048-column block, the layers' shapes, a
   * few rows times a wide transposed B (computed as C^T, k unblocked), and
   * the narrow tile (n at most one vector: 16 filters) over several row
   * blocks, full and partial, and as C^T; and last columns on the wide
   * tile's half: exactly one vector of them (144 and 48 on AVX-512, 520 on
   * AVX2, 36 on NEON; in place) and fewer (33, 1030, 36 on x86: through
   * its zero-padded copy), on full rows and on its row edges (9 x 16 and 7 x
   * 8 on x86, whose rows would leave the narrow tile mostly idle; 29 x 36 on
   * NEON); and B's rows closer than a panel is wide (3 x 5 x 40: its padded
   * panel's fixed-size copies read several rows ahead, never past B, which
   * the sanitizer build checks). */
  static const int64_t shapes[][3] = {{1, 1, 1},     {5, 7, 3},      {13, 33, 300},  {121, 17, 9},
                                      {64, 128, 784}, {3, 2051, 5},  {12, 32, 256},  {250, 31, 513},
                                      {9, 32, 1000},  {7, 1, 0},     {20, 1030, 1100}, {32, 520, 300},
                                      {500, 16, 144}, {483, 8, 300},  {241, 12, 17},  {16, 700, 200},
                                      {432, 144, 16}, {100, 48, 40},  {29, 36, 70},   {9, 16, 700},
                                      {7, 8, 300},    {3, 5, 40}};
  /* With rows exactly as wide as the matrices: a transposed A 256 or 1024
   * floats a row, which is packed into skewed panels (over two row blocks,
   * the last with a row edge), and B rows 128 and 256 apart (read in place)
   * and 1024 apart (packed when three row tiles or more reuse them). */
  static const int64_t tight[][3] = {{256, 40, 30}, {300, 128, 20}, {50, 256, 33}, {33, 1024, 17}, {1024, 20, 9}};
  int ran = 0;
  for (int isa = 0; isa < RD_ISA_COUNT; isa++) {
    if (!rd_kern_isa_supported((rd_isa)isa)) continue;
    ran++;
    check_shapes((rd_isa)isa, shapes, sizeof shapes / sizeof *shapes, 1);
    check_shapes((rd_isa)isa, tight, sizeof tight / sizeof *tight, 0);
    printf("gemm: the %s path equals the fmaf chain on %zu + %zu shapes x 4 transposes x 2 betas\n",
           rd_kern_isa_name((rd_isa)isa), sizeof shapes / sizeof *shapes, sizeof tight / sizeof *tight);
  }
#if defined(__x86_64__)
  CHECK(ran >= 2, "only %d paths ran on x86-64: scalar and at least avx2 expected on this CPU", ran);
#endif
}

/* ---- folding a push into gemm_grad's store (kern.h) -------------------------------------- */
/* One product C (m, n) = op(A) op(B), beta 0, C at `off` floats into a slot,
 * with a fold of nd waiting nodes set: where the fold applies, the last node
 * holds ((C + d0) + d1) + ... as the push would leave it (each sum's bits,
 * t = d_q + t), the other nodes and the slot are untouched and the range is
 * recorded; elsewhere C holds the product and nothing else moved. Returns 1
 * when the fold applied. */
static float node_val(int q, int64_t i) { return val(20 + (uint64_t)q, (uint64_t)i) * (q == 1 ? 1e-4f : 1.0f); }

static int check_fold(rd_isa isa, int ta, int tb, int64_t m, int64_t n, int64_t k, int nd) {
  const rd_kern_ops *ops = rd_kern_ops_of(RD_KERN_PORTABLE);
  const int64_t lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, off = 5, len = off + m * n + 3;
  const int64_t arows = ta ? k : m, brows = tb ? n : k;
  float *a = malloc(sizeof(float) * (size_t)(arows * lda)), *b = malloc(sizeof(float) * (size_t)(brows * ldb));
  float *slot = malloc(sizeof(float) * (size_t)len), *prod = malloc(sizeof(float) * (size_t)(m * n));
  float *d[8], *want = malloc(sizeof(float) * (size_t)len);
  for (int64_t i = 0; i < arows * lda; i++) a[i] = val(11, (uint64_t)i);
  for (int64_t i = 0; i < brows * ldb; i++) b[i] = val(12, (uint64_t)i);
  for (int64_t i = 0; i < len; i++) slot[i] = from_bits(0x7fc00000u + (uint32_t)i); /* NaNs: no product read it */
  for (int q = 0; q < nd; q++) {
    d[q] = malloc(sizeof(float) * (size_t)len);
    for (int64_t i = 0; i < len; i++) d[q][i] = node_val(q, i);
  }
  spec_gemm(ta, tb, m, n, k, a, lda, b, ldb, 0.0f, prod, n);
  memcpy(want, d[nd - 1], sizeof(float) * (size_t)len);
  for (int64_t i = 0; i < m * n; i++) {
    float t = d[0][off + i] + prod[i];
    for (int q = 1; q < nd; q++) t = d[q][off + i] + t;
    want[off + i] = t;
  }
  rd_kern_fold f = {.slot = slot, .len = (size_t)len, .n = nd};
  for (int q = 0; q < nd; q++) f.dst[q] = d[q];
  char err[200];
  CHECK(rd_kern_isa_select(rd_kern_isa_name(isa), err, sizeof err) == 0, "RD_ISA=%s: %s", rd_kern_isa_name(isa), err);
  rd_kern_fold_set(&f);
  ops->gemm_grad(ta, tb, m, n, k, a, lda, b, ldb, 0.0f, slot + off, n);
  rd_kern_fold_set(NULL);
  int bad = 0;
  if (f.nranges == 1) {
    bad |= f.lo[0] != (size_t)off || f.hi[0] != (size_t)(off + m * n);
    for (int64_t i = 0; i < len; i++) bad |= bits(slot[i]) != 0x7fc00000u + (uint32_t)i;
    for (int64_t i = 0; i < len; i++) bad |= bits(d[nd - 1][i]) != bits(want[i]);
    for (int q = 0; q < nd - 1; q++)
      for (int64_t i = 0; i < len; i++) bad |= bits(d[q][i]) != bits(node_val(q, i));
  } else {
    bad |= f.nranges != 0;
    for (int64_t i = 0; i < m * n; i++) bad |= bits(slot[off + i]) != bits(prod[i]);
    for (int q = 0; q < nd; q++)
      for (int64_t i = 0; i < len; i++) bad |= bits(d[q][i]) != bits(node_val(q, i));
  }
  CHECK(!bad, "%s gemm_grad ta=%d tb=%d m=%" PRId64 " n=%" PRId64 " k=%" PRId64 " with %d waiting nodes (%s): wrong "
              "bits", rd_kern_isa_name(isa), ta, tb, m, n, k, nd, f.nranges ? "folded" : "stored");
  const int folded = f.nranges == 1;
  for (int q = 0; q < nd; q++) free(d[q]);
  free(a), free(b), free(slot), free(prod), free(want);
  return folded;
}

static void test_fold(void) {
  /* Dense's kernel gradient (ta = 1) at shard sizes 16 and 32, with row and
   * column edges, the half and masked tiles, k at the 256-step block (folded)
   * and past it (stored: the fold needs k in one block). */
  static const int64_t shapes[][3] = {{5, 7, 3},   {13, 33, 30}, {17, 10, 32},  {9, 16, 5},     {40, 48, 16},
                                      {8, 32, 256}, {8, 32, 257}, {784, 40, 16}, {100, 1030, 32}, {3, 1, 1}};
  for (int isa = 0; isa < RD_ISA_COUNT; isa++) {
    if (!rd_kern_isa_supported((rd_isa)isa)) continue;
    int folded = 0, cases = 0, must = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
      for (int t = 0; t < 4; t++)
        for (int nd = 1; nd <= 5; nd++) {
          const int ta = t & 1, tb = t >> 1, got = check_fold((rd_isa)isa, ta, tb, shapes[s][0], shapes[s][1],
                                                               shapes[s][2], nd);
          folded += got, cases++;
          if ((ta || !tb) && shapes[s][2] <= 256) { /* never the C^T route; k in one block: must fold */
            must++;
            CHECK(got, "%s gemm_grad ta=%d tb=%d m=%" PRId64 " n=%" PRId64 " k=%" PRId64 ": not folded",
                  rd_kern_isa_name((rd_isa)isa), ta, tb, shapes[s][0], shapes[s][1], shapes[s][2]);
          }
        }
    printf("gemm_grad: the %s path folded %d of %d products (%d must), each with the push's bits\n",
           rd_kern_isa_name((rd_isa)isa), folded, cases, must);
  }
  char err[200];
  rd_kern_isa_select(NULL, err, sizeof err);
  /* Outside the slot, or with beta 1: stored as gemm, nothing recorded. */
  float slot[16] = {0}, c[4] = {0}, a[2] = {1.0f, 2.0f}, b[2] = {3.0f, 4.0f}, d0[16] = {0};
  rd_kern_fold f = {.slot = slot, .len = 16, .n = 1, .dst = {d0}};
  rd_kern_fold_set(&f);
  rd_kern_ops_of(RD_KERN_PORTABLE)->gemm_grad(0, 0, 2, 2, 1, a, 1, b, 2, 0.0f, c, 2);
  rd_kern_ops_of(RD_KERN_PORTABLE)->gemm_grad(0, 0, 2, 2, 1, a, 1, b, 2, 1.0f, slot, 2);
  rd_kern_fold_set(NULL);
  CHECK(f.nranges == 0 && c[0] == 3.0f && c[3] == 8.0f && slot[3] == 8.0f && d0[0] == 0.0f,
        "gemm_grad outside the slot or with beta 1 is gemm");
}

static void test_isa_select(void) {
  char err[256] = "";
  CHECK(rd_kern_isa_select("scalar", err, sizeof err) == 0 && rd_kern_isa() == RD_ISA_SCALAR, "RD_ISA=scalar");
  CHECK(rd_kern_isa_select("sse9", err, sizeof err) == -1 && strstr(err, "unknown path"), "RD_ISA=sse9: %s", err);
#if defined(__x86_64__)
  CHECK(rd_kern_isa_select("neon", err, sizeof err) == -1 && strstr(err, "cannot run the neon path"),
        "RD_ISA=neon on x86-64: %s", err);
#else
  CHECK(rd_kern_isa_select("avx2", err, sizeof err) == -1, "RD_ISA=avx2 off x86-64: %s", err);
#endif
  CHECK(rd_kern_isa_select(NULL, err, sizeof err) == 0 && rd_kern_isa_supported(rd_kern_isa()), "the default path");
}

/* ---- pmath ------------------------------------------------------------------ */
typedef struct {
  const char *name;
  float (*f)(float);
  double (*ref)(double);
  float lo, hi; /* the sweep */
} fn_case;

static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }

static const fn_case k_fns[] = {
    {"exp", rd_pmath_expf, exp, -104.0f, 89.0f},
    {"log", rd_pmath_logf, log, 1e-45f, 3.4e38f},
    {"tanh", rd_pmath_tanhf, tanh, -12.0f, 12.0f},
    {"sigmoid", rd_pmath_sigmoidf, sigmoid_d, -110.0f, 45.0f},
};

/* |got - want| in units of the float spacing at want (want rounded to float). */
static double ulps(float got, double want) {
  if (isinf(want) || (float)want == 0.0f || isinf((float)want)) return (double)got == (double)(float)want ? 0.0 : 1e9;
  const float w = (float)want;
  const double ulp = (double)nextafterf(fabsf(w), INFINITY) - (double)fabsf(w);
  return fabs((double)got - want) / ulp;
}

/* Every 97th float between lo and hi (both signs where the range has them). */
static void test_accuracy(void) {
  for (size_t f = 0; f < sizeof k_fns / sizeof *k_fns; f++) {
    const fn_case *c = &k_fns[f];
    double worst = 0.0;
    float at = 0.0f;
    long n = 0;
    for (int sign = 0; sign < 2; sign++) {
      const float end = sign ? -c->lo : c->hi;
      if (sign ? c->lo >= 0.0f : c->hi <= 0.0f) continue;
      const float start = sign ? (c->hi < 0.0f ? -c->hi : 0.0f) : (c->lo > 0.0f ? c->lo : 0.0f);
      for (uint32_t u = bits(start); u <= bits(fabsf(end)); u += 97, n++) {
        const float x = sign ? -from_bits(u) : from_bits(u);
        const double e = ulps(c->f(x), c->ref((double)x));
        if (e > worst) worst = e, at = x;
      }
    }
    printf("%s: worst %.3f ulp against float64 libm at %a, over %ld inputs in [%g, %g]\n", c->name, worst, at, n,
           (double)c->lo, (double)c->hi);
    CHECK(worst <= 1.0, "%s: %.3f ulp from float64 libm at %a (the bound is 1)", c->name, worst, at);
  }
}

static void test_specials(void) {
  const float inf = INFINITY, nan = NAN;
  CHECK(rd_pmath_expf(-inf) == 0.0f && rd_pmath_expf(inf) == inf && rd_pmath_expf(0.0f) == 1.0f, "exp specials");
  CHECK(rd_pmath_expf(89.0f) == inf && rd_pmath_expf(-104.0f) == 0.0f, "exp overflow and underflow");
  CHECK(rd_pmath_logf(0.0f) == -inf && rd_pmath_logf(-0.0f) == -inf && rd_pmath_logf(inf) == inf &&
            rd_pmath_logf(1.0f) == 0.0f,
        "log specials");
  CHECK(bits(rd_pmath_logf(-1.0f)) == 0x7fc00000u && bits(rd_pmath_logf(-inf)) == 0x7fc00000u, "log of x < 0");
  CHECK(bits(rd_pmath_tanhf(-0.0f)) == 0x80000000u && rd_pmath_tanhf(inf) == 1.0f && rd_pmath_tanhf(-inf) == -1.0f,
        "tanh specials");
  CHECK(rd_pmath_sigmoidf(inf) == 1.0f && rd_pmath_sigmoidf(-inf) == 0.0f && rd_pmath_sigmoidf(0.0f) == 0.5f,
        "sigmoid specials");
  for (size_t f = 0; f < sizeof k_fns / sizeof *k_fns; f++)
    CHECK(bits(k_fns[f].f(nan)) == 0x7fc00000u && bits(k_fns[f].f(-nan)) == 0x7fc00000u, "%s(NaN) is 0x7fc00000",
          k_fns[f].name);
}

/* The known-answer inputs: 64 per function, spread over its sweep by a hash,
 * plus the ends of the range. */
static float kat_input(const fn_case *c, int i) {
  if (i == 0) return c->lo;
  if (i == 1) return c->hi;
  const double u = rd_seed_uniform(rd_seed_word(0x6b6174, (uint64_t)i, 0));
  if (c->lo > 0.0f) return (float)exp(log((double)c->lo) + u * (log((double)c->hi) - log((double)c->lo)));
  return (float)((double)c->lo + u * ((double)c->hi - (double)c->lo));
}

enum { KAT_N = 64 };

static void write_kat(void) {
  printf("# tests/pmath_kat.txt: pmath's bits at known inputs (function, input, result as float32 hex bits).\n"
         "# Regenerate only when a change of bits is intended: test_kern --write-kat > tests/pmath_kat.txt\n");
  for (size_t f = 0; f < sizeof k_fns / sizeof *k_fns; f++)
    for (int i = 0; i < KAT_N; i++) {
      const float x = kat_input(&k_fns[f], i);
      printf("%s %08" PRIx32 " %08" PRIx32 "\n", k_fns[f].name, bits(x), bits(k_fns[f].f(x)));
    }
}

static void test_kat(const char *path) {
  FILE *fp = fopen(path, "r");
  CHECK(fp != NULL, "cannot open %s", path);
  if (!fp) return;
  char line[256], name[32];
  unsigned x, y;
  int n = 0;
  while (fgets(line, sizeof line, fp)) {
    if (line[0] == '#') continue;
    if (sscanf(line, "%31s %x %x", name, &x, &y) != 3) continue;
    const fn_case *c = NULL;
    for (size_t f = 0; f < sizeof k_fns / sizeof *k_fns; f++)
      if (!strcmp(k_fns[f].name, name)) c = &k_fns[f];
    CHECK(c != NULL, "%s: unknown function %s", path, name);
    if (!c) continue;
    const uint32_t got = bits(c->f(from_bits(x)));
    CHECK(got == y, "%s(%a) = %08" PRIx32 ", known answer %08x (%s; if intended: test_kern --write-kat > %s)", name,
          from_bits(x), got, y, path, path);
    n++;
  }
  fclose(fp);
  CHECK(n == KAT_N * 4, "%s: %d known answers, expected %d", path, n, KAT_N * 4);
  printf("pmath: %d known answers of %s match\n", n, path);
}

/* The double functions of the learning-rate schedules against float64 libm:
 * exp and pow relative, cos absolute (its values near its zeros have no
 * relative accuracy in any implementation that takes a double argument). */
static void test_double_fns(void) {
  double we = 0, wc = 0, ws = 0, wp = 0, ae = 0, ac = 0, as = 0, apx = 0, apy = 0;
  long n = 0;
  for (long i = 0; i <= 200000; i++, n++) {
    const double u = rd_seed_uniform(rd_seed_word(0x646f75, (uint64_t)i, 0));
    const double xe = -700.0 + 1400.0 * (double)i / 200000.0, xc = -40.0 + 80.0 * u;
    const double e = fabs(rd_pmath_exp(xe) - exp(xe)) / exp(xe), c = fabs(rd_pmath_cos(xc) - cos(xc));
    if (e > we) we = e, ae = xe;
    if (c > wc) wc = c, ac = xc;
    const double sn = fabs(rd_pmath_sin(xc) - sin(xc));
    if (sn > ws) ws = sn, as = xc;
    const double px = (double)i / 20000.0, py = -8.0 + 16.0 * u; /* x in [0, 10] */
    if (px > 0.0) {
      const double p = fabs(rd_pmath_pow(px, py) - pow(px, py)) / pow(px, py);
      if (p > wp) wp = p, apx = px, apy = py;
    }
  }
  printf("double exp: worst relative %.3g at %a; cos, sin: worst absolute %.3g at %a, %.3g at %a; pow: worst "
         "relative %.3g at (%a, %a); %ld inputs each\n", we, ae, wc, ac, ws, as, wp, apx, apy, n);
  CHECK(we <= 2e-15, "rd_pmath_exp: relative error %.3g at %a", we, ae);
  CHECK(wc <= 2e-15, "rd_pmath_cos: absolute error %.3g at %a", wc, ac);
  CHECK(ws <= 2e-15, "rd_pmath_sin: absolute error %.3g at %a", ws, as);
  CHECK(wp <= 2e-14, "rd_pmath_pow: relative error %.3g at (%a, %a)", wp, apx, apy);
  CHECK(rd_pmath_cos(0.0) == 1.0 && rd_pmath_cos(3.141592653589793) == -1.0 && rd_pmath_exp(0.0) == 1.0 &&
            rd_pmath_sin(0.0) == 0.0 && rd_pmath_sin(1.5707963267948966) == 1.0 && isnan(rd_pmath_sin(-1e7)) &&
            rd_pmath_pow(0.0, 2.0) == 0.0 && rd_pmath_pow(0.0, 0.0) == 1.0 && rd_pmath_pow(7.0, 0.0) == 1.0 &&
            rd_pmath_exp(-800.0) == 0.0 && isinf(rd_pmath_exp(800.0)) && isnan(rd_pmath_cos(1e7)),
        "double exp, cos, sin and pow at special points");
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--write-kat")) {
    write_kat();
    return 0;
  }
  test_gemm();
  test_fold();
  test_isa_select();
  test_specials();
  test_accuracy();
  test_double_fns();
  test_kat(argc > 1 ? argv[1] : "pmath_kat.txt");
  printf("%d checks passed, %d failed\n", passes, fails);
  return fails ? 1 : 0;
}
