/* max_pooling2d: Keras' MaxPooling2D, channels last.
 *
 * Keys: pool_size (2), strides (= pool_size), padding (valid or same; padded
 * positions are never the maximum, as in TensorFlow). Each output is the
 * maximum of its window scanned row by row, left to right; ties go to the
 * first maximum in that order. Forward keeps that position (0 .. kh*kw-1) per
 * output in the workspace, and backward adds dy there, outputs in order: the
 * same rule both ways. */
#include <stdint.h>
#include <string.h>

#include "../simd.h"
#include "window.h"

typedef struct {
  rd_window h, w;
  int64_t c;
} max_pooling2d;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  max_pooling2d *p = self;
  int rc = rd_window_pool_build(rd, b, "max_pooling2d", in, &p->h, &p->w);
  if (rc) return rc;
  p->c = in->dim[2];
  *out = (rd_shape){3, {p->h.out, p->w.out, p->c}};
  return 0;
}

static size_t workspace(const void *self, const rd_shape *in, const rd_shape *out, int64_t rows) {
  return (size_t)(rows * rd_shape_numel(out));
}

/* 16 floats (and their bits) as one value: GCC's generic vectors, whatever
 * the clone's vector width. */
typedef float mp_v16 __attribute__((vector_size(64)));
typedef uint32_t mp_u16 __attribute__((vector_size(64)));

/* Windows that tile the input (stride = pool size, all inside it), forward:
 * forward's scan and rule, with each window's maximum and position kept in
 * registers, 16 channels at a time, and stored once (forward below reads
 * and writes them in y and the workspace at each of the window's values). */
RD_SIMD static void forward_tiled(const max_pooling2d *p, int64_t rows, const float *x, float *y, float *arg) {
  const int64_t H = p->h.in, W = p->w.in, C = p->c, KH = p->h.k, KW = p->w.k, OH = p->h.out, OW = p->w.out;
  for (int64_t s = 0; s < rows; s++)
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++) {
        const int64_t o = ((s * OH + oh) * OW + ow) * C;
        const float *x0 = x + ((s * H + oh * KH) * W + ow * KW) * C; /* the window's first value */
        int64_t c = 0;
        for (; c + 16 <= C; c += 16) {
          mp_u16 b, a = {0}, v;
          memcpy(&b, x0 + c, sizeof b);
          for (int64_t i = 0; i < KH; i++)
            for (int64_t j = !i; j < KW; j++) {
              memcpy(&v, x0 + (i * W + j) * C + c, sizeof v);
              mp_v16 vf, bf;
              memcpy(&vf, &v, sizeof v), memcpy(&bf, &b, sizeof b);
              const mp_u16 m = (mp_u16)(vf > bf);
              const float at = (float)(i * KW + j);
              uint32_t atu;
              memcpy(&atu, &at, 4);
              b = (v & m) | (b & ~m);
              a = (atu & m) | (a & ~m);
            }
          memcpy(y + o + c, &b, sizeof b), memcpy(arg + o + c, &a, sizeof a);
        }
        for (; c < C; c++) {
          float best = x0[c], at = 0.0f;
          for (int64_t i = 0; i < KH; i++)
            for (int64_t j = !i; j < KW; j++) {
              const float v = x0[(i * W + j) * C + c];
              if (v > best) best = v, at = (float)(i * KW + j);
            }
          y[o + c] = best, arg[o + c] = at;
        }
      }
}

/* Whether the windows tile the input: stride = pool size, none padded or
 * sticking out (positions past the last window are in none). */
static int tiled(const max_pooling2d *p) {
  return p->h.s == p->h.k && p->w.s == p->w.k && p->h.pad == 0 && p->w.pad == 0 && p->h.out * p->h.k <= p->h.in &&
         p->w.out * p->w.k <= p->w.in;
}

/* For each output position the window is scanned row by row; all channels
 * advance together (the inner loops over c vectorize), each keeping the first
 * maximum: a later value replaces it only when strictly greater. */
RD_SIMD static void forward(const rd_io *io, const float *x, float *y) {
  const max_pooling2d *p = io->self;
  const int64_t H = p->h.in, W = p->w.in, C = p->c;
  if (tiled(p)) {
    forward_tiled(p, io->rows, x, y, io->ws);
    return;
  }
  for (int64_t s = 0; s < io->rows; s++)
    for (int64_t oh = 0; oh < p->h.out; oh++)
      for (int64_t ow = 0; ow < p->w.out; ow++) {
        const int64_t o = ((s * p->h.out + oh) * p->w.out + ow) * C;
        float *restrict best = y + o, *restrict arg = io->ws + o; /* the winning position, exact as a float */
        int first = 1;
        for (int64_t i = 0; i < p->h.k; i++) {
          const int64_t ih = oh * p->h.s - p->h.pad + i;
          if (ih < 0 || ih >= H) continue;
          for (int64_t j = 0; j < p->w.k; j++) {
            const int64_t iw = ow * p->w.s - p->w.pad + j;
            if (iw < 0 || iw >= W) continue;
            const float *restrict v = x + ((s * H + ih) * W + iw) * C;
            const float at = (float)(i * p->w.k + j);
            if (first) {
              for (int64_t c = 0; c < C; c++) best[c] = v[c], arg[c] = at;
              first = 0;
            } else {
              /* A select by bit masks (memcpy: no aliasing of float as int): no
               * branch, so the loop vectorizes, with the same result. */
              uint32_t atu;
              memcpy(&atu, &at, 4);
              for (int64_t c = 0; c < C; c++) {
                const float vf = v[c], bf = best[c], af = arg[c];
                const uint32_t m = -(uint32_t)(vf > bf);
                uint32_t vi, bi, ai;
                memcpy(&vi, &vf, 4), memcpy(&bi, &bf, 4), memcpy(&ai, &af, 4);
                bi = (vi & m) | (bi & ~m);
                ai = (atu & m) | (ai & ~m);
                memcpy(&best[c], &bi, 4), memcpy(&arg[c], &ai, 4);
              }
            }
          }
        }
      }
}

/* Windows that tile the input (stride = pool size, all inside it): every input
 * position is in at most one window, so dx is written once, in one pass, as
 * 0 + dy at the window's winner and 0 elsewhere: the bits of the general
 * rule below (0 + -0 is +0). Positions past the last window are 0. */
RD_SIMD static void backward_tiled(const max_pooling2d *p, int64_t rows, const float *arg, const float *dy, float *dx) {
  const int64_t H = p->h.in, W = p->w.in, C = p->c, KH = p->h.k, KW = p->w.k;
  const int64_t covered_w = p->w.out * KW * C;
  for (int64_t s = 0; s < rows; s++) {
    for (int64_t oh = 0; oh < p->h.out; oh++)
      for (int64_t i = 0; i < KH; i++) {
        float *restrict drow = dx + ((s * H + oh * KH + i) * W) * C;
        for (int64_t ow = 0; ow < p->w.out; ow++) {
          const int64_t o = ((s * p->h.out + oh) * p->w.out + ow) * C;
          const float *restrict a = arg + o, *restrict g = dy + o;
          for (int64_t j = 0; j < KW; j++) {
            const float at = (float)(i * KW + j);
            float *restrict d = drow + (ow * KW + j) * C;
            for (int64_t c = 0; c < C; c++) { /* 0 + dy where the winner is, by bit mask (vectorizes) */
              const float v = 0.0f + g[c];
              uint32_t vi;
              memcpy(&vi, &v, 4);
              vi &= -(uint32_t)(a[c] == at);
              memcpy(&d[c], &vi, 4);
            }
          }
        }
        memset(drow + covered_w, 0, sizeof(float) * (size_t)(W * C - covered_w));
      }
    const int64_t done = p->h.out * KH;
    memset(dx + (s * H + done) * W * C, 0, sizeof(float) * (size_t)((H - done) * W * C));
  }
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const max_pooling2d *p = io->self;
  const int64_t H = p->h.in, W = p->w.in, C = p->c;
  if (!dx) return;
  const float *arg = io->ws;
  if (tiled(p)) {
    backward_tiled(p, io->rows, arg, dy, dx);
    return;
  }
  memset(dx, 0, sizeof(float) * (size_t)(io->rows * H * W * C));
  for (int64_t s = 0; s < io->rows; s++)
    for (int64_t oh = 0; oh < p->h.out; oh++)
      for (int64_t ow = 0; ow < p->w.out; ow++)
        for (int64_t c = 0; c < C; c++) {
          const int64_t o = ((s * p->h.out + oh) * p->w.out + ow) * C + c, at = (int64_t)arg[o];
          const int64_t ih = oh * p->h.s - p->h.pad + at / p->w.k, iw = ow * p->w.s - p->w.pad + at % p->w.k;
          dx[((s * H + ih) * W + iw) * C + c] += dy[o];
        }
}

const rd_layer_type rd_layer_max_pooling2d = {
    .name = "max_pooling2d",
    .self_size = sizeof(max_pooling2d),
    .build = build,
    .workspace = workspace,
    .forward = forward,
    .backward = backward,
};
