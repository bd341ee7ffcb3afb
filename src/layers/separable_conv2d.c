/* separable_conv2d: Keras' SeparableConv2D(filters, kernel_size, strides=1,
 * padding="valid", depth_multiplier=1, activation=None, use_bias=True,
 * depthwise_initializer, pointwise_initializer ("glorot_uniform"),
 * bias_initializer ("zeros")), channels last: a depthwise convolution
 * (depthwise.h) without bias, then a 1x1 convolution to filters, then the bias.
 * Tensors in Keras' order: depthwise_kernel (kh, kw, in, depth_multiplier),
 * pointwise_kernel (1, 1, in * depth_multiplier, filters), bias (filters,).
 * The pointwise step is one GEMM per shard (rd->gemm). */
#include "depthwise.h"

typedef struct {
  rd_depthwise d;
  int64_t f;
  int use_bias;
} separable_conv;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  separable_conv *p = self;
  int64_t ks[2], st[2], filters = 0;
  int same = 0;
  int bad = rd->get_int(b, "filters", 0, 1, 1000000, &filters) < 0;
  bad |= rd_depthwise_keys(rd, b, "separable_conv2d", in, &p->d, ks, st, &same);
  bad |= rd->activation(b, "activation", "linear") < 0;
  bad |= rd->get_bool(b, "use_bias", 1, &p->use_bias) < 0;
  p->f = filters > 0 ? filters : 1;
  rd_shape k = {4, {ks[0], ks[1], p->d.c, p->d.dm}}, pk = {4, {1, 1, p->d.c * p->d.dm, p->f}}, v = {1, {p->f}};
  bad |= rd->tensor(b, "depthwise_kernel", &k, "depthwise_", "glorot_uniform", 1) < 0;
  bad |= rd->tensor(b, "pointwise_kernel", &pk, "pointwise_", "glorot_uniform", 1) < 0;
  if (p->use_bias)
    bad |= rd->tensor(b, "bias", &v, "bias_", "zeros", 1) < 0;
  else
    rd->not_applicable(b, "bias_*", "is set but use_bias = false");
  if (bad) return 1;
  if (filters == 0) return rd->fail(b, NULL, "[separable_conv2d] needs filters = N");
  if (rd_depthwise_geometry(rd, b, "separable_conv2d", in, &p->d, ks, st, same)) return 1;
  *out = (rd_shape){3, {p->d.h.out, p->d.w.out, p->f}};
  return 0;
}

/* The depthwise output, kept for backward, and its gradient. */
static size_t workspace(const void *self, const rd_shape *in, const rd_shape *out, int64_t rows) {
  const separable_conv *p = self;
  return (size_t)(2 * rows * p->d.h.out * p->d.w.out * p->d.c * p->d.dm);
}

static void forward(const rd_io *io, const float *x, float *y) {
  const separable_conv *p = io->self;
  const int64_t n = io->rows * p->d.h.out * p->d.w.out, cm = p->d.c * p->d.dm;
  float *t = io->ws; /* (n, cm) */
  rd_depthwise_forward(&p->d, io->rows, x, io->w[0], NULL, t);
  io->rd->gemm(0, 0, n, p->f, cm, t, cm, io->w[1], p->f, 0.0f, y, p->f);
  if (p->use_bias)
    for (int64_t r = 0; r < n; r++)
      for (int64_t o = 0; o < p->f; o++) y[r * p->f + o] += io->w[2][o];
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const separable_conv *p = io->self;
  const int64_t n = io->rows * p->d.h.out * p->d.w.out, cm = p->d.c * p->d.dm;
  const float *t = io->ws;
  float *dt = io->ws + n * cm;
  (void)y;
  io->rd->gemm(1, 0, cm, p->f, n, t, cm, dy, p->f, 0.0f, io->g[1], p->f); /* d pointwise = t^T dy */
  if (p->use_bias) {
    for (int64_t o = 0; o < p->f; o++) io->g[2][o] = 0.0f;
    for (int64_t r = 0; r < n; r++)
      for (int64_t o = 0; o < p->f; o++) io->g[2][o] += dy[r * p->f + o];
  }
  io->rd->gemm(0, 1, n, cm, p->f, dy, p->f, io->w[1], p->f, 0.0f, dt, cm); /* dt = dy pointwise^T */
  rd_depthwise_backward(&p->d, io->rows, x, io->w[0], dt, io->g[0], NULL, dx);
}

const rd_layer_type rd_layer_separable_conv2d = {.name = "separable_conv2d",
                                                 .flags = RD_LAYER_NO_Y,
                                                 .self_size = sizeof(separable_conv),
                                                 .build = build,
                                                 .workspace = workspace,
                                                 .forward = forward,
                                                 .backward = backward};
