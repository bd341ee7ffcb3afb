/* random_contrast: Keras 3's RandomContrast(factor, value_range=(0, 255),
 * seed). In training each sample gets its contrast factor
 * f = (1 - lo) + ((1 + hi) - (1 - lo)) u_0 (image.h's draw), and each channel
 * becomes y = clip((x - m) f + m, value_range) with m the channel's mean over
 * the image (summed in double, in order). A factor F is the range (lo, hi) =
 * (0, F), so f is in [1, 1 + F] (Keras 3's _set_factor clips -F to its lower
 * bound 0); "a,b" gives f in [1 - a, 1 + b], each in [0, 1]. Identity (no
 * clipping) in evaluation. Keys: factor (required), value_range, seed. */
#include "image.h"

typedef struct {
  int64_t h, w, c;
  double lo, hi, vlo, vhi;
} contrast;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  contrast *p = self;
  double vr[2] = {0.0, 255.0};
  int nv = 0;
  const int g = rd_img_factor(rd, b, "factor", 0.0, 1.0, 1, &p->lo, &p->hi);
  const int v = rd->get_floats(b, "value_range", 2, 2, -3.4028234663852886e38, 3.4028234663852886e38, 0, vr, &nv);
  const int s = rd->seed(b, "seed", -1);
  if (g < 0 || v < 0 || s < 0) return 1;
  if (g == 0) return rd->fail(b, NULL, "[random_contrast] needs factor = F (Keras' required argument)");
  if (!(vr[0] < vr[1])) return rd->fail(b, "value_range", "value_range = %g,%g must be low,high with low < high", vr[0], vr[1]);
  if (rd_img_input(rd, b, "random_contrast", in)) return 1;
  p->vlo = vr[0], p->vhi = vr[1];
  p->h = in->dim[0], p->w = in->dim[1], p->c = in->dim[2];
  *out = *in;
  return 0;
}

/* Sample r's factor and its channels' means (m has c values). */
static double factor_and_means(const rd_io *io, int64_t r, const float *x, double *m) {
  const contrast *p = io->self;
  const int64_t npix = p->h * p->w;
  for (int64_t ch = 0; ch < p->c; ch++) m[ch] = 0.0;
  for (int64_t k = 0; k < npix; k++)
    for (int64_t ch = 0; ch < p->c; ch++) m[ch] += (double)x[k * p->c + ch];
  for (int64_t ch = 0; ch < p->c; ch++) m[ch] /= (double)npix;
  return (1.0 - p->lo) + ((1.0 + p->hi) - (1.0 - p->lo)) * rd_img_draw(io, r, 1, 0);
}

static size_t workspace(const void *self, const rd_shape *in, const rd_shape *out, int64_t rows) {
  (void)in, (void)out, (void)rows;
  return (size_t)(4 * ((const contrast *)self)->c); /* a channel's mean and gradient sum, in doubles */
}

static void forward(const rd_io *io, const float *x, float *y) {
  const contrast *p = io->self;
  const int64_t n = p->h * p->w * p->c;
  if (!io->training) {
    memcpy(y, x, sizeof(float) * (size_t)(io->rows * n));
    return;
  }
  double *m = (double *)io->ws;
  for (int64_t r = 0; r < io->rows; r++) {
    const float *xr = x + r * n;
    const double f = factor_and_means(io, r, xr, m);
    for (int64_t i = 0; i < n; i++) {
      const double z = ((double)xr[i] - m[i % p->c]) * f + m[i % p->c];
      y[r * n + i] = (float)(z < p->vlo ? p->vlo : z > p->vhi ? p->vhi : z);
    }
  }
}

/* z = (x - m) f + m with m the mean of the channel's N values: dz_i / dx_j =
 * f [i = j] + (1 - f) / N. The clip passes dL/dy where vlo <= z <= vhi. */
static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const contrast *p = io->self;
  const int64_t n = p->h * p->w * p->c, npix = p->h * p->w;
  (void)y;
  if (!dx) return;
  if (!io->training) {
    memcpy(dx, dy, sizeof(float) * (size_t)(io->rows * n));
    return;
  }
  double *m = (double *)io->ws, *gs = m + p->c;
  for (int64_t r = 0; r < io->rows; r++) {
    const float *xr = x + r * n;
    float *g = dy + r * n;
    const double f = factor_and_means(io, r, xr, m);
    for (int64_t ch = 0; ch < p->c; ch++) gs[ch] = 0.0;
    for (int64_t i = 0; i < n; i++) {
      const double z = ((double)xr[i] - m[i % p->c]) * f + m[i % p->c];
      if (z < p->vlo || z > p->vhi) g[i] = 0.0f;
      gs[i % p->c] += (double)g[i];
    }
    for (int64_t i = 0; i < n; i++)
      dx[r * n + i] = (float)(f * (double)g[i] + (1.0 - f) / (double)npix * gs[i % p->c]);
  }
}

const rd_layer_type rd_layer_random_contrast = {.name = "random_contrast",
                                                .self_size = sizeof(contrast),
                                                .build = build,
                                                .workspace = workspace,
                                                .forward = forward,
                                                .backward = backward};
