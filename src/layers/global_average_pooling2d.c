/* global_average_pooling2d: Keras' GlobalAveragePooling2D, channels last:
 * (h, w, c) -> (c,), each channel's mean over the h*w positions, summed in
 * row-by-row order and divided by h*w. No keys. */
#include <string.h>

#include "reprodist/layer.h"

typedef struct {
  int64_t hw, c;
} gap2d;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  gap2d *p = self;
  if (in->ndim != 3)
    return rd->fail(b, NULL, "[global_average_pooling2d] needs an input of (height, width, channels), not %d-D",
                    in->ndim);
  p->hw = in->dim[0] * in->dim[1];
  p->c = in->dim[2];
  *out = (rd_shape){1, {p->c}};
  return 0;
}

static void forward(const rd_io *io, const float *x, float *y) {
  const gap2d *p = io->self;
  const float n = (float)p->hw;
  for (int64_t s = 0; s < io->rows; s++) {
    float *ys = y + s * p->c;
    for (int64_t c = 0; c < p->c; c++) ys[c] = 0.0f;
    for (int64_t q = 0; q < p->hw; q++)
      for (int64_t c = 0; c < p->c; c++) ys[c] += x[(s * p->hw + q) * p->c + c];
    for (int64_t c = 0; c < p->c; c++) ys[c] /= n;
  }
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const gap2d *p = io->self;
  const float n = (float)p->hw;
  if (!dx) return;
  for (int64_t s = 0; s < io->rows; s++)
    for (int64_t q = 0; q < p->hw; q++)
      for (int64_t c = 0; c < p->c; c++) dx[(s * p->hw + q) * p->c + c] = dy[s * p->c + c] / n;
}

const rd_layer_type rd_layer_global_average_pooling2d = {
    .name = "global_average_pooling2d",
    .self_size = sizeof(gap2d),
    .build = build,
    .forward = forward,
    .backward = backward,
};
