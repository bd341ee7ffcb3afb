/* activation: Keras' Activation(activation): y = activation(x), one of
 * linear, relu, tanh, sigmoid, softmax (over the last axis). The core applies
 * it (layer.h, "Activations"), so forward and backward pass values through.
 * Key: activation (required). */
#include <string.h>

#include "reprodist/layer.h"

typedef struct {
  int64_t n; /* values per sample */
} activation;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  activation *p = self;
  const int got = rd->activation(b, "activation", "linear");
  if (got < 0) return 1;
  if (got == 0) return rd->fail(b, NULL, "[activation] needs activation = relu, tanh, sigmoid, softmax or linear");
  p->n = rd_shape_numel(in);
  *out = *in;
  return 0;
}

static void forward(const rd_io *io, const float *x, float *y) {
  const activation *p = io->self;
  memcpy(y, x, sizeof(float) * (size_t)(io->rows * p->n));
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const activation *p = io->self;
  if (dx) memcpy(dx, dy, sizeof(float) * (size_t)(io->rows * p->n));
}

const rd_layer_type rd_layer_activation = {
    .name = "activation",
    .self_size = sizeof(activation),
    .build = build,
    .forward = forward,
    .backward = backward,
};
