/* random_erasing: Keras 3.15's RandomErasing(factor=1.0, scale=(0.02, 0.33),
 * fill_value=None, value_range=(0, 255), seed). In training, for each sample
 * (image.h's draws u_0 .. u_6, K = 7):
 *   - the rectangle: sides sw = sqrt(s0 + (s1 - s0) u_0) w and
 *     sh = sqrt(s0 + (s1 - s0) u_1) h (scale = (s0, s1)), left edge
 *     x0 = u_2 (w - sw), top edge y0 = u_3 (h - sh); pixel (i, j) is inside when
 *     x0 <= j < x0 + sw and y0 <= i < y0 + sh;
 *   - it is erased when u_5 < p with p = f0 + (f1 - f0) u_4 (a factor F is the
 *     range (0, F), so a sample is erased with probability F / 2, as in Keras);
 *   - erased values become fill_value (one number, or one per channel), or,
 *     without fill_value, Gaussian noise normal() * value_range's high end,
 *     each clipped to value_range. The noise of value e (its index in the
 *     sample) is rd->normal(word(s, n * 7 + 6, t), e, ...).
 * Identity in evaluation. Keys: factor, scale, fill_value, value_range, seed. */
#include "image.h"

#define ERASE_K 7

typedef struct {
  int64_t h, w, c;
  double f0, f1, s0, s1, vlo, vhi;
  int nfill;       /* 0: noise; 1: one value; c: one per channel */
  double fill[16];
} erasing;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  erasing *p = self;
  double vr[2] = {0.0, 255.0};
  int nv = 0;
  int g = rd_img_factor(rd, b, "factor", 0.0, 1.0, 1, &p->f0, &p->f1);
  if (g == 0) p->f0 = 0.0, p->f1 = 1.0; /* factor=1.0 */
  int sc = rd_img_factor(rd, b, "scale", 0.0, 1.0, 1, &p->s0, &p->s1);
  if (sc == 0) p->s0 = 0.02, p->s1 = 0.33;
  const int fv = rd->get_floats(b, "fill_value", 1, 16, -3.4028234663852886e38, 3.4028234663852886e38, 0, p->fill,
                                &p->nfill);
  const int v = rd->get_floats(b, "value_range", 2, 2, -3.4028234663852886e38, 3.4028234663852886e38, 0, vr, &nv);
  const int s = rd->seed(b, "seed", -1);
  if (g < 0 || sc < 0 || fv < 0 || v < 0 || s < 0) return 1;
  if (!(vr[0] < vr[1])) return rd->fail(b, "value_range", "value_range = %g,%g must be low,high with low < high", vr[0], vr[1]);
  if (rd_img_input(rd, b, "random_erasing", in)) return 1;
  p->vlo = vr[0], p->vhi = vr[1];
  p->h = in->dim[0], p->w = in->dim[1], p->c = in->dim[2];
  if (p->nfill > 1 && p->nfill != p->c)
    return rd->fail(b, "fill_value", "fill_value has %d values; it takes one, or one per channel (%lld)", p->nfill,
                    (long long)p->c);
  *out = *in;
  return 0;
}

typedef struct {
  int erase;
  double x0, x1, y0, y1;
  uint64_t noise; /* the noise stream */
} rect;

static rect draw(const rd_io *io, int64_t r) {
  const erasing *p = io->self;
  double u[ERASE_K];
  for (int k = 0; k < ERASE_K; k++) u[k] = rd_img_draw(io, r, ERASE_K, (uint64_t)k);
  const double sw = sqrt(p->s0 + (p->s1 - p->s0) * u[0]) * (double)p->w;
  const double sh = sqrt(p->s0 + (p->s1 - p->s0) * u[1]) * (double)p->h;
  rect R = {.x0 = u[2] * ((double)p->w - sw), .y0 = u[3] * ((double)p->h - sh)};
  R.x1 = R.x0 + sw, R.y1 = R.y0 + sh;
  R.erase = u[5] < p->f0 + (p->f1 - p->f0) * u[4];
  R.noise = io->rd->word(io->seed, (uint64_t)io->sample[r] * ERASE_K + (ERASE_K - 1), io->iteration);
  return R;
}

static int inside(const rect *R, int64_t i, int64_t j) {
  return R->erase && (double)j >= R->x0 && (double)j < R->x1 && (double)i >= R->y0 && (double)i < R->y1;
}

static void forward(const rd_io *io, const float *x, float *y) {
  const erasing *p = io->self;
  const int64_t n = p->h * p->w * p->c;
  memcpy(y, x, sizeof(float) * (size_t)(io->rows * n));
  if (!io->training) return;
  for (int64_t r = 0; r < io->rows; r++) {
    const rect R = draw(io, r);
    for (int64_t i = 0; i < p->h; i++)
      for (int64_t j = 0; j < p->w; j++)
        if (inside(&R, i, j))
          for (int64_t ch = 0; ch < p->c; ch++) {
            const int64_t e = (i * p->w + j) * p->c + ch;
            uint64_t next = 0;
            double v = p->nfill ? p->fill[p->nfill == 1 ? 0 : ch] : io->rd->normal(R.noise, (uint64_t)e, &next) * p->vhi;
            y[r * n + e] = (float)(v < p->vlo ? p->vlo : v > p->vhi ? p->vhi : v);
          }
  }
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const erasing *p = io->self;
  const int64_t n = p->h * p->w * p->c;
  (void)x, (void)y;
  if (!dx) return;
  memcpy(dx, dy, sizeof(float) * (size_t)(io->rows * n));
  if (!io->training) return;
  for (int64_t r = 0; r < io->rows; r++) {
    const rect R = draw(io, r);
    for (int64_t i = 0; i < p->h; i++)
      for (int64_t j = 0; j < p->w; j++)
        if (inside(&R, i, j)) memset(dx + r * n + (i * p->w + j) * p->c, 0, sizeof(float) * (size_t)p->c);
  }
}

const rd_layer_type rd_layer_random_erasing = {
    .name = "random_erasing", .self_size = sizeof(erasing), .build = build, .forward = forward, .backward = backward};
