/* random_flip: Keras 3's RandomFlip(mode="horizontal_and_vertical", seed).
 * In training each sample is flipped when its one draw u_0 (image.h) is below
 * 0.5: left-right (horizontal), top-bottom (vertical), or both at once
 * (horizontal_and_vertical: one draw for both, as Keras, so a sample is
 * either kept or turned by 180 degrees). Identity in evaluation.
 * Keys: mode, seed. */
#include "image.h"

enum { FLIP_HORIZONTAL, FLIP_VERTICAL, FLIP_BOTH };
static const char *const k_modes[] = {"horizontal", "vertical", "horizontal_and_vertical", NULL};

typedef struct {
  int mode;
  int64_t h, w, c;
} flip;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  flip *p = self;
  const int m = rd->get_enum(b, "mode", k_modes, FLIP_BOTH, &p->mode);
  const int s = rd->seed(b, "seed", -1);
  if (m < 0 || s < 0 || rd_img_input(rd, b, "random_flip", in)) return 1;
  p->h = in->dim[0], p->w = in->dim[1], p->c = in->dim[2];
  *out = *in;
  return 0;
}

/* to (h, w, c) = from flipped (or copied); the map is its own inverse, so
 * backward is the same call on dy. */
static void flip_one(const flip *p, int flipped, const float *from, float *to) {
  const int hor = flipped && p->mode != FLIP_VERTICAL, ver = flipped && p->mode != FLIP_HORIZONTAL;
  for (int64_t i = 0; i < p->h; i++)
    for (int64_t j = 0; j < p->w; j++)
      memcpy(to + (i * p->w + j) * p->c, from + ((ver ? p->h - 1 - i : i) * p->w + (hor ? p->w - 1 - j : j)) * p->c,
             sizeof(float) * (size_t)p->c);
}

static void run(const rd_io *io, const float *from, float *to) {
  const flip *p = io->self;
  const int64_t n = p->h * p->w * p->c;
  for (int64_t r = 0; r < io->rows; r++)
    flip_one(p, io->training && rd_img_draw(io, r, 1, 0) < 0.5, from + r * n, to + r * n);
}

static void forward(const rd_io *io, const float *x, float *y) { run(io, x, y); }

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  (void)x, (void)y;
  if (dx) run(io, dy, dx);
}

const rd_layer_type rd_layer_random_flip = {
    .name = "random_flip", .self_size = sizeof(flip), .build = build, .forward = forward, .backward = backward};
