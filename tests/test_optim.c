/* test_optim: the optimizer update is elementwise, so updating a replica in
 * chunks (any split, any order of chunks) gives exactly the bits of one call;
 * Adam's way around first moments stuck at denormals gives the formula's
 * bits; and the default shard_size follows the documented rule. */
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

/* ---- Adam with first moments stuck at denormals (src/optim/adam.c): the
 * update takes such lanes around the denormal; it must give, bit for bit,
 * the formula m += (g - m) c1; v += (g^2 - v) c2; w -= m alpha / (sqrt(v) +
 * eps), computed here one float operation at a time. ---- */
static float from_bits(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

enum { NA = 4099 }; /* 16 blocks of 256 and a partial one */

/* Adam's bits against the formula's on NA elements of every kind a lane can
 * hold (below), at learning rate lr and beta_1 b1, after `iteration` steps
 * (alpha rises with t). Returns the number of lanes the fast path may take
 * (g = +-0, m denormal of k units with k c1 <= 1/2 and k alpha <= 1/2, by
 * this test's own reckoning), or -1 on a mismatch. */
static int adam_stuck_case(double lr, double b1, uint64_t iteration, uint64_t seed) {
  rd_optim_spec s;
  rd_optim_spec_defaults(rd_optim_find("adam"), &s);
  s.p[0] = b1;
  static float w[NA], g[NA], st[2 * NA], rw[NA], rm[NA], rv[NA];
  for (int i = 0; i < NA; i++) {
    const uint64_t r = rd_seed_word(seed, (uint64_t)i, 3);
    const uint32_t sign = (uint32_t)(r >> 63) << 31;
    /* Most blocks of 256 hold denormal moments, one in 8 holds none. */
    const int block_plain = (i / 256) % 8 == 5;
    switch (block_plain ? 9 : (int)(r % 10)) {
      case 0: case 1: case 2: st[i] = from_bits(sign | (uint32_t)(1 + (r >> 8) % 6)); break; /* k 1-6 */
      case 3: st[i] = from_bits(sign | (uint32_t)(1 + (r >> 8) % 0x7fffff)); break;          /* any denormal */
      case 4: st[i] = from_bits(sign); break;                                                 /* +-0 */
      case 5: st[i] = from_bits(sign | 0x00800000u | (uint32_t)((r >> 8) % 64)); break;      /* just normal */
      default: st[i] = val(seed + 1, (uint64_t)i, 2e-3);
    }
    const uint64_t q = rd_seed_word(seed, (uint64_t)i, 4);
    switch (q % 6) {
      case 0: case 1: g[i] = 0.0f; break;
      case 2: g[i] = -0.0f; break;
      case 3: g[i] = from_bits((uint32_t)(q >> 63) << 31 | (uint32_t)(1 + (q >> 8) % 100)); break; /* denormal */
      default: g[i] = val(seed + 2, (uint64_t)i, 1e-2);
    }
    const uint64_t u = rd_seed_word(seed, (uint64_t)i, 5);
    switch (u % 8) {
      case 0: w[i] = 0.0f; break;
      case 1: w[i] = -0.0f; break;
      case 2: w[i] = from_bits((uint32_t)(u >> 63) << 31 | (uint32_t)(1 + (u >> 8) % 1000)); break;
      default: w[i] = val(seed + 3, (uint64_t)i, 0.2);
    }
    switch ((u >> 4) % 8) {
      case 0: st[NA + i] = 0.0f; break;
      case 1: st[NA + i] = from_bits((uint32_t)(1 + (u >> 8) % 1000)); break; /* denormal */
      default: st[NA + i] = (float)(1e-9 + 1e-6 * rd_seed_uniform(u));
    }
  }
  const uint64_t t = iteration + 1;
  const float alpha = (float)(lr * sqrt(1.0 - rd_optim_powi(s.p[1], t)) / (1.0 - rd_optim_powi(s.p[0], t)));
  const float c1 = (float)(1.0 - s.p[0]), c2 = (float)(1.0 - s.p[1]), eps = (float)s.p[2];
  int lanes = 0;
  for (int i = 0; i < NA; i++) {
    /* The formula, one rounded float operation per line. */
    volatile float d = g[i] - st[i];
    volatile float e = d * c1;
    rm[i] = st[i] + e;
    volatile float gg = g[i] * g[i];
    volatile float dv = gg - st[NA + i];
    volatile float ev = dv * c2;
    rv[i] = st[NA + i] + ev;
    volatile float t1 = rm[i] * alpha;
    volatile float den = sqrtf(rv[i]) + eps;
    volatile float t2 = t1 / den;
    rw[i] = w[i] - t2;
    uint32_t mb, gb;
    memcpy(&mb, &st[i], 4), memcpy(&gb, &g[i], 4);
    const double k = (double)(mb & 0x7fffffffu);
    lanes += (gb & 0x7fffffffu) == 0 && k >= 1 && k < 0x800000 && k * c1 <= 0.5 && k * fabs(alpha) <= 0.5;
  }
  const rd_optim_args a = {s.p, iteration, lr, 1.0};
  s.type->update(&a, w, g, st, NA, NA);
  if (memcmp(w, rw, sizeof w) || memcmp(st, rm, sizeof rm) || memcmp(st + NA, rv, sizeof rv)) {
    for (int i = 0; i < NA; i++)
      if (memcmp(&w[i], &rw[i], 4) || memcmp(&st[i], &rm[i], 4) || memcmp(&st[NA + i], &rv[i], 4)) {
        printf("  element %d: w %a (formula %a), m %a (%a), v %a (%a), g %a\n", i, w[i], rw[i], st[i], rm[i],
               st[NA + i], rv[i], g[i]);
        break;
      }
    return -1;
  }
  return lanes;
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
