/* test_optim: the optimizer update is elementwise, so updating a replica in
 * chunks (any split, any order of chunks) gives exactly the bits of one call;
 * Adam's, Nadam's and RMSprop's ways around state stuck at denormals give
 * their formulas' bits; and the default shard_size follows the documented rule. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "optim.h"
#include "seed.h"
#include "train.h"

#include "check.h"

enum { N = 1003, STEPS = 7 };

static float val(uint64_t a, uint64_t b, double scale) {
  return (float)((rd_seed_uniform(rd_seed_word(a, b, 17)) - 0.5) * scale);
}

/* STEPS updates of N parameters by the type's rule, whole (nchunks 1) or in
 * nchunks uneven chunks updated last chunk first; returns params and state in
 * w and st. */
static void run(const rd_optim_spec *s, int nchunks, float *w, float *st) {
  const int slots = rd_optim_slots(s);
  float g[N];
  for (int i = 0; i < N; i++) w[i] = val(1, (uint64_t)i, 0.2);
  for (int k = 0; k < slots; k++)
    for (int i = 0; i < N; i++) st[k * N + i] = s->type->initial ? s->type->initial(s->p, k) : 0.0f;
  double scalar = 1.0;
  for (int t = 0; t < STEPS; t++) {
    for (int i = 0; i < N; i++) g[i] = val(2 + (uint64_t)t, (uint64_t)i, i % 3 ? 1e-2 : 1e-6);
    if (s->type->advance) scalar = s->type->advance(s->p, (uint64_t)t, scalar);
    const rd_optim_args a = {s->p, (uint64_t)t, s->lr.lr, scalar};
    for (int c = nchunks - 1; c >= 0; c--) {
      size_t lo = (size_t)N * (size_t)c * (size_t)c / ((size_t)nchunks * nchunks); /* uneven cuts */
      size_t hi = (size_t)N * (size_t)(c + 1) * (size_t)(c + 1) / ((size_t)nchunks * nchunks);
      s->type->update(&a, w + lo, g + lo, st + lo, hi - lo, N);
    }
  }
}

/* ---- sharded state (ZeRO-1): ranges updated one by one, with the norms'
 * block sums of every range, give one unsharded update's bits ---- */
enum { NT = 6 };
static const size_t k_numel[NT] = {300, 7, 1000, 1, 513, 256}; /* blocks of 256 straddle tensors */

static void fake_model(rd_model *m, rd_tensor *ts) {
  memset(m, 0, sizeof *m);
  size_t off = 0;
  for (int t = 0; t < NT + 1; t++) { /* the last one is not trainable */
    memset(&ts[t], 0, sizeof ts[t]);
    snprintf(ts[t].name, sizeof ts[t].name, t % 2 ? "bias" : "kernel");
    ts[t].trainable = t < NT, ts[t].offset = off, ts[t].numel = t < NT ? k_numel[t] : 5;
    off += ts[t].numel;
    if (t < NT) m->ntrain = off;
  }
  m->tensors = ts, m->ntensors = NT + 1, m->nparams = off;
}

/* STEPS steps of s on the fake model, in R ranges (R = 1: rd_optim_step
 * unsharded); the parameters in w, the state laid out whole in st. */
static void run_sharded(const rd_optim_spec *s, int R, float *w, float *st) {
  rd_model m;
  rd_tensor ts[NT + 1];
  fake_model(&m, ts);
  const size_t n = m.ntrain, slots = (size_t)rd_optim_slots(s);
  rd_optim o[9];
  float *state[9];
  for (size_t i = 0; i < n; i++) w[i] = val(1, (uint64_t)i, 0.2);
  for (int r = 0; r < R; r++) {
    rd_optim_init(&o[r], s, &m);
    if (R > 1) { /* uneven ranges, moved to the cut rule's starts; the last reaches past n, as a trainer's does */
      const size_t len = n + 9, a = (size_t)r * r * len / ((size_t)R * R), b = (size_t)(r + 1) * (r + 1) * len / ((size_t)R * R);
      rd_optim_shard(&o[r], rd_optim_cut(&o[r], a), r == R - 1 ? len : rd_optim_cut(&o[r], b));
    }
    state[r] = calloc(slots * (o[r].hi - o[r].lo) + 1, sizeof(float));
    rd_optim_state_init(&o[r], state[r]);
  }
  double *sums = calloc(o[0].nblk + 1, sizeof(double));
  float *g = malloc(sizeof(float) * n);
  for (int t = 0; t < STEPS; t++) {
    for (size_t i = 0; i < n; i++) g[i] = val(2 + (uint64_t)t, (uint64_t)i, i % 3 ? 1e-2 : 1e-6);
    if (R == 1) {
      rd_optim_step(&o[0], (uint64_t)t, w, g, state[0]);
      continue;
    }
    for (int r = 0; r < R; r++) rd_optim_block_sums(&o[r], g, sums); /* every range's, before any clipping */
    for (int r = R - 1; r >= 0; r--) rd_optim_step_sums(&o[r], (uint64_t)t, w, g, state[r], o[r].nblk ? sums : NULL);
  }
  for (int r = 0; r < R; r++) {
    const size_t k = o[r].hi - o[r].lo;
    for (size_t j = 0; j < slots; j++) memcpy(st + j * n + o[r].lo, state[r] + j * k, sizeof(float) * k);
    rd_optim_finalize(&o[r], w, state[r]);
    rd_optim_free(&o[r]);
    free(state[r]);
  }
  free(sums), free(g);
}

/* ---- State stuck at denormals (src/optim/stuck.h): Adam's and Nadam's first
 * moments and RMSprop's velocities; the updates take such lanes around the
 * denormal, and must give, bit for bit, their formulas computed here one
 * rounded float operation at a time. ---- */
static float from_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

enum { NA = 4099 }; /* 16 blocks of 256 and a partial one */

/* A value of one of the kinds a lane may hold, drawn by r: for a slot that
 * sticks (stuck 1), k units of 2^-149 with k 1-6, any denormal, +-0, just
 * above the denormals, or a normal one of scale `scale`; else +-0, a
 * denormal or a normal one. Either sign, but the normal ones are positive
 * where `positive` (a slot of squares: a negative denormal there stands for
 * a damaged checkpoint). */
static float lane_value(uint64_t r, int stuck, int positive, double scale) {
  const uint32_t sign = (uint32_t)(r >> 7 & 1) << 31;
  const int kind = stuck ? (int)(r % 10) : 6 + (int)(r % 4);
  switch (kind) {
    case 0: case 1: case 2: return from_bits(sign | (uint32_t)(1 + (r >> 8) % 6));
    case 3: case 7: return from_bits(sign | (uint32_t)(1 + (r >> 8) % 0x7fffff));
    case 4: case 6: return from_bits(sign);
    case 5: return from_bits((positive ? 0u : sign) | 0x00800000u | (uint32_t)((r >> 8) % 64));
    default: return (float)((positive ? 1.0 : rd_seed_uniform(r >> 11) - 0.5) * scale * (0.1 + rd_seed_uniform(r)));
  }
}

/* w, g and the state slots (slot `sticky` of the kinds that stick, in most
 * blocks of 256; the others of every other kind; `positive`: slots that
 * hold squares) for NA lanes. */
static void fill_lanes(uint64_t seed, int nslots, int sticky, unsigned positive, float *w, float *g, float *st) {
  for (int i = 0; i < NA; i++) {
    const int plain_block = (i / 256) % 8 == 5; /* one block in 8 holds no denormal to stick */
    for (int k = 0; k < nslots; k++) {
      const uint64_t r = rd_seed_word(seed, (uint64_t)i, 10 + (uint64_t)k);
      const int pos = (positive >> k) & 1;
      st[k * NA + i] = k == sticky && plain_block ? (float)(1e-6 * (1.0 + rd_seed_uniform(r)))
                                                  : lane_value(r, k == sticky, pos, pos ? 1e-6 : 2e-3);
    }
    const uint64_t q = rd_seed_word(seed, (uint64_t)i, 4), u = rd_seed_word(seed, (uint64_t)i, 5);
    g[i] = q % 3 == 2 ? lane_value(q >> 2, 0, 0, 1e-2) : (q % 3 ? 0.0f : -0.0f);
    w[i] = u % 4 ? (float)((rd_seed_uniform(u) - 0.5) * 0.4) : lane_value(u >> 2, 0, 0, 0.2);
  }
}

/* Bit-for-bit comparison of an update with its formula's results; prints the
 * first lane that differs. */
static int same_lanes(const char *what, const float *w, const float *rw, const float *st, const float *rst, int nslots) {
  for (int i = 0; i < NA; i++) {
    int bad = memcmp(&w[i], &rw[i], 4) != 0;
    for (int k = 0; k < nslots; k++) bad |= memcmp(&st[k * NA + i], &rst[k * NA + i], 4) != 0;
    if (bad) {
      printf("  %s, element %d: w %a (formula %a), slot 0 %a (%a), slot 1 %a (%a)\n", what, i, w[i], rw[i], st[i],
             rst[i], nslots > 1 ? st[NA + i] : 0.0f, nslots > 1 ? rst[NA + i] : 0.0f);
      return 0;
    }
  }
  return 1;
}

/* k where x is a denormal of k units of 2^-149, else 0. */
static int units(float x) {
  uint32_t b;
  memcpy(&b, &x, 4);
  b &= 0x7fffffffu;
  return b >= 1 && b < 0x800000 ? (int)b : 0;
}

/* Adam's and Nadam's moments, one rounded float operation per line: m +=
 * (g - m) c1 and v += (g^2 - v) c2 for lane i, into rst (st: before). */
static void moments(const float *st, const float *g, int i, float c1, float c2, float *rst) {
  volatile float d = g[i] - st[i], e = d * c1;
  rst[i] = st[i] + e;
  volatile float gg = g[i] * g[i], dv = gg - st[NA + i], ev = dv * c2;
  rst[NA + i] = st[NA + i] + ev;
}

/* A spec of `name` with its defaults and beta_1 b1, and NA lanes for it. */
static void adam_family(const char *name, double b1, uint64_t seed, rd_optim_spec *s, float *w, float *g, float *st) {
  rd_optim_spec_defaults(rd_optim_find(name), s);
  s->p[0] = b1;
  fill_lanes(seed, 2, 0, 2u, w, g, st);
}

/* Adam (iteration steps before, lr, beta_1 b1) against m += (g - m) c1;
 * v += (g^2 - v) c2; w -= m alpha / (sqrt(v) + eps). Returns the lanes its
 * stuck path may take (g = +-0, m of k units with k c1 <= 1/2 and k |alpha|
 * <= 1/2, by this test's own reckoning), or -1 on a mismatch. */
static int adam_stuck_case(double lr, double b1, uint64_t iteration, uint64_t seed) {
  rd_optim_spec s;
  static float w[NA], g[NA], st[2 * NA], rw[NA], rst[2 * NA];
  adam_family("adam", b1, seed, &s, w, g, st);
  const uint64_t t = iteration + 1;
  const float alpha = (float)(lr * sqrt(1.0 - rd_optim_powi(s.p[1], t)) / (1.0 - rd_optim_powi(s.p[0], t)));
  const float c1 = (float)(1.0 - s.p[0]), c2 = (float)(1.0 - s.p[1]), eps = (float)s.p[2];
  int lanes = 0;
  for (int i = 0; i < NA; i++) {
    moments(st, g, i, c1, c2, rst);
    volatile float t1 = rst[i] * alpha, den = sqrtf(rst[NA + i]) + eps, t2 = t1 / den;
    rw[i] = w[i] - t2;
    const double k = units(st[i]);
    lanes += g[i] == 0.0f && k >= 1 && k * c1 <= 0.5 && k * fabs(alpha) <= 0.5;
  }
  const rd_optim_args a = {s.p, iteration, lr, 1.0};
  s.type->update(&a, w, g, st, NA, NA);
  return same_lanes("adam", w, rw, st, rst, 2) ? lanes : -1;
}

/* Nadam (iteration steps before, lr, beta_1 b1) against nadam.c's formula:
 * u_s = b1 (1 - 0.5 0.96^s), P_t = u_1 ... u_t, P' = P_t u_(t+1); m += (g -
 * m) c1; v += (g^2 - v) c2; m_hat = cm m + cg g with cm = u_(t+1) / (1 -
 * P'), cg = (1 - u_t) / (1 - P_t); w -= m_hat lr / (sqrt(v / (1 -
 * beta_2^t)) + eps), P_t the real product unless scalar > 0. Returns the
 * lanes its stuck path may take (g = +-0, m of k units with k c1 <= 1/2 and
 * rint(k |cm|) |lr| < 1/2, |cm| < 2, cg finite), or -1. */
static double nadam_u(double b1, uint64_t s) { return b1 * (1.0 - 0.5 * rd_optim_powi(0.96, s)); }

static int nadam_stuck_case(double lr, double b1, uint64_t iteration, double scalar, uint64_t seed) {
  rd_optim_spec s;
  static float w[NA], g[NA], st[2 * NA], rw[NA], rst[2 * NA];
  adam_family("nadam", b1, seed, &s, w, g, st);
  const uint64_t t = iteration + 1;
  double pt = 1.0;
  for (uint64_t q = 1; q <= t; q++) pt *= nadam_u(b1, q);
  if (scalar > 0.0) pt = scalar; /* a caller's other carried product */
  const double ut = nadam_u(b1, t), ut1 = nadam_u(b1, t + 1), pt1 = pt * ut1;
  const float cm = (float)(ut1 / (1.0 - pt1)), cg = (float)((1.0 - ut) / (1.0 - pt));
  const float vd = (float)(1.0 - rd_optim_powi(s.p[1], t)), lrf = (float)lr, eps = (float)s.p[2];
  const float c1 = (float)(1.0 - s.p[0]), c2 = (float)(1.0 - s.p[1]);
  int lanes = 0;
  for (int i = 0; i < NA; i++) {
    moments(st, g, i, c1, c2, rst);
    volatile float p1 = cm * rst[i], p2 = cg * g[i], mh = p1 + p2, vh = rst[NA + i] / vd;
    volatile float t1 = mh * lrf, den = sqrtf(vh) + eps, t2 = t1 / den;
    rw[i] = w[i] - t2;
    const double k = units(st[i]);
    lanes += g[i] == 0.0f && k >= 1 && k * c1 <= 0.5 && nearbyint(k * fabs((double)cm)) * fabs((double)lrf) < 0.5 &&
             fabs((double)cm) < 2.0 && isfinite(cg);
  }
  const rd_optim_args a = {s.p, iteration, lr, pt};
  s.type->update(&a, w, g, st, NA, NA);
  return same_lanes("nadam", w, rw, st, rst, 2) ? lanes : -1;
}

/* RMSprop (rho, momentum mu, centered) against v = rho v + (1 - rho) g^2;
 * avg = rho avg + (1 - rho) g and den = v - avg^2 + eps (centered), else
 * v + eps; inc = lr g / sqrt(den); m = mu m + inc, w -= m (mu > 0), else
 * w -= inc. Returns the lanes its stuck path may take (not centered, g =
 * +-0, v > 0 of k units with k (1 - rho) < 1/2), or -1 on a mismatch. */
static int rmsprop_stuck_case(double lr, double rho, double mu, int centered, double eps, uint64_t seed) {
  rd_optim_spec s;
  rd_optim_spec_defaults(rd_optim_find("rmsprop"), &s);
  s.p[0] = rho, s.p[1] = mu, s.p[2] = eps, s.p[3] = centered;
  const int ns = rd_optim_slots(&s), has_m = mu > 0.0;
  static float w[NA], g[NA], st[3 * NA], rw[NA], rst[3 * NA];
  fill_lanes(seed, ns, 0, 1u, w, g, st);
  const float r = (float)rho, omr = (float)(1.0 - rho), epsf = (float)s.p[2], lrf = (float)lr, muf = (float)mu;
  float *v = rst, *m = rst + NA, *avg = rst + NA * (1 + has_m);
  const float *v0 = st, *m0 = st + NA, *avg0 = st + NA * (1 + has_m);
  int lanes = 0;
  for (int i = 0; i < NA; i++) {
    volatile float gg = g[i] * g[i], a1 = r * v0[i], a2 = omr * gg;
    v[i] = a1 + a2;
    float den;
    if (centered) {
      volatile float b1 = r * avg0[i], b2 = omr * g[i];
      avg[i] = b1 + b2;
      volatile float sq = avg[i] * avg[i], dd = v[i] - sq;
      den = dd + epsf;
    } else {
      den = v[i] + epsf;
    }
    volatile float lg = lrf * g[i], sd = sqrtf(den), inc = lg / sd;
    if (has_m) {
      volatile float mm = muf * m0[i];
      m[i] = mm + inc;
      rw[i] = w[i] - m[i];
    } else {
      rw[i] = w[i] - inc;
    }
    const double k = units(v0[i]);
    lanes += !centered && epsf > 0.0f && v0[i] > 0.0f && g[i] == 0.0f && k >= 1 && k * (1.0 - (double)r) < 0.5;
  }
  const rd_optim_args a = {s.p, 0, lr, 1.0};
  s.type->update(&a, w, g, st, NA, NA);
  return same_lanes("rmsprop", w, rw, st, rst, ns) ? lanes : -1;
}

int main(void) {
  /* Adam with stuck first moments: the formula's bits at the default rate,
   * beta_1 0.5 (kmax 1), 0.999 (kmax up to 500: then alpha decides), rates
   * where alpha passes 1/2k, a rate of 0, of 10 and two negative ones (m alpha
   * then has the other sign), early and late steps. */
  {
    static const double lrs[] = {1e-3, 0.05, 0.3, 0.0, 10.0, -1e-3, -10.0};
    static const double b1s[] = {0.9, 0.5, 0.999, 0.0};
    static const uint64_t its[] = {0, 9, 5000};
    int cases = 0, lanes = 0;
    for (int a = 0; a < 7; a++)
      for (int b = 0; b < 4; b++)
        for (int c = 0; c < 3; c++) {
          const int got = adam_stuck_case(lrs[a], b1s[b], its[c], (uint64_t)(100 * a + 10 * b + c));
          CHECK(got >= 0, "adam, lr %g, beta_1 %g, iteration %llu: other bits than the formula", lrs[a], b1s[b],
                (unsigned long long)its[c]);
          cases++, lanes += got > 0 ? got : 0;
        }
    CHECK(lanes > 1000, "adam: only %d lanes with stuck first moments in %d cases: the test misses them", lanes, cases);
    printf("adam, stuck denormal first moments: %d cases, %d such lanes, the formula's bits\n", cases, lanes);
  }
  /* Nadam with stuck first moments: the default rate (cm m rounds to 0-4
   * units), rates where m_hat lr rounds away from 0, and 0; beta_1 0.9 and
   * 0.5; early and late steps. */
  {
    static const double lrs[] = {1e-3, 0.2, 0.45, 0.0, -1e-3, -0.3};
    static const double b1s[] = {0.9, 0.5};
    static const uint64_t its[] = {0, 3, 700};
    int cases = 0, lanes = 0;
    for (int a = 0; a < 6; a++)
      for (int b = 0; b < 2; b++)
        for (int c = 0; c < 3; c++) {
          const int got = nadam_stuck_case(lrs[a], b1s[b], its[c], 0.0, (uint64_t)(2000 + 100 * a + 10 * b + c));
          CHECK(got >= 0, "nadam, lr %g, beta_1 %g, iteration %llu: other bits than the formula", lrs[a], b1s[b],
                (unsigned long long)its[c]);
          cases++, lanes += got > 0 ? got : 0;
        }
    /* The update called with a carried product training never passes: 1
     * (cg is then infinite), and one that makes cm 8.9 (cm m then passes
     * 2^24 units, past the units' grid), with a rate small enough to let
     * such k through. */
    CHECK(nadam_stuck_case(1e-3, 0.9, 0, 1.0, 2900) >= 0, "nadam with a carried product of 1: other bits than the formula");
    CHECK(nadam_stuck_case(0x1.ca68bep-28, 1.0 - 0x1p-30, 2, 0x1.a050ff36d8ec2p+0, 2901) >= 0,
          "nadam with cm = 8.9: other bits than the formula");
    CHECK(lanes > 1000, "nadam: only %d lanes with stuck first moments in %d cases: the test misses them", lanes, cases);
    printf("nadam, stuck denormal first moments: %d cases, %d such lanes, the formula's bits\n", cases, lanes);
  }
  /* RMSprop with stuck velocities: the default rho (k <= 4), 0.99 (k <=
   * 49), 0.5 and 0 (none stick), with and without momentum, centered (its
   * plain loop), a negative rate, an epsilon of 2^-149, the least denormal
   * (v + eps is then <= 0 where v < 0: no inc is a signed zero), and one of
   * 1e-46, which the config accepts and float rounds to 0. */
  {
    static const double rhos[] = {0.9, 0.99, 0.5, 0.0};
    int cases = 0, lanes = 0;
    for (int a = 0; a < 4; a++)
      for (int mode = 0; mode < 6; mode++) {
        const double mu = mode & 1 ? 0.9 : 0.0, lr = mode == 3 ? -0.01 : 1e-3;
        const double eps = mode == 4 ? 0x1p-149 : mode == 5 ? 1e-46 : 1e-7;
        const int centered = mode == 2;
        const int got = rmsprop_stuck_case(lr, rhos[a], mu, centered, eps, (uint64_t)(1000 + 10 * a + mode));
        CHECK(got >= 0, "rmsprop, rho %g, momentum %g, centered %d, lr %g, epsilon %g: other bits than the formula",
              rhos[a], mu, centered, lr, eps);
        cases++, lanes += got > 0 ? got : 0;
      }
    CHECK(lanes > 1000, "rmsprop: only %d lanes with stuck velocities in %d cases: the test misses them", lanes, cases);
    printf("rmsprop, stuck denormal velocities: %d cases, %d such lanes, the formula's bits\n", cases, lanes);
  }

  /* Every registered optimizer with its defaults, and the variants that add
   * state slots: sgd with momentum and nesterov, rmsprop with momentum and
   * centered. */
  typedef struct { const char *name; int idx; double val; int idx2; double val2; } variant;
  static const variant more[] = {{"sgd", 0, 0.9, -1, 0}, {"sgd", 0, 0.9, 1, 1}, {"rmsprop", 1, 0.9, -1, 0},
                                 {"rmsprop", 1, 0.9, 3, 1}, {"rmsprop", 3, 1, -1, 0}};
  const int nt = rd_optim_count(), nv = nt + (int)(sizeof more / sizeof *more);
  for (int k = 0; k < nv; k++) {
    rd_optim_spec s;
    char what[96];
    if (k < nt) {
      rd_optim_spec_defaults(rd_optim_type_at(k), &s);
      snprintf(what, sizeof what, "%s", s.type->name);
    } else {
      const variant *v = &more[k - nt];
      rd_optim_spec_defaults(rd_optim_find(v->name), &s);
      s.p[v->idx] = v->val;
      if (v->idx2 >= 0) s.p[v->idx2] = v->val2;
      snprintf(what, sizeof what, "%s (p[%d] = %g, p[%d] = %g)", v->name, v->idx, v->val, v->idx2, v->val2);
    }
    float w1[N], st1[3 * N], w2[N], st2[3 * N], w0[N];
    run(&s, 1, w1, st1);
    for (int i = 0; i < N; i++) w0[i] = val(1, (uint64_t)i, 0.2);
    CHECK(memcmp(w0, w1, sizeof w0) != 0, "%s: the update changed nothing: test is too weak", what);
    for (int nc = 2; nc <= 9; nc++) {
      run(&s, nc, w2, st2);
      CHECK(memcmp(w1, w2, sizeof w1) == 0, "%s: %d chunks give other parameter bits than one call", what, nc);
      CHECK(memcmp(st1, st2, sizeof(float) * (size_t)rd_optim_slots(&s) * N) == 0,
            "%s: %d chunks give other state bits than one call", what, nc);
    }
    printf("%s: %d state slot(s); 2-9 chunks give one call's bits\n", what, rd_optim_slots(&s));
  }
  /* Sharded: every optimizer, with each clipping mode, weight decay and the
   * moving average, in 2-9 ranges gives the unsharded bits. */
  {
    const size_t n = 300 + 7 + 1000 + 1 + 513 + 256;
    float *w1 = malloc(sizeof(float) * n), *w2 = malloc(sizeof(float) * n), *wn = malloc(sizeof(float) * n);
    float *s1 = malloc(sizeof(float) * n * 4), *s2 = malloc(sizeof(float) * n * 4);
    for (int k = 0; k < rd_optim_count(); k++)
      for (int mode = 0; mode < 5; mode++) {
        rd_optim_spec s;
        rd_optim_spec_defaults(rd_optim_type_at(k), &s);
        static const char *const names[] = {"no clipping", "clipnorm", "global_clipnorm", "clipvalue",
                                            "clipnorm, weight decay and use_ema"};
        if (mode == 1 || mode == 4) s.clipnorm = 0.003;
        if (mode == 2) s.global_clipnorm = 0.01;
        if (mode == 3) s.clipvalue = 0.002;
        if (mode == 4) s.weight_decay = 0.1, s.use_ema = 1, s.ema_momentum = 0.9, s.ema_overwrite_frequency = 3;
        if (mode == 4) s.nexclude = 1, snprintf(s.exclude[0], sizeof s.exclude[0], "bias");
        run_sharded(&s, 1, w1, s1);
        if (mode > 0) { /* the clipping must bite, or the test could not see a wrong norm */
          rd_optim_spec plain = s;
          plain.clipnorm = plain.global_clipnorm = plain.clipvalue = 0;
          run_sharded(&plain, 1, wn, s2);
          CHECK(memcmp(w1, wn, sizeof(float) * n) != 0, "%s with %s: clipping changed nothing", s.type->name, names[mode]);
        }
        int good = 1;
        for (int R = 2; R <= 9; R++) {
          run_sharded(&s, R, w2, s2);
          good &= memcmp(w1, w2, sizeof(float) * n) == 0 &&
                  memcmp(s1, s2, sizeof(float) * n * (size_t)rd_optim_slots(&s)) == 0;
        }
        CHECK(good, "%s with %s: 2-9 ranges give other bits than one unsharded update", s.type->name, names[mode]);
      }
    printf("sharded: every optimizer, 5 clipping/decay/EMA modes, 2-9 ranges: the unsharded bits\n");
    free(w1), free(w2), free(wn), free(s1), free(s2);
  }
  /* The global norm's sum: one fixed order for a given length. */
  {
    static float g[100000];
    for (int i = 0; i < 100000; i++) g[i] = val(9, (uint64_t)i, 1.0);
    double seq = 0.0;
    for (int i = 0; i < 100000; i++) seq += (double)g[i] * g[i];
    const double a = rd_optim_sumsq(g, 100000), b = rd_optim_sumsq(g, 100000);
    CHECK(a == b && fabs(a - seq) <= 1e-12 * seq, "rd_optim_sumsq: %.17g (again %.17g), sequential %.17g", a, b, seq);
  }
  /* Default shard_size: about 8 shards per batch, a power of two in [16, 64]
   * (include/reprodist/train.h). */
  static const int64_t batch[] = {1, 16, 64, 128, 255, 256, 511, 512, 1000, 4096};
  static const int64_t want[] = {16, 16, 16, 16, 16, 32, 32, 64, 64, 64};
  for (int i = 0; i < 10; i++)
    CHECK(rd_train_default_shard(batch[i]) == want[i], "default shard for batch %lld: %lld, want %lld",
          (long long)batch[i], (long long)rd_train_default_shard(batch[i]), (long long)want[i]);
  printf("%d passed, %d failed\n", passes, fails);
  return fails != 0;
}
