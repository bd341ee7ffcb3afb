/* dense: Keras' Dense, y = activation(x . kernel + bias).
 *
 * Keys (Keras' names and defaults): units (required), activation (linear),
 * use_bias (true), kernel_initializer (glorot_uniform), bias_initializer
 * (zeros), their parameters and kernel_seed / bias_seed. As in Keras, the
 * kernel (in, units) applies to the last axis of the input: an input (h, w, c)
 * gives (h, w, units), with h*w rows per sample in one GEMM. A relu after it
 * (its own activation, or a fused Activation layer) runs with the bias in
 * one pass, and its mask in backward's dbias pass (RD_LAYER_TAKES_RELU). */
#include "reprodist/layer.h"
#include "simd.h"

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

/* y = y + bias (bias NULL: none), then with relu y > 0 ? y : 0: the separate
 * passes' operations in one (layer.h, RD_LAYER_TAKES_RELU). */
RD_SIMD static void bias_act(int64_t R, int64_t n, const float *restrict bias, int relu, float *restrict y) {
  if (bias && relu)
    for (int64_t r = 0; r < R; r++)
      for (int64_t k = 0; k < n; k++) {
        const float v = y[r * n + k] + bias[k];
        y[r * n + k] = v > 0.0f ? v : 0.0f;
      }
  else if (bias)
    for (int64_t r = 0; r < R; r++)
      for (int64_t k = 0; k < n; k++) y[r * n + k] += bias[k];
  else if (relu)
    for (int64_t i = 0; i < R * n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

/* y (R, units) = x (R, in) . W (in, units) + b, R = rows * d->rows; then the
 * relu when the layer takes it. */
static void forward(const rd_io *io, const float *x, float *y) {
  const dense *d = io->self;
  const int64_t R = io->rows * d->rows, n = d->units;
  io->rd->gemm(0, 0, R, n, d->in, x, d->in, io->w[0], n, 0.0f, y, n);
  bias_act(R, n, d->use_bias ? io->w[1] : NULL, io->relu, y);
}

/* With relu, dy = y > 0 ? dy : 0 in place (y: the relu's output); with db,
 * db = the column sums of that dy, row by row. */
RD_SIMD static void relu_db(int64_t R, int64_t n, const float *restrict y, int relu, float *restrict dy,
                            float *restrict db) {
  if (db) {
    for (int64_t k = 0; k < n; k++) db[k] = 0.0f;
    for (int64_t r = 0; r < R; r++) {
      float *restrict g = dy + r * n;
      if (relu)
        for (int64_t k = 0; k < n; k++) g[k] = y[r * n + k] > 0.0f ? g[k] : 0.0f;
      for (int64_t k = 0; k < n; k++) db[k] += g[k];
    }
  } else if (relu) {
    for (int64_t i = 0; i < R * n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  }
}

/* dW (in, units) = x^T . dy;  db = column sums of dy;  dx (R, in) = dy . W^T. */
static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const dense *d = io->self;
  const int64_t R = io->rows * d->rows, n = d->units;
  relu_db(R, n, y, io->relu, dy, d->use_bias ? io->g[1] : NULL);
  io->rd->gemm(1, 0, d->in, n, R, x, d->in, dy, n, 0.0f, io->g[0], n);
  if (dx) io->rd->gemm(0, 1, R, d->in, n, dy, n, io->w[0], n, 0.0f, dx, d->in);
}

const rd_layer_type rd_layer_dense = {
    .name = "dense",
    .flags = RD_LAYER_NO_Y | RD_LAYER_TAKES_RELU,
    .self_size = sizeof(dense),
    .build = build,
    .forward = forward,
    .backward = backward,
};
