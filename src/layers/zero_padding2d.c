/* zero_padding2d: Keras' ZeroPadding2D(padding=(1, 1)) on (height, width,
 * channels): rows of zeros above and below, columns left and right.
 * Key: padding = 1 (every side), "1,2" (top and bottom 1, left and right 2:
 * Keras' (1, 2)) or "1,2,3,4" (top, bottom, left, right: Keras' ((1, 2), (3, 4))). */
#include <string.h>

#include "reprodist/layer.h"

typedef struct {
  int64_t h, w, c, top, bottom, left, right;
} zero_padding;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  zero_padding *p = self;
  static const int64_t dflt[1] = {1};
  int64_t v[4];
  int n = 0;
  if (rd->get_int_list(b, "padding", 1, 4, dflt, 1, 0, 1000000, v, &n) < 0) return 1;
  if (n == 3) return rd->fail(b, "padding", "padding takes 1, 2 (height, width) or 4 (top, bottom, left, right) values");
  if (in->ndim != 3)
    return rd->fail(b, NULL, "[zero_padding2d] needs an input of (height, width, channels), not %d-D", in->ndim);
  p->h = in->dim[0], p->w = in->dim[1], p->c = in->dim[2];
  if (n == 1) p->top = p->bottom = p->left = p->right = v[0];
  if (n == 2) p->top = p->bottom = v[0], p->left = p->right = v[1];
  if (n == 4) p->top = v[0], p->bottom = v[1], p->left = v[2], p->right = v[3];
  *out = (rd_shape){3, {p->h + p->top + p->bottom, p->w + p->left + p->right, p->c}};
  return 0;
}

static void forward(const rd_io *io, const float *x, float *y) {
  const zero_padding *p = io->self;
  const int64_t ow = p->w + p->left + p->right, oh = p->h + p->top + p->bottom, row = p->w * p->c;
  memset(y, 0, sizeof(float) * (size_t)(io->rows * oh * ow * p->c));
  for (int64_t r = 0; r < io->rows; r++)
    for (int64_t i = 0; i < p->h; i++)
      memcpy(y + ((r * oh + p->top + i) * ow + p->left) * p->c, x + (r * p->h + i) * row, sizeof(float) * (size_t)row);
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const zero_padding *p = io->self;
  const int64_t ow = p->w + p->left + p->right, oh = p->h + p->top + p->bottom, row = p->w * p->c;
  (void)x, (void)y;
  if (!dx) return;
  for (int64_t r = 0; r < io->rows; r++)
    for (int64_t i = 0; i < p->h; i++)
      memcpy(dx + (r * p->h + i) * row, dy + ((r * oh + p->top + i) * ow + p->left) * p->c, sizeof(float) * (size_t)row);
}

const rd_layer_type rd_layer_zero_padding2d = {
    .name = "zero_padding2d", .self_size = sizeof(zero_padding), .build = build, .forward = forward, .backward = backward};
