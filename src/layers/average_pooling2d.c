/* average_pooling2d: Keras' AveragePooling2D, channels last.
 *
 * Keys: pool_size (2), strides (= pool_size), padding (valid or same). Each
 * output is the mean of its window's positions inside the input (with same
 * padding, the padded ones are not counted, as in TensorFlow): the sum in
 * row-by-row order, divided by the count. Backward gives each of those
 * positions dy / count, outputs in order. */
#include <string.h>

#include "window.h"

typedef struct {
  rd_window h, w;
  int64_t c;
} average_pooling2d;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  average_pooling2d *p = self;
  int rc = rd_window_pool_build(rd, b, "average_pooling2d", in, &p->h, &p->w);
  if (rc) return rc;
  p->c = in->dim[2];
  *out = (rd_shape){3, {p->h.out, p->w.out, p->c}};
  return 0;
}

/* The window of output (oh, ow) inside the input: rows [*i0, *i1), columns [*j0, *j1). */
static void span(const average_pooling2d *p, int64_t oh, int64_t ow, int64_t *i0, int64_t *i1, int64_t *j0,
                 int64_t *j1) {
  const int64_t h0 = oh * p->h.s - p->h.pad, w0 = ow * p->w.s - p->w.pad;
  *i0 = h0 < 0 ? 0 : h0;
  *i1 = h0 + p->h.k > p->h.in ? p->h.in : h0 + p->h.k;
  *j0 = w0 < 0 ? 0 : w0;
  *j1 = w0 + p->w.k > p->w.in ? p->w.in : w0 + p->w.k;
}

static void forward(const rd_io *io, const float *x, float *y) {
  const average_pooling2d *p = io->self;
  const int64_t H = p->h.in, W = p->w.in, C = p->c;
  for (int64_t s = 0; s < io->rows; s++)
    for (int64_t oh = 0; oh < p->h.out; oh++)
      for (int64_t ow = 0; ow < p->w.out; ow++) {
        int64_t i0, i1, j0, j1;
        span(p, oh, ow, &i0, &i1, &j0, &j1);
        const float n = (float)((i1 - i0) * (j1 - j0));
        for (int64_t c = 0; c < C; c++) {
          float sum = 0.0f;
          for (int64_t i = i0; i < i1; i++)
            for (int64_t j = j0; j < j1; j++) sum += x[((s * H + i) * W + j) * C + c];
          y[((s * p->h.out + oh) * p->w.out + ow) * C + c] = sum / n;
        }
      }
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const average_pooling2d *p = io->self;
  const int64_t H = p->h.in, W = p->w.in, C = p->c;
  if (!dx) return;
  memset(dx, 0, sizeof(float) * (size_t)(io->rows * H * W * C));
  for (int64_t s = 0; s < io->rows; s++)
    for (int64_t oh = 0; oh < p->h.out; oh++)
      for (int64_t ow = 0; ow < p->w.out; ow++) {
        int64_t i0, i1, j0, j1;
        span(p, oh, ow, &i0, &i1, &j0, &j1);
        const float n = (float)((i1 - i0) * (j1 - j0));
        for (int64_t c = 0; c < C; c++) {
          const float g = dy[((s * p->h.out + oh) * p->w.out + ow) * C + c] / n;
          for (int64_t i = i0; i < i1; i++)
            for (int64_t j = j0; j < j1; j++) dx[((s * H + i) * W + j) * C + c] += g;
        }
      }
}

const rd_layer_type rd_layer_average_pooling2d = {
    .name = "average_pooling2d",
    .self_size = sizeof(average_pooling2d),
    .build = build,
    .forward = forward,
    .backward = backward,
};
