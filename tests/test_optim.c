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
