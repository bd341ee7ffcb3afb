/* test_init: seeds, draws and initializers against their specification.
 *
 * 1. Known answers: every line of tests/init_kat.txt (generated from docs/SEEDS.md
 *    by tests/spec_reimpl.py, not by this library) is recomputed with the library
 *    and its XXH64 digest compared.
 * 2. Statistics: each initializer on large tensors against its definition (mean,
 *    variance, bounds, tail mass), with tolerances of 6 standard errors of the
 *    estimate at that sample size; orthogonal: W^T W = gain^2 I and R = Q^T A upper
 *    triangular with a positive diagonal.
 * 3. Independence: the same tensor filled at other alignments, after other fills and
 *    from other threads has the same bits; rd_pmath_log against libm; permutations.
 *
 * Run by ctest (unit_init), which sets RD_TESTS to the tests directory; or
 * test_init PATH/TO/init_kat.txt. Last line: "N passed, N failed". */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "init.h"
#include "seed.h"
#include "pmath.h"

static int g_pass, g_fail;

static int check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int check(int ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (ok) {
    g_pass++;
  } else {
    g_fail++;
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
  }
  va_end(ap);
  return ok;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory (%zu bytes)\n", n);
    exit(2);
  }
  return p;
}

static uint64_t digest(const void *p, size_t n) { return XXH64(p, n, 0); }

static rd_init_spec spec_of(rd_init_kind k) {
  rd_init_spec s;
  rd_init_defaults(k, &s);
  return s;
}

/* ---- 1. known answers ------------------------------------------------------------- */

#define KAT_MAXTOK 16
typedef struct {
  char *key[KAT_MAXTOK], *val[KAT_MAXTOK];
  int used[KAT_MAXTOK], n;
} kv_list;

static const char *kv_get(kv_list *kv, const char *key) {
  for (int i = 0; i < kv->n; i++)
    if (strcmp(kv->key[i], key) == 0) {
      kv->used[i] = 1;
      return kv->val[i];
    }
  return NULL;
}

/* Parsing failures are failures of the KAT file, reported with its line. */
static int g_kat_bad;
static uint64_t kv_u64(kv_list *kv, const char *key, int lineno) {
  const char *v = kv_get(kv, key);
  char *end = NULL;
  errno = 0;
  unsigned long long x = v ? strtoull(v, &end, 10) : 0;
  if (!v || *v == '\0' || *end != '\0' || errno) {
    printf("init_kat.txt:%d: missing or bad integer '%s'\n", lineno, key);
    g_kat_bad = 1;
    return 0;
  }
  return (uint64_t)x;
}
static double kv_double(kv_list *kv, const char *key, int lineno) {
  const char *v = kv_get(kv, key);
  char *end = NULL;
  double x = v ? strtod(v, &end) : 0.0;
  if (!v || *v == '\0' || *end != '\0') {
    printf("init_kat.txt:%d: missing or bad number '%s'\n", lineno, key);
    g_kat_bad = 1;
  }
  return x;
}
static const char *kv_str(kv_list *kv, const char *key, int lineno) {
  const char *v = kv_get(kv, key);
  if (!v) {
    printf("init_kat.txt:%d: missing '%s'\n", lineno, key);
    g_kat_bad = 1;
    return "";
  }
  return v;
}

/* Log KAT inputs (as in spec_reimpl.py): x_k = ((word(7, k, 0) >> 11) + 1) * 2^-53
 * * 2^((k mod 121) - 60). */
static double log_kat_input(uint64_t k) {
  uint64_t w = rd_seed_word(7, k, 0);
  return ldexp((double)((w >> 11) + 1) * 0x1p-53, (int)(k % 121) - 60);
}

/* Recomputes one KAT line; returns the digest (or seed) and sets *ok = 0 when the
 * line cannot be computed. `kinds_seen` marks initializer kinds covered. */
static uint64_t kat_compute(const char *kind, kv_list *kv, int lineno, int *kinds_seen, int *ok) {
  if (strcmp(kind, "seed") == 0)
    return rd_seed_tensor(kv_u64(kv, "G", lineno), kv_str(kv, "layer", lineno), kv_str(kv, "tensor", lineno));
  if (strcmp(kind, "explicit") == 0) return rd_seed_explicit(kv_u64(kv, "S", lineno));
  if (strcmp(kind, "word") == 0)
    return rd_seed_word(kv_u64(kv, "s", lineno), kv_u64(kv, "i", lineno), kv_u64(kv, "j", lineno));
  if (strcmp(kind, "log") == 0) {
    uint64_t seed = kv_u64(kv, "seed", lineno), n = kv_u64(kv, "n", lineno);
    if (seed != 7) {
      printf("init_kat.txt:%d: log inputs are defined for seed=7 only\n", lineno);
      *ok = 0;
      return 0;
    }
    double *y = xmalloc(sizeof *y * n);
    for (uint64_t k = 0; k < n; k++) y[k] = rd_pmath_log(log_kat_input(k));
    uint64_t h = digest(y, sizeof *y * n);
    free(y);
    return h;
  }
  if (strcmp(kind, "normal") == 0) {
    uint64_t s = rd_seed_tensor(kv_u64(kv, "G", lineno), kv_str(kv, "layer", lineno), kv_str(kv, "tensor", lineno));
    uint64_t n = kv_u64(kv, "n", lineno), trunc = kv_u64(kv, "truncated", lineno);
    /* z[0..n) as double, then the next unused draw index j[0..n) as uint64 */
    uint64_t *buf = xmalloc(sizeof *buf * 2 * n);
    for (uint64_t i = 0; i < n; i++) {
      uint64_t j = 0;
      double z;
      do z = rd_seed_normal(s, i, &j);
      while (trunc && !(fabs(z) <= 2.0));
      memcpy(&buf[i], &z, sizeof z);
      buf[n + i] = j;
    }
    uint64_t h = digest(buf, sizeof *buf * 2 * n);
    free(buf);
    return h;
  }
  if (strcmp(kind, "permutation") == 0) {
    uint64_t s = rd_seed_tensor(kv_u64(kv, "G", lineno), "", "shuffle");
    uint64_t e = kv_u64(kv, "epoch", lineno), n = kv_u64(kv, "n", lineno);
    uint32_t *p = xmalloc(sizeof *p * n);
    rd_seed_permutation(s, e, n, p);
    uint64_t h = digest(p, sizeof *p * n);
    free(p);
    return h;
  }
  if (strcmp(kind, "synthetic_x") == 0 || strcmp(kind, "synthetic_y") == 0) {
    /* No data module API yet: the SEEDS.md §5 formula from the seed primitives. */
    uint64_t s = rd_seed_tensor(kv_u64(kv, "G", lineno), "data", kv_str(kv, "tensor", lineno));
    uint64_t rows = kv_u64(kv, "rows", lineno), h;
    if (strcmp(kind, "synthetic_x") == 0) {
      uint64_t in = kv_u64(kv, "input", lineno);
      float *x = xmalloc(sizeof *x * rows * in);
      for (uint64_t i = 0; i < rows * in; i++) x[i] = (float)rd_seed_uniform(rd_seed_word(s, i, 0));
      h = digest(x, sizeof *x * rows * in);
      free(x);
    } else {
      uint64_t classes = kv_u64(kv, "classes", lineno);
      uint32_t *y = xmalloc(sizeof *y * rows);
      for (uint64_t r = 0; r < rows; r++) y[r] = (uint32_t)rd_seed_below(rd_seed_word(s, r, 0), classes);
      h = digest(y, sizeof *y * rows);
      free(y);
    }
    return h;
  }
  int k = rd_init_kind_from_name(kind);
  if (k < 0) {
    printf("init_kat.txt:%d: unknown case kind '%s'\n", lineno, kind);
    *ok = 0;
    return 0;
  }
  kinds_seen[k] = 1;
  rd_init_spec sp = spec_of((rd_init_kind)k);
  uint64_t seed;
  if (kv_get(kv, "explicit_seed"))
    seed = rd_seed_explicit(kv_u64(kv, "explicit_seed", lineno));
  else
    seed = rd_seed_tensor(kv_u64(kv, "seed", lineno), kv_str(kv, "layer", lineno), kv_str(kv, "tensor", lineno));
  int64_t shape[4] = {0, 0, 0, 0};
  const char *sh = kv_str(kv, "shape", lineno);
  char *end = (char *)sh; /* "N", "RxC", ... up to 4 dimensions */
  int ndim = 0;
  while (ndim < 4) {
    shape[ndim++] = strtoll(end, &end, 10);
    if (*end != 'x') break;
    end++;
  }
  if (*end != '\0' || end == sh) ndim = 0;
  const char *v;
  if (kv_get(kv, "minval")) sp.minval = kv_double(kv, "minval", lineno);
  if (kv_get(kv, "maxval")) sp.maxval = kv_double(kv, "maxval", lineno);
  if (kv_get(kv, "mean")) sp.mean = kv_double(kv, "mean", lineno);
  if (kv_get(kv, "stddev")) sp.stddev = kv_double(kv, "stddev", lineno);
  if (kv_get(kv, "value")) sp.value = kv_double(kv, "value", lineno);
  if (kv_get(kv, "scale")) sp.scale = kv_double(kv, "scale", lineno);
  if (kv_get(kv, "gain")) sp.gain = kv_double(kv, "gain", lineno);
  if ((v = kv_get(kv, "mode")))
    sp.mode = strcmp(v, "fan_in") == 0 ? RD_FAN_IN : strcmp(v, "fan_out") == 0 ? RD_FAN_OUT : RD_FAN_AVG;
  if ((v = kv_get(kv, "distribution")))
    sp.dist = strcmp(v, "uniform") == 0              ? RD_DIST_UNIFORM
              : strcmp(v, "untruncated_normal") == 0 ? RD_DIST_UNTRUNCATED_NORMAL
                                                     : RD_DIST_TRUNCATED_NORMAL;
  int64_t n = 1;
  for (int d = 0; d < ndim; d++) n *= shape[d];
  if (ndim < 1 || n <= 0) {
    printf("init_kat.txt:%d: bad shape '%s'\n", lineno, sh);
    *ok = 0;
    return 0;
  }
  float *out = xmalloc(sizeof *out * (size_t)n);
  if (rd_init_fill(&sp, seed, shape, ndim, out) != 0) {
    printf("init_kat.txt:%d: rd_init_fill refused shape %s\n", lineno, sh);
    *ok = 0;
  }
  uint64_t h = digest(out, sizeof *out * (size_t)n);
  free(out);
  return h;
}

static void test_kat(const char *path) {
  FILE *f = fopen(path, "r");
  if (!check(f != NULL, "cannot open %s: %s (set RD_TESTS or pass the path)", path, strerror(errno))) return;
  char line[1024];
  int lineno = 0, cases = 0, bad = 0, kinds_seen[RD_INIT_COUNT] = {0};
  while (fgets(line, sizeof line, f)) {
    lineno++;
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '#' || line[0] == '\0') continue;
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", line);
    char *tok[KAT_MAXTOK + 2];
    int nt = 0;
    for (char *t = strtok(copy, " "); t && nt < KAT_MAXTOK + 2; t = strtok(NULL, " ")) tok[nt++] = t;
    kv_list kv = {.n = 0};
    int ok = nt >= 2 && nt <= KAT_MAXTOK + 1;
    for (int i = 1; ok && i < nt - 1; i++) {
      char *eq = strchr(tok[i], '=');
      if (!eq) {
        ok = 0;
        break;
      }
      *eq = '\0';
      kv.key[kv.n] = tok[i];
      kv.val[kv.n] = eq + 1;
      kv.used[kv.n++] = 0;
    }
    char *end = NULL;
    uint64_t want = ok ? strtoull(tok[nt - 1], &end, 16) : 0;
    if (!ok || strlen(tok[nt - 1]) != 16 || *end != '\0') {
      check(0, "init_kat.txt:%d: malformed line: %s", lineno, line);
      bad++;
      continue;
    }
    g_kat_bad = 0;
    uint64_t got = kat_compute(tok[0], &kv, lineno, kinds_seen, &ok);
    for (int i = 0; i < kv.n; i++)
      if (!kv.used[i]) {
        printf("init_kat.txt:%d: key '%s' not understood by this test\n", lineno, kv.key[i]);
        ok = 0;
      }
    ok = ok && !g_kat_bad;
    cases++;
    if (!check(ok && got == want, "KAT init_kat.txt:%d: %s\n      got %016" PRIx64 " expected %016" PRIx64, lineno,
               line, got, want))
      bad++;
  }
  fclose(f);
  for (int k = 0; k < RD_INIT_COUNT; k++)
    check(kinds_seen[k], "KAT file has no case for initializer %s", rd_init_kind_name((rd_init_kind)k));
  check(cases >= 40, "KAT file has only %d cases (truncated?)", cases);
  printf("known answers: %d cases, %d mismatches\n", cases, bad);
  if (bad)
    printf("The vectors come from docs/SEEDS.md via tests/spec_reimpl.py. If the spec changed on purpose,\n"
           "regenerate them: /usr/bin/python3 tests/spec_reimpl.py kat > tests/init_kat.txt\n"
           "otherwise the library deviates from docs/SEEDS.md.\n");
}

/* ---- 2. statistics ---------------------------------------------------------------- */

typedef struct {
  double mean, var, min, max;
} stats;

static stats stats_of(const float *x, size_t n) {
  stats s = {0, 0, INFINITY, -INFINITY};
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    sum += x[i];
    if (x[i] < s.min) s.min = x[i];
    if (x[i] > s.max) s.max = x[i];
  }
  s.mean = sum / (double)n;
  double ss = 0;
  for (size_t i = 0; i < n; i++) ss += ((double)x[i] - s.mean) * ((double)x[i] - s.mean);
  s.var = ss / (double)(n - 1);
  return s;
}

static double frac_within(const float *x, size_t n, double center, double r) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += fabs((double)x[i] - center) <= r;
  return (double)c / (double)n;
}

/* The distribution a tensor should follow: its mean, variance and fourth central
 * moment (for the standard error of the sample variance), bounds and the mass
 * within one `unit` of the mean. */
typedef enum { D_UNIFORM, D_NORMAL, D_TRUNC } dist_kind;

/* Standard normal truncated to [-2, 2]: Z = P(|z| <= 2), E z^2 = 1 - 4 phi(2) / Z,
 * E z^4 = 3 E z^2 - 16 phi(2) / Z (integration by parts). */
static double trunc_z(void) { return erf(2.0 / sqrt(2.0)); }
static double phi2(void) { return exp(-2.0) / sqrt(2.0 * M_PI); }
static double trunc_m2(void) { return 1.0 - 4.0 * phi2() / trunc_z(); }
static double trunc_m4(void) { return 3.0 * trunc_m2() - 16.0 * phi2() / trunc_z(); }

/* Checks x[0..n) against a distribution; `p` (center, width) is (mean, stddev
 * parameter) for normals and (minval, maxval) for uniform. */
static void check_dist(const char *what, const float *x, size_t n, dist_kind d, double a, double b) {
  stats s = stats_of(x, n);
  double mu, var, m4, unit, p_unit;
  if (d == D_UNIFORM) {
    double w = b - a;
    mu = a + w / 2;
    var = w * w / 12;
    m4 = w * w * w * w / 80;
    unit = w / 4; /* the middle half */
    p_unit = 0.5;
    check(s.min >= (float)a && s.max <= (float)b, "%s: values in [%g, %g] (min %.9g, max %.9g)", what, a, b, s.min,
          s.max);
    /* P(no value within w*20/n of an end) = (1 - 20/n)^n ~ e^-20 */
    check(s.min <= a + w * 20.0 / (double)n && s.max >= b - w * 20.0 / (double)n,
          "%s: the range reaches both ends (min %.9g, max %.9g of [%g, %g])", what, s.min, s.max, a, b);
  } else if (d == D_NORMAL) {
    mu = a;
    var = b * b;
    m4 = 3 * var * var;
    unit = b;
    p_unit = erf(1.0 / sqrt(2.0));
    /* P(|z| > 4) = 6.3e-5: with n >= 1e5 at least one such value, P(none) < e^-6 */
    double far = fmax(fabs(s.min - a), fabs(s.max - a)) / b;
    check(n < 100000 || far > 4.0, "%s: untruncated tail reaches beyond 4 stddev (max |z| %.3f)", what, far);
  } else {
    mu = a;
    var = b * b * trunc_m2();
    m4 = b * b * b * b * trunc_m4();
    unit = b;
    p_unit = erf(1.0 / sqrt(2.0)) / trunc_z();
    float lo = (float)(a - 2 * b), hi = (float)(a + 2 * b);
    check(s.min >= lo && s.max <= hi, "%s: never beyond 2 stddev: [%.9g, %.9g] within [%.9g, %.9g]", what, s.min,
          s.max, lo, hi);
    /* density at the cut is phi(2)/Z = 0.057 per stddev: P(nothing within 1e-3) < e^-50 at n = 1e6 */
    double far = fmax(fabs(s.min - a), fabs(s.max - a)) / b;
    check(n < 100000 || far > 1.99, "%s: truncation is at 2 stddev, not less (max |z| %.5f)", what, far);
  }
  double se_mean = sqrt(var / (double)n), se_var = sqrt((m4 - var * var) / (double)n);
  double p = frac_within(x, n, mu, unit), se_p = sqrt(p_unit * (1 - p_unit) / (double)n);
  check(fabs(s.mean - mu) <= 6 * se_mean, "%s: mean %.6g, expected %.6g +- %.3g (6 standard errors)", what, s.mean,
        mu, 6 * se_mean);
  check(fabs(s.var - var) <= 6 * se_var, "%s: variance %.6g, expected %.6g +- %.3g (6 standard errors)", what, s.var,
        var, 6 * se_var);
  check(fabs(p - p_unit) <= 6 * se_p, "%s: mass within %.3g of the mean %.5f, expected %.5f +- %.2g", what, unit, p,
        p_unit, 6 * se_p);
}

static float *fill_new(const rd_init_spec *sp, uint64_t seed, int64_t r, int64_t c, int ndim) {
  int64_t shape[2] = {r, c};
  size_t n = (size_t)(ndim == 2 ? r * c : r);
  float *x = xmalloc(sizeof *x * n);
  int rc = rd_init_fill(sp, seed, shape, ndim, x);
  check(rc == 0, "rd_init_fill(%s, shape %" PRId64 "x%" PRId64 ") returned %d", rd_init_kind_name(sp->kind), r, c,
        rc);
  return x;
}

static void test_defaults(void) {
  for (int k = 0; k < RD_INIT_COUNT; k++) {
    const char *name = rd_init_kind_name((rd_init_kind)k);
    check(name && rd_init_kind_from_name(name) == k, "kind %d name round trip (%s)", k, name ? name : "NULL");
    check(rd_init_is_random((rd_init_kind)k) == !(k == RD_INIT_ZEROS || k == RD_INIT_ONES || k == RD_INIT_CONSTANT),
          "%s: rd_init_is_random", name ? name : "NULL");
  }
  check(rd_init_kind_from_name("glorot") == -1, "unknown initializer name gives -1");
  rd_init_spec s = spec_of(RD_INIT_RANDOM_UNIFORM);
  check(s.minval == -0.05 && s.maxval == 0.05, "random_uniform defaults -0.05, 0.05 (Keras)");
  s = spec_of(RD_INIT_RANDOM_NORMAL);
  check(s.mean == 0 && s.stddev == 0.05, "random_normal defaults 0, 0.05 (Keras)");
  s = spec_of(RD_INIT_TRUNCATED_NORMAL);
  check(s.mean == 0 && s.stddev == 0.05, "truncated_normal defaults 0, 0.05 (Keras)");
  s = spec_of(RD_INIT_CONSTANT);
  check(s.value == 0, "constant default value 0 (Keras)");
  s = spec_of(RD_INIT_VARIANCE_SCALING);
  check(s.scale == 1 && s.mode == RD_FAN_IN && s.dist == RD_DIST_TRUNCATED_NORMAL,
        "variance_scaling defaults scale 1, fan_in, truncated_normal (Keras)");
  s = spec_of(RD_INIT_ORTHOGONAL);
  check(s.gain == 1, "orthogonal default gain 1 (Keras)");
}

static void test_exact_kinds(void) {
  const int64_t r = 1000, c = 1000;
  struct {
    rd_init_kind k;
    double value;
    float want;
  } cases[] = {{RD_INIT_ZEROS, 0, 0.0f}, {RD_INIT_ONES, 0, 1.0f}, {RD_INIT_CONSTANT, 0, 0.0f},
               {RD_INIT_CONSTANT, 0.1, 0.1f}, {RD_INIT_CONSTANT, -3e5, -3e5f}};
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    rd_init_spec sp = spec_of(cases[t].k);
    sp.value = cases[t].value;
    float *x = fill_new(&sp, 1, r, c, 2);
    size_t bad = 0;
    for (int64_t i = 0; i < r * c; i++) bad += memcmp(&x[i], &cases[t].want, sizeof(float)) != 0;
    check(bad == 0, "%s(value %g): every element is exactly %.9g (%zu differ)", rd_init_kind_name(cases[t].k),
          cases[t].value, cases[t].want, bad);
    free(x);
  }
}

static void test_random_kinds(void) {
  const int64_t r = 1000, c = 1000;
  size_t n = (size_t)(r * c);
  uint64_t seed = rd_seed_tensor(2024, "stats", "kernel");
  char what[160];

  rd_init_spec sp = spec_of(RD_INIT_RANDOM_UNIFORM);
  float *x = fill_new(&sp, seed, r, c, 2);
  check_dist("random_uniform defaults", x, n, D_UNIFORM, -0.05, 0.05);
  free(x);
  sp.minval = 2.0, sp.maxval = 5.0;
  x = fill_new(&sp, seed, r, c, 2);
  check_dist("random_uniform [2, 5)", x, n, D_UNIFORM, 2.0, 5.0);
  free(x);

  sp = spec_of(RD_INIT_RANDOM_NORMAL);
  x = fill_new(&sp, seed, r, c, 2);
  check_dist("random_normal defaults", x, n, D_NORMAL, 0.0, 0.05);
  free(x);
  sp.mean = 3.0, sp.stddev = 2.0;
  x = fill_new(&sp, seed, r, c, 2);
  check_dist("random_normal mean 3 stddev 2", x, n, D_NORMAL, 3.0, 2.0);
  free(x);

  sp = spec_of(RD_INIT_TRUNCATED_NORMAL);
  x = fill_new(&sp, seed, r, c, 2);
  check_dist("truncated_normal defaults", x, n, D_TRUNC, 0.0, 0.05);
  free(x);
  sp.mean = -1.0, sp.stddev = 0.5;
  x = fill_new(&sp, seed, r, c, 2);
  check_dist("truncated_normal mean -1 stddev 0.5", x, n, D_TRUNC, -1.0, 0.5);
  free(x);

  /* variance_scaling and its aliases on (1000, 400): fan_in 1000, fan_out 400 and
   * fan_avg 700 give variances far apart compared with the 6-SE tolerance (~1.3%). */
  const int64_t vr = 1000, vc = 400;
  size_t vn = (size_t)(vr * vc);
  const double fan[3] = {1000.0, 400.0, 700.0};
  const char *mode_name[3] = {"fan_in", "fan_out", "fan_avg"};
  const char *dist_name[3] = {"truncated_normal", "untruncated_normal", "uniform"};
  for (int m = 0; m < 3; m++)
    for (int d = 0; d < 3; d++) {
      sp = spec_of(RD_INIT_VARIANCE_SCALING);
      sp.scale = 2.5;
      sp.mode = (rd_fan_mode)m;
      sp.dist = d == 0 ? RD_DIST_TRUNCATED_NORMAL : d == 1 ? RD_DIST_UNTRUNCATED_NORMAL : RD_DIST_UNIFORM;
      double sc = 2.5 / fan[m];
      x = fill_new(&sp, seed, vr, vc, 2);
      snprintf(what, sizeof what, "variance_scaling(2.5, %s, %s) on (1000, 400)", mode_name[m], dist_name[d]);
      if (d == 0) check_dist(what, x, vn, D_TRUNC, 0.0, sqrt(sc) / 0.87962566103423978);
      if (d == 1) check_dist(what, x, vn, D_NORMAL, 0.0, sqrt(sc));
      if (d == 2) check_dist(what, x, vn, D_UNIFORM, -sqrt(3 * sc), sqrt(3 * sc));
      if (d == 0) { /* Keras' constant makes the truncated variance equal scale/fan */
        stats s = stats_of(x, vn);
        check(fabs(s.var / sc - 1) < 0.02, "%s: variance %.6g = scale/fan %.6g within 2%%", what, s.var, sc);
      }
      free(x);
    }
  struct {
    rd_init_kind k;
    double scale;
    int fan; /* index into fan[] */
    dist_kind d;
  } alias[] = {{RD_INIT_GLOROT_UNIFORM, 1, 2, D_UNIFORM}, {RD_INIT_GLOROT_NORMAL, 1, 2, D_TRUNC},
               {RD_INIT_HE_UNIFORM, 2, 0, D_UNIFORM},     {RD_INIT_HE_NORMAL, 2, 0, D_TRUNC},
               {RD_INIT_LECUN_UNIFORM, 1, 0, D_UNIFORM},  {RD_INIT_LECUN_NORMAL, 1, 0, D_TRUNC}};
  for (size_t t = 0; t < sizeof alias / sizeof alias[0]; t++) {
    sp = spec_of(alias[t].k);
    double sc = alias[t].scale / fan[alias[t].fan];
    x = fill_new(&sp, seed, vr, vc, 2);
    snprintf(what, sizeof what, "%s on (1000, 400)", rd_init_kind_name(alias[t].k));
    if (alias[t].d == D_UNIFORM)
      check_dist(what, x, vn, D_UNIFORM, -sqrt(3 * sc), sqrt(3 * sc));
    else
      check_dist(what, x, vn, D_TRUNC, 0.0, sqrt(sc) / 0.87962566103423978);
    free(x);
  }
  /* A bias (1-D): fan_in = fan_out = units. */
  sp = spec_of(RD_INIT_HE_UNIFORM);
  x = fill_new(&sp, seed, 200000, 0, 1);
  check_dist("he_uniform on a (200000,) bias", x, 200000, D_UNIFORM, -sqrt(6.0 / 200000), sqrt(6.0 / 200000));
  free(x);
  sp = spec_of(RD_INIT_VARIANCE_SCALING);
  sp.mode = RD_FAN_AVG, sp.dist = RD_DIST_UNTRUNCATED_NORMAL, sp.scale = 4;
  x = fill_new(&sp, seed, 200000, 0, 1);
  check_dist("variance_scaling(4, fan_avg, untruncated) on a (200000,) bias", x, 200000, D_NORMAL, 0.0,
             sqrt(4.0 / 200000));
  free(x);
}

/* W^T W (tall) or W W^T (wide) against gain^2 I; R = Q^T A upper triangular with a
 * positive diagonal (Q spans A's leading columns, Keras' sign convention). */
static void check_orthogonal(int64_t r, int64_t c, double gain) {
  rd_init_spec sp = spec_of(RD_INIT_ORTHOGONAL);
  sp.gain = gain;
  uint64_t seed = rd_seed_tensor(5, "ortho", "kernel");
  float *w = fill_new(&sp, seed, r, c, 2);
  int64_t R = r > c ? r : c, C = r > c ? c : r;
  /* q(a, b): element (a, b) of the R x C matrix Q = W / gain (W^T when wide) */
#define Q(a, b) ((double)(r >= c ? w[(a) * c + (b)] : w[(b) * c + (a)]) / gain)
  double worst = 0;
  for (int64_t i = 0; i < C; i++)
    for (int64_t j = i; j < C; j++) {
      double d = 0;
      for (int64_t a = 0; a < R; a++)
        d += (r >= c ? (double)w[a * c + i] * w[a * c + j] : (double)w[i * c + a] * w[j * c + a]);
      double e = fabs(d - (i == j ? gain * gain : 0.0)) / (gain * gain);
      if (e > worst) worst = e;
    }
  check(worst <= 1e-5, "orthogonal (%" PRId64 ", %" PRId64 ") gain %g: %s = gain^2 I within 1e-5 (worst %.2g)", r, c,
        gain, r >= c ? "W^T W" : "W W^T", worst);
  /* the normal matrix A it was drawn from (SEEDS.md §4: A[a][b] is normal i = a*C + b) */
  double *A = xmalloc(sizeof *A * (size_t)(R * C));
  for (int64_t i = 0; i < R * C; i++) {
    uint64_t j = 0;
    A[i] = rd_seed_normal(seed, (uint64_t)i, &j);
  }
  double below = 0, mindiag = INFINITY;
  for (int64_t i = 0; i < C; i++)
    for (int64_t j = 0; j <= i; j++) {
      double d = 0; /* (Q^T A)[i][j] */
      for (int64_t a = 0; a < R; a++) d += Q(a, i) * A[a * C + j];
      if (j < i) below = fmax(below, fabs(d));
      else mindiag = fmin(mindiag, d);
    }
  check(below <= 1e-4 && mindiag > 0,
        "orthogonal (%" PRId64 ", %" PRId64 ") gain %g: Q^T A upper triangular (max below %.2g) with positive diagonal "
        "(min %.3g)",
        r, c, gain, below, mindiag);
#undef Q
  free(A);
  free(w);
}

static void test_orthogonal(void) {
  check_orthogonal(600, 200, 1.0);
  check_orthogonal(200, 600, 1.0);
  check_orthogonal(300, 300, 1.0);
  check_orthogonal(400, 150, 2.5);
  check_orthogonal(150, 400, -0.75);
  check_orthogonal(1, 50, 1.0);
  check_orthogonal(50, 1, 3.0);
  rd_init_spec sp = spec_of(RD_INIT_ORTHOGONAL);
  int64_t shape[1] = {10};
  float x[10];
  check(rd_init_fill(&sp, 1, shape, 1, x) == -1, "orthogonal on a 1-D shape returns -1");
  /* gain multiplies the same Q: with gain 2 (a power of two) f32(2q) = 2 f32(q) exactly */
  float *a = fill_new(&sp, 9, 64, 16, 2);
  sp.gain = 2.0;
  float *b = fill_new(&sp, 9, 64, 16, 2);
  size_t bad = 0;
  for (int i = 0; i < 64 * 16; i++) bad += b[i] != 2.0f * a[i];
  check(bad == 0, "orthogonal gain 2 is exactly twice gain 1 (%zu differ)", bad);
  free(a);
  free(b);
}

/* ---- 3. independence, log, permutations ------------------------------------------- */

typedef struct {
  rd_init_spec sp;
  uint64_t seed;
  int64_t shape[2];
  float *out;
} fill_job;

static void *fill_thread(void *arg) {
  fill_job *j = arg;
  rd_init_fill(&j->sp, j->seed, j->shape, 2, j->out);
  return NULL;
}

static void test_independence(void) {
  const int64_t r = 37, c = 53, n = r * c;
  int64_t shape[2] = {r, c};
  uint64_t seed = rd_seed_tensor(77, "dense", "kernel"), other = rd_seed_tensor(78, "x", "y");
  float *ref = xmalloc(sizeof(float) * (size_t)n);
  float *big = xmalloc(sizeof(float) * (size_t)(n + 8)), *scratch = xmalloc(sizeof(float) * 1000 * 1000);
  for (int k = 0; k < RD_INIT_COUNT; k++) {
    rd_init_spec sp = spec_of((rd_init_kind)k);
    if (k == RD_INIT_CONSTANT) sp.value = 0.3;
    rd_init_fill(&sp, seed, shape, 2, ref);
    const char *name = rd_init_kind_name((rd_init_kind)k);
    for (int off = 1; off <= 3; off += 2) { /* 4- and 12-byte misalignment from the 16-byte malloc */
      memset(big, 0xA5, sizeof(float) * (size_t)(n + 8));
      rd_init_fill(&sp, seed, shape, 2, big + off);
      check(memcmp(ref, big + off, sizeof(float) * (size_t)n) == 0, "%s: same bits at offset %d floats", name, off);
    }
    /* no hidden state: another (large) fill in between changes nothing */
    rd_init_spec o = spec_of(RD_INIT_ORTHOGONAL);
    int64_t os[2] = {300, 100};
    rd_init_fill(&o, other, os, 2, scratch);
    rd_init_spec u = spec_of(RD_INIT_TRUNCATED_NORMAL);
    int64_t us[2] = {1000, 1000};
    rd_init_fill(&u, other, us, 2, scratch);
    rd_init_fill(&sp, seed, shape, 2, big + 5);
    check(memcmp(ref, big + 5, sizeof(float) * (size_t)n) == 0, "%s: same bits after other fills", name);
    /* concurrently from 4 threads */
    enum { NT = 4 };
    fill_job jobs[NT];
    pthread_t th[NT];
    for (int t = 0; t < NT; t++) {
      jobs[t] = (fill_job){sp, seed, {r, c}, xmalloc(sizeof(float) * (size_t)n)};
      pthread_create(&th[t], NULL, fill_thread, &jobs[t]);
    }
    int same = 1;
    for (int t = 0; t < NT; t++) {
      pthread_join(th[t], NULL);
      same &= memcmp(ref, jobs[t].out, sizeof(float) * (size_t)n) == 0;
      free(jobs[t].out);
    }
    check(same, "%s: same bits from %d concurrent threads", name, NT);
    if (rd_init_is_random((rd_init_kind)k)) { /* the seed matters */
      rd_init_fill(&sp, other, shape, 2, big);
      check(memcmp(ref, big, sizeof(float) * (size_t)n) != 0, "%s: another seed gives other values", name);
    }
  }
  /* A prefix of a longer 1-D tensor: element i depends on (seed, i) only. */
  rd_init_spec sp = spec_of(RD_INIT_RANDOM_NORMAL);
  int64_t s1[1] = {1000}, s2[1] = {100};
  rd_init_fill(&sp, seed, s1, 1, big);
  rd_init_fill(&sp, seed, s2, 1, ref);
  check(memcmp(ref, big, sizeof(float) * 100) == 0, "random_normal: element i depends only on (seed, i)");
  free(ref);
  free(big);
  free(scratch);
}

static void test_seed_primitives(void) {
  check(rd_seed_uniform(0) == 0.0 && rd_seed_uniform(UINT64_MAX) == 1.0 - 0x1p-53,
        "uniform(0) = 0 and uniform(2^64-1) = 1 - 2^-53");
  check(rd_seed_below(UINT64_MAX, 10) == 9 && rd_seed_below(0, 10) == 0 && rd_seed_below(UINT64_MAX, 1) == 0,
        "rd_seed_below: (w * n) >> 64 at the ends");
  check(rd_seed_explicit(42) == rd_seed_tensor(42, "", ""), "explicit seed = seed(S, \"\", \"\")");
  /* rd_seed_word is XXH64 written out for 16 bytes: libxxhash's XXH64 of the
   * same bytes on a million inputs, edges first, then a splitmix64 stream. */
  long word_bad = 0;
  uint64_t st = 0x123456789abcdefu;
  const uint64_t ends[] = {0, 1, 0x7fffffffffffffffu, 0x8000000000000000u, UINT64_MAX};
  for (long k = 0; k < 1000000; k++) {
    uint64_t v[3];
    for (int q = 0; q < 3; q++) {
      uint64_t z = (st += 0x9e3779b97f4a7c15u);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
      v[q] = k < 125 ? ends[(k / (q == 0 ? 1 : q == 1 ? 5 : 25)) % 5] : z ^ (z >> 31);
    }
    unsigned char buf[16];
    for (int b = 0; b < 8; b++) buf[b] = (unsigned char)(v[1] >> (8 * b)), buf[8 + b] = (unsigned char)(v[2] >> (8 * b));
    word_bad += rd_seed_word(v[0], v[1], v[2]) != XXH64(buf, sizeof buf, v[0]);
  }
  check(word_bad == 0, "rd_seed_word(s, i, j) = libxxhash XXH64(le64(i) || le64(j), s) on 1,000,000 inputs (%ld differ)",
        word_bad);
  /* rd_seed_words, the vectorized batch (whichever clone this CPU runs), word
   * for word against libxxhash, at lengths around every vector width, from
   * starts that wrap past 2^64 - 1; nothing past out[n - 1] is written. */
  long words_bad = 0, words_over = 0, words_n = 0;
  const int64_t lens[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 255, 256, 1000};
  const uint64_t starts[] = {0, 5, 0x7ffffffffffffffeu, UINT64_MAX - 100, UINT64_MAX - 3};
  static uint64_t wout[1001];
  for (int a = 0; a < 15; a++)
    for (int b = 0; b < 5; b++) {
      const uint64_t seed = 0x9e3779b97f4a7c15u * (uint64_t)(a * 5 + b + 1), j = (uint64_t)a * 1000003u + (uint64_t)b;
      wout[lens[a]] = 0xfeedu;
      rd_seed_words(seed, starts[b], lens[a], j, wout);
      words_over += wout[lens[a]] != 0xfeedu;
      for (int64_t k = 0; k < lens[a]; k++, words_n++) {
        const uint64_t i = starts[b] + (uint64_t)k;
        unsigned char buf[16];
        for (int q = 0; q < 8; q++) buf[q] = (unsigned char)(i >> (8 * q)), buf[8 + q] = (unsigned char)(j >> (8 * q));
        words_bad += wout[k] != XXH64(buf, sizeof buf, seed);
      }
    }
  check(words_bad == 0 && words_over == 0 && words_n == 8265,
        "rd_seed_words(s, i0, n, j)[k] = libxxhash XXH64(le64(i0 + k) || le64(j), s) on %ld words (%ld differ, %ld "
        "written past n)",
        words_n, words_bad, words_over);
  check(rd_seed_tensor(1, "ab", "c") != rd_seed_tensor(1, "a", "bc"), "layer/tensor boundary is part of the seed");
  int even = 1;
  for (uint64_t i = 0; i < 10000; i++) {
    uint64_t j = 0;
    rd_seed_normal(99, i, &j);
    even &= j >= 2 && j % 2 == 0;
    uint64_t j2 = j;
    rd_seed_normal(99, i, &j2); /* continuing consumes further draws */
    even &= j2 >= j + 2 && j2 % 2 == 0;
  }
  check(even, "rd_seed_normal advances j by a positive even number of draws");

  /* rd_pmath_log vs libm: the SEEDS.md formula is not correctly rounded. Its f = (m-1)/(m+1),
   * Horner sum and e*ln2 + 2f*p each round, and the last two partly cancel for x in
   * [0.5, 1/sqrt 2); measured over 1.1e7 samples the worst is 3.0 ulp (relative 4.8e-16)
   * there and 2 ulp in most binades. Bound: 3 ulp and relative 5e-16. The bits
   * themselves are fixed by the KAT; this shows the formula is a log. */
  double worst_rel = 0, worst_ulp = 0, worst_x = 0;
  long n = 0;
  const double edge[] = {1.0, 0.5, 0.25, DBL_MIN, 1.0 - 0x1p-53, 0.5 + 0x1p-53, 0.7071067811865476,
                         0.7071067811865475, 0.70710678118654746, 0.9999999, 1e-300, 0.69474520182853816,
                         0.37974513638891921};
  const long nedge = (long)(sizeof edge / sizeof edge[0]);
  for (long k = 0; k < 1500000 + nedge; k++, n++) {
    double x;
    if (k < nedge) {
      x = edge[k];
    } else {
      x = (double)((rd_seed_word(3, (uint64_t)k, 0) >> 11) + 1) * 0x1p-53; /* (0, 1] */
      if (k % 3 == 1) x = ldexp(x, -(int)(k % 1000));
      if (k % 3 == 2) x = 0.5 + x * (0.7071067811865476 - 0.5); /* the cancelling binade */
    }
    double got = rd_pmath_log(x), want = log(x);
    if (want == 0) {
      worst_rel = fmax(worst_rel, fabs(got) > 0 ? INFINITY : 0);
      continue;
    }
    double err = fabs(got - want);
    double u = err / (nextafter(fabs(want), INFINITY) - fabs(want)), rel = err / fabs(want);
    if (u > worst_ulp) worst_ulp = u, worst_x = x;
    if (rel > worst_rel) worst_rel = rel;
  }
  check(rd_pmath_log(1.0) == 0.0, "rd_pmath_log(1) = 0 exactly");
  check(worst_ulp <= 3.0 && worst_rel <= 5e-16,
        "rd_pmath_log within 3 ulp / relative 5e-16 of libm log on %ld x in (0, 1] (worst %.2f ulp at %a, "
        "relative %.3g)",
        n, worst_ulp, worst_x, worst_rel);
  printf("rd_pmath_log vs libm over %ld values in (0, 1]: worst %.2f ulp, relative %.3g\n", n, worst_ulp, worst_rel);

  /* Permutations. */
  const uint64_t sizes[] = {0, 1, 2, 3, 10, 1000, 60000};
  uint64_t s = rd_seed_tensor(42, "", "shuffle");
  uint32_t *p = xmalloc(sizeof *p * 60000), *q = xmalloc(sizeof *q * 60000);
  char *seen = xmalloc(60000);
  for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++)
    for (uint64_t e = 0; e < 3; e++) {
      uint64_t m = sizes[t];
      rd_seed_permutation(s, e, m, p);
      memset(seen, 0, 60000);
      int ok = 1;
      for (uint64_t i = 0; i < m; i++) {
        ok &= p[i] < m && !seen[p[i]];
        if (p[i] < m) seen[p[i]] = 1;
      }
      check(ok, "rd_seed_permutation(n = %" PRIu64 ", epoch %" PRIu64 ") is a permutation", m, e);
    }
  rd_seed_permutation(s, 0, 1000, p);
  rd_seed_permutation(s, 1, 1000, q);
  check(memcmp(p, q, 1000 * sizeof *p) != 0, "epochs 0 and 1 shuffle differently");
  size_t fixed = 0;
  for (uint32_t i = 0; i < 1000; i++) fixed += p[i] == i;
  check(fixed < 10, "a shuffle of 1000 is not near the identity (%zu fixed points; expected ~1)", fixed);
  /* Uniformity: all 6 orders of 3 items equally likely (Fisher-Yates, k in [0, i]),
   * and where item 0 of 10 lands; 6 binomial standard errors. */
  enum { E = 60000 };
  long count3[6] = {0}, land[10] = {0};
  for (uint64_t e = 0; e < E; e++) {
    rd_seed_permutation(s, e, 3, p);
    count3[p[0] * 2 + (p[1] > p[2])]++;
    rd_seed_permutation(s, e, 10, p);
    for (int i = 0; i < 10; i++)
      if (p[i] == 0) land[i]++;
  }
  int uni = 1;
  double sd3 = sqrt(E * (1.0 / 6) * (5.0 / 6)), sd10 = sqrt(E * 0.1 * 0.9);
  for (int i = 0; i < 6; i++) uni &= fabs(count3[i] - E / 6.0) <= 6 * sd3;
  check(uni, "the 6 orders of 3 items are equally likely over %d epochs (%ld %ld %ld %ld %ld %ld)", E, count3[0],
        count3[1], count3[2], count3[3], count3[4], count3[5]);
  uni = 1;
  for (int i = 0; i < 10; i++) uni &= fabs(land[i] - E / 10.0) <= 6 * sd10;
  check(uni, "item 0 of 10 lands at each position equally often over %d epochs", E);
  free(p);
  free(q);
  free(seen);
}

int main(int argc, char **argv) {
  char path[4096];
  const uint32_t one = 1;
  uint8_t b;
  memcpy(&b, &one, 1);
  if (!check(b == 1, "digests assume a little-endian machine")) {
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return 1;
  }
  if (argc > 1)
    snprintf(path, sizeof path, "%s", argv[1]);
  else
    snprintf(path, sizeof path, "%s/init_kat.txt", getenv("RD_TESTS") ? getenv("RD_TESTS") : "tests");
  test_kat(path);
  test_defaults();
  test_exact_kinds();
  test_random_kinds();
  test_orthogonal();
  test_independence();
  test_seed_primitives();
  printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
