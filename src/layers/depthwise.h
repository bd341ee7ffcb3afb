/* depthwise: the depthwise convolution DepthwiseConv2D and SeparableConv2D
 * share (Keras' channels_last): each input channel c is convolved with its own
 * dm filters k[i][j][c][m] into output channel c * dm + m. Windows follow
 * window.h's rules. Sums run over the window row by row, then column, in
 * float, in that fixed order; backward accumulates dk over rows, then output
 * positions, and scatters dx in the same order. Private to src/layers/. */
#ifndef REPRODIST_LAYERS_DEPTHWISE_H
#define REPRODIST_LAYERS_DEPTHWISE_H

#include <string.h>

#include "../simd.h"
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

/* The channel blocks of the dm = 1 path: four GCC vectors of 8 floats (32
 * channels), then one, then single floats, each lane one channel, each vector
 * a sum held in a register (8 floats is a register's width on every x86 path
 * RD_SIMD compiles for; a wider GCC vector lives on the stack there). A
 * vector's operations are its lanes' own float multiplies and adds (no
 * contraction), so a block gives the bits of the scalar loop. */
typedef float rd_dw_v8 __attribute__((vector_size(32)));

/* [*lo, *hi): the o in [0, out) with 0 <= o * s + off < n. */
static inline void rd_dw_span(int64_t off, int64_t s, int64_t n, int64_t out, int64_t *lo, int64_t *hi) {
  *lo = off >= 0 ? 0 : (-off + s - 1) / s;
  const int64_t last = n - 1 - off; /* o * s <= last */
  *hi = last < 0 ? 0 : last / s + 1;
  if (*hi > out) *hi = out;
  if (*lo > *hi) *lo = *hi;
}

/* Runs BODY(T, N) for the channels [C0, C) in blocks of N vectors of type T:
 * (8 floats, 4), (8 floats, 1), then (float, 1). BODY sees c; its sums are
 * s0 .. s3, of which it uses N, through RD_DW_EACH. */
#define RD_DW_BLOCKS(C0, C, BODY)                                             \
  do {                                                                        \
    int64_t c = (C0);                                                         \
    for (; c + 32 <= (C); c += 32) BODY(rd_dw_v8, 4)                          \
    for (; c + 8 <= (C); c += 8) BODY(rd_dw_v8, 1)                            \
    for (; c < (C); c++) BODY(float, 1)                                       \
  } while (0)
/* M(T, v, off) for the block's sums v = 0 .. N - 1, off = v's first lane. */
#define RD_DW_EACH(T, N, M)                                                   \
  M(T, 0, 0)                                                                  \
  if ((N) > 1) {                                                              \
    M(T, 1, (int64_t)(sizeof(T) / sizeof(float)))                             \
    M(T, 2, 2 * (int64_t)(sizeof(T) / sizeof(float)))                         \
    M(T, 3, 3 * (int64_t)(sizeof(T) / sizeof(float)))                         \
  }
#define RD_DW_LD(T, v, p) T v; memcpy(&v, (p), sizeof v)
#define RD_DW_SUMS(T) T s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
#define RD_DW_STORE(T, v, off) memcpy(dst + c + (off), &s##v, sizeof s##v);
/* s_v += p[off..] * q[off..], lane by lane: one float multiply and one add. */
#define RD_DW_MAC(T, v, off)                                                  \
  {                                                                           \
    RD_DW_LD(T, a, p + (off));                                                \
    RD_DW_LD(T, b, q + (off));                                                \
    s##v += a * b;                                                            \
  }

/* y (rows, oh, ow, c * dm) = depthwise(x (rows, h, w, c), k), plus bias b (or
 * NULL), for any dm: each output adds its taps in the fixed order, one float
 * multiply and one add each, in memory. Runs for dm > 1; with dm = 1 it is
 * the plain form test_depthwise holds rd_dw_forward1 to, bit for bit. */
RD_SIMD static void rd_dw_forward_dm(const rd_depthwise *d, int64_t rows, const float *restrict x,
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

/* Given dy (rows, oh, ow, c * dm): dk (overwritten), db (or NULL) and dx (or
 * NULL), for any dm, scattering each position's taps in turn. Runs for
 * dm > 1; with dm = 1, the plain form of rd_dw_backward1 (test_depthwise). */
RD_SIMD static void rd_dw_backward_dm(const rd_depthwise *d, int64_t rows, const float *restrict x,
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

/* The AVX-512 form of dk (x86-64 with GCC; rd_dw_wide_on, below): 16-float
 * vectors in 512-bit registers, and more independent sums in flight. Lanes
 * are separate elements and every operation is the scalar loop's own float
 * multiply or add, so it gives the same bits as the 8-float form
 * (test_depthwise runs both). rd_dw_wide = 0 (the test) turns it off, and
 * with it rd_dw_run (below). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RD_DW_WIDE 1
typedef float rd_dw_v16 __attribute__((vector_size(64)));
static int rd_dw_wide = -1; /* -1: ask the CPU once */
static inline int rd_dw_wide_on(void) {
  if (rd_dw_wide < 0) rd_dw_wide = __builtin_cpu_supports("avx512f") ? 1 : 0;
  return rd_dw_wide;
}
#else
#define RD_DW_WIDE 0
static int rd_dw_wide = 0;
static inline int rd_dw_wide_on(void) { return rd_dw_wide = 0; }
#endif

/* A run of n positions that read the same taps (at most 9: a 3x3 kernel's
 * inner positions, 6 on its edge rows, 1 to 4 for dx at stride 2), 16
 * channels at a time, on AVX-512 (rd_dw_wide_on): the taps' kernel vectors
 * stay in registers and two positions' sums are in flight, where the 8-float
 * blocks load the kernel again at every position (forward, and dx's gather:
 * 0.19 to 0.07 ms and 0.24 to 0.09 ms for a shard of 16 28x28x32 samples;
 * three or four positions at a time were slower than two). Position p's tap
 * (a, b) reads src + p * sstep + a * pitch + b * C (rd_dw_tapset); its sum
 * starts from 0, adds the taps in order (a, then b), one float multiply
 * and one add each, then bias (or NULL), and is stored to dst + p * dstep:
 * the bits of the 8-float blocks. Channels from C rounded down to 16 are
 * left to the caller. */
#if RD_DW_WIDE
typedef struct {
  int na, nb;          /* taps: na rows of nb, at most 3 x 3 */
  int64_t pitch, kt0;  /* tap (a, b) reads src + a * pitch + b * C and the kernel's tap kt0 + a * kta + b * ktb */
  int64_t kta, ktb;
} rd_dw_tapset;

static inline __attribute__((always_inline)) void rd_dw_run_ab(const int NA, const int NB, int64_t C,
                                                              const rd_dw_tapset *ts, const float *restrict src,
                                                              int64_t sstep, const float *restrict k,
                                                              const float *restrict bias, float *restrict dst,
                                                              int64_t dstep, int64_t n) {
  const int64_t pitch = ts->pitch;
  for (int64_t c = 0; c + 16 <= C; c += 16) {
    rd_dw_v16 kk[9], bv = {0};
    for (int t = 0; t < NA * NB; t++)
      memcpy(&kk[t], k + (ts->kt0 + (t / NB) * ts->kta + (t % NB) * ts->ktb) * C + c, sizeof kk[t]);
    if (bias) memcpy(&bv, bias + c, sizeof bv);
    int64_t p = 0;
    for (; p + 2 <= n; p += 2) {
      rd_dw_v16 s0 = {0}, s1 = {0};
#pragma GCC unroll 9
      for (int t = 0; t < NA * NB; t++) {
        const float *at = src + p * sstep + (t / NB) * pitch + (t % NB) * C + c;
        rd_dw_v16 a0, a1;
        memcpy(&a0, at, sizeof a0);
        memcpy(&a1, at + sstep, sizeof a1);
        s0 += a0 * kk[t];
        s1 += a1 * kk[t];
      }
      if (bias) s0 += bv, s1 += bv;
      memcpy(dst + p * dstep + c, &s0, sizeof s0);
      memcpy(dst + (p + 1) * dstep + c, &s1, sizeof s1);
    }
    if (p < n) {
      rd_dw_v16 s0 = {0};
#pragma GCC unroll 9
      for (int t = 0; t < NA * NB; t++) {
        rd_dw_v16 a0;
        memcpy(&a0, src + p * sstep + (t / NB) * pitch + (t % NB) * C + c, sizeof a0);
        s0 += a0 * kk[t];
      }
      if (bias) s0 += bv;
      memcpy(dst + p * dstep + c, &s0, sizeof s0);
    }
  }
}

__attribute__((target("avx512f"))) static void rd_dw_run(int64_t C, const rd_dw_tapset *ts, const float *src,
                                                         int64_t sstep, const float *k, const float *bias,
                                                         float *dst, int64_t dstep, int64_t n) {
  /* constant counts, so that the loops unroll and kk stays in registers */
#define RD_DW_AB(A, B)                                                        \
  if (ts->na == A && ts->nb == B) {                                           \
    rd_dw_run_ab(A, B, C, ts, src, sstep, k, bias, dst, dstep, n);            \
    return;                                                                   \
  }
  RD_DW_AB(3, 3) RD_DW_AB(2, 3) RD_DW_AB(3, 2) RD_DW_AB(2, 2) RD_DW_AB(1, 3)
  RD_DW_AB(3, 1) RD_DW_AB(1, 2) RD_DW_AB(2, 1) RD_DW_AB(1, 1)
#undef RD_DW_AB
}
#endif

/* dm = 1 (every model here): the same sums as rd_dw_forward_dm, with each
 * block's sums held in registers across the taps, and the taps that fall in
 * the padding skipped by range instead of by test. */
RD_SIMD static void rd_dw_forward1(const rd_depthwise *d, int64_t rows, const float *restrict x,
                                   const float *restrict k, const float *restrict bias, float *restrict y) {
  const int64_t C = d->c, H = d->h.in, W = d->w.in, OH = d->h.out, OW = d->w.out, KW = d->w.k;
  /* Kernels of at most 3x3 on AVX-512: the positions [xa, xb) of a row
   * whose taps all fall inside the input's width go to rd_dw_run, with the
   * row's taps that fall inside its height, for their first cw channels. */
  const int runs = RD_DW_WIDE && rd_dw_wide_on() && d->h.k <= 3 && KW <= 3 && C >= 16 && W >= KW;
  int64_t xa = 0, xb = 0;
  if (runs) rd_dw_span(-d->w.pad, d->w.s, W - KW + 1, OW, &xa, &xb);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t oy = 0; oy < OH; oy++) {
      int64_t i0, i1, cw = 0;
      rd_dw_span(oy * d->h.s - d->h.pad, 1, H, d->h.k, &i0, &i1);
#if RD_DW_WIDE
      if (runs && i1 > i0 && xb > xa) {
        const rd_dw_tapset ts = {(int)(i1 - i0), (int)KW, W * C, i0 * KW, KW, 1};
        cw = C & ~(int64_t)15;
        rd_dw_run(C, &ts, x + ((r * H + oy * d->h.s - d->h.pad + i0) * W + xa * d->w.s - d->w.pad) * C,
                  d->w.s * C, k, bias, y + ((r * OH + oy) * OW + xa) * C, C, xb - xa);
      }
#endif
      for (int64_t ox = 0; ox < OW; ox++) {
        const int64_t c0 = ox >= xa && ox < xb ? cw : 0;
        if (c0 == C) continue;
        int64_t j0, j1;
        rd_dw_span(ox * d->w.s - d->w.pad, 1, W, KW, &j0, &j1);
        /* the input offset of tap (0, 0), which may lie in the padding */
        const int64_t base = ((r * H + oy * d->h.s - d->h.pad) * W + ox * d->w.s - d->w.pad) * C;
        float *restrict dst = y + ((r * OH + oy) * OW + ox) * C;
#define RD_DW_BIAS(T, v, off)                                                 \
  {                                                                           \
    RD_DW_LD(T, b, bias + c + (off));                                         \
    s##v += b;                                                                \
  }
#define RD_DW_FWD(T, N)                                                       \
  {                                                                           \
    RD_DW_SUMS(T)                                                             \
    for (int64_t i = i0; i < i1; i++)                                         \
      for (int64_t j = j0; j < j1; j++) {                                     \
        const float *p = x + base + (i * W + j) * C + c, *q = k + (i * KW + j) * C + c; \
        RD_DW_EACH(T, N, RD_DW_MAC)                                           \
      }                                                                       \
    if (bias) { RD_DW_EACH(T, N, RD_DW_BIAS) }                                \
    RD_DW_EACH(T, N, RD_DW_STORE)                                             \
  }
        RD_DW_BLOCKS(c0, C, RD_DW_FWD);
#undef RD_DW_FWD
#undef RD_DW_BIAS
      }
    }
}

/* dk's terms of one sample for three taps at once, (i, jg), (i, jg + 1) and
 * (i, jg + 2), on AVX-512 (x86-64 with GCC): one pass over the output
 * positions keeps the three taps' sums in 16-float registers, where one tap
 * at a time would wait on each sum's additions in turn (each element's sum
 * is one chain, position after position). Every element still adds its own
 * terms in the same order, from the value in dk, one float multiply and one
 * add each: the bits of the tap-by-tap loop (test_depthwise runs both).
 * Positions where a tap falls in the padding are skipped for that tap alone
 * (the ranges differ at the row's ends). rd_dw_wide = 0 (the test) turns it
 * off. */
#if RD_DW_WIDE
/* BODY(T, N): the sums s[g][v] of taps g = 0..2 over N vectors of T. */
#define RD_DW3_STEP(T, N, COND)                                                       \
  {                                                                                    \
    T q[4];                                                                            \
    for (int v = 0; v < (N); v++) memcpy(&q[v], grow + ox * C + v * L, sizeof q[v]);   \
    for (int g = 0; g < 3; g++)                                                        \
      if (!(COND) || (ox >= xl[g] && ox < xh[g])) {                                    \
        const float *pp = xrow + (ox * sw - pw + jg + g) * C;                          \
        for (int v = 0; v < (N); v++) {                                                \
          T a;                                                                         \
          memcpy(&a, pp + v * L, sizeof a);                                            \
          s[g][v] += a * q[v];                                                         \
        }                                                                              \
      }                                                                                \
  }
#define RD_DW3_BODY(T, N)                                                             \
  {                                                                                    \
    const int64_t L = (int64_t)(sizeof(T) / sizeof(float));                            \
    T s[3][4];                                                                         \
    for (int g = 0; g < 3; g++)                                                        \
      for (int v = 0; v < (N); v++) memcpy(&s[g][v], dk + (i * KW + jg + g) * C + c + v * L, sizeof s[g][v]); \
    for (int64_t oy = y0; oy < y1; oy++) {                                             \
      const float *xrow = xr + (oy * sh - ph + i) * W * C + c, *grow = gr + oy * OW * C + c; \
      int64_t ox = ux0;                                                                \
      if (cl < ch) {                                                                   \
        for (; ox < cl; ox++) RD_DW3_STEP(T, N, 1)                                     \
        for (; ox < ch; ox++) RD_DW3_STEP(T, N, 0)                                     \
      }                                                                                \
      for (; ox < ux1; ox++) RD_DW3_STEP(T, N, 1)                                      \
    }                                                                                  \
    for (int g = 0; g < 3; g++)                                                        \
      for (int v = 0; v < (N); v++) memcpy(dk + (i * KW + jg + g) * C + c + v * L, &s[g][v], sizeof s[g][v]); \
  }
__attribute__((target("avx512f"))) static void rd_dw_dk3(const rd_depthwise *d, const float *restrict xr,
                                                         const float *restrict gr, int64_t i, int64_t jg,
                                                         float *restrict dk) {
  const int64_t C = d->c, H = d->h.in, W = d->w.in, OH = d->h.out, OW = d->w.out, KW = d->w.k;
  const int64_t sh = d->h.s, sw = d->w.s, ph = d->h.pad, pw = d->w.pad;
  int64_t y0, y1, xl[3], xh[3];
  rd_dw_span(i - ph, sh, H, OH, &y0, &y1);
  for (int g = 0; g < 3; g++) rd_dw_span(jg + g - pw, sw, W, OW, &xl[g], &xh[g]);
  int64_t ux0 = xl[0], ux1 = xh[0], cl = xl[0], ch = xh[0];
  for (int g = 1; g < 3; g++) {
    if (xl[g] < ux0) ux0 = xl[g];
    if (xh[g] > ux1) ux1 = xh[g];
    if (xl[g] > cl) cl = xl[g];
    if (xh[g] < ch) ch = xh[g];
  }
  int64_t c = 0;
  for (; c + 64 <= C; c += 64) RD_DW3_BODY(rd_dw_v16, 4)
  for (; c + 32 <= C; c += 32) RD_DW3_BODY(rd_dw_v16, 2)
  for (; c + 16 <= C; c += 16) RD_DW3_BODY(rd_dw_v16, 1)
  for (; c + 8 <= C; c += 8) RD_DW3_BODY(rd_dw_v8, 1)
  for (; c < C; c++) RD_DW3_BODY(float, 1)
}
#undef RD_DW3_BODY
#undef RD_DW3_STEP
#endif

/* dm = 1: the same sums as rd_dw_backward_dm. dk(i, j, c) adds its terms
 * sample by sample, position by position, as there; it runs tap by tap over
 * one sample (which stays in cache), its block of sums in registers. dx is
 * gathered: each input position adds the terms of the outputs that read it,
 * in their order (which is the order the scatter added them in), from 0. */
RD_SIMD static void rd_dw_backward1(const rd_depthwise *d, int64_t rows, const float *restrict x,
                                    const float *restrict k, const float *restrict dy, float *restrict dk,
                                    float *restrict db, float *restrict dx) {
  const int64_t C = d->c, H = d->h.in, W = d->w.in, OH = d->h.out, OW = d->w.out, KH = d->h.k, KW = d->w.k;
  const int64_t sh = d->h.s, sw = d->w.s, ph = d->h.pad, pw = d->w.pad;
  const int wide = rd_dw_wide_on();
  (void)wide;
  /* Kernels of at most 3x3 on AVX-512, strides up to 4: in each class of
   * input columns ix = rho (mod sw), the run [lo, hi] whose gather reads the
   * most output columns (nx, from x0 at lo; x0 rises by 1 per column of the
   * class) goes to rd_dw_run, with the row's output rows, for its first cw
   * channels. */
  int64_t lo[4] = {0}, hi[4] = {-1, -1, -1, -1}, nx[4] = {0}, x0lo[4] = {0};
  const int gruns = RD_DW_WIDE && wide && KH <= 3 && KW <= 3 && sw <= 4 && C >= 16 && dx;
  for (int64_t rho = 0; gruns && rho < sw && rho < W; rho++) {
    for (int64_t ix = rho; ix < W; ix += sw) {
      int64_t a, b;
      rd_dw_span(KW - 1 - ix - pw, sw, KW, OW, &a, &b);
      if (b - a > nx[rho]) nx[rho] = b - a, lo[rho] = hi[rho] = ix, x0lo[rho] = a;
      else if (b - a == nx[rho] && hi[rho] == ix - sw && a == x0lo[rho] + (ix - lo[rho]) / sw) hi[rho] = ix;
    }
  }
  memset(dk, 0, sizeof(float) * (size_t)(KH * KW * C));
  if (db) memset(db, 0, sizeof(float) * (size_t)C);
  for (int64_t r = 0; r < rows; r++) {
    const float *restrict xr = x + r * H * W * C, *restrict gr = dy + r * OH * OW * C;
    if (db)
      for (int64_t q = 0; q < OH * OW; q++)
        for (int64_t c = 0; c < C; c++) db[c] += gr[q * C + c];
    for (int64_t i = 0; i < KH; i++) {
      int64_t y0, y1;
      rd_dw_span(i - ph, sh, H, OH, &y0, &y1);
      for (int64_t j = 0; j < KW; j++) {
#if RD_DW_WIDE
        if (wide && j + 3 <= KW) {
          rd_dw_dk3(d, xr, gr, i, j, dk);
          j += 2;
          continue;
        }
#endif
        int64_t x0, x1;
        rd_dw_span(j - pw, sw, W, OW, &x0, &x1);
        float *restrict dst = dk + (i * KW + j) * C;
#define RD_DW_LOAD(T, v, off) memcpy(&s##v, dst + c + (off), sizeof s##v);
#define RD_DW_DK(T, N)                                                        \
  {                                                                           \
    RD_DW_SUMS(T)                                                             \
    RD_DW_EACH(T, N, RD_DW_LOAD)                                              \
    for (int64_t oy = y0; oy < y1; oy++)                                      \
      for (int64_t ox = x0; ox < x1; ox++) {                                  \
        const float *p = xr + ((oy * sh - ph + i) * W + ox * sw - pw + j) * C + c; \
        const float *q = gr + (oy * OW + ox) * C + c;                         \
        RD_DW_EACH(T, N, RD_DW_MAC)                                           \
      }                                                                       \
    RD_DW_EACH(T, N, RD_DW_STORE)                                             \
  }
        RD_DW_BLOCKS(0, C, RD_DW_DK);
#undef RD_DW_DK
#undef RD_DW_LOAD
      }
    }
    if (!dx) continue;
    for (int64_t iy = 0; iy < H; iy++) {
      int64_t y0, y1, cw = 0;
      rd_dw_span(KH - 1 - iy - ph, sh, KH, OH, &y0, &y1);
#if RD_DW_WIDE
      for (int64_t rho = 0; gruns && y1 > y0 && rho < sw && rho < W; rho++) {
        if (nx[rho] == 0 || hi[rho] < lo[rho]) continue;
        const rd_dw_tapset ts = {(int)(y1 - y0), (int)nx[rho], OW * C,
                                 (iy + ph - y0 * sh) * KW + lo[rho] + pw - x0lo[rho] * sw, -sh * KW, -sw};
        cw = C & ~(int64_t)15;
        rd_dw_run(C, &ts, gr + (y0 * OW + x0lo[rho]) * C, C, k, NULL, dx + ((r * H + iy) * W + lo[rho]) * C,
                  sw * C, (hi[rho] - lo[rho]) / sw + 1);
      }
#endif
      for (int64_t ix = 0; ix < W; ix++) {
        const int64_t c0 = cw && ix >= lo[ix % sw] && ix <= hi[ix % sw] ? cw : 0;
        if (c0 == C) continue;
        int64_t x0, x1;
        rd_dw_span(KW - 1 - ix - pw, sw, KW, OW, &x0, &x1);
        float *restrict dst = dx + ((r * H + iy) * W + ix) * C;
#define RD_DW_DX(T, N)                                                        \
  {                                                                           \
    RD_DW_SUMS(T)                                                             \
    for (int64_t oy = y0; oy < y1; oy++)                                      \
      for (int64_t ox = x0; ox < x1; ox++) {                                  \
        const int64_t t = (iy + ph - oy * sh) * KW + ix + pw - ox * sw;       \
        const float *p = k + t * C + c, *q = gr + (oy * OW + ox) * C + c;     \
        RD_DW_EACH(T, N, RD_DW_MAC)                                           \
      }                                                                       \
    RD_DW_EACH(T, N, RD_DW_STORE)                                             \
  }
        RD_DW_BLOCKS(c0, C, RD_DW_DX);
#undef RD_DW_DX
      }
    }
  }
}

static inline void rd_depthwise_forward(const rd_depthwise *d, int64_t rows, const float *x, const float *k,
                                        const float *bias, float *y) {
  if (d->dm == 1) rd_dw_forward1(d, rows, x, k, bias, y);
  else rd_dw_forward_dm(d, rows, x, k, bias, y);
}

static inline void rd_depthwise_backward(const rd_depthwise *d, int64_t rows, const float *x, const float *k,
                                         const float *dy, float *dk, float *db, float *dx) {
  if (d->dm == 1) rd_dw_backward1(d, rows, x, k, dy, dk, db, dx);
  else rd_dw_backward_dm(d, rows, x, k, dy, dk, db, dx);
}

#endif
