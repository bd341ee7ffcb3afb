/* random_crop: Keras 3's RandomCrop(height, width, seed): (h, w, c) to
 * (height, width, c). In training each sample gets its own window: its top row
 * floor(u_0 (h - height + 1)) and left column floor(u_1 (w - width + 1))
 * (image.h's draws). In evaluation, the centre window: top (h - height) / 2,
 * left (w - width) / 2, rounded down, as Keras' inference path.
 * Where reprodist differs from Keras 3.15 (README, "Augmentation"): Keras draws
 * one window per batch (per replica's batch under distribution, so it changes
 * with the world size) and only when both sides are larger than the crop; an
 * input smaller than the crop, which Keras resizes, is refused here.
 * Keys: height, width (required), seed. */
#include "image.h"

typedef struct {
  int64_t h, w, c, ch, cw;
} crop;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  crop *p = self;
  const int gh = rd->get_int(b, "height", 0, 1, 1000000, &p->ch);
  const int gw = rd->get_int(b, "width", 0, 1, 1000000, &p->cw);
  const int s = rd->seed(b, "seed", -1);
  if (gh < 0 || gw < 0 || s < 0) return 1;
  if (gh == 0 || gw == 0) return rd->fail(b, NULL, "[random_crop] needs height = H and width = W, the crop's size");
  if (rd_img_input(rd, b, "random_crop", in)) return 1;
  p->h = in->dim[0], p->w = in->dim[1], p->c = in->dim[2];
  if (p->ch > p->h || p->cw > p->w)
    return rd->fail(b, p->ch > p->h ? "height" : "width",
                    "[random_crop] crops %lld x %lld from an input of %lld x %lld; the crop must fit in the input "
                    "(Keras would resize the input; pad it first with [zero_padding2d])",
                    (long long)p->ch, (long long)p->cw, (long long)p->h, (long long)p->w);
  *out = (rd_shape){3, {p->ch, p->cw, p->c}};
  return 0;
}

static void window(const rd_io *io, int64_t r, int64_t *top, int64_t *left) {
  const crop *p = io->self;
  if (!io->training) {
    *top = (p->h - p->ch) / 2, *left = (p->w - p->cw) / 2;
    return;
  }
  *top = (int64_t)floor(rd_img_draw(io, r, 2, 0) * (double)(p->h - p->ch + 1));
  *left = (int64_t)floor(rd_img_draw(io, r, 2, 1) * (double)(p->w - p->cw + 1));
}

static void forward(const rd_io *io, const float *x, float *y) {
  const crop *p = io->self;
  for (int64_t r = 0; r < io->rows; r++) {
    int64_t top, left;
    window(io, r, &top, &left);
    for (int64_t i = 0; i < p->ch; i++)
      memcpy(y + ((r * p->ch + i) * p->cw) * p->c, x + ((r * p->h + top + i) * p->w + left) * p->c,
             sizeof(float) * (size_t)(p->cw * p->c));
  }
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const crop *p = io->self;
  (void)x, (void)y;
  if (!dx) return;
  memset(dx, 0, sizeof(float) * (size_t)(io->rows * p->h * p->w * p->c));
  for (int64_t r = 0; r < io->rows; r++) {
    int64_t top, left;
    window(io, r, &top, &left);
    for (int64_t i = 0; i < p->ch; i++)
      memcpy(dx + ((r * p->h + top + i) * p->w + left) * p->c, dy + ((r * p->ch + i) * p->cw) * p->c,
             sizeof(float) * (size_t)(p->cw * p->c));
  }
}

const rd_layer_type rd_layer_random_crop = {
    .name = "random_crop", .self_size = sizeof(crop), .build = build, .forward = forward, .backward = backward};
