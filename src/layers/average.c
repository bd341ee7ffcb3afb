/* average: Keras' Average(): y = (x1 + x2 + ...) / n, the sum in the order of
 * `inputs`, then one division, as Keras computes it. dL/dx_i = dy / n.
 * Inputs: two or more of one shape. No keys. */
#include <string.h>

#include "merge.h"

static int build(const rd_api *rd, rd_build *b, void *self, int nin, const rd_shape *ins, rd_shape *out) {
  return rd_merge_build(rd, b, "average", 2, 0, self, nin, ins, out);
}

static void forward(const rd_io *io, const float *const *x, float *y) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  const float k = (float)p->nin;
  memcpy(y, x[0], sizeof(float) * n);
  for (int i = 1; i < p->nin; i++)
    for (size_t j = 0; j < n; j++) y[j] += x[i][j];
  for (size_t j = 0; j < n; j++) y[j] /= k;
}

static void backward(const rd_io *io, const float *const *x, const float *y, float *dy, float *const *dx) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  const float k = (float)p->nin;
  (void)x, (void)y;
  for (int i = 0; i < p->nin; i++)
    if (dx[i])
      for (size_t j = 0; j < n; j++) dx[i][j] = dy[j] / k;
}

const rd_layer_type rd_layer_average = {
    .name = "average", .self_size = sizeof(rd_merge), .build_n = build, .forward_n = forward, .backward_n = backward};
