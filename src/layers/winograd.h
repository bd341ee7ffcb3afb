/* winograd: the transforms of Conv2D's algorithm = winograd and winograd4
 * (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2016). winograd is F(2x2, 3x3), here; winograd4 is F(4x4, 3x3), further
 * down (rd_wg4_*), built the same way on 6x6 tiles with 36 positions.
 * F(2x2, 3x3): a 3x3 kernel at stride 1 over 4x4 input tiles that overlap
 * by 2, each giving a 2x2 output tile. With
 *
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],
 *   A^T = [1 1 1 0; 0 1 -1 -1],
 *
 * a tile's output is Y = A^T [(G g G^T) .* (B^T d B)] A for each pair of
 * channels, summed over the input channels. Grouping the 16 positions of
 * the 4x4 products, the sum over channels is 16 GEMMs, one per position:
 * M[pos] (tiles, filters) = V[pos] (tiles, in) . U[pos] (in, filters), with
 * V = B^T d B and U = G g G^T. They hold 16 x in x filters multiply-adds per
 * tile where direct convolution holds 4 x 9 x in x filters: 2.25x fewer.
 *
 * Backward is the transposes of the same linear maps: dM = A dY A^T, then
 * dV[pos] = dM[pos] . U[pos]^T and dx += B dV B^T tile by tile (the tiles
 * overlap, so in tile order), and dU[pos] = V[pos]^T . dM[pos] over all
 * tiles, dkernel = G^T dU G.
 *
 * The results equal direct convolution's in exact arithmetic, not in
 * floating point: each output is another sum, rounded elsewhere (the
 * difference stays within float32 rounding of the terms,
 * tests/reference_layers.py), and an infinite input can give NaN (a
 * difference of infinities in B^T d B) where direct convolution gives an
 * infinity. Every operation here has a fixed order and
 * every GEMM shape depends on the layer and the shard's rows alone, so the
 * bits do not depend on the rank count. Vectors run across channels (16 at
 * a time); with -ffp-contract=off each lane's operations are rounded as
 * written. Private to src/layers/. */
#ifndef REPRODIST_LAYERS_WINOGRAD_H
#define REPRODIST_LAYERS_WINOGRAD_H

#include <stdint.h>
#include <string.h>

#include "../simd.h"

typedef struct {
  int64_t h, w, c, f;   /* input height, width, channels; filters */
  int64_t oh, ow;       /* output height and width */
  int64_t pt, pl;       /* padding above and left of the input */
  int64_t m;            /* output tile: 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3)); input tiles m + 2 */
  int64_t th, tw;       /* tiles per column and per row: ceil(oh / m), ceil(ow / m) */
  int64_t ch;           /* tiles per chunk: the GEMMs' rows */
  int64_t vs, ms, us;   /* floats from one position to the next in V (ch x c), M (ch x f) and U (c x f) */
} rd_wg;

/* The transformed tiles' positions: (m + 2)^2, 16 or 36. */
static inline int64_t rd_wg_positions(int64_t m) { return (m + 2) * (m + 2); }

/* Sets the position strides: F(2x2, 3x3)'s positions lie back to back;
 * F(4x4, 3x3)'s are 16 floats apart, so that its 36 streams of stores do
 * not fall on one cache set when a position is a multiple of 4 KB. */
static inline void rd_wg_strides(rd_wg *g) {
  const int64_t gap = g->m == 4 ? 16 : 0;
  g->vs = g->ch * g->c + gap, g->ms = g->ch * g->f + gap, g->us = g->c * g->f + gap;
}

/* Tiles per chunk: the chunk's V and M (positions x ch x (in + filters)
 * floats) near 512 KB, so that they stay in L2 between the transforms and
 * the GEMMs; a multiple of 16, and at least 16 rows for F(2x2, 3x3), 64 for
 * F(4x4, 3x3), whose GEMMs of 16 rows (64 channels) ran slower than the
 * larger chunk's spill out of L2. */
static inline int64_t rd_wg_chunk(int64_t c, int64_t f, int64_t positions) {
  const int64_t lo = positions == 16 ? 16 : 64;
  int64_t ch = 131072 / (positions * (c + f));
  ch -= ch % 16;
  return ch < lo ? lo : ch;
}

typedef float rd_wg_v __attribute__((vector_size(64)));

/* n (1..16) floats from p into the vector v, zeros after them; and back.
 * (Macros: a function taking or returning a 64-byte vector would change
 * the baseline clone's ABI.) */
#define RD_WG_LD(v, p, n)                                     \
  do {                                                        \
    if ((n) == 16) {                                          \
      memcpy(&(v), (p), sizeof(rd_wg_v));                     \
    } else {                                                  \
      (v) = (rd_wg_v){0};                                     \
      memcpy(&(v), (p), sizeof(float) * (size_t)(n));         \
    }                                                         \
  } while (0)
#define RD_WG_ST(p, v, n)                                     \
  do {                                                        \
    const rd_wg_v st_ = (v);                                  \
    if ((n) == 16)                                            \
      memcpy((p), &st_, sizeof(rd_wg_v));                     \
    else                                                      \
      memcpy((p), &st_, sizeof(float) * (size_t)(n));         \
  } while (0)

/* t's sample and tile position. */
static inline void rd_wg_tile(const rd_wg *g, int64_t t, int64_t *s, int64_t *ti, int64_t *tj) {
  *s = t / (g->th * g->tw);
  const int64_t r = t - *s * g->th * g->tw;
  *ti = r / g->tw, *tj = r - *ti * g->tw;
}

/* The next tile's position, in t's order. */
static inline void rd_wg_next(const rd_wg *g, int64_t *s, int64_t *ti, int64_t *tj) {
  if (++*tj < g->tw) return;
  *tj = 0;
  if (++*ti < g->th) return;
  *ti = 0, ++*s;
}

/* The a x a window (a = m + 2) of tile (s, ti, tj) in an input-shaped
 * array x (h, w, c): px[a i + j] points at pixel (m ti - pt + i, m tj - pl
 * + j), or is `outside` where that pixel lies outside x. */
static inline void rd_wg_window(const rd_wg *g, const float *x, int64_t s, int64_t ti, int64_t tj,
                                const float *outside, const float **px) {
  const int a = (int)g->m + 2;
  const int64_t r0 = g->m * ti - g->pt, q0 = g->m * tj - g->pl, C = g->c;
  if (r0 >= 0 && r0 + a <= g->h && q0 >= 0 && q0 + a <= g->w) { /* inside: no checks */
    const float *b = x + ((s * g->h + r0) * g->w + q0) * C;
    for (int i = 0; i < a; i++)
      for (int j = 0; j < a; j++) px[a * i + j] = b + (i * g->w + j) * C;
    return;
  }
  for (int i = 0; i < a; i++)
    for (int j = 0; j < a; j++) {
      const int64_t r = r0 + i, q = q0 + j;
      px[a * i + j] = r >= 0 && r < g->h && q >= 0 && q < g->w ? x + ((s * g->h + r) * g->w + q) * C : outside;
    }
}

/* V[pos] (row t - t0, channels) = (B^T d B)[pos] for tiles [t0, t0 + nt):
 * d is x's 4x4 window at (2 ti - pt, 2 tj - pl), zeros outside x. Positions
 * lie ch x c floats apart. zeros: c floats of 0. */
RD_SIMD static void rd_wg_input(const rd_wg *g, const float *x, int64_t t0, int64_t nt, const float *zeros,
                                float *restrict v) {
  const int64_t C = g->c, ps = g->ch * C;
  int64_t s, ti, tj;
  rd_wg_tile(g, t0, &s, &ti, &tj);
  for (int64_t t = t0; t < t0 + nt; t++, rd_wg_next(g, &s, &ti, &tj)) {
    const float *px[16];
    rd_wg_window(g, x, s, ti, tj, zeros, px);
    float *o = v + (t - t0) * C;
    for (int64_t c0 = 0; c0 < C; c0 += 16) {
      const int64_t n = C - c0 < 16 ? C - c0 : 16;
      rd_wg_v e[16]; /* d B, row by row: 4 loads live at a time */
      for (int i = 0; i < 4; i++) {
        rd_wg_v d0, d1, d2, d3;
        RD_WG_LD(d0, px[4 * i + 0] + c0, n);
        RD_WG_LD(d1, px[4 * i + 1] + c0, n);
        RD_WG_LD(d2, px[4 * i + 2] + c0, n);
        RD_WG_LD(d3, px[4 * i + 3] + c0, n);
        e[4 * i + 0] = d0 - d2;
        e[4 * i + 1] = d1 + d2;
        e[4 * i + 2] = d2 - d1;
        e[4 * i + 3] = d1 - d3;
      }
      for (int j = 0; j < 4; j++) { /* B^T (d B): along the columns */
        RD_WG_ST(o + (0 + j) * ps + c0, e[0 + j] - e[8 + j], n);
        RD_WG_ST(o + (4 + j) * ps + c0, e[4 + j] + e[8 + j], n);
        RD_WG_ST(o + (8 + j) * ps + c0, e[8 + j] - e[4 + j], n);
        RD_WG_ST(o + (12 + j) * ps + c0, e[4 + j] - e[12 + j], n);
      }
    }
  }
}

/* y's 2x2 tiles = A^T M A for tiles [t0, t0 + nt), the part inside y
 * (oh, ow, f). M's positions lie ch x f floats apart. */
RD_SIMD static void rd_wg_output(const rd_wg *g, const float *m, int64_t t0, int64_t nt, float *restrict y) {
  const int64_t F = g->f, ps = g->ch * F;
  int64_t s, ti, tj;
  rd_wg_tile(g, t0, &s, &ti, &tj);
  for (int64_t t = t0; t < t0 + nt; t++, rd_wg_next(g, &s, &ti, &tj)) {
    const int64_t r0 = 2 * ti, q0 = 2 * tj;
    const int two_r = r0 + 1 < g->oh, two_q = q0 + 1 < g->ow;
    float *py = y + ((s * g->oh + r0) * g->ow + q0) * F;
    const float *pm = m + (t - t0) * F;
    for (int64_t f0 = 0; f0 < F; f0 += 16) {
      const int64_t n = F - f0 < 16 ? F - f0 : 16;
      rd_wg_v b[8]; /* M A, row by row */
      for (int i = 0; i < 4; i++) {
        rd_wg_v m0, m1, m2, m3;
        RD_WG_LD(m0, pm + (4 * i + 0) * ps + f0, n);
        RD_WG_LD(m1, pm + (4 * i + 1) * ps + f0, n);
        RD_WG_LD(m2, pm + (4 * i + 2) * ps + f0, n);
        RD_WG_LD(m3, pm + (4 * i + 3) * ps + f0, n);
        b[2 * i + 0] = m0 + m1 + m2;
        b[2 * i + 1] = m1 - m2 - m3;
      }
      for (int j = 0; j < 2; j++) { /* A^T (M A) */
        if (j && !two_q) break;
        RD_WG_ST(py + j * F + f0, b[0 + j] + b[2 + j] + b[4 + j], n);
        if (two_r) RD_WG_ST(py + (g->ow + j) * F + f0, b[2 + j] - b[4 + j] - b[6 + j], n);
      }
    }
  }
}

/* dM[pos] = (A dY A^T)[pos] for tiles [t0, t0 + nt): dY is dy's 2x2 tile,
 * zeros outside dy. Positions lie ch x f floats apart. zeros: f floats. */
RD_SIMD static void rd_wg_doutput(const rd_wg *g, const float *dy, int64_t t0, int64_t nt, const float *zeros,
                                  float *restrict dm) {
  const int64_t F = g->f, ps = g->ch * F;
  int64_t s, ti, tj;
  rd_wg_tile(g, t0, &s, &ti, &tj);
  for (int64_t t = t0; t < t0 + nt; t++, rd_wg_next(g, &s, &ti, &tj)) {
    const int64_t r0 = 2 * ti, q0 = 2 * tj;
    const float *p[4];
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++)
        p[2 * i + j] = r0 + i < g->oh && q0 + j < g->ow ? dy + ((s * g->oh + r0 + i) * g->ow + q0 + j) * F : zeros;
    float *o = dm + (t - t0) * F;
    for (int64_t f0 = 0; f0 < F; f0 += 16) {
      const int64_t n = F - f0 < 16 ? F - f0 : 16;
      rd_wg_v e[4], c[8];
      for (int k = 0; k < 4; k++) RD_WG_LD(e[k], p[k] + f0, n);
      for (int j = 0; j < 2; j++) { /* A dY: rows e0, e0 + e1, e0 - e1, -e1 */
        c[0 + j] = e[0 + j];
        c[2 + j] = e[0 + j] + e[2 + j];
        c[4 + j] = e[0 + j] - e[2 + j];
        c[6 + j] = -e[2 + j];
      }
      for (int i = 0; i < 4; i++) { /* (A dY) A^T */
        const rd_wg_v *r = c + 2 * i;
        RD_WG_ST(o + (4 * i + 0) * ps + f0, r[0], n);
        RD_WG_ST(o + (4 * i + 1) * ps + f0, r[0] + r[1], n);
        RD_WG_ST(o + (4 * i + 2) * ps + f0, r[0] - r[1], n);
        RD_WG_ST(o + (4 * i + 3) * ps + f0, -r[1], n);
      }
    }
  }
}

/* dx += B dV B^T for tiles [t0, t0 + nt), in tile order, the part inside x.
 * dV's positions lie ch x c floats apart. */
RD_SIMD static void rd_wg_dinput(const rd_wg *g, const float *dv, int64_t t0, int64_t nt, float *restrict dx) {
  const int64_t C = g->c, ps = g->ch * C;
  int64_t s, ti, tj;
  rd_wg_tile(g, t0, &s, &ti, &tj);
  for (int64_t t = t0; t < t0 + nt; t++, rd_wg_next(g, &s, &ti, &tj)) {
    const float *pc[16];
    rd_wg_window(g, dx, s, ti, tj, NULL, pc);
    float *px[16]; /* dx's own pixels, written */
    for (int k = 0; k < 16; k++) px[k] = (float *)pc[k];
    const float *pv = dv + (t - t0) * C;
    for (int64_t c0 = 0; c0 < C; c0 += 16) {
      const int64_t n = C - c0 < 16 ? C - c0 : 16;
      rd_wg_v e[16]; /* dV B^T, row by row; B^T's rows: [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] */
      for (int i = 0; i < 4; i++) {
        rd_wg_v a0, a1, a2, a3;
        RD_WG_LD(a0, pv + (4 * i + 0) * ps + c0, n);
        RD_WG_LD(a1, pv + (4 * i + 1) * ps + c0, n);
        RD_WG_LD(a2, pv + (4 * i + 2) * ps + c0, n);
        RD_WG_LD(a3, pv + (4 * i + 3) * ps + c0, n);
        e[4 * i + 0] = a0;
        e[4 * i + 1] = a1 - a2 + a3;
        e[4 * i + 2] = a1 + a2 - a0;
        e[4 * i + 3] = -a3;
      }
      for (int j = 0; j < 4; j++) { /* B (dV B^T) along the columns, added into dx */
        const rd_wg_v o[4] = {e[0 + j], e[4 + j] - e[8 + j] + e[12 + j], e[4 + j] + e[8 + j] - e[0 + j], -e[12 + j]};
        for (int i = 0; i < 4; i++) {
          float *d = px[4 * i + j];
          if (!d) continue;
          rd_wg_v old;
          RD_WG_LD(old, d + c0, n);
          RD_WG_ST(d + c0, old + o[i], n);
        }
      }
    }
  }
}

/* U[pos] (c, f) = (G g G^T)[pos] from the kernel (3, 3, c, f): element by
 * element of (c, f), so one vector holds 16 of them. */
RD_SIMD static void rd_wg_kernel(int64_t C, int64_t F, const float *k, float *restrict u) {
  const int64_t cf = C * F;
  const rd_wg_v h = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f,
                     0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
  for (int64_t e = 0; e < cf; e += 16) {
    const int64_t n = cf - e < 16 ? cf - e : 16;
    rd_wg_v g[9], a[12];
    for (int i = 0; i < 9; i++) RD_WG_LD(g[i], k + i * cf + e, n);
    for (int j = 0; j < 3; j++) { /* G g, column j: a[4 j + row] */
      a[4 * j + 0] = g[j];
      a[4 * j + 1] = h * (g[j] + g[3 + j] + g[6 + j]);
      a[4 * j + 2] = h * (g[j] - g[3 + j] + g[6 + j]);
      a[4 * j + 3] = g[6 + j];
    }
    for (int i = 0; i < 4; i++) { /* (G g) G^T, row i */
      const rd_wg_v a0 = a[i], a1 = a[4 + i], a2 = a[8 + i];
      RD_WG_ST(u + (4 * i + 0) * cf + e, a0, n);
      RD_WG_ST(u + (4 * i + 1) * cf + e, h * (a0 + a1 + a2), n);
      RD_WG_ST(u + (4 * i + 2) * cf + e, h * (a0 - a1 + a2), n);
      RD_WG_ST(u + (4 * i + 3) * cf + e, a2, n);
    }
  }
}

/* dkernel (3, 3, c, f) = G^T dU G. G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1]. */
RD_SIMD static void rd_wg_dkernel(int64_t C, int64_t F, const float *du, float *restrict dk) {
  const int64_t cf = C * F;
  const rd_wg_v h = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f,
                     0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
  for (int64_t e = 0; e < cf; e += 16) {
    const int64_t n = cf - e < 16 ? cf - e : 16;
    rd_wg_v a[12]; /* G^T dU, column j: a[3 j + row] */
    for (int j = 0; j < 4; j++) {
      rd_wg_v u0, u1, u2, u3;
      RD_WG_LD(u0, du + (0 + j) * cf + e, n);
      RD_WG_LD(u1, du + (4 + j) * cf + e, n);
      RD_WG_LD(u2, du + (8 + j) * cf + e, n);
      RD_WG_LD(u3, du + (12 + j) * cf + e, n);
      a[3 * j + 0] = u0 + h * (u1 + u2);
      a[3 * j + 1] = h * (u1 - u2);
      a[3 * j + 2] = h * (u1 + u2) + u3;
    }
    for (int i = 0; i < 3; i++) { /* (G^T dU) G, row i */
      const rd_wg_v a0 = a[i], a1 = a[3 + i], a2 = a[6 + i], a3 = a[9 + i];
      RD_WG_ST(dk + (3 * i + 0) * cf + e, a0 + h * (a1 + a2), n);
      RD_WG_ST(dk + (3 * i + 1) * cf + e, h * (a1 - a2), n);
      RD_WG_ST(dk + (3 * i + 2) * cf + e, h * (a1 + a2) + a3, n);
    }
  }
}

/* F(4x4, 3x3): 6x6 input tiles that overlap by 2, each giving a 4x4 output
 * tile, with (Lavin and Gray's points 0, 1, -1, 2, -2 and infinity)
 *
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
 *          0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
 *          1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1],
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
 *
 * 36 GEMMs a pass, 36 x in x filters multiply-adds per 16 outputs: 4x fewer
 * than direct convolution (F(2x2, 3x3): 2.25x), and 2.25 transformed values
 * stored and read per output instead of 4. The price is accuracy: the
 * transforms' larger coefficients (up to 8 and 1/24) give errors a few
 * times F(2x2, 3x3)'s (tests/reference_layers.py). Each 2-D transform is a
 * 1-D transform of the rows, then of the columns, written out below; 1/6,
 * 1/12 and 1/24 are float constants, rounded once. */

/* The 1-D transforms, on six (or four) vectors: B^T d, A^T m, A y, B v. */
#define RD_WG4_BT(o, d)                                                            \
  do {                                                                             \
    const rd_wg_v s42_ = (d)[4] - (d)[2], d31_ = (d)[3] - (d)[1];                  \
    (o)[0] = ((d)[4] - 5.0f * (d)[2]) + 4.0f * (d)[0];                             \
    (o)[1] = ((d)[3] + (d)[4]) - 4.0f * ((d)[1] + (d)[2]);                         \
    (o)[2] = ((d)[4] - (d)[3]) + 4.0f * ((d)[1] - (d)[2]);                         \
    (o)[3] = s42_ + 2.0f * d31_;                                                   \
    (o)[4] = s42_ - 2.0f * d31_;                                                   \
    (o)[5] = ((d)[5] - 5.0f * (d)[3]) + 4.0f * (d)[1];                             \
  } while (0)
#define RD_WG4_AT(o, x)                                                            \
  do {                                                                             \
    const rd_wg_v s12_ = (x)[1] + (x)[2], d12_ = (x)[1] - (x)[2];                  \
    const rd_wg_v s34_ = (x)[3] + (x)[4], d34_ = (x)[3] - (x)[4];                  \
    (o)[0] = (x)[0] + s12_ + s34_;                                                 \
    (o)[1] = d12_ + 2.0f * d34_;                                                   \
    (o)[2] = s12_ + 4.0f * s34_;                                                   \
    (o)[3] = (d12_ + 8.0f * d34_) + (x)[5];                                        \
  } while (0)
#define RD_WG4_A(o, y)                                                             \
  do {                                                                             \
    const rd_wg_v e_ = (y)[0] + (y)[2], od_ = (y)[1] + (y)[3];                     \
    const rd_wg_v f_ = (y)[0] + 4.0f * (y)[2], h_ = 2.0f * (y)[1] + 8.0f * (y)[3]; \
    (o)[0] = (y)[0];                                                               \
    (o)[1] = e_ + od_;                                                             \
    (o)[2] = e_ - od_;                                                             \
    (o)[3] = f_ + h_;                                                              \
    (o)[4] = f_ - h_;                                                              \
    (o)[5] = (y)[3];                                                               \
  } while (0)
#define RD_WG4_B(o, v)                                                             \
  do {                                                                             \
    const rd_wg_v s12_ = (v)[1] + (v)[2], s34_ = (v)[3] + (v)[4];                  \
    const rd_wg_v d21_ = (v)[2] - (v)[1], d43_ = (v)[4] - (v)[3];                  \
    (o)[0] = 4.0f * (v)[0];                                                        \
    (o)[1] = (4.0f * d21_ + 2.0f * d43_) + 4.0f * (v)[5];                          \
    (o)[2] = (-5.0f * (v)[0] - 4.0f * s12_) - s34_;                                \
    (o)[3] = (-d21_ - 2.0f * d43_) - 5.0f * (v)[5];                                \
    (o)[4] = (v)[0] + s12_ + s34_;                                                 \
    (o)[5] = (v)[5];                                                               \
  } while (0)

/* The 2-D transforms below run the 1-D one over the rows, then over the
 * columns, as their comments say; the code takes the columns of the first
 * pass in groups that need the same inputs (B^T's rows 0 and 5 read three of
 * a row's six values, rows 1-4 the middle four; A^T's rows 0 and 2 the first
 * five, 1 and 3 the last five), so that a group's values stay in registers:
 * the same operations on the same values, in fewer loads and stores. */

/* V[pos] = (B^T d B)[pos] for tiles [t0, t0 + nt), as rd_wg_input: d B
 * along each row, then B^T (d B) along each column. */
#define RD_WG4_INPUT(N)                                                            \
  do {                                                                             \
    rd_wg_v p_[6], q_[6], r_[6];                                                   \
    _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) { /* columns 0 and 5 */    \
      rd_wg_v d[6];                                                                \
      _Pragma("GCC unroll 6") for (int j = 0; j < 6; j++) RD_WG_LD(d[j], px[6 * i + j] + c0, N); \
      p_[i] = (d[4] - 5.0f * d[2]) + 4.0f * d[0];                                  \
      q_[i] = (d[5] - 5.0f * d[3]) + 4.0f * d[1];                                  \
    }                                                                              \
    RD_WG4_BT(r_, p_);                                                             \
    _Pragma("GCC unroll 6") for (int k = 0; k < 6; k++) RD_WG_ST(o + (6 * k + 0) * ps + c0, r_[k], N); \
    RD_WG4_BT(r_, q_);                                                             \
    _Pragma("GCC unroll 6") for (int k = 0; k < 6; k++) RD_WG_ST(o + (6 * k + 5) * ps + c0, r_[k], N); \
    _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) { /* columns 1 and 2 */    \
      rd_wg_v d1, d2, d3, d4;                                                      \
      RD_WG_LD(d1, px[6 * i + 1] + c0, N);                                         \
      RD_WG_LD(d2, px[6 * i + 2] + c0, N);                                         \
      RD_WG_LD(d3, px[6 * i + 3] + c0, N);                                         \
      RD_WG_LD(d4, px[6 * i + 4] + c0, N);                                         \
      p_[i] = (d3 + d4) - 4.0f * (d1 + d2);                                        \
      q_[i] = (d4 - d3) + 4.0f * (d1 - d2);                                        \
    }                                                                              \
    RD_WG4_BT(r_, p_);                                                             \
    _Pragma("GCC unroll 6") for (int k = 0; k < 6; k++) RD_WG_ST(o + (6 * k + 1) * ps + c0, r_[k], N); \
    RD_WG4_BT(r_, q_);                                                             \
    _Pragma("GCC unroll 6") for (int k = 0; k < 6; k++) RD_WG_ST(o + (6 * k + 2) * ps + c0, r_[k], N); \
    _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) { /* columns 3 and 4 */    \
      rd_wg_v d1, d2, d3, d4;                                                      \
      RD_WG_LD(d1, px[6 * i + 1] + c0, N);                                         \
      RD_WG_LD(d2, px[6 * i + 2] + c0, N);                                         \
      RD_WG_LD(d3, px[6 * i + 3] + c0, N);                                         \
      RD_WG_LD(d4, px[6 * i + 4] + c0, N);                                         \
      const rd_wg_v s42 = d4 - d2, d31 = d3 - d1;                                  \
      p_[i] = s42 + 2.0f * d31;                                                    \
      q_[i] = s42 - 2.0f * d31;                                                    \
    }                                                                              \
    RD_WG4_BT(r_, p_);                                                             \
    _Pragma("GCC unroll 6") for (int k = 0; k < 6; k++) RD_WG_ST(o + (6 * k + 3) * ps + c0, r_[k], N); \
    RD_WG4_BT(r_, q_);                                                             \
    _Pragma("GCC unroll 6") for (int k = 0; k < 6; k++) RD_WG_ST(o + (6 * k + 4) * ps + c0, r_[k], N); \
  } while (0)

RD_SIMD static void rd_wg4_input(const rd_wg *g, const float *x, int64_t t0, int64_t nt, const float *zeros,
                                 float *restrict v) {
  const int64_t C = g->c, ps = g->vs;
  int64_t s, ti, tj;
  rd_wg_tile(g, t0, &s, &ti, &tj);
  for (int64_t t = t0; t < t0 + nt; t++, rd_wg_next(g, &s, &ti, &tj)) {
    const float *px[36];
    rd_wg_window(g, x, s, ti, tj, zeros, px);
    float *o = v + (t - t0) * C;
    int64_t c0 = 0;
    /* Backward reads x long after forward wrote it, from L3 or memory:
     * each row's four pixels that the tile two to the right adds to the
     * window are asked for now, where they lie in x (conv backward 4-5%
     * faster at 28x28; forward, whose x is in cache, issues them too and
     * was not measurably slower; a prefetch moves no value). */
    if (4 * tj - g->pl + 13 < g->w)
      for (int i = 0; i < 6; i++)
        if (px[6 * i + 5] != zeros)
          for (int64_t l = 5 * C; l < 9 * C; l += 16) __builtin_prefetch(px[6 * i + 5] + l);
    for (; c0 + 16 <= C; c0 += 16) RD_WG4_INPUT(16);
    if (c0 < C) RD_WG4_INPUT(C - c0);
  }
}

/* y's 4x4 tiles = A^T M A for tiles [t0, t0 + nt), the part inside y: M A
 * along each row, then A^T (M A) along each column. */
#define RD_WG4_OUTPUT(N)                                                           \
  do {                                                                             \
    rd_wg_v p_[6], q_[6], r_[4];                                                   \
    _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) { /* columns 0 and 2 */    \
      rd_wg_v x[5];                                                                \
      _Pragma("GCC unroll 5") for (int j = 0; j < 5; j++) RD_WG_LD(x[j], pm + (6 * i + j) * ps + f0, N); \
      const rd_wg_v s12 = x[1] + x[2], s34 = x[3] + x[4];                          \
      p_[i] = x[0] + s12 + s34;                                                    \
      q_[i] = s12 + 4.0f * s34;                                                    \
    }                                                                              \
    RD_WG4_AT(r_, p_);                                                             \
    _Pragma("GCC unroll 4") for (int i = 0; i < nr; i++) RD_WG_ST(py + (i * g->ow + 0) * F + f0, r_[i], N); \
    if (nq > 2) {                                                                  \
      RD_WG4_AT(r_, q_);                                                           \
      _Pragma("GCC unroll 4") for (int i = 0; i < nr; i++) RD_WG_ST(py + (i * g->ow + 2) * F + f0, r_[i], N); \
    }                                                                              \
    if (nq > 1) {                                                                  \
      _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) { /* columns 1 and 3 */  \
        rd_wg_v x[5];                                                              \
        _Pragma("GCC unroll 5") for (int j = 0; j < 5; j++) RD_WG_LD(x[j], pm + (6 * i + j + 1) * ps + f0, N); \
        const rd_wg_v d12 = x[0] - x[1], d34 = x[2] - x[3];                        \
        p_[i] = d12 + 2.0f * d34;                                                  \
        q_[i] = (d12 + 8.0f * d34) + x[4];                                         \
      }                                                                            \
      RD_WG4_AT(r_, p_);                                                           \
      _Pragma("GCC unroll 4") for (int i = 0; i < nr; i++) RD_WG_ST(py + (i * g->ow + 1) * F + f0, r_[i], N); \
      if (nq > 3) {                                                                \
        RD_WG4_AT(r_, q_);                                                         \
        _Pragma("GCC unroll 4") for (int i = 0; i < nr; i++) RD_WG_ST(py + (i * g->ow + 3) * F + f0, r_[i], N); \
      }                                                                            \
    }                                                                              \
  } while (0)

RD_SIMD static void rd_wg4_output(const rd_wg *g, const float *m, int64_t t0, int64_t nt, float *restrict y) {
  const int64_t F = g->f, ps = g->ms;
  int64_t s, ti, tj;
  rd_wg_tile(g, t0, &s, &ti, &tj);
  for (int64_t t = t0; t < t0 + nt; t++, rd_wg_next(g, &s, &ti, &tj)) {
    const int64_t r0 = 4 * ti, q0 = 4 * tj;
    const int nr = g->oh - r0 < 4 ? (int)(g->oh - r0) : 4, nq = g->ow - q0 < 4 ? (int)(g->ow - q0) : 4;
    float *py = y + ((s * g->oh + r0) * g->ow + q0) * F;
    const float *pm = m + (t - t0) * F;
    int64_t f0 = 0;
    for (; f0 + 16 <= F; f0 += 16) RD_WG4_OUTPUT(16);
    if (f0 < F) RD_WG4_OUTPUT(F - f0);
  }
}

/* dM[pos] = (A dY A^T)[pos] for tiles [t0, t0 + nt), dY zeros outside dy. */
RD_SIMD static void rd_wg4_doutput(const rd_wg *g, const float *dy, int64_t t0, int64_t nt, const float *zeros,
                                   float *restrict dm) {
  const int64_t F = g->f, ps = g->ms;
  int64_t s, ti, tj;
  rd_wg_tile(g, t0, &s, &ti, &tj);
  for (int64_t t = t0; t < t0 + nt; t++, rd_wg_next(g, &s, &ti, &tj)) {
    const int64_t r0 = 4 * ti, q0 = 4 * tj;
    const float *p[16];
    #pragma GCC unroll 9
    for (int i = 0; i < 4; i++)
      #pragma GCC unroll 9
      for (int j = 0; j < 4; j++)
        p[4 * i + j] = r0 + i < g->oh && q0 + j < g->ow ? dy + ((s * g->oh + r0 + i) * g->ow + q0 + j) * F : zeros;
    float *o = dm + (t - t0) * F;
    for (int64_t f0 = 0; f0 < F; f0 += 16) {
      const int64_t n = F - f0 < 16 ? F - f0 : 16;
      rd_wg_v c[24]; /* dY A^T, row by row: c[6 i + l] */
      #pragma GCC unroll 9
      for (int i = 0; i < 4; i++) {
        rd_wg_v e[4];
        #pragma GCC unroll 9
        for (int j = 0; j < 4; j++) RD_WG_LD(e[j], p[4 * i + j] + f0, n);
        RD_WG4_A(c + 6 * i, e);
      }
      #pragma GCC unroll 9
      for (int l = 0; l < 6; l++) { /* A (dY A^T), column l */
        const rd_wg_v col[4] = {c[l], c[6 + l], c[12 + l], c[18 + l]};
        rd_wg_v r[6];
        RD_WG4_A(r, col);
        #pragma GCC unroll 9
        for (int k = 0; k < 6; k++) RD_WG_ST(o + (6 * k + l) * ps + f0, r[k], n);
      }
    }
  }
}

/* dx += B dV B^T for tiles [t0, t0 + nt), in tile order, the part inside x:
 * dV B^T along each row, then B (dV B^T) along each column, added into dx
 * (each pixel once per tile, so the order within a tile is free). */
#define RD_WG4_DX_COL(j, col, N)                                                    \
  do {                                                                             \
    rd_wg_v r_[6];                                                                 \
    RD_WG4_B(r_, col);                                                             \
    _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) {                          \
      float *d = (float *)pc[6 * i + (j)];                                         \
      if (!d) continue;                                                            \
      rd_wg_v old;                                                                 \
      RD_WG_LD(old, d + c0, N);                                                    \
      RD_WG_ST(d + c0, old + r_[i], N);                                            \
    }                                                                              \
  } while (0)
#define RD_WG4_DINPUT(N)                                                           \
  do {                                                                             \
    rd_wg_v p_[6], q_[6];                                                          \
    _Pragma("GCC unroll 6") for (int k = 0; k < 6; k++) { /* columns 0 and 5 */    \
      rd_wg_v a0, a5;                                                              \
      RD_WG_LD(a0, pv + (6 * k + 0) * ps + c0, N);                                 \
      RD_WG_LD(a5, pv + (6 * k + 5) * ps + c0, N);                                 \
      p_[k] = 4.0f * a0;                                                           \
      q_[k] = a5;                                                                  \
    }                                                                              \
    RD_WG4_DX_COL(0, p_, N);                                                          \
    RD_WG4_DX_COL(5, q_, N);                                                          \
    _Pragma("GCC unroll 6") for (int k = 0; k < 6; k++) { /* columns 1 and 3 */    \
      rd_wg_v a[5];                                                                \
      _Pragma("GCC unroll 5") for (int l = 0; l < 5; l++) RD_WG_LD(a[l], pv + (6 * k + l + 1) * ps + c0, N); \
      const rd_wg_v d21 = a[1] - a[0], d43 = a[3] - a[2];                          \
      p_[k] = (4.0f * d21 + 2.0f * d43) + 4.0f * a[4];                             \
      q_[k] = (-d21 - 2.0f * d43) - 5.0f * a[4];                                   \
    }                                                                              \
    RD_WG4_DX_COL(1, p_, N);                                                          \
    RD_WG4_DX_COL(3, q_, N);                                                          \
    _Pragma("GCC unroll 6") for (int k = 0; k < 6; k++) { /* columns 2 and 4 */    \
      rd_wg_v a[5];                                                                \
      _Pragma("GCC unroll 5") for (int l = 0; l < 5; l++) RD_WG_LD(a[l], pv + (6 * k + l) * ps + c0, N); \
      const rd_wg_v s12 = a[1] + a[2], s34 = a[3] + a[4];                          \
      p_[k] = (-5.0f * a[0] - 4.0f * s12) - s34;                                   \
      q_[k] = a[0] + s12 + s34;                                                    \
    }                                                                              \
    RD_WG4_DX_COL(2, p_, N);                                                          \
    RD_WG4_DX_COL(4, q_, N);                                                          \
  } while (0)

RD_SIMD static void rd_wg4_dinput(const rd_wg *g, const float *dv, int64_t t0, int64_t nt, float *restrict dx) {
  const int64_t C = g->c, ps = g->vs;
  int64_t s, ti, tj;
  rd_wg_tile(g, t0, &s, &ti, &tj);
  for (int64_t t = t0; t < t0 + nt; t++, rd_wg_next(g, &s, &ti, &tj)) {
    const float *pc[36];
    rd_wg_window(g, dx, s, ti, tj, NULL, pc);
    const float *pv = dv + (t - t0) * C;
    int64_t c0 = 0;
    for (; c0 + 16 <= C; c0 += 16) RD_WG4_DINPUT(16);
    if (c0 < C) RD_WG4_DINPUT(C - c0);
  }
}

/* U[pos] (c, f) = (G g G^T)[pos] from the kernel (3, 3, c, f), element by
 * element of (c, f). G g for a column (g0, g1, g2): g0 / 4, -(g0 + g1 + g2) / 6,
 * -((g0 + g2) - g1) / 6, (g0 / 4 + g2 + g1 / 2) / 6, (g0 / 4 + g2 - g1 / 2) / 6, g2. */
#define RD_WG4_G(o, g0, g1, g2)                                                    \
  do {                                                                             \
    const rd_wg_v q_ = 0.25f * (g0), a_ = q_ + (g2), h_ = 0.5f * (g1);             \
    (o)[0] = q_;                                                                   \
    (o)[1] = RD_WG4_M6 * (((g0) + (g1)) + (g2));                                   \
    (o)[2] = RD_WG4_M6 * (((g0) + (g2)) - (g1));                                   \
    (o)[3] = RD_WG4_P6 * (a_ + h_);                                                \
    (o)[4] = RD_WG4_P6 * (a_ - h_);                                                \
    (o)[5] = (g2);                                                                 \
  } while (0)
/* G^T u for six values: u0 / 4 - (u1 + u2) / 6 + (u3 + u4) / 24,
 * (u2 - u1) / 6 + (u3 - u4) / 12, ((u3 + u4) - (u1 + u2)) / 6 + u5. */
#define RD_WG4_GT(o, u)                                                            \
  do {                                                                             \
    const rd_wg_v s12_ = (u)[1] + (u)[2], s34_ = (u)[3] + (u)[4];                  \
    (o)[0] = (0.25f * (u)[0] + RD_WG4_M6 * s12_) + RD_WG4_P24 * s34_;              \
    (o)[1] = RD_WG4_P6 * ((u)[2] - (u)[1]) + RD_WG4_P12 * ((u)[3] - (u)[4]);       \
    (o)[2] = RD_WG4_P6 * (s34_ - s12_) + (u)[5];                                   \
  } while (0)
#define RD_WG4_P6 (1.0f / 6.0f)
#define RD_WG4_M6 (-1.0f / 6.0f)
#define RD_WG4_P12 (1.0f / 12.0f)
#define RD_WG4_P24 (1.0f / 24.0f)

RD_SIMD static void rd_wg4_kernel(int64_t C, int64_t F, int64_t us, const float *k, float *restrict u) {
  const int64_t cf = C * F;
  for (int64_t e = 0; e < cf; e += 16) {
    const int64_t n = cf - e < 16 ? cf - e : 16;
    rd_wg_v g[9], a[18]; /* G g, column j: a[6 j + row] */
    #pragma GCC unroll 9
    for (int i = 0; i < 9; i++) RD_WG_LD(g[i], k + i * cf + e, n);
    #pragma GCC unroll 9
    for (int j = 0; j < 3; j++) RD_WG4_G(a + 6 * j, g[j], g[3 + j], g[6 + j]);
    #pragma GCC unroll 9
    for (int i = 0; i < 6; i++) { /* (G g) G^T, row i */
      rd_wg_v r[6];
      RD_WG4_G(r, a[i], a[6 + i], a[12 + i]);
      #pragma GCC unroll 9
      for (int j = 0; j < 6; j++) RD_WG_ST(u + (6 * i + j) * us + e, r[j], n);
    }
  }
}

/* dkernel (3, 3, c, f) = G^T dU G. */
RD_SIMD static void rd_wg4_dkernel(int64_t C, int64_t F, int64_t us, const float *du, float *restrict dk) {
  const int64_t cf = C * F;
  for (int64_t e = 0; e < cf; e += 16) {
    const int64_t n = cf - e < 16 ? cf - e : 16;
    rd_wg_v a[18]; /* G^T dU, column l: a[3 l + row] */
    #pragma GCC unroll 9
    for (int l = 0; l < 6; l++) {
      rd_wg_v col[6];
      #pragma GCC unroll 9
      for (int k = 0; k < 6; k++) RD_WG_LD(col[k], du + (6 * k + l) * us + e, n);
      RD_WG4_GT(a + 3 * l, col);
    }
    #pragma GCC unroll 9
    for (int i = 0; i < 3; i++) { /* (G^T dU) G, row i */
      const rd_wg_v row[6] = {a[i], a[3 + i], a[6 + i], a[9 + i], a[12 + i], a[15 + i]};
      rd_wg_v r[3];
      RD_WG4_GT(r, row);
      #pragma GCC unroll 9
      for (int j = 0; j < 3; j++) RD_WG_ST(dk + (3 * i + j) * cf + e, r[j], n);
    }
  }
}

#endif
