/* depthwise: the depthwise convolution DepthwiseConv2D and SeparableConv2D
 * share (Keras' channels_last): each input channel c is convolved with its own
 * dm filters k[i][j][c][m] into output channel c * dm + m. Windows follow
 * window.h's rules. Sums run over the window row by row, then column, in
 * float, in that fixed order; backward accumulates dk over rows, then output
 * positions, and scatters dx in the same order. Private to src/layers/. */
#ifndef REPRODIST_LAYERS_DEPTHWISE_H
#define REPRODIST_LAYERS_DEPTHWISE_H

#include <string.h>

#include "simd.h"
#include "window.h"

typedef struct {
  rd_window h, w;
  int64_t c, dm; /* input channels; depth multiplier: c * dm outputs */
  int has_k;     /* kernel_size was given */
} rd_depthwise;

/* Reads kernel_size (1x1 when absent, for declaring the tensors: the geometry
 * then fails), strides, padding and depth_multiplier. Returns 1 after a bad value. */
static inline int rd_depthwise_keys(const rd_api *rd, rd_build *b, const char *type, const rd_shape *in,
                                    rd_depthwise *d, int64_t ks[2], int64_t st[2], int *same) {
  const int64_t one[2] = {1, 1}, none[2] = {0, 0};
  int64_t dm = 1;
  const int has_k = rd->get_ints(b, "kernel_size", 2, none, 1, 100000, ks);
  int bad = has_k < 0;
  bad |= rd->get_ints(b, "strides", 2, one, 1, 100000, st) < 0;
  bad |= rd->get_enum(b, "padding", rd_window_paddings, 0, same) < 0;
  bad |= rd->get_int(b, "depth_multiplier", 1, 1, 100000, &dm) < 0;
  d->dm = dm;
  d->c = in->dim[in->ndim - 1];
  d->has_k = has_k > 0;
  if (has_k <= 0) ks[0] = ks[1] = 1;
  (void)type, (void)in;
  return bad;
}

/* The geometry, after the tensors are declared. */
static inline int rd_depthwise_geometry(const rd_api *rd, rd_build *b, const char *type, const rd_shape *in,
                                        rd_depthwise *d, const int64_t ks[2], const int64_t st[2], int same) {
  if (!d->has_k) return rd->fail(b, NULL, "[%s] needs kernel_size = K or KH,KW", type);
  if (in->ndim != 3)
    return rd->fail(b, NULL, "[%s] needs an input of (height, width, channels), not %d-D", type, in->ndim);
  if (rd_window_axis(&d->h, in->dim[0], ks[0], st[0], same) || rd_window_axis(&d->w, in->dim[1], ks[1], st[1], same))
    return rd->fail(b, "kernel_size", "kernel %lldx%lld is larger than the input %lldx%lld (padding = valid)",
                    (long long)ks[0], (long long)ks[1], (long long)in->dim[0], (long long)in->dim[1]);
  return 0;
}

/* y (rows, oh, ow, c * dm) = depthwise(x (rows, h, w, c), k), plus bias b (or NULL).
 * With dm = 1 (the usual case) the channel loop is innermost and contiguous,
 * so the compiler vectorizes it; each output still adds its taps in the same
 * order, one float multiply and one add each. */
RD_SIMD static void rd_depthwise_forward(const rd_depthwise *d, int64_t rows, const float *restrict x,
                                        const float *restrict k, const float *restrict bias, float *restrict y) {
  const int64_t C = d->c, M = d->dm, CM = C * M, H = d->h.in, W = d->w.in;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t oy = 0; oy < d->h.out; oy++)
      for (int64_t ox = 0; ox < d->w.out; ox++) {
        float *restrict yo = y + ((r * d->h.out + oy) * d->w.out + ox) * CM;
        for (int64_t o = 0; o < CM; o++) yo[o] = 0.0f;
        for (int64_t i = 0; i < d->h.k; i++) {
          const int64_t iy = oy * d->h.s - d->h.pad + i;
          if (iy < 0 || iy >= H) continue;
          for (int64_t j = 0; j < d->w.k; j++) {
            const int64_t ix = ox * d->w.s - d->w.pad + j;
            if (ix < 0 || ix >= W) continue;
            const float *restrict xi = x + ((r * H + iy) * W + ix) * C, *restrict ki = k + (i * d->w.k + j) * CM;
            if (M == 1) {
              for (int64_t c = 0; c < C; c++) yo[c] += xi[c] * ki[c];
            } else {
              for (int64_t c = 0; c < C; c++)
                for (int64_t m = 0; m < M; m++) yo[c * M + m] += xi[c] * ki[c * M + m];
            }
          }
        }
        if (bias)
          for (int64_t o = 0; o < CM; o++) yo[o] += bias[o];
      }
}

/* Given dy (rows, oh, ow, c * dm): dk (overwritten), db (or NULL) and dx (or NULL). */
RD_SIMD static void rd_depthwise_backward(const rd_depthwise *d, int64_t rows, const float *restrict x,
                                         const float *restrict k, const float *restrict dy, float *restrict dk,
                                         float *restrict db, float *restrict dx) {
  const int64_t C = d->c, M = d->dm, CM = C * M, H = d->h.in, W = d->w.in;
  memset(dk, 0, sizeof(float) * (size_t)(d->h.k * d->w.k * CM));
  if (db) memset(db, 0, sizeof(float) * (size_t)CM);
  if (dx) memset(dx, 0, sizeof(float) * (size_t)(rows * H * W * C));
  for (int64_t r = 0; r < rows; r++)
    for (int64_t oy = 0; oy < d->h.out; oy++)
      for (int64_t ox = 0; ox < d->w.out; ox++) {
        const float *restrict g = dy + ((r * d->h.out + oy) * d->w.out + ox) * CM;
        if (db)
          for (int64_t o = 0; o < CM; o++) db[o] += g[o];
        for (int64_t i = 0; i < d->h.k; i++) {
          const int64_t iy = oy * d->h.s - d->h.pad + i;
          if (iy < 0 || iy >= H) continue;
          for (int64_t j = 0; j < d->w.k; j++) {
            const int64_t ix = ox * d->w.s - d->w.pad + j;
            if (ix < 0 || ix >= W) continue;
            const int64_t xo = ((r * H + iy) * W + ix) * C;
            float *restrict dki = dk + (i * d->w.k + j) * CM;
            const float *restrict ki = k + (i * d->w.k + j) * CM, *restrict xi = x + xo;
            if (M == 1) { /* dk and dx are separate arrays: two loops, each element's order unchanged */
              for (int64_t c = 0; c < C; c++) dki[c] += xi[c] * g[c];
              if (dx) {
                float *restrict dxi = dx + xo;
                for (int64_t c = 0; c < C; c++) dxi[c] += ki[c] * g[c];
              }
            } else {
              for (int64_t c = 0; c < C; c++)
                for (int64_t m = 0; m < M; m++) {
                  dki[c * M + m] += xi[c] * g[c * M + m];
                  if (dx) dx[xo + c] += ki[c * M + m] * g[c * M + m];
                }
            }
          }
        }
      }
}

#endif
