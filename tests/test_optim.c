/* test_optim: the optimizer update is elementwise, so updating a replica in
 * chunks (any split, any order of chunks) gives exactly the bits of one call;
 * and the default shard_size follows the documented rule. */
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

/* STEPS updates of N parameters, whole (nchunks 1) or in nchunks uneven chunks
 * updated last chunk first; returns params and state in w and st. */
static void run(const rd_optim_spec *s, int nchunks, float *w, float *st) {
  const int slots = rd_optim_slots(s);
  float g[N];
  for (int i = 0; i < N; i++) w[i] = val(1, (uint64_t)i, 0.2);
  memset(st, 0, sizeof(float) * (size_t)(slots ? slots : 1) * N);
  for (int t = 0; t < STEPS; t++) {
    for (int i = 0; i < N; i++) g[i] = val(2 + (uint64_t)t, (uint64_t)i, i % 3 ? 1e-2 : 1e-6);
    for (int c = nchunks - 1; c >= 0; c--) {
      size_t lo = (size_t)N * (size_t)c * (size_t)c / ((size_t)nchunks * nchunks); /* uneven cuts */
      size_t hi = (size_t)N * (size_t)(c + 1) * (size_t)(c + 1) / ((size_t)nchunks * nchunks);
      rd_optim_step(s, (uint64_t)t, w + lo, g + lo, st + lo, hi - lo, N);
    }
  }
}

int main(void) {
  static const char *names[] = {"adam", "sgd", "sgd+momentum", "sgd+nesterov"};
  for (int k = 0; k < 4; k++) {
    rd_optim_spec s;
    rd_optim_defaults(k == 0 ? RD_OPT_ADAM : RD_OPT_SGD, &s);
    if (k >= 2) s.momentum = 0.9;
    if (k == 3) s.nesterov = 1;
    float w1[N], st1[2 * N], w2[N], st2[2 * N], w0[N];
    run(&s, 1, w1, st1);
    for (int i = 0; i < N; i++) w0[i] = val(1, (uint64_t)i, 0.2);
    CHECK(memcmp(w0, w1, sizeof w0) != 0, "%s: the update changed nothing: test is too weak", names[k]);
    for (int nc = 2; nc <= 9; nc++) {
      run(&s, nc, w2, st2);
      CHECK(memcmp(w1, w2, sizeof w1) == 0, "%s: %d chunks give other parameter bits than one call", names[k], nc);
      CHECK(memcmp(st1, st2, sizeof(float) * (size_t)rd_optim_slots(&s) * N) == 0,
            "%s: %d chunks give other state bits than one call", names[k], nc);
    }
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
