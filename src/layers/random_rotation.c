/* random_rotation: Keras 3's RandomRotation(factor, fill_mode="reflect",
 * interpolation="bilinear", seed, fill_value=0.0). In training each sample
 * turns by theta = (360 lo + (360 hi - 360 lo) u_0) pi / 180 (image.h's draw;
 * factor f is the range (-f, f) of full turns, "a,b" the range (a, b), each in
 * [-1, 1]) about the image's centre (cx, cy) = ((w - 1) / 2, (h - 1) / 2):
 * output (i, j) reads the input at column a0 j + a1 i + a2 and row
 * b0 j + b1 i + b2, with a0 = b1 = cos theta, a1 = -sin theta, b0 = sin theta,
 * a2 = cx - cx a0 - cy a1, b2 = cy - cx b0 - cy b1 (Keras'
 * _compute_affine_matrix), resampled as image.h says. sin and cos are rd->sin
 * and rd->cos: the same bits on every CPU. Identity in evaluation.
 * Keys: factor (required), fill_mode, interpolation, fill_value, seed. */
#include "image.h"

typedef struct {
  rd_img_sampler s;
  double lo, hi;
} rotation;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  rotation *p = self;
  const int g = rd_img_factor(rd, b, "factor", -1.0, 1.0, 0, &p->lo, &p->hi);
  const int k = rd_img_sampler_keys(rd, b, in, &p->s);
  const int s = rd->seed(b, "seed", -1);
  if (g < 0 || k < 0 || s < 0) return 1;
  if (g == 0) return rd->fail(b, NULL, "[random_rotation] needs factor = F, the range of turns (a fraction of 2 pi)");
  if (rd_img_input(rd, b, "random_rotation", in)) return 1;
  *out = *in;
  return 0;
}

static rd_img_affine transform(const rd_io *io, int64_t r) {
  const rotation *p = io->self;
  const double lo = p->lo * 360.0, hi = p->hi * 360.0;
  const double theta = (lo + (hi - lo) * rd_img_draw(io, r, 1, 0)) * (3.141592653589793 / 180.0);
  const double c = io->rd->cos(theta), sn = io->rd->sin(theta);
  const double cx = 0.5 * (double)(p->s.w - 1), cy = 0.5 * (double)(p->s.h - 1);
  rd_img_affine A = {c, -sn, 0.0, sn, c, 0.0};
  A.a2 = cx - cx * A.a0 - cy * A.a1;
  A.b2 = cy - cx * A.b0 - cy * A.b1;
  return A;
}

static void forward(const rd_io *io, const float *x, float *y) {
  rd_img_resample(io, &((const rotation *)io->self)->s, transform, 0, x, y);
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  (void)x, (void)y;
  if (dx) rd_img_resample(io, &((const rotation *)io->self)->s, transform, 1, dy, dx);
}

const rd_layer_type rd_layer_random_rotation = {
    .name = "random_rotation", .self_size = sizeof(rotation), .build = build, .forward = forward, .backward = backward};
