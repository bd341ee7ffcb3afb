/* winograd: the transforms of Conv2D's algorithm = winograd (Lavin and
 * Gray, "Fast Algorithms for Convolutional Neural Networks", 2016), F(2x2,
 * 3x3): a 3x3 kernel at stride 1 over 4x4 input tiles that overlap by 2,
 * each giving a 2x2 output tile. With
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
  int64_t th, tw;       /* tiles per column and per row: ceil(oh / 2), ceil(ow / 2) */
  int64_t ch;           /* tiles per chunk: the GEMMs' rows */
} rd_wg;

/* Tiles per chunk: the chunk's V and M (16 x ch x (in + filters) floats)
 * near 512 KB, so that they stay in L2 between the transforms and the
 * GEMMs. A multiple of 16. */
static inline int64_t rd_wg_chunk(int64_t c, int64_t f) {
  int64_t ch = 131072 / (16 * (c + f));
  ch -= ch % 16;
  return ch < 16 ? 16 : ch;
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

/* The 4x4 window of tile (s, ti, tj) in an input-shaped array a (h, w, c):
 * px[4 i + j] points at pixel (2 ti - pt + i, 2 tj - pl + j), or is
 * `outside` where that pixel lies outside a. */
static inline void rd_wg_window(const rd_wg *g, const float *a, int64_t s, int64_t ti, int64_t tj,
                                const float *outside, const float **px) {
  const int64_t r0 = 2 * ti - g->pt, q0 = 2 * tj - g->pl, C = g->c;
  if (r0 >= 0 && r0 + 4 <= g->h && q0 >= 0 && q0 + 4 <= g->w) { /* inside: no checks */
    const float *b = a + ((s * g->h + r0) * g->w + q0) * C;
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) px[4 * i + j] = b + (i * g->w + j) * C;
    return;
  }
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      const int64_t r = r0 + i, q = q0 + j;
      px[4 * i + j] = r >= 0 && r < g->h && q >= 0 && q < g->w ? a + ((s * g->h + r) * g->w + q) * C : outside;
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

#endif
