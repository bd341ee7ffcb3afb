/* conv2d: Keras' Conv2D, channels last: y = activation(conv(x, kernel) + bias).
 *
 * Keys (Keras' names and defaults): filters and kernel_size (required; "3" or
 * "3,3"), strides (1), padding (valid or same), activation (linear), use_bias
 * (true), kernel_initializer (glorot_uniform, fans counting the receptive
 * field), bias_initializer (zeros), their parameters and kernel_seed /
 * bias_seed. Kernel (kh, kw, in, filters), bias (filters,). And reprodist's
 * own `algorithm` (direct): winograd computes a 3x3, stride-1 layer as
 * Winograd's F(2x2, 3x3) instead, winograd4 as F(4x4, 3x3) (winograd.h;
 * other bits than direct's, and than each other's).
 *
 * Computed as im2col and one GEMM per shard: the shard's patches form col
 * (rows*oh*ow, kh*kw*in), each patch in the kernel's (i, j, c) order, so
 * y = col . kernel with the kernel as stored, (kh*kw*in, filters). Every GEMM
 * shape depends on the shard's rows and the layer alone. Backward: dkernel =
 * col^T . dy, dbias = column sums of dy, dcol = dy . kernel^T, and dx is dcol
 * added back patch by patch in a fixed order (col2im); in portable mode
 * dcol's GEMM reads the kernel transposed once per backward (the same
 * chains, as layer.h's gemm_chains allows). With kernels =
 * openblas the workspace holds the shard's col from forward to backward
 * (backward then reuses it for dcol). In portable mode col is built, used
 * and rebuilt in backward, block by block (about 256 KB of col):
 * the same chains (layer.h, gemm_chains), and only one block of the
 * workspace is ever touched. Portable mode's forward skips im2col where
 * the stride is 1 and the window rows are long (implicit, below): the GEMM
 * then reads x, padded once per sample, where it is. A relu after the layer
 * (its own activation, or an Activation layer fused into it) runs in the
 * layer's passes (layer.h, RD_LAYER_TAKES_RELU): with the bias, on each
 * block of y right after its product, and in backward in the pass that sums
 * dbias. */
#include <string.h>

#include "bias_relu.h"
#include "../simd.h"
#include "window.h"
#include "winograd.h"

typedef struct {
  rd_window h, w;
  int64_t c, f;     /* input channels, filters */
  int64_t kk;       /* kh * kw * c: one patch */
  int use_bias;
  int direct;       /* 1x1 kernel, stride 1, no padding: col is x itself */
  int implicit;     /* stride 1, window rows of >= 32 floats: forward reads x in place (below) */
  int implicit_dk;  /* and outputs >= 16 wide: so does dkernel */
  int winograd;     /* algorithm: 0 direct, 1 winograd (F(2x2, 3x3)), 2 winograd4 (F(4x4, 3x3)): 3x3, stride 1 */
  rd_wg wg;
} conv2d;

static const char *const algorithms[] = {"direct", "winograd", "winograd4", NULL};

/* The implicit forward (portable mode, stride 1). With the input padded
 * once per sample into xp (hp, wp, c), hp = oh + kh - 1 and wp = ow + kw - 1
 * (x itself with padding = valid), the window of output (r, q) starts at xp's
 * pixel r wp + q, so its kernel row i reads kw * c floats from pixel
 * (r + i) wp + q on: for "virtual" rows v = r wp + q, one strided matrix
 * with rows c floats apart. Each kernel row is then one GEMM over the
 * sample's (oh - 1) wp + ow virtual rows, continuing the chains of the rows
 * before it (beta 1): element (v, f) is the chain over (i, j, c) in the
 * kernel's order, with the padding's zeros where im2col puts them, so the
 * bits of im2col's product (layer.h, gemm_chains). The virtual rows with
 * q >= ow (wp - ow of them per output row) are computed and dropped. */
static int64_t xp_floats(const conv2d *p) { return (p->h.out + p->h.k - 1) * (p->w.out + p->w.k - 1) * p->c; }
static int64_t vrows(const conv2d *p) { return (p->h.out - 1) * (p->w.out + p->w.k - 1) + p->w.out; }
static int64_t implicit_floats(const conv2d *p) { return xp_floats(p) + vrows(p) * p->f; }
enum { IMPLICIT_MAX = 4 * 65536 }; /* xp and the virtual rows' product, 1 MB: a sample stays in L2 */
/* Whether the dropped rows cost less than im2col: im2col writes and the GEMM
 * reads kh kw c floats per output row, the dropped rows add kh kw c filters
 * multiply-adds per dropped row, and on AMD EPYC (AVX-512) moving a float
 * through im2col cost about as much as 8 multiply-adds. So the implicit form
 * runs while dropped rows x filters stay under 6 x the output rows: ResNet's
 * 28x28 (7% dropped, 16 filters: forward 15-20% faster) and 14x14 (13%, 32:
 * 3-7%) stages, not its 7x7 one (24%, 64 filters: no gain measured) nor the
 * convnet's second conv (11x11 from 13x13, 17%, 64). */
static int implicit_pays(const conv2d *p) {
  const int64_t out = p->h.out * p->w.out;
  return (vrows(p) - out) * p->f <= 6 * out;
}

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
  bad |= rd->get_enum(b, "algorithm", algorithms, 0, &p->winograd) < 0;
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
  if (p->winograd) {
    if (ks[0] != 3 || ks[1] != 3 || st[0] != 1 || st[1] != 1)
      return rd->fail(b, "algorithm", "%s needs kernel_size = 3 and strides = 1, not %lldx%lld at %lldx%lld",
                      algorithms[p->winograd], (long long)ks[0], (long long)ks[1], (long long)st[0],
                      (long long)st[1]);
    const int64_t m = p->winograd == 2 ? 4 : 2;
    p->wg = (rd_wg){.h = in->dim[0], .w = in->dim[1], .c = p->c, .f = p->f, .oh = p->h.out, .ow = p->w.out,
                    .pt = p->h.pad, .pl = p->w.pad, .m = m, .th = (p->h.out + m - 1) / m,
                    .tw = (p->w.out + m - 1) / m, .ch = rd_wg_chunk(p->c, p->f, rd_wg_positions(m))};
    rd_wg_strides(&p->wg);
  }
  p->direct = ks[0] == 1 && ks[1] == 1 && st[0] == 1 && st[1] == 1;
  p->implicit = !p->direct && st[0] == 1 && st[1] == 1 && ks[1] * p->c >= 32 &&
                implicit_floats(p) <= IMPLICIT_MAX && implicit_pays(p);
  p->implicit_dk = p->implicit && p->w.out >= 16;
  *out = (rd_shape){3, {p->h.out, p->w.out, p->f}};
  return 0;
}

/* The workspace: the kernel transposed, (filters, kh*kw*in), for backward's
 * dcol = dy . kernel^T in portable mode (its GEMM then reads B's rows where
 * they are instead of packing the transposed kernel in every block: the
 * same chains, 5-20% faster), then col's block. */
static int64_t kt_floats(const conv2d *p) { return (p->kk * p->f + 15) / 16 * 16; }

/* Floats im2col may write past a block's last row (its short runs, below). */
enum { IM2COL_SLACK = 8 };

/* algorithm = winograd(4)'s workspace, with P = 16 (36) positions: U and dU
 * (P c f each), a chunk's V (P ch c) and M (P ch f), and zeros for the
 * tiles' parts outside x or dy. */
static int64_t wg_u(const conv2d *p) { return rd_wg_positions(p->wg.m) * p->wg.us; }
static size_t wg_floats(const conv2d *p) {
  const rd_wg *g = &p->wg;
  return (size_t)(2 * wg_u(p) + rd_wg_positions(g->m) * (g->vs + g->ms) + (g->c > g->f ? g->c : g->f));
}

static size_t workspace(const void *self, const rd_shape *in, const rd_shape *out, int64_t rows) {
  const conv2d *p = self;
  if (p->winograd) return wg_floats(p);
  const size_t col = p->direct ? 0 : (size_t)(rows * p->h.out * p->w.out * p->kk);
  const size_t imp = p->implicit ? (size_t)implicit_floats(p) : 0;
  return (size_t)kt_floats(p) + (col > imp ? col : imp) + IM2COL_SLACK;
}

/* col's block in the workspace. */
static float *col_ws(const rd_io *io, const conv2d *p) { return io->ws + kt_floats(p); }

/* dcol (rows, kk) = dy (rows, F) . kernel^T: in portable mode from the
 * kernel transposed once per backward into kt (same chains), with kernels =
 * openblas as written (its bits depend on the call). */
static void dcol_gemm(const rd_io *io, const conv2d *p, const float *kt, int64_t rows, const float *dy, float *dcol) {
  if (kt)
    io->rd->gemm(0, 0, rows, p->kk, p->f, dy, p->f, kt, p->kk, 0.0f, dcol, p->kk);
  else
    io->rd->gemm(0, 1, rows, p->kk, p->f, dy, p->f, io->w[0], p->f, 0.0f, dcol, p->kk);
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

/* The output position after (s, oh, ow): the next row of col. Counting
 * instead of dividing each row's index: three 64-bit divisions per row were
 * most of the first layer's im2col, whose rows are 9 floats. */
static inline void next_pos(int64_t *s, int64_t *oh, int64_t *ow, int64_t OH, int64_t OW) {
  if (++*ow < OW) return;
  *ow = 0;
  if (++*oh < OH) return;
  *oh = 0;
  ++*s;
}

/* Column q of an output row into dst (one row of col, kk floats): x + xo
 * is the row's first window row (before x where padding is), [ia, ib) its
 * window rows inside x. */
static inline void im2col_pos(const conv2d *p, const float *x, int64_t xo, int64_t ia, int64_t ib, int64_t q,
                              float *dst) {
  const int64_t W = p->w.in, C = p->c, KW = p->w.k, run = KW * C, iw0 = q * p->w.s - p->w.pad;
  const int64_t lo = iw0 < 0 ? 0 : iw0, hi = iw0 + KW > W ? W : iw0 + KW;
  for (int64_t i = 0; i < p->h.k; i++, dst += run) {
    if (i < ia || i >= ib || lo >= hi) {
      memset(dst, 0, sizeof(float) * (size_t)run);
      continue;
    }
    if (lo > iw0) memset(dst, 0, sizeof(float) * (size_t)((lo - iw0) * C));
    copy_run(dst + (lo - iw0) * C, x + (xo + (i * W + lo) * C), (hi - lo) * C);
    if (hi < iw0 + KW) memset(dst + (hi - iw0) * C, 0, sizeof(float) * (size_t)((iw0 + KW - hi) * C));
  }
}

/* Rows [m0, m1) of col (rows*oh*ow, kk) from x (rows, h, w, c), into col
 * from its start; padding reads as 0. A copy: any way of moving the floats
 * gives the same col. One output row at a time. Where its windows lie
 * inside x and a window row is at most 8 floats (a first layer's kw * c: 3),
 * each window row is one fixed 4- or 8-float move: the floats past the run
 * land on the next window row's place (or the next row of col, or
 * IM2COL_SLACK past the block), which is written after it, and the reads
 * stay inside x. */
RD_SIMD static void im2col(const conv2d *p, int64_t m0, int64_t m1, const float *x, float *col) {
  const int64_t H = p->h.in, W = p->w.in, C = p->c, KW = p->w.k, KH = p->h.k, OW = p->w.out, OH = p->h.out;
  const int64_t run = KW * C, kk = p->kk, sw = p->w.s, pw = p->w.pad;
  /* The output columns whose windows lie inside x's columns: [owa, owb). */
  const int64_t owa = (pw + sw - 1) / sw, owb_ = W - KW + pw < 0 ? 0 : (W - KW + pw) / sw + 1;
  const int64_t owb = owb_ > OW ? OW : owb_;
  const int mv = run <= 4 ? 4 : run <= 8 ? 8 : 0; /* the short move, or none */
  const int64_t end = ((m1 - 1) / (OH * OW) + 1) * H * W * C; /* x's floats up to the last sample read */
  int64_t s = m0 / (OH * OW), oh = m0 % (OH * OW) / OW, ow = m0 % OW; /* row m's sample and position */
  for (int64_t m = m0; m < m1;) {
    const int64_t n = m1 - m < OW - ow ? m1 - m : OW - ow; /* this output row's columns [ow, ow + n) */
    const int64_t ih0 = oh * p->h.s - p->h.pad;
    const int64_t ia = ih0 < 0 ? -ih0 : 0, ib = ih0 + KH > H ? H - ih0 : KH; /* window rows in x: [ia, ib) */
    const int64_t xo = (s * H + ih0) * W * C; /* x's offset of row ih0 of sample s (negative: padding) */
    float *d = col + (m - m0) * kk;           /* column ow's row of col */
    int64_t fa = ow > owa ? ow : owa, fb = ow + n < owb ? ow + n : owb;
    if (!mv || ia > 0 || ib < KH || fa >= fb || xo + ((KH - 1) * W + (fb - 1) * sw - pw) * C + mv > end)
      fa = fb = ow + n;
    for (int64_t q = ow; q < fa; q++) im2col_pos(p, x, xo, ia, ib, q, d + (q - ow) * kk);
    if (mv == 4)
      for (int64_t q = fa; q < fb; q++)
        for (int64_t i = 0; i < KH; i++)
          memcpy(d + (q - ow) * kk + i * run, x + (xo + (i * W + q * sw - pw) * C), 4 * sizeof(float));
    else
      for (int64_t q = fa; q < fb; q++)
        for (int64_t i = 0; i < KH; i++)
          memcpy(d + (q - ow) * kk + i * run, x + (xo + (i * W + q * sw - pw) * C), 8 * sizeof(float));
    for (int64_t q = fb; q < ow + n; q++) im2col_pos(p, x, xo, ia, ib, q, d + (q - ow) * kk);
    m += n, ow = 0;
    if (++oh == OH) oh = 0, s++;
  }
}

/* dx (rows, h, w, c) += the patches of dcol's rows [m0, m1) (dcol from its
 * start) at their places, in im2col's order; padding positions are dropped.
 * Called on consecutive row ranges from m0 = 0 after dx is zeroed, each
 * element of dx gets its terms in that order, one window row being one run
 * of adds: the same sums for any split of the rows. */
RD_SIMD static void col2im(const conv2d *p, int64_t m0, int64_t m1, const float *dcol, float *dx) {
  const int64_t H = p->h.in, W = p->w.in, C = p->c, KW = p->w.k, OW = p->w.out, OH = p->h.out;
  int64_t s = m0 / (OH * OW), oh = m0 % (OH * OW) / OW, ow = m0 % OW;
  for (int64_t m = m0; m < m1; m++, next_pos(&s, &oh, &ow, OH, OW)) {
    const float *src = dcol + (m - m0) * p->kk;
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

/* The rows of one block: the whole shard with kernels = openblas (its GEMMs
 * stay whole: their bits depend on the shapes), else about 64K floats of
 * col (256 KB, in the core's L2 with the GEMM's other operands) and at most
 * 64K floats of y, a multiple of 48 rows (of every micro-kernel's MR). Each
 * pass over y (bias and relu, the relu's mask and dbias) then runs on a
 * block still in L2: a first layer's 9-float patches and 32 filters, a
 * whole shard of y, 1.4 MB, did not stay there. The split depends on the
 * layer and the shard alone, and portable mode's chains do not see it
 * (layer.h, gemm_chains). */
static int64_t block_rows(const rd_io *io, const conv2d *p, int64_t M) {
  if (!io->rd->gemm_chains) return M;
  int64_t b = 65536 / (p->kk > p->f ? p->kk : p->f);
  b = b < 48 ? 48 : b - b % 48;
  return b < M ? b : M;
}

/* Whether this pass runs the implicit forms (portable mode only). */
static int implicit_on(const rd_io *io, const conv2d *p) { return p->implicit && io->rd->gemm_chains; }

/* Sample s of x (h, w, c) into xp (hp, wp, c), zeros around it. */
static void pad_sample(const conv2d *p, const float *x, float *xp) {
  const int64_t C = p->c, W = p->w.in, wp = p->w.out + p->w.k - 1, hp = p->h.out + p->h.k - 1;
  const int64_t top = p->h.pad, left = p->w.pad, right = wp - W - left;
  memset(xp, 0, sizeof(float) * (size_t)(top * wp * C));
  float *d = xp + top * wp * C;
  for (int64_t r = 0; r < p->h.in; r++, d += wp * C, x += W * C) {
    memset(d, 0, sizeof(float) * (size_t)(left * C));
    memcpy(d + left * C, x, sizeof(float) * (size_t)(W * C));
    memset(d + (left + W) * C, 0, sizeof(float) * (size_t)(right * C));
  }
  memset(d, 0, sizeof(float) * (size_t)((hp - top - p->h.in) * wp * C));
}

/* Sample s's input as the implicit GEMMs read it: padded into xp (padding =
 * same), or x itself (valid: then hp, wp are its own height and width). */
static const float *sample_in(const conv2d *p, const float *x, int64_t s, float *xp) {
  const float *xs = x + s * p->h.in * p->w.in * p->c;
  if (xp_floats(p) == p->h.in * p->w.in * p->c) return xs;
  pad_sample(p, xs, xp);
  return xp;
}

static void forward_implicit(const rd_io *io, const conv2d *p, const float *x, float *y) {
  const int64_t C = p->c, F = p->f, OH = p->h.out, OW = p->w.out, wp = OW + p->w.k - 1, run = p->w.k * C;
  float *xp = col_ws(io, p), *v = xp + xp_floats(p);
  for (int64_t s = 0; s < io->rows; s++) {
    const float *xs = sample_in(p, x, s, xp);
    for (int64_t i = 0; i < p->h.k; i++)
      io->rd->gemm(0, 0, vrows(p), F, run, xs + i * wp * C, C, io->w[0] + i * run * F, F,
                   i ? 1.0f : 0.0f, v, F);
    float *ys = y + s * OH * OW * F;
    for (int64_t r = 0; r < OH; r++) memcpy(ys + r * OW * F, v + r * wp * F, sizeof(float) * (size_t)(OW * F));
    rd_bias_relu(OH * OW, F, p->use_bias ? io->w[1] : NULL, io->relu, ys);
  }
}

/* dkernel = col^T . dy from x in place (implicit_dk): for each output row,
 * in order, and each kernel row i, the kw * c rows of dkernel that i owns
 * take that output row's ow terms (beta 1 after the first), read from x
 * padded as in forward. Each element's chain runs over the output positions
 * in im2col's order with the same values, padding's zeros included. One
 * GEMM call per output row and kernel row: with rows under 16 wide its
 * calls cost what im2col saves (ResNet's 14x14 stage: no gain measured;
 * its 28x28 one: backward 15% faster). */
static void dkernel_implicit(const rd_io *io, const conv2d *p, const float *x, const float *dy) {
  const int64_t C = p->c, F = p->f, OH = p->h.out, OW = p->w.out, wp = OW + p->w.k - 1, run = p->w.k * C;
  float *xp = col_ws(io, p);
  for (int64_t s = 0; s < io->rows; s++) {
    const float *xs = sample_in(p, x, s, xp);
    for (int64_t r = 0; r < OH; r++)
      for (int64_t i = 0; i < p->h.k; i++)
        io->rd->gemm(1, 0, run, F, OW, xs + (r + i) * wp * C, C, dy + (s * OH + r) * OW * F, F,
                     s || r ? 1.0f : 0.0f, io->g[0] + i * run * F, F);
  }
}

/* algorithm = winograd or winograd4 (winograd.h): chunk by chunk of tiles,
 * the input transform, P GEMMs, the output transform; then bias and relu
 * over y. */
static void forward_winograd(const rd_io *io, const conv2d *p, const float *x, float *y) {
  const rd_wg *g = &p->wg;
  const int64_t C = g->c, F = g->f, CH = g->ch, T = io->rows * g->th * g->tw, P = rd_wg_positions(g->m);
  const int f4 = g->m == 4;
  float *u = io->ws, *v = u + 2 * wg_u(p), *m = v + P * g->vs, *zeros = m + P * g->ms;
  memset(zeros, 0, sizeof(float) * (size_t)(C > F ? C : F));
  if (f4)
    rd_wg4_kernel(C, F, g->us, io->w[0], u);
  else
    rd_wg_kernel(C, F, io->w[0], u);
  for (int64_t t0 = 0; t0 < T; t0 += CH) {
    const int64_t nt = T - t0 < CH ? T - t0 : CH;
    (f4 ? rd_wg4_input : rd_wg_input)(g, x, t0, nt, zeros, v);
    for (int64_t pos = 0; pos < P; pos++)
      io->rd->gemm(0, 0, nt, F, C, v + pos * g->vs, C, u + pos * g->us, F, 0.0f, m + pos * g->ms, F);
    (f4 ? rd_wg4_output : rd_wg_output)(g, m, t0, nt, y);
  }
  rd_bias_relu(io->rows * g->oh * g->ow, F, p->use_bias ? io->w[1] : NULL, io->relu, y);
}

/* Backward of forward_winograd, with U as forward left it in the workspace
 * (layer.h: kept from forward to the backward of the same shard): dy's relu
 * mask and dbias first, then chunk by chunk V again and dM; dU's chains continue over the chunks (beta 1
 * after the first), and dV = dM . U^T is added into dx tile by tile. With
 * kernels = openblas, dU's product is thus one sgemm call per chunk: its
 * bits depend on that split, which depends on the layer and the shard's
 * rows alone, never on the rank count. */
static void backward_winograd(const rd_io *io, const conv2d *p, const float *x, const float *y, float *dy,
                              float *dx) {
  const rd_wg *g = &p->wg;
  const int64_t C = g->c, F = g->f, CH = g->ch, T = io->rows * g->th * g->tw, P = rd_wg_positions(g->m);
  const int f4 = g->m == 4;
  float *u = io->ws, *du = u + wg_u(p), *v = du + wg_u(p), *m = v + P * g->vs, *zeros = m + P * g->ms;
  rd_relu_dbias(io->rows * g->oh * g->ow, F, y, io->relu, dy, p->use_bias ? io->g[1] : NULL, 1);
  memset(zeros, 0, sizeof(float) * (size_t)(C > F ? C : F));
  if (dx) memset(dx, 0, sizeof(float) * (size_t)(io->rows * g->h * g->w * C));
  for (int64_t t0 = 0; t0 < T; t0 += CH) {
    const int64_t nt = T - t0 < CH ? T - t0 : CH;
    (f4 ? rd_wg4_input : rd_wg_input)(g, x, t0, nt, zeros, v);
    (f4 ? rd_wg4_doutput : rd_wg_doutput)(g, dy, t0, nt, zeros, m);
    for (int64_t pos = 0; pos < P; pos++)
      io->rd->gemm(1, 0, C, F, nt, v + pos * g->vs, C, m + pos * g->ms, F, t0 ? 1.0f : 0.0f, du + pos * g->us, F);
    if (!dx) continue;
    for (int64_t pos = 0; pos < P; pos++) /* V's chunk is done with: dV takes its place */
      io->rd->gemm(0, 1, nt, C, F, m + pos * g->ms, F, u + pos * g->us, F, 0.0f, v + pos * g->vs, C);
    (f4 ? rd_wg4_dinput : rd_wg_dinput)(g, v, t0, nt, dx);
  }
  if (f4)
    rd_wg4_dkernel(C, F, g->us, du, io->g[0]);
  else
    rd_wg_dkernel(C, F, du, io->g[0]);
}

static void forward(const rd_io *io, const float *x, float *y) {
  const conv2d *p = io->self;
  const int64_t M = io->rows * p->h.out * p->w.out, F = p->f;
  if (p->winograd) {
    forward_winograd(io, p, x, y);
    return;
  }
  if (p->direct) {
    io->rd->gemm(0, 0, M, F, p->kk, x, p->kk, io->w[0], F, 0.0f, y, F);
    rd_bias_relu(M, F, p->use_bias ? io->w[1] : NULL, io->relu, y);
    return;
  }
  if (implicit_on(io, p)) {
    forward_implicit(io, p, x, y);
    return;
  }
  const int64_t B = block_rows(io, p, M);
  float *col = col_ws(io, p);
  for (int64_t m0 = 0; m0 < M; m0 += B) {
    const int64_t mb = M - m0 < B ? M - m0 : B;
    im2col(p, m0, m0 + mb, x, col);
    io->rd->gemm(0, 0, mb, F, p->kk, col, p->kk, io->w[0], F, 0.0f, y + m0 * F, F);
    rd_bias_relu(mb, F, p->use_bias ? io->w[1] : NULL, io->relu, y + m0 * F);
  }
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const conv2d *p = io->self;
  if (p->winograd) {
    backward_winograd(io, p, x, y, dy, dx);
    return;
  }
  const int64_t M = io->rows * p->h.out * p->w.out, F = p->f;
  const int64_t B = block_rows(io, p, M);
  const int imp = p->implicit_dk && implicit_on(io, p);
  /* dy's relu mask and dbias: block by block below, unless the whole of dy
   * is read first (direct and implicit_dk). */
  const int by_block = !p->direct && !imp;
  if (!by_block) rd_relu_dbias(M, F, y, io->relu, dy, p->use_bias ? io->g[1] : NULL, 1);
  float *kt = NULL;
  if (dx && io->rd->gemm_chains) {
    kt = io->ws;
    for (int64_t r = 0; r < p->kk; r++)
      for (int64_t k = 0; k < F; k++) kt[k * p->kk + r] = io->w[0][r * F + k];
  }
  if (p->direct) { /* col is x itself; dx = dy . kernel^T directly */
    io->rd->gemm(1, 0, p->kk, F, M, x, p->kk, dy, F, 0.0f, io->g[0], F);
    if (dx) dcol_gemm(io, p, kt, M, dy, dx);
    return;
  }
  /* Block by block: col's block again (forward's is gone unless the block
   * is the whole shard, and never built by the implicit forward), dkernel's
   * chains continued over it (beta 1 after the first block), then the
   * block's dcol and its patches added into dx; with implicit_dk, dkernel
   * first, from x, and the blocks for dx alone. */
  if (imp) dkernel_implicit(io, p, x, dy);
  if (dx) memset(dx, 0, sizeof(float) * (size_t)(io->rows * p->h.in * p->w.in * p->c));
  float *col = col_ws(io, p);
  for (int64_t m0 = 0; m0 < M; m0 += B) {
    const int64_t mb = M - m0 < B ? M - m0 : B;
    if (by_block) rd_relu_dbias(mb, F, y + m0 * F, io->relu, dy + m0 * F, p->use_bias ? io->g[1] : NULL, !m0);
    if (!imp) {
      if (B < M || implicit_on(io, p)) im2col(p, m0, m0 + mb, x, col);
      io->rd->gemm(1, 0, p->kk, F, mb, col, p->kk, dy + m0 * F, F, m0 ? 1.0f : 0.0f, io->g[0], F);
    }
    if (!dx) continue;
    dcol_gemm(io, p, kt, mb, dy + m0 * F, col);
    col2im(p, m0, m0 + mb, col, dx);
  }
}

const rd_layer_type rd_layer_conv2d = {
    .name = "conv2d",
    .flags = RD_LAYER_NO_Y | RD_LAYER_TAKES_RELU,
    .self_size = sizeof(conv2d),
    .build = build,
    .workspace = workspace,
    .forward = forward,
    .backward = backward,
};
