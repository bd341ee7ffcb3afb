/* dense: Keras' Dense, y = activation(x . kernel + bias).
 *
 * Keys (Keras' names and defaults): units (required), activation (linear),
 * use_bias (true), kernel_initializer (glorot_uniform), bias_initializer
 * (zeros), their parameters and kernel_seed / bias_seed. As in Keras, the
 * kernel (in, units) applies to the last axis of the input: an input (h, w, c)
 * gives (h, w, units), with h*w rows per sample in one GEMM. */
#include "reprodist/layer.h"

typedef struct {
  int64_t in, units;
  int64_t rows; /* rows per sample: the product of the input's leading axes */
  int use_bias;
} dense;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  dense *d = self;
  int bad = rd->get_int(b, "units", 0, 1, 1000000000, &d->units) < 0;
  const int has_units = d->units > 0;
  bad |= rd->activation(b, "activation", "linear") < 0;
  bad |= rd->get_bool(b, "use_bias", 1, &d->use_bias) < 0;
  d->in = in->dim[in->ndim - 1];
  d->rows = rd_shape_numel(in) / d->in;
  if (!has_units) d->units = 1; /* declare the tensors anyway: their keys get checked too */
  rd_shape k = {2, {d->in, d->units}}, v = {1, {d->units}};
  bad |= rd->tensor(b, "kernel", &k, "kernel_", "glorot_uniform", 1) < 0;
  if (d->use_bias)
    bad |= rd->tensor(b, "bias", &v, "bias_", "zeros", 1) < 0;
  else
    rd->not_applicable(b, "bias_*", "is set but use_bias = false");
  if (bad) return 1;
  if (!has_units) return rd->fail(b, NULL, "[dense] needs units = N");
  *out = *in;
  out->dim[out->ndim - 1] = d->units;
  return 0;
}

/* y (R, units) = x (R, in) . W (in, units) + b, R = rows * d->rows. */
static void forward(const rd_io *io, const float *x, float *y) {
  const dense *d = io->self;
  const int64_t R = io->rows * d->rows, n = d->units;
  io->rd->gemm(0, 0, R, n, d->in, x, d->in, io->w[0], n, 0.0f, y, n);
  if (d->use_bias)
    for (int64_t r = 0; r < R; r++) {
      float *yr = y + r * n;
      const float *bias = io->w[1];
      for (int64_t k = 0; k < n; k++) yr[k] += bias[k];
    }
}

/* dW (in, units) = x^T . dy;  db = column sums of dy;  dx (R, in) = dy . W^T. */
static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const dense *d = io->self;
  const int64_t R = io->rows * d->rows, n = d->units;
  io->rd->gemm(1, 0, d->in, n, R, x, d->in, dy, n, 0.0f, io->g[0], n);
  if (d->use_bias) {
    float *db = io->g[1];
    for (int64_t k = 0; k < n; k++) db[k] = 0.0f;
    for (int64_t r = 0; r < R; r++)
      for (int64_t k = 0; k < n; k++) db[k] += dy[r * n + k];
  }
  if (dx) io->rd->gemm(0, 1, R, d->in, n, dy, n, io->w[0], n, 0.0f, dx, d->in);
}

const rd_layer_type rd_layer_dense = {
    .name = "dense",
    .flags = RD_LAYER_NO_Y,
    .self_size = sizeof(dense),
    .build = build,
    .forward = forward,
    .backward = backward,
};
