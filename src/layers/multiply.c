/* multiply: Keras' Multiply(): y = x1 * x2 * ..., multiplied in the order of
 * `inputs`. dL/dx_i = dy times the product of the other inputs, in the same
 * order. Inputs: two or more of one shape. No keys. */
#include <string.h>

#include "merge.h"

static int build(const rd_api *rd, rd_build *b, void *self, int nin, const rd_shape *ins, rd_shape *out) {
  return rd_merge_build(rd, b, "multiply", 2, 0, self, nin, ins, out);
}

static void forward(const rd_io *io, const float *const *x, float *y) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  memcpy(y, x[0], sizeof(float) * n);
  for (int i = 1; i < p->nin; i++)
    for (size_t j = 0; j < n; j++) y[j] *= x[i][j];
}

static void backward(const rd_io *io, const float *const *x, const float *y, float *dy, float *const *dx) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  (void)y;
  for (int i = 0; i < p->nin; i++) {
    if (!dx[i]) continue;
    memcpy(dx[i], dy, sizeof(float) * n);
    for (int k = 0; k < p->nin; k++)
      if (k != i)
        for (size_t j = 0; j < n; j++) dx[i][j] *= x[k][j];
  }
}

const rd_layer_type rd_layer_multiply = {
    .name = "multiply", .self_size = sizeof(rd_merge), .build_n = build, .forward_n = forward, .backward_n = backward};
