/* conv2d: Keras' Conv2D, channels last: y = activation(conv(x, kernel) + bias).
 *
 * Keys (Keras' names and defaults): filters and kernel_size (required; "3" or
 * "3,3"), strides (1), padding (valid or same), activation (linear), use_bias
 * (true), kernel_initializer (glorot_uniform, fans counting the receptive
 * field), bias_initializer (zeros), their parameters and kernel_seed /
 * bias_seed. Kernel (kh, kw, in, filters), bias (filters,).
 *
 * Computed as im2col and one GEMM per shard: the shard's patches form col
 * (rows*oh*ow, kh*kw*in), each patch in the kernel's (i, j, c) order, so
 * y = col . kernel with the kernel as stored, (kh*kw*in, filters). Every GEMM
 * shape depends on the shard's rows and the layer alone. Backward: dkernel =
 * col^T . dy, dbias = column sums of dy, dcol = dy . kernel^T, and dx is dcol
 * added back patch by patch in a fixed order (col2im). The workspace holds col
 * from forward to backward (backward then reuses it for dcol). */
#include <string.h>

#include "window.h"

typedef struct {
  rd_window h, w;
  int64_t c, f;     /* input channels, filters */
  int64_t kk;       /* kh * kw * c: one patch */
  int use_bias;
  int direct;       /* 1x1 kernel, stride 1, no padding: col is x itself */
} conv2d;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  conv2d *p = self;
  int64_t ks[2] = {0, 0}, st[2] = {1, 1}, filters = 0;
  int same = 0;
  const int64_t one[2] = {1, 1}, none[2] = {0, 0};
  int bad = rd->get_int(b, "filters", 0, 1, 1000000, &filters) < 0;
  const int has_f = filters > 0;
  const int has_k = rd->get_ints(b, "kernel_size", 2, none, 1, 100000, ks);
  bad |= has_k < 0;
  bad |= rd->get_ints(b, "strides", 2, one, 1, 100000, st) < 0;
  bad |= rd->get_enum(b, "padding", rd_window_paddings, 0, &same) < 0;
  bad |= rd->activation(b, "activation", "linear") < 0;
  bad |= rd->get_bool(b, "use_bias", 1, &p->use_bias) < 0;
  p->c = in->dim[in->ndim - 1];
  p->f = has_f ? filters : 1;
  if (has_k <= 0) ks[0] = ks[1] = 1; /* declare the tensors anyway: their keys get checked too */
  rd_shape k = {4, {ks[0], ks[1], p->c, p->f}}, v = {1, {p->f}};
  bad |= rd->tensor(b, "kernel", &k, "kernel_", "glorot_uniform", 1) < 0;
  if (p->use_bias)
    bad |= rd->tensor(b, "bias", &v, "bias_", "zeros", 1) < 0;
  else
    rd->not_applicable(b, "bias_*", "is set but use_bias = false");
  if (bad) return 1;
  if (!has_f) return rd->fail(b, NULL, "[conv2d] needs filters = N");
  if (!has_k) return rd->fail(b, NULL, "[conv2d] needs kernel_size = K or KH,KW");
  if (in->ndim != 3)
    return rd->fail(b, NULL, "[conv2d] needs an input of (height, width, channels), not %d-D (set [model] input = H,W,C)",
                    in->ndim);
  if (rd_window_axis(&p->h, in->dim[0], ks[0], st[0], same) || rd_window_axis(&p->w, in->dim[1], ks[1], st[1], same))
    return rd->fail(b, "kernel_size", "kernel %lldx%lld is larger than the input %lldx%lld (padding = valid)",
                    (long long)ks[0], (long long)ks[1], (long long)in->dim[0], (long long)in->dim[1]);
  p->kk = ks[0] * ks[1] * p->c;
  p->direct = ks[0] == 1 && ks[1] == 1 && st[0] == 1 && st[1] == 1;
  *out = (rd_shape){3, {p->h.out, p->w.out, p->f}};
  return 0;
}

static size_t workspace(const void *self, const rd_shape *in, const rd_shape *out, int64_t rows) {
  const conv2d *p = self;
  return p->direct ? 0 : (size_t)(rows * p->h.out * p->w.out * p->kk);
}

/* Copies n floats with fixed-size moves: the runs here are short (kw * c, 3
 * floats for a first layer), where a memcpy call costs more than the copy. */
static inline void copy_run(float *restrict d, const float *restrict s, int64_t n) {
  int64_t t = 0;
  for (; t + 8 <= n; t += 8) memcpy(d + t, s + t, 8 * sizeof(float));
  for (; t < n; t++) memcpy(d + t, s + t, sizeof(float));
}

/* The window row at output column ow reads input columns iw0 .. iw0 + kw - 1;
 * those in the input are [lo, hi). Adjacent columns are adjacent in x (channels
 * last), so each window row is one run of floats, whatever the stride. */
static inline void window_cols(const conv2d *p, int64_t ow, int64_t *iw0, int64_t *lo, int64_t *hi) {
  *iw0 = ow * p->w.s - p->w.pad;
  *lo = *iw0 < 0 ? 0 : *iw0;
  *hi = *iw0 + p->w.k > p->w.in ? p->w.in : *iw0 + p->w.k;
}

/* col (rows*oh*ow, kk) from x (rows, h, w, c); padding reads as 0. */
static void im2col(const conv2d *p, int64_t rows, const float *x, float *col) {
  const int64_t H = p->h.in, W = p->w.in, C = p->c, KW = p->w.k;
  for (int64_t s = 0; s < rows; s++)
    for (int64_t oh = 0; oh < p->h.out; oh++)
      for (int64_t ow = 0; ow < p->w.out; ow++) {
        float *dst = col + ((s * p->h.out + oh) * p->w.out + ow) * p->kk;
        int64_t iw0, lo, hi;
        window_cols(p, ow, &iw0, &lo, &hi);
        for (int64_t i = 0; i < p->h.k; i++, dst += KW * C) {
          const int64_t ih = oh * p->h.s - p->h.pad + i;
          if (ih < 0 || ih >= H || lo >= hi) {
            memset(dst, 0, sizeof(float) * (size_t)(KW * C));
            continue;
          }
          if (lo > iw0) memset(dst, 0, sizeof(float) * (size_t)((lo - iw0) * C));
          copy_run(dst + (lo - iw0) * C, x + ((s * H + ih) * W + lo) * C, (hi - lo) * C);
          if (hi < iw0 + KW) memset(dst + (hi - iw0) * C, 0, sizeof(float) * (size_t)((iw0 + KW - hi) * C));
        }
      }
}

/* dx (rows, h, w, c) = the sum of dcol's patches at their places, in
 * im2col's order; padding positions are dropped. Each element of dx gets its
 * terms in that order, one window row being one run of adds. */
static void col2im(const conv2d *p, int64_t rows, const float *dcol, float *dx) {
  const int64_t H = p->h.in, W = p->w.in, C = p->c, KW = p->w.k;
  memset(dx, 0, sizeof(float) * (size_t)(rows * H * W * C));
  for (int64_t s = 0; s < rows; s++)
    for (int64_t oh = 0; oh < p->h.out; oh++)
      for (int64_t ow = 0; ow < p->w.out; ow++) {
        const float *src = dcol + ((s * p->h.out + oh) * p->w.out + ow) * p->kk;
        int64_t iw0, lo, hi;
        window_cols(p, ow, &iw0, &lo, &hi);
        for (int64_t i = 0; i < p->h.k; i++, src += KW * C) {
          const int64_t ih = oh * p->h.s - p->h.pad + i;
          if (ih < 0 || ih >= H || lo >= hi) continue;
          float *restrict d = dx + ((s * H + ih) * W + lo) * C;
          const float *restrict r = src + (lo - iw0) * C;
          for (int64_t t = 0; t < (hi - lo) * C; t++) d[t] += r[t];
        }
      }
}

static void forward(const rd_io *io, const float *x, float *y) {
  const conv2d *p = io->self;
  const int64_t M = io->rows * p->h.out * p->w.out, F = p->f;
  const float *col = x;
  if (!p->direct) {
    im2col(p, io->rows, x, io->ws);
    col = io->ws;
  }
  io->rd->gemm(0, 0, M, F, p->kk, col, p->kk, io->w[0], F, 0.0f, y, F);
  if (p->use_bias)
    for (int64_t r = 0; r < M; r++)
      for (int64_t k = 0; k < F; k++) y[r * F + k] += io->w[1][k];
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const conv2d *p = io->self;
  const int64_t M = io->rows * p->h.out * p->w.out, F = p->f;
  const float *col = p->direct ? x : io->ws;
  io->rd->gemm(1, 0, p->kk, F, M, col, p->kk, dy, F, 0.0f, io->g[0], F);
  if (p->use_bias) {
    float *db = io->g[1];
    for (int64_t k = 0; k < F; k++) db[k] = 0.0f;
    for (int64_t r = 0; r < M; r++)
      for (int64_t k = 0; k < F; k++) db[k] += dy[r * F + k];
  }
  if (!dx) return;
  if (p->direct) { /* dx = dy . kernel^T directly */
    io->rd->gemm(0, 1, M, p->kk, F, dy, F, io->w[0], F, 0.0f, dx, p->kk);
    return;
  }
  io->rd->gemm(0, 1, M, p->kk, F, dy, F, io->w[0], F, 0.0f, io->ws, p->kk);
  col2im(p, io->rows, io->ws, dx);
}

const rd_layer_type rd_layer_conv2d = {
    .name = "conv2d",
    .self_size = sizeof(conv2d),
    .build = build,
    .workspace = workspace,
    .forward = forward,
    .backward = backward,
};
