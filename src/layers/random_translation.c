/* random_translation: Keras 3's RandomTranslation(height_factor, width_factor,
 * fill_mode="reflect", interpolation="bilinear", seed, fill_value=0.0). In
 * training each sample moves down by dy = (hl + (hu - hl) u_0) h rows and right
 * by dx = (wl + (wu - wl) u_1) w columns (image.h's draws; a factor f is the
 * range (-f, f), "a,b" the range (a, b), each in [-1, 1]): output (i, j) reads
 * the input at (i - dy, j - dx), resampled as image.h says. Identity in
 * evaluation. Keys: height_factor, width_factor (required), fill_mode,
 * interpolation, fill_value, seed. */
#include "image.h"

typedef struct {
  rd_img_sampler s;
  double hl, hu, wl, wu;
} translation;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  translation *p = self;
  const int gh = rd_img_factor(rd, b, "height_factor", -1.0, 1.0, 0, &p->hl, &p->hu);
  const int gw = rd_img_factor(rd, b, "width_factor", -1.0, 1.0, 0, &p->wl, &p->wu);
  const int k = rd_img_sampler_keys(rd, b, in, &p->s);
  const int s = rd->seed(b, "seed", -1);
  if (gh < 0 || gw < 0 || k < 0 || s < 0) return 1;
  if (gh == 0 || gw == 0)
    return rd->fail(b, NULL, "[random_translation] needs height_factor and width_factor (Keras' required arguments)");
  if (rd_img_input(rd, b, "random_translation", in)) return 1;
  *out = *in;
  return 0;
}

static rd_img_affine transform(const rd_io *io, int64_t r) {
  const translation *p = io->self;
  const double dy = (p->hl + (p->hu - p->hl) * rd_img_draw(io, r, 2, 0)) * (double)p->s.h;
  const double dx = (p->wl + (p->wu - p->wl) * rd_img_draw(io, r, 2, 1)) * (double)p->s.w;
  return (rd_img_affine){1.0, 0.0, -dx, 0.0, 1.0, -dy};
}

static void forward(const rd_io *io, const float *x, float *y) {
  rd_img_resample(io, &((const translation *)io->self)->s, transform, 0, x, y);
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  (void)x, (void)y;
  if (dx) rd_img_resample(io, &((const translation *)io->self)->s, transform, 1, dy, dx);
}

const rd_layer_type rd_layer_random_translation = {.name = "random_translation",
                                                   .self_size = sizeof(translation),
                                                   .build = build,
                                                   .forward = forward,
                                                   .backward = backward};
