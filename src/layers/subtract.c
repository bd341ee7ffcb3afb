/* subtract: Keras' Subtract(): y = x1 - x2. Inputs: exactly two of one shape.
 * No keys. */
#include <string.h>

#include "merge.h"

static int build(const rd_api *rd, rd_build *b, void *self, int nin, const rd_shape *ins, rd_shape *out) {
  return rd_merge_build(rd, b, "subtract", 2, 2, self, nin, ins, out);
}

static void forward(const rd_io *io, const float *const *x, float *y) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  for (size_t j = 0; j < n; j++) y[j] = x[0][j] - x[1][j];
}

static void backward(const rd_io *io, const float *const *x, const float *y, float *dy, float *const *dx) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  (void)x, (void)y;
  if (dx[0]) memcpy(dx[0], dy, sizeof(float) * n);
  if (dx[1])
    for (size_t j = 0; j < n; j++) dx[1][j] = -dy[j];
}

const rd_layer_type rd_layer_subtract = {
    .name = "subtract", .self_size = sizeof(rd_merge), .build_n = build, .forward_n = forward, .backward_n = backward};
