/* depthwise_conv2d: Keras' DepthwiseConv2D(kernel_size, strides=1,
 * padding="valid", depth_multiplier=1, activation=None, use_bias=True,
 * depthwise_initializer="glorot_uniform", bias_initializer="zeros"), channels
 * last. Tensors: kernel (kh, kw, in, depth_multiplier) (Keras 3's name; its
 * keys are depthwise_initializer, depthwise_seed, ...) and bias (in *
 * depth_multiplier,). Output channel c * depth_multiplier + m is channel c
 * convolved with filter m (depthwise.h). */
#include "depthwise.h"

typedef struct {
  rd_depthwise d;
  int use_bias;
} depthwise_conv;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  depthwise_conv *p = self;
  int64_t ks[2], st[2];
  int same = 0;
  int bad = rd_depthwise_keys(rd, b, "depthwise_conv2d", in, &p->d, ks, st, &same);
  bad |= rd->activation(b, "activation", "linear") < 0;
  bad |= rd->get_bool(b, "use_bias", 1, &p->use_bias) < 0;
  rd_shape k = {4, {ks[0], ks[1], p->d.c, p->d.dm}}, v = {1, {p->d.c * p->d.dm}};
  bad |= rd->tensor(b, "kernel", &k, "depthwise_", "glorot_uniform", 1) < 0;
  if (p->use_bias)
    bad |= rd->tensor(b, "bias", &v, "bias_", "zeros", 1) < 0;
  else
    rd->not_applicable(b, "bias_*", "is set but use_bias = false");
  if (bad || rd_depthwise_geometry(rd, b, "depthwise_conv2d", in, &p->d, ks, st, same)) return 1;
  *out = (rd_shape){3, {p->d.h.out, p->d.w.out, p->d.c * p->d.dm}};
  return 0;
}

static void forward(const rd_io *io, const float *x, float *y) {
  const depthwise_conv *p = io->self;
  rd_depthwise_forward(&p->d, io->rows, x, io->w[0], p->use_bias ? io->w[1] : NULL, y);
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const depthwise_conv *p = io->self;
  (void)y;
  rd_depthwise_backward(&p->d, io->rows, x, io->w[0], dy, io->g[0], p->use_bias ? io->g[1] : NULL, dx);
}

const rd_layer_type rd_layer_depthwise_conv2d = {.name = "depthwise_conv2d",
                                                 .flags = RD_LAYER_NO_Y,
                                                 .self_size = sizeof(depthwise_conv),
                                                 .build = build,
                                                 .forward = forward,
                                                 .backward = backward};
