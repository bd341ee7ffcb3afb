/* layer_normalization: Keras' LayerNormalization over the last axis, for each
 * sample (and each position of an image) on its own.
 *
 * Keys (Keras' defaults): axis (-1; only the last axis), epsilon (0.001),
 * center (true), scale (true), gamma_initializer (ones), beta_initializer
 * (zeros), their parameters and *_seed keys. Tensors in Keras' order: gamma,
 * beta (each absent without scale / center), of the last axis' size.
 *
 * Formulas (keras/src/layers/normalization/layer_normalization.py, call): over
 * the n values of a row, mean = sum(x) / n and var = sum((x - mean)^2) / n
 * (biased), each sum in double in order and rounded once to float;
 * inv = gamma / sqrt(var + epsilon); y = x * inv + (beta - mean * inv).
 * Backward, with xhat = (x - mean) / sqrt(var + eps) and g = dy * gamma:
 *   dbeta = sum over rows of dy, dgamma = sum over rows of dy * xhat (doubles,
 *   in row order), dx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps). */
#include <math.h>

#include "reprodist/layer.h"

typedef struct {
  int64_t n;     /* values normalized together: the last axis */
  int64_t per;   /* rows of n per sample */
  double epsilon;
  int center, scale, beta;
} layer_norm;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  layer_norm *p = self;
  int64_t axis = -1;
  int bad = rd->get_int(b, "axis", -1, -4, 3, &axis) < 0;
  bad |= rd->get_float(b, "epsilon", 0.001, 0.0, 3.4e38, RD_LO_OPEN, &p->epsilon) < 0;
  bad |= rd->get_bool(b, "center", 1, &p->center) < 0;
  bad |= rd->get_bool(b, "scale", 1, &p->scale) < 0;
  p->n = in->dim[in->ndim - 1];
  p->per = rd_shape_numel(in) / p->n;
  const rd_shape v = {1, {p->n}};
  if (p->scale)
    bad |= rd->tensor(b, "gamma", &v, "gamma_", "ones", 1) < 0;
  else
    rd->not_applicable(b, "gamma_*", "is set but scale = false");
  p->beta = -1;
  if (p->center)
    bad |= (p->beta = rd->tensor(b, "beta", &v, "beta_", "zeros", 1)) < 0;
  else
    rd->not_applicable(b, "beta_*", "is set but center = false");
  if (bad) return 1;
  if (axis != -1 && axis != in->ndim)
    return rd->fail(b, "axis", "[layer_normalization] normalizes the last axis only: axis = -1");
  *out = *in;
  return 0;
}

/* Per row: mean and 1 / sqrt(var + eps), kept for backward. */
static size_t workspace(const void *self, const rd_shape *in, const rd_shape *out, int64_t rows) {
  const layer_norm *p = self;
  return (size_t)(2 * rows * p->per + p->n);
}

static void forward(const rd_io *io, const float *x, float *y) {
  const layer_norm *p = io->self;
  const int64_t R = io->rows * p->per, n = p->n;
  float *mean = io->ws, *rstd = io->ws + R;
  const float eps = (float)p->epsilon;
  for (int64_t r = 0; r < R; r++) {
    const float *xr = x + r * n;
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)xr[i];
    mean[r] = (float)(s / (double)n);
    double q = 0.0;
    for (int64_t i = 0; i < n; i++) {
      const double d = (double)xr[i] - (double)mean[r];
      q += d * d;
    }
    rstd[r] = 1.0f / sqrtf((float)(q / (double)n) + eps);
    float *yr = y + r * n;
    for (int64_t i = 0; i < n; i++) {
      const float inv = p->scale ? rstd[r] * io->w[0][i] : rstd[r];
      const float shift = (p->center ? io->w[p->beta][i] : 0.0f) - mean[r] * inv;
      yr[i] = xr[i] * inv + shift;
    }
  }
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const layer_norm *p = io->self;
  const int64_t R = io->rows * p->per, n = p->n;
  const float *mean = io->ws, *rstd = io->ws + R;
  (void)y;
  for (int64_t i = 0; i < n; i++) { /* the tensors' gradients: sums over rows */
    double sb = 0.0, sg = 0.0;
    for (int64_t r = 0; r < R; r++) {
      const float xhat = (x[r * n + i] - mean[r]) * rstd[r];
      sb += (double)dy[r * n + i];
      sg += (double)dy[r * n + i] * (double)xhat;
    }
    if (p->scale) io->g[0][i] = (float)sg;
    if (p->center) io->g[p->beta][i] = (float)sb;
  }
  if (!dx) return;
  for (int64_t r = 0; r < R; r++) {
    double s1 = 0.0, s2 = 0.0;
    for (int64_t i = 0; i < n; i++) {
      const float g = dy[r * n + i] * (p->scale ? io->w[0][i] : 1.0f);
      const float xhat = (x[r * n + i] - mean[r]) * rstd[r];
      s1 += (double)g;
      s2 += (double)g * (double)xhat;
    }
    const float m1 = (float)(s1 / (double)n), m2 = (float)(s2 / (double)n);
    for (int64_t i = 0; i < n; i++) {
      const float g = dy[r * n + i] * (p->scale ? io->w[0][i] : 1.0f);
      const float xhat = (x[r * n + i] - mean[r]) * rstd[r];
      dx[r * n + i] = (g - m1 - xhat * m2) * rstd[r];
    }
  }
}

const rd_layer_type rd_layer_layer_normalization = {
    .name = "layer_normalization",
    .self_size = sizeof(layer_norm),
    .build = build,
    .workspace = workspace,
    .forward = forward,
    .backward = backward,
};
