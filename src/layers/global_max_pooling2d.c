/* global_max_pooling2d: Keras' GlobalMaxPooling2D(): (height, width, channels)
 * to (channels,), the largest value of each channel. Ties go to the first
 * maximum scanned row by row (as [max_pooling2d]): dL/dx is dL/dy there and 0
 * elsewhere. No keys. */
#include <string.h>

#include "reprodist/layer.h"

typedef struct {
  int64_t hw, c;
} global_max;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  global_max *p = self;
  if (in->ndim != 3)
    return rd->fail(b, NULL, "[global_max_pooling2d] needs an input of (height, width, channels), not %d-D", in->ndim);
  p->hw = in->dim[0] * in->dim[1], p->c = in->dim[2];
  *out = (rd_shape){1, {p->c}};
  return 0;
}

static void forward(const rd_io *io, const float *x, float *y) {
  const global_max *p = io->self;
  for (int64_t r = 0; r < io->rows; r++) {
    const float *xr = x + r * p->hw * p->c;
    float *yr = y + r * p->c;
    memcpy(yr, xr, sizeof(float) * (size_t)p->c);
    for (int64_t i = 1; i < p->hw; i++)
      for (int64_t c = 0; c < p->c; c++) yr[c] = xr[i * p->c + c] > yr[c] ? xr[i * p->c + c] : yr[c];
  }
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const global_max *p = io->self;
  if (!dx) return;
  memset(dx, 0, sizeof(float) * (size_t)(io->rows * p->hw * p->c));
  for (int64_t r = 0; r < io->rows; r++)
    for (int64_t c = 0; c < p->c; c++) {
      const float *xr = x + r * p->hw * p->c;
      int64_t i = 0;
      while (i < p->hw - 1 && !(xr[i * p->c + c] == y[r * p->c + c])) i++; /* the first maximum */
      dx[(r * p->hw + i) * p->c + c] = dy[r * p->c + c];
    }
}

const rd_layer_type rd_layer_global_max_pooling2d = {
    .name = "global_max_pooling2d", .self_size = sizeof(global_max), .build = build, .forward = forward, .backward = backward};
