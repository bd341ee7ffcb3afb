/* add: Keras' Add(): y = x1 + x2 + ..., summed in the order of `inputs`
 * (((x1 + x2) + x3) ...), as Keras' loop adds them. Inputs: two or more of one
 * shape. No keys. */
#include <string.h>

#include "merge.h"

static int build(const rd_api *rd, rd_build *b, void *self, int nin, const rd_shape *ins, rd_shape *out) {
  return rd_merge_build(rd, b, "add", 2, 0, self, nin, ins, out);
}

static void forward(const rd_io *io, const float *const *x, float *y) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  memcpy(y, x[0], sizeof(float) * n);
  for (int i = 1; i < p->nin; i++)
    for (size_t j = 0; j < n; j++) y[j] += x[i][j];
}

static void backward(const rd_io *io, const float *const *x, const float *y, float *dy, float *const *dx) {
  const rd_merge *p = io->self;
  (void)x, (void)y;
  for (int i = 0; i < p->nin; i++)
    if (dx[i]) memcpy(dx[i], dy, sizeof(float) * (size_t)(io->rows * p->n));
}

const rd_layer_type rd_layer_add = {
    .name = "add", .flags = RD_LAYER_NO_Y, .self_size = sizeof(rd_merge), .build_n = build, .forward_n = forward, .backward_n = backward};
