/* batch_normalization: Keras' BatchNormalization over the last (channels) axis.
 *
 * Keys (Keras' defaults): axis (-1; only the last axis), momentum (0.99),
 * epsilon (0.001), center (true), scale (true), beta_initializer (zeros),
 * gamma_initializer (ones), moving_mean_initializer (zeros),
 * moving_variance_initializer (ones), their parameters and *_seed keys.
 * Tensors in Keras' order: gamma, beta (trainable; without scale / center
 * they are absent), moving_mean, moving_variance (non-trainable).
 *
 * Formulas (keras/src/layers/normalization/batch_normalization.py, call and
 * _moments; keras.ops.moments and batch_normalization). Per channel, over the
 * N = rows * h * w values of a shard:
 *   training:   mean = sum(x) / N, var = sum((x - mean)^2) / N (biased), each
 *               sum in double in row order and rounded once to float;
 *   evaluation: mean = moving_mean, var = moving_variance;
 *   inv = gamma / sqrt(var + epsilon); y = x * inv + (beta - mean * inv).
 * The statistics group is the shard, a fixed "ghost batch" of shard_size
 * samples whatever np is: the deterministic counterpart of Keras' per-replica
 * statistics (synchronized=False). Each training shard contributes (mean, var)
 * as batch statistics; once per step their sums over the batch's K shards
 * (the canonical tree) update
 *   moving_mean     = moving_mean * momentum + (sum of means / K) * (1 - momentum)
 * (in float32, momentum and 1 - momentum each rounded once from double)
 *   moving_variance = moving_variance * momentum + (sum of vars / K) * (1 - momentum)
 * the unweighted mean over shards, as Keras averages the moving statistics of
 * its replicas. Backward (training): with xhat = (x - mean) / sqrt(var + eps),
 *   dbeta = sum(dy), dgamma = sum(dy * xhat) (doubles, row order),
 *   dx = gamma / sqrt(var + eps) * (dy - dbeta / N - xhat * dgamma / N). */
#include <math.h>

#include "reprodist/layer.h"

typedef struct {
  int64_t c, hw;   /* channels; positions per sample */
  double momentum, epsilon;
  int center, scale;
  int beta, mm;    /* tensor indices: beta (-1 without center), moving_mean (moving_variance = mm + 1) */
} batch_norm;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  batch_norm *p = self;
  int64_t axis = -1;
  int bad = rd->get_int(b, "axis", -1, -4, 3, &axis) < 0;
  bad |= rd->get_float(b, "momentum", 0.99, 0.0, 1.0, 0, &p->momentum) < 0;
  bad |= rd->get_float(b, "epsilon", 0.001, 0.0, 3.4e38, RD_LO_OPEN, &p->epsilon) < 0;
  bad |= rd->get_bool(b, "center", 1, &p->center) < 0;
  bad |= rd->get_bool(b, "scale", 1, &p->scale) < 0;
  p->c = in->dim[in->ndim - 1];
  p->hw = rd_shape_numel(in) / p->c;
  const rd_shape v = {1, {p->c}};
  int t = 0;
  if (p->scale)
    bad |= (t = rd->tensor(b, "gamma", &v, "gamma_", "ones", 1)) < 0;
  else
    rd->not_applicable(b, "gamma_*", "is set but scale = false");
  p->beta = -1;
  if (p->center)
    bad |= (p->beta = rd->tensor(b, "beta", &v, "beta_", "zeros", 1)) < 0;
  else
    rd->not_applicable(b, "beta_*", "is set but center = false");
  bad |= (p->mm = rd->tensor(b, "moving_mean", &v, "moving_mean_", "zeros", 0)) < 0;
  bad |= rd->tensor(b, "moving_variance", &v, "moving_variance_", "ones", 0) < 0;
  if (bad) return 1;
  if (axis != -1 && axis != in->ndim - 1)
    return rd->fail(b, "axis", "[batch_normalization] normalizes the last (channels) axis only: axis = -1");
  *out = *in;
  return 0;
}

/* Per shard: the channel means, then the variances. */
static size_t stats_size(const void *self, const rd_shape *in, const rd_shape *out) {
  return (size_t)(2 * ((const batch_norm *)self)->c);
}

/* mean, var, then 1 / sqrt(var + eps) per channel: 3c floats. */
static size_t workspace(const void *self, const rd_shape *in, const rd_shape *out, int64_t rows) {
  return (size_t)(3 * ((const batch_norm *)self)->c);
}

static void forward(const rd_io *io, const float *x, float *y) {
  const batch_norm *p = io->self;
  const int64_t C = p->c, N = io->rows * p->hw;
  float *mean = io->ws, *var = io->ws + C, *rstd = io->ws + 2 * C;
  if (io->training) {
    for (int64_t c = 0; c < C; c++) {
      double s = 0.0;
      for (int64_t r = 0; r < N; r++) s += (double)x[r * C + c];
      mean[c] = (float)(s / (double)N);
      double q = 0.0;
      for (int64_t r = 0; r < N; r++) {
        const double d = (double)x[r * C + c] - (double)mean[c];
        q += d * d;
      }
      var[c] = (float)(q / (double)N);
    }
    for (int64_t c = 0; c < C; c++) io->stats[c] = mean[c], io->stats[C + c] = var[c];
  } else {
    for (int64_t c = 0; c < C; c++) mean[c] = io->w[p->mm][c], var[c] = io->w[p->mm + 1][c];
  }
  const float eps = (float)p->epsilon;
  for (int64_t c = 0; c < C; c++) rstd[c] = 1.0f / sqrtf(var[c] + eps);
  for (int64_t c = 0; c < C; c++) {
    const float inv = p->scale ? rstd[c] * io->w[0][c] : rstd[c];
    const float shift = (p->center ? io->w[p->beta][c] : 0.0f) - mean[c] * inv;
    for (int64_t r = 0; r < N; r++) y[r * C + c] = x[r * C + c] * inv + shift;
  }
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const batch_norm *p = io->self;
  const int64_t C = p->c, N = io->rows * p->hw;
  const float *mean = io->ws, *rstd = io->ws + 2 * C;
  for (int64_t c = 0; c < C; c++) {
    double sb = 0.0, sg = 0.0;
    for (int64_t r = 0; r < N; r++) {
      const float xhat = (x[r * C + c] - mean[c]) * rstd[c];
      sb += (double)dy[r * C + c];
      sg += (double)dy[r * C + c] * (double)xhat;
    }
    const float dbeta = (float)sb, dgamma = (float)sg;
    if (p->scale) io->g[0][c] = dgamma;
    if (p->center) io->g[p->beta][c] = dbeta;
    if (!dx) continue;
    const float gamma = p->scale ? io->w[0][c] : 1.0f, k = gamma * rstd[c];
    const float mb = dbeta / (float)N, mg = dgamma / (float)N;
    for (int64_t r = 0; r < N; r++) {
      const float xhat = (x[r * C + c] - mean[c]) * rstd[c];
      dx[r * C + c] = k * (dy[r * C + c] - mb - xhat * mg);
    }
  }
}

static void stats_apply(const rd_api *rd, const void *self, const float *sum, int64_t shards, int64_t samples,
                        float *const *w) {
  const batch_norm *p = self;
  const float m = (float)p->momentum, m1 = (float)(1.0 - p->momentum), k = (float)shards;
  float *mm = w[p->mm], *mv = w[p->mm + 1];
  for (int64_t c = 0; c < p->c; c++) {
    mm[c] = mm[c] * m + (sum[c] / k) * m1;
    mv[c] = mv[c] * m + (sum[p->c + c] / k) * m1;
  }
}

const rd_layer_type rd_layer_batch_normalization = {
    .name = "batch_normalization",
    .self_size = sizeof(batch_norm),
    .build = build,
    .workspace = workspace,
    .forward = forward,
    .backward = backward,
    .stats_size = stats_size,
    .stats_apply = stats_apply,
};
