/* image: what the image augmentation layers share (Keras 3's RandomFlip,
 * RandomTranslation, RandomRotation, RandomZoom, RandomCrop, RandomContrast,
 * RandomErasing): their draws, their factor arguments and Keras' affine
 * resampling (keras.ops.image.affine_transform) with its fill modes.
 *
 * Draws. A layer with K draws per sample takes draw k (0 <= k < K) of the
 * sample at global index n, in the training step of iteration t, from
 *     u_k = uniform(word(s, n * K + k, t))
 * with s the layer's stream seed (docs/SEEDS.md). So a sample is augmented the
 * same way on whichever rank, at any np, and after a resume; never per batch
 * or per replica, as Keras 3 draws some of them (README, "Augmentation").
 *
 * Geometry is double arithmetic (+, -, *, /, floor, rint) with rd->sin and
 * rd->cos, rounded to float once per output value: the same bits on every
 * CPU, in both kernel modes.
 *
 * Private to src/layers/; a header of functions small enough to inline. */
#ifndef REPRODIST_LAYERS_IMAGE_H
#define REPRODIST_LAYERS_IMAGE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "reprodist/layer.h"

/* Keras' fill_mode and interpolation values, in the order of the enums. */
enum { RD_IMG_REFLECT, RD_IMG_WRAP, RD_IMG_CONSTANT, RD_IMG_NEAREST };
static const char *const rd_img_fill_modes[] = {"reflect", "wrap", "constant", "nearest", NULL};
enum { RD_IMG_INTERP_NEAREST, RD_IMG_INTERP_BILINEAR };
static const char *const rd_img_interpolations[] = {"nearest", "bilinear", NULL};

/* Draw k of K for row r of the shard (see above), uniform in [0, 1). */
static inline double rd_img_draw(const rd_io *io, int64_t r, uint64_t K, uint64_t k) {
  return io->rd->uniform(io->rd->word(io->seed, (uint64_t)io->sample[r] * K + k, io->iteration));
}

/* Checks that the input is an image, (height, width, channels). */
static inline int rd_img_input(const rd_api *rd, rd_build *b, const char *section, const rd_shape *in) {
  if (in->ndim != 3)
    return rd->fail(b, NULL, "[%s] needs an input of (height, width, channels), not %d-D", section, in->ndim);
  return 0;
}

/* A Keras factor argument: one number f, read as (-|f|, |f|) or, when
 * zero_floor, as (max(-|f|, 0), |f|) = (0, |f|) (the factors bounded below by
 * 0, as Keras' _set_factor clips them); or two numbers "lo,hi", sorted. Each
 * in [lo_bound, hi_bound]. Returns as rd->get_float; absent: lo = hi = 0. */
static inline int rd_img_factor(const rd_api *rd, rd_build *b, const char *key, double lo_bound, double hi_bound,
                                int zero_floor, double *lo, double *hi) {
  double v[2] = {0.0, 0.0};
  int n = 0;
  const int got = rd->get_floats(b, key, 1, 2, lo_bound, hi_bound, 0, v, &n);
  *lo = *hi = 0.0;
  if (got <= 0) return got;
  if (n == 1) {
    const double f = fabs(v[0]);
    *lo = zero_floor ? 0.0 : -f, *hi = f;
  } else {
    *lo = v[0] < v[1] ? v[0] : v[1], *hi = v[0] < v[1] ? v[1] : v[0];
  }
  return 1;
}

/* ---- affine resampling, as keras.ops.image.affine_transform ---------------
 * Output pixel (row i, column j) reads the input at column xs = a0 j + a1 i + a2
 * and row ys = b0 j + b1 i + b2 (Keras' transform [a0, a1, a2, b0, b1, b2, 0, 0]).
 * Bilinear: the four pixels around (ys, xs), weighted (1 - fy)(1 - fx),
 * (1 - fy) fx, fy (1 - fx), fy fx for fy = ys - floor(ys), fx = xs - floor(xs),
 * summed in that order. Nearest: the pixel at (rint(ys), rint(xs)), ties to
 * even (torch.round, jnp.round). A pixel outside the image is, by fill_mode:
 * reflect (d c b a | a b c d | d c b a), wrap (a b c d | a b c d), nearest
 * (a a a a | a b c d | d d d d), or constant: fill_value. */
typedef struct {
  double a0, a1, a2, b0, b1, b2;
} rd_img_affine;

typedef struct {
  int64_t h, w, c;      /* the image */
  int fill, bilinear;   /* RD_IMG_*, 1 for bilinear */
  double fill_value;    /* constant mode */
} rd_img_sampler;

/* An index outside [0, n) moved inside by fill mode (not constant). */
static inline int64_t rd_img_fix(int64_t i, int64_t n, int fill) {
  if (i >= 0 && i < n) return i;
  if (fill == RD_IMG_WRAP) return ((i % n) + n) % n;
  if (fill == RD_IMG_REFLECT) {
    int64_t m = ((i % (2 * n)) + 2 * n) % (2 * n);
    return m < n ? m : 2 * n - 1 - m;
  }
  return i < 0 ? 0 : n - 1; /* nearest (and constant's clip, whose value is then not used) */
}

/* The input pixels output pixel (i, j) reads: up to 4 (pixel index
 * y * w + x, or -1 for fill_value) with their weights. Returns the count. */
static inline int rd_img_taps(const rd_img_sampler *s, const rd_img_affine *A, int64_t i, int64_t j, int64_t *at,
                              double *wt) {
  const double xs = A->a0 * (double)j + A->a1 * (double)i + A->a2;
  const double ys = A->b0 * (double)j + A->b1 * (double)i + A->b2;
  int64_t iy[2], ix[2];
  double wy[2], wx[2];
  int ny, nx;
  if (s->bilinear) {
    const double fy = floor(ys), fx = floor(xs);
    iy[0] = (int64_t)fy, iy[1] = iy[0] + 1, wy[1] = ys - fy, wy[0] = 1.0 - wy[1];
    ix[0] = (int64_t)fx, ix[1] = ix[0] + 1, wx[1] = xs - fx, wx[0] = 1.0 - wx[1];
    ny = nx = 2;
  } else {
    iy[0] = (int64_t)rint(ys), ix[0] = (int64_t)rint(xs), wy[0] = wx[0] = 1.0;
    ny = nx = 1;
  }
  int n = 0;
  for (int a = 0; a < ny; a++)
    for (int b = 0; b < nx; b++, n++) {
      wt[n] = wy[a] * wx[b];
      const int inside = iy[a] >= 0 && iy[a] < s->h && ix[b] >= 0 && ix[b] < s->w;
      at[n] = s->fill == RD_IMG_CONSTANT && !inside
                  ? -1
                  : rd_img_fix(iy[a], s->h, s->fill) * s->w + rd_img_fix(ix[b], s->w, s->fill);
    }
  return n;
}

/* y (h, w, c) = the resampled x. */
static inline void rd_img_affine_forward(const rd_img_sampler *s, const rd_img_affine *A, const float *x, float *y) {
  int64_t at[4];
  double wt[4];
  for (int64_t i = 0; i < s->h; i++)
    for (int64_t j = 0; j < s->w; j++) {
      const int n = rd_img_taps(s, A, i, j, at, wt);
      float *o = y + (i * s->w + j) * s->c;
      for (int64_t ch = 0; ch < s->c; ch++) {
        double v = 0.0;
        for (int t = 0; t < n; t++) v += wt[t] * (at[t] < 0 ? s->fill_value : (double)x[at[t] * s->c + ch]);
        o[ch] = (float)v;
      }
    }
}

/* dx (h, w, c) = the transpose of the resampling applied to dy: each output
 * value's dy, times each weight, added to the input pixel it read, in the order
 * of the output pixels. fill_value is no function of x: no gradient. */
static inline void rd_img_affine_backward(const rd_img_sampler *s, const rd_img_affine *A, const float *dy,
                                          float *dx) {
  int64_t at[4];
  double wt[4];
  memset(dx, 0, sizeof(float) * (size_t)(s->h * s->w * s->c));
  for (int64_t i = 0; i < s->h; i++)
    for (int64_t j = 0; j < s->w; j++) {
      const int n = rd_img_taps(s, A, i, j, at, wt);
      const float *g = dy + (i * s->w + j) * s->c;
      for (int t = 0; t < n; t++)
        if (at[t] >= 0)
          for (int64_t ch = 0; ch < s->c; ch++) dx[at[t] * s->c + ch] += (float)(wt[t] * (double)g[ch]);
    }
}

/* The forward (back = 0: y from x) or backward (back = 1: dx from dy) of a
 * layer that resamples each sample with its own transform in training and
 * passes values through in evaluation. */
typedef rd_img_affine (*rd_img_transform)(const rd_io *io, int64_t r);
static inline void rd_img_resample(const rd_io *io, const rd_img_sampler *s, rd_img_transform tf, int back,
                                   const float *from, float *to) {
  const int64_t n = s->h * s->w * s->c;
  if (!io->training) {
    memcpy(to, from, sizeof(float) * (size_t)(io->rows * n));
    return;
  }
  for (int64_t r = 0; r < io->rows; r++) {
    const rd_img_affine A = tf(io, r);
    if (back)
      rd_img_affine_backward(s, &A, from + r * n, to + r * n);
    else
      rd_img_affine_forward(s, &A, from + r * n, to + r * n);
  }
}

/* The keys of the layers that resample: fill_mode (reflect), interpolation
 * (bilinear), fill_value (0.0), as Keras' defaults. */
static inline int rd_img_sampler_keys(const rd_api *rd, rd_build *b, const rd_shape *in, rd_img_sampler *s) {
  int interp = RD_IMG_INTERP_BILINEAR;
  const int f = rd->get_enum(b, "fill_mode", rd_img_fill_modes, RD_IMG_REFLECT, &s->fill);
  const int i = rd->get_enum(b, "interpolation", rd_img_interpolations, RD_IMG_INTERP_BILINEAR, &interp);
  const int v = rd->get_float(b, "fill_value", 0.0, -3.4028234663852886e38, 3.4028234663852886e38, 0, &s->fill_value);
  s->bilinear = interp == RD_IMG_INTERP_BILINEAR;
  s->h = in->ndim == 3 ? in->dim[0] : 0, s->w = in->ndim == 3 ? in->dim[1] : 0, s->c = in->ndim == 3 ? in->dim[2] : 0;
  return f < 0 || i < 0 || v < 0 ? -1 : 0;
}

#endif
