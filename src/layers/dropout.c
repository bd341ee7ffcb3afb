/* dropout: Keras' Dropout(rate, seed): inverted dropout. In training each
 * value is kept with probability 1 - rate and scaled by 1 / (1 - rate); in
 * evaluation the layer passes values through.
 *
 * The mask is a pure function of global indices (docs/SEEDS.md): for the
 * sample at global index n (its row in the dataset) with V values, in the
 * training step with iteration t, values 2k and 2k + 1 share the word
 *     w = word(seed, n * ceil(V / 2) + k, t)
 * value 2k takes its high 32 bits, value 2k + 1 its low 32 bits, and a value
 * is dropped when those bits are below floor(rate * 2^32). seed is the
 * layer's draw seed: seed(global seed, layer name, ""), or seed_explicit(S)
 * with `seed = S`. No rank, shard or np enters it, and a resumed run (which
 * restores t) draws the same masks.
 * Keys: rate (required, in [0, 1)), seed. */
#include <string.h>

#include "reprodist/layer.h"
#include "../simd.h"

typedef struct {
  int64_t n;       /* values per sample */
  double rate;
  uint64_t below;  /* drop when the 32 bits are below this: floor(rate * 2^32) */
  float scale;     /* 1 / (1 - rate), rounded once */
} dropout;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  dropout *p = self;
  const int got = rd->get_float(b, "rate", 0.0, 0.0, 1.0, RD_HI_OPEN, &p->rate);
  const int seeded = rd->seed(b, "seed", -1);
  if (got < 0 || seeded < 0) return 1;
  if (got == 0) return rd->fail(b, NULL, "[dropout] needs rate = R, the fraction of values dropped, in [0, 1)");
  p->n = rd_shape_numel(in);
  p->scale = (float)(1.0 / (1.0 - p->rate));
  p->below = (uint64_t)(p->rate * 4294967296.0);
  *out = *in;
  return 0;
}

static size_t workspace(const void *self, const rd_shape *in, const rd_shape *out, int64_t rows) {
  return (size_t)(rows * ((const dropout *)self)->n);
}

/* Words drawn at a time: 512 values. */
#define WORDS 256

RD_SIMD static void forward(const rd_io *io, const float *x, float *y) {
  const dropout *p = io->self;
  const int64_t N = io->rows * p->n;
  if (!io->training) {
    memcpy(y, x, sizeof(float) * (size_t)N);
    return;
  }
  float *mask = io->ws; /* 0 or scale, for backward */
  uint32_t scale_bits;
  memcpy(&scale_bits, &p->scale, 4);
  const uint64_t words = (uint64_t)(p->n + 1) / 2, below = p->below;
  uint64_t w[WORDS];
  for (int64_t r = 0; r < io->rows; r++) {
    float *m = mask + r * p->n;
    const uint64_t base = (uint64_t)io->sample[r] * words;
    for (int64_t e0 = 0; e0 < p->n; e0 += 2 * WORDS) {
      const int64_t vals = p->n - e0 < 2 * WORDS ? p->n - e0 : 2 * WORDS, pairs = vals / 2;
      io->rd->words(io->seed, base + (uint64_t)e0 / 2, (vals + 1) / 2, io->iteration, w);
      /* scale's bits or +0's, by an integer mask: no branch on a coin flip.
       * Value 2k takes the word's high 32 bits, 2k + 1 its low ones. */
      float *restrict me = m + e0;
      for (int64_t k = 0; k < pairs; k++) {
        const uint32_t hi = scale_bits & -(uint32_t)((w[k] >> 32) >= below),
                       lo = scale_bits & -(uint32_t)((w[k] & 0xffffffffu) >= below);
        memcpy(&me[2 * k], &hi, 4), memcpy(&me[2 * k + 1], &lo, 4);
      }
      if (vals & 1) {
        const uint32_t hi = scale_bits & -(uint32_t)((w[pairs] >> 32) >= below);
        memcpy(&me[vals - 1], &hi, 4);
      }
    }
  }
  for (int64_t i = 0; i < N; i++) y[i] = x[i] * mask[i];
}

RD_SIMD static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const dropout *p = io->self;
  if (!dx) return;
  for (int64_t i = 0; i < io->rows * p->n; i++) dx[i] = dy[i] * io->ws[i];
}

const rd_layer_type rd_layer_dropout = {
    .name = "dropout",
    .self_size = sizeof(dropout),
    .build = build,
    .workspace = workspace,
    .forward = forward,
    .backward = backward,
};
