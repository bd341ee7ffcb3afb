/* test_optim: the optimizer update is elementwise, so updating a replica in
 * chunks (any split, any order of chunks) gives exactly the bits of one call;
 * and the default shard_size follows the documented rule. */
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

int main(void) {
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
