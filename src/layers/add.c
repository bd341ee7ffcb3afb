/* add: Keras' Add(): y = x1 + x2 + ..., summed in the order of `inputs`
 * (((x1 + x2) + x3) ...), as Keras' loop adds them. Inputs: two or more of one
 * shape. No keys. */
#include <string.h>

#include "merge.h"
#include "../simd.h"

static int build(const rd_api *rd, rd_build *b, void *self, int nin, const rd_shape *ins, rd_shape *out) {
  return rd_merge_build(rd, b, "add", 2, 0, self, nin, ins, out);
}

/* With the relu after it taken (layer.h, RD_LAYER_TAKES_RELU), two inputs
 * are added and clipped in one pass, more in passes as written. */
RD_SIMD static void forward(const rd_io *io, const float *const *x, float *y) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  if (p->nin == 2 && io->relu) {
    const float *restrict a = x[0], *restrict b = x[1];
    for (size_t j = 0; j < n; j++) {
      const float v = a[j] + b[j];
      y[j] = v > 0.0f ? v : 0.0f;
    }
    return;
  }
  memcpy(y, x[0], sizeof(float) * n);
  for (int i = 1; i < p->nin; i++)
    for (size_t j = 0; j < n; j++) y[j] += x[i][j];
  if (io->relu)
    for (size_t j = 0; j < n; j++) y[j] = y[j] > 0.0f ? y[j] : 0.0f;
}

/* Every input's gradient is dy (with the relu taken, y > 0 ? dy : 0, made
 * once and copied). */
RD_SIMD static void backward(const rd_io *io, const float *const *x, const float *y, float *dy, float *const *dx) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  (void)x;
  const float *g = dy;
  for (int i = 0; i < p->nin; i++) {
    if (!dx[i]) continue;
    if (io->relu && g == dy) { /* the first input that needs a gradient */
      float *restrict d = dx[i];
      const float *restrict yr = y, *restrict gr = dy;
      for (size_t j = 0; j < n; j++) {
        const float v = gr[j];
        d[j] = yr[j] > 0.0f ? v : 0.0f;
      }
      g = d;
    } else {
      memcpy(dx[i], g, sizeof(float) * n);
    }
  }
}

const rd_layer_type rd_layer_add = {
    .name = "add", .flags = RD_LAYER_NO_Y | RD_LAYER_TAKES_RELU, .self_size = sizeof(rd_merge), .build_n = build, .forward_n = forward, .backward_n = backward};
