/* random_zoom: Keras 3's RandomZoom(height_factor, width_factor=None,
 * fill_mode="reflect", interpolation="bilinear", seed, fill_value=0.0). In
 * training each sample is scaled about its centre by zy = 1 + hl + (hu - hl) u_0
 * vertically and zx = 1 + wl + (wu - wl) u_1 horizontally (image.h's draws; a
 * factor f is the range (-f, f), "a,b" the range (a, b), each in [-1, 1]; a
 * positive factor zooms out, as Keras). Without width_factor, zx = zy (Keras
 * keeps the aspect ratio). Output (i, j) reads the input at column
 * zx j + (w - 1) / 2 (1 - zx) and row zy i + (h - 1) / 2 (1 - zy), resampled as
 * image.h says. Identity in evaluation.
 * Keys: height_factor (required), width_factor, fill_mode, interpolation,
 * fill_value, seed. */
#include "image.h"

typedef struct {
  rd_img_sampler s;
  double hl, hu, wl, wu;
  int keep_aspect;
} zoom;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  zoom *p = self;
  const int gh = rd_img_factor(rd, b, "height_factor", -1.0, 1.0, 0, &p->hl, &p->hu);
  const int gw = rd_img_factor(rd, b, "width_factor", -1.0, 1.0, 0, &p->wl, &p->wu);
  const int k = rd_img_sampler_keys(rd, b, in, &p->s);
  const int s = rd->seed(b, "seed", -1);
  if (gh < 0 || gw < 0 || k < 0 || s < 0) return 1;
  if (gh == 0) return rd->fail(b, NULL, "[random_zoom] needs height_factor (Keras' required argument)");
  if (rd_img_input(rd, b, "random_zoom", in)) return 1;
  p->keep_aspect = gw == 0;
  *out = *in;
  return 0;
}

static rd_img_affine transform(const rd_io *io, int64_t r) {
  const zoom *p = io->self;
  const double zy = 1.0 + p->hl + (p->hu - p->hl) * rd_img_draw(io, r, 2, 0);
  const double zx = p->keep_aspect ? zy : 1.0 + p->wl + (p->wu - p->wl) * rd_img_draw(io, r, 2, 1);
  return (rd_img_affine){zx, 0.0, 0.5 * (double)(p->s.w - 1) * (1.0 - zx),
                         0.0, zy, 0.5 * (double)(p->s.h - 1) * (1.0 - zy)};
}

static void forward(const rd_io *io, const float *x, float *y) {
  rd_img_resample(io, &((const zoom *)io->self)->s, transform, 0, x, y);
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  (void)x, (void)y;
  if (dx) rd_img_resample(io, &((const zoom *)io->self)->s, transform, 1, dy, dx);
}

const rd_layer_type rd_layer_random_zoom = {
    .name = "random_zoom", .self_size = sizeof(zoom), .build = build, .forward = forward, .backward = backward};
