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
#include "bias_relu.h"

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

/* y (R, units) = x (R, in) . W (in, units) + b, R = rows * d->rows; then the
 * relu when the layer takes it. */
static void forward(const rd_io *io, const float *x, float *y) {
  const dense *d = io->self;
  const int64_t R = io->rows * d->rows, n = d->units;
  io->rd->gemm(0, 0, R, n, d->in, x, d->in, io->w[0], n, 0.0f, y, n);
  rd_bias_relu(R, n, d->use_bias ? io->w[1] : NULL, io->relu, y);
}

/* dW (in, units) = x^T . dy;  db = column sums of dy;  dx (R, in) = dy . W^T. */
static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const dense *d = io->self;
  const int64_t R = io->rows * d->rows, n = d->units;
  rd_relu_dbias(R, n, y, io->relu, dy, d->use_bias ? io->g[1] : NULL, 1);
  io->rd->gemm_grad(1, 0, d->in, n, R, x, d->in, dy, n, 0.0f, io->g[0], n); /* may be folded: never read again */
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
