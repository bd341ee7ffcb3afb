/* batch_normalization: Keras' BatchNormalization over the last (channels) axis.
 *
 * Keys (Keras' defaults): axis (-1; only the last axis), momentum (0.99),
 * epsilon (0.001), center (true), scale (true), beta_initializer (zeros),
 * gamma_initializer (ones), moving_mean_initializer (zeros),
 * moving_variance_initializer (ones), their parameters and *_seed keys.
 * Tensors in Keras' order: gamma, beta (trainable; without scale / center
 * they are absent), moving_mean, moving_variance (non-trainable).
 *
 * Formulas (keras/src/layers/normalization/batch_normalization.py, call and
 * _moments; keras.ops.moments and batch_normalization). Per channel, over the
 * N = rows * h * w values of a shard:
 *   training:   mean = sum(x) / N, var = sum((x - mean)^2) / N (biased), each
 *               sum in double in row order and rounded once to float;
 *   evaluation: mean = moving_mean, var = moving_variance;
 *   inv = gamma / sqrt(var + epsilon); y = x * inv + (beta - mean * inv).
 * The statistics group is the shard, a fixed "ghost batch" of shard_size
 * samples whatever np is: the deterministic counterpart of Keras' per-replica
 * statistics (synchronized=False). Each training shard contributes (mean, var)
 * as batch statistics; once per step their sums over the batch's K shards
 * (the canonical tree) update
 *   moving_mean     = moving_mean * momentum + (sum of means / K) * (1 - momentum)
 * (in float32, momentum and 1 - momentum each rounded once from double)
 *   moving_variance = moving_variance * momentum + (sum of vars / K) * (1 - momentum)
 * the unweighted mean over shards, as Keras averages the moving statistics of
 * its replicas. Backward (training): with xhat = (x - mean) / sqrt(var + eps),
 *   dbeta = sum(dy), dgamma = sum(dy * xhat) (doubles, row order),
 *   dx = gamma / sqrt(var + eps) * (dy - dbeta / N - xhat * dgamma / N). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "reprodist/layer.h"
#include "../simd.h"

typedef struct {
  int64_t c, hw;   /* channels; positions per sample */
  double momentum, epsilon;
  int center, scale;
  int beta, mm;    /* tensor indices: beta (-1 without center), moving_mean (moving_variance = mm + 1) */
} batch_norm;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  batch_norm *p = self;
  int64_t axis = -1;
  int bad = rd->get_int(b, "axis", -1, -4, 3, &axis) < 0;
  bad |= rd->get_float(b, "momentum", 0.99, 0.0, 1.0, 0, &p->momentum) < 0;
  bad |= rd->get_float(b, "epsilon", 0.001, 0.0, 3.4e38, RD_LO_OPEN, &p->epsilon) < 0;
  bad |= rd->get_bool(b, "center", 1, &p->center) < 0;
  bad |= rd->get_bool(b, "scale", 1, &p->scale) < 0;
  p->c = in->dim[in->ndim - 1];
  p->hw = rd_shape_numel(in) / p->c;
  const rd_shape v = {1, {p->c}};
  int t = 0;
  if (p->scale)
    bad |= (t = rd->tensor(b, "gamma", &v, "gamma_", "ones", 1)) < 0;
  else
    rd->not_applicable(b, "gamma_*", "is set but scale = false");
  p->beta = -1;
  if (p->center)
    bad |= (p->beta = rd->tensor(b, "beta", &v, "beta_", "zeros", 1)) < 0;
  else
    rd->not_applicable(b, "beta_*", "is set but center = false");
  bad |= (p->mm = rd->tensor(b, "moving_mean", &v, "moving_mean_", "zeros", 0)) < 0;
  bad |= rd->tensor(b, "moving_variance", &v, "moving_variance_", "ones", 0) < 0;
  if (bad) return 1;
  if (axis != -1 && axis != in->ndim - 1)
    return rd->fail(b, "axis", "[batch_normalization] normalizes the last (channels) axis only: axis = -1");
  *out = *in;
  return 0;
}

/* Per shard: the channel means, then the variances. */
static size_t stats_size(const void *self, const rd_shape *in, const rd_shape *out) {
  return (size_t)(2 * ((const batch_norm *)self)->c);
}

/* Two doubles per channel for the running sums (4c floats, first, so that
 * they stay 8-byte aligned), then mean, var and 1 / sqrt(var + eps) per
 * channel, then the forward pass's two coefficients (scale, shift), which
 * backward reads again to recompute a fused relu's mask, then backward's
 * three (k, dbeta / N, dgamma / N): 12c floats.
 * The sums run row-major over (position, channel), so every channel still
 * adds its values in row order, one after the other: the same sums as a
 * channel-at-a-time loop, with the shard read in memory order (once per
 * block of channels below). */
static size_t workspace(const void *self, const rd_shape *in, const rd_shape *out, int64_t rows) {
  return (size_t)(12 * ((const batch_norm *)self)->c);
}

/* 8 channels as one value (GCC's generic vectors; a clone without
 * 512-bit vectors splits them): each lane is one channel, rounded on its
 * own as written. */
typedef float bn_v8f __attribute__((vector_size(32)));
typedef int32_t bn_v8i __attribute__((vector_size(32)));
typedef double bn_v8d __attribute__((vector_size(64)));

#define BN_AI static inline __attribute__((always_inline))

/* An unaligned load of 8 floats, and its 8 doubles. (Macros: a function
 * returning a vector would warn of the ABI in the baseline clone.) */
#define BN_LOAD(v, p) memcpy(&(v), (p), sizeof(bn_v8f))
#define BN_WIDE(v) __builtin_convertvector((v), bn_v8d)

/* The three sums below over channels [k0, k0 + 8 nv), nv <= 8, with their
 * chains in registers over all the rows (the loops over v unrolled, 16
 * vectors of 8 doubles at most: AVX-512's 32 registers hold them). Written
 * as the loops after them (a channel count known only at run time), each
 * sum is stored and reloaded at every row: a store-to-load latency on its
 * chain, 12544 times for a shard of 16 at 28x28. Each lane adds its
 * channel's values in row order, as those loops do: the same operations,
 * the same bits.
 * Training statistics, first pass: s = sum of x. */
BN_AI void bn_sum_cols(const float *restrict x, int64_t N, int64_t C, int64_t k0, int nv, double *restrict s) {
  bn_v8d a[8];
  _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) a[v] = (bn_v8d){0};
  for (int64_t r = 0; r < N; r++)
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) {
      bn_v8f xv;
      BN_LOAD(xv, x + r * C + k0 + 8 * v);
      a[v] += BN_WIDE(xv);
    }
  memcpy(s + k0, a, sizeof(bn_v8d) * (size_t)nv);
}

/* Second pass: q = sum of (x - mean)^2, in double. */
BN_AI void bn_sqdev_cols(const float *restrict x, int64_t N, int64_t C, int64_t k0, int nv,
                         const float *restrict mean, double *restrict q) {
  bn_v8d a[8], m[8];
  _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) {
    bn_v8f mv;
    BN_LOAD(mv, mean + k0 + 8 * v);
    a[v] = (bn_v8d){0}, m[v] = BN_WIDE(mv);
  }
  for (int64_t r = 0; r < N; r++)
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) {
      bn_v8f xv;
      BN_LOAD(xv, x + r * C + k0 + 8 * v);
      const bn_v8d d = BN_WIDE(xv) - m[v];
      a[v] += d * d;
    }
  memcpy(q + k0, a, sizeof(bn_v8d) * (size_t)nv);
}

/* Backward's sums: sb = sum of g, sg = sum of g * xhat, g being dy, or with
 * relu dy where x * inv + shift > 0 and +0 elsewhere (relu_mask). */
BN_AI void bn_dsum_cols(const float *restrict x, const float *restrict dy, int64_t N, int64_t C, int64_t k0, int nv,
                        int relu, const float *ws, double *restrict sb, double *restrict sg) {
  const float *mean = ws + 4 * C + k0, *rstd = ws + 6 * C + k0, *inv = ws + 7 * C + k0, *shift = ws + 8 * C + k0;
  bn_v8d b[8], g2[8];
  _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) b[v] = (bn_v8d){0}, g2[v] = (bn_v8d){0};
  const bn_v8f zero = {0};
  for (int64_t r = 0; r < N; r++)
    _Pragma("GCC unroll 8") for (int v = 0; v < nv; v++) {
      bn_v8f xv, g, mv, rv;
      BN_LOAD(xv, x + r * C + k0 + 8 * v);
      BN_LOAD(g, dy + r * C + k0 + 8 * v);
      if (relu) {
        bn_v8f iv, sv;
        BN_LOAD(iv, inv + 8 * v);
        BN_LOAD(sv, shift + 8 * v);
        g = (bn_v8f)((bn_v8i)g & (xv * iv + sv > zero));
      }
      BN_LOAD(mv, mean + 8 * v);
      BN_LOAD(rv, rstd + 8 * v);
      const bn_v8f xhat = (xv - mv) * rv;
      const bn_v8d gd = BN_WIDE(g);
      b[v] += gd;
      g2[v] += gd * BN_WIDE(xhat);
    }
  memcpy(sb + k0, b, sizeof(bn_v8d) * (size_t)nv);
  memcpy(sg + k0, g2, sizeof(bn_v8d) * (size_t)nv);
}

/* The channels [0, k0) that bn_*_cols take, in blocks of 64, 32, 16 and 8,
 * for C <= 64 (a convolution's filters), where the avx512f clone runs: on
 * AVX2's 16 registers of 4 doubles, or the baseline's 16 of 2, a block's
 * sums do not fit and GCC keeps them in memory, slower than the loops (a
 * reviewer's harness: 2x at 16 channels on the AVX2 clone). The rest, and
 * all of a wider C (whose many vectors per row keep each sum's store and
 * reload apart), go through the loops with C a variable. */
#define BN_BLOCKS(C, k0, CALL)                                             \
  do {                                                                     \
    if ((C) <= 64 && rd_simd_avx512()) {                                   \
      if ((k0) + 64 <= (C)) CALL(8), (k0) += 64;                           \
      if ((k0) + 32 <= (C)) CALL(4), (k0) += 32;                           \
      if ((k0) + 16 <= (C)) CALL(2), (k0) += 16;                           \
      if ((k0) + 8 <= (C)) CALL(1), (k0) += 8;                             \
    }                                                                      \
  } while (0)

RD_SIMD static void forward(const rd_io *io, const float *restrict x, float *restrict y) {
  const batch_norm *p = io->self;
  const int64_t C = p->c, N = io->rows * p->hw;
  double *restrict s = (double *)io->ws, *restrict q = s + C;
  float *restrict mean = io->ws + 4 * C, *restrict var = mean + C, *restrict rstd = mean + 2 * C;
  if (io->training) {
    int64_t k0 = 0;
#define BN_SUM(nv) bn_sum_cols(x, N, C, k0, nv, s)
    BN_BLOCKS(C, k0, BN_SUM);
#undef BN_SUM
    for (int64_t c = k0; c < C; c++) s[c] = 0.0;
    for (int64_t r = 0; r < N; r++) {
      const float *restrict xr = x + r * C;
      for (int64_t c = k0; c < C; c++) s[c] += (double)xr[c];
    }
    for (int64_t c = 0; c < C; c++) mean[c] = (float)(s[c] / (double)N);
    k0 = 0;
#define BN_SQDEV(nv) bn_sqdev_cols(x, N, C, k0, nv, mean, q)
    BN_BLOCKS(C, k0, BN_SQDEV);
#undef BN_SQDEV
    for (int64_t c = k0; c < C; c++) q[c] = 0.0;
    for (int64_t r = 0; r < N; r++) {
      const float *restrict xr = x + r * C;
      for (int64_t c = k0; c < C; c++) {
        const double d = (double)xr[c] - (double)mean[c];
        q[c] += d * d;
      }
    }
    for (int64_t c = 0; c < C; c++) var[c] = (float)(q[c] / (double)N);
    for (int64_t c = 0; c < C; c++) io->stats[c] = mean[c], io->stats[C + c] = var[c];
  } else {
    for (int64_t c = 0; c < C; c++) mean[c] = io->w[p->mm][c], var[c] = io->w[p->mm + 1][c];
  }
  const float eps = (float)p->epsilon;
  for (int64_t c = 0; c < C; c++) rstd[c] = 1.0f / sqrtf(var[c] + eps);
  float *restrict inv = io->ws + 7 * C, *restrict shift = inv + C;
  for (int64_t c = 0; c < C; c++) {
    inv[c] = p->scale ? rstd[c] * io->w[0][c] : rstd[c];
    shift[c] = (p->center ? io->w[p->beta][c] : 0.0f) - mean[c] * inv[c];
  }
  if (io->relu) /* the relu after it (layer.h, RD_LAYER_TAKES_RELU), the same operations */
    for (int64_t r = 0; r < N; r++) {
      const float *restrict xr = x + r * C;
      float *restrict yr = y + r * C;
      for (int64_t c = 0; c < C; c++) {
        const float v = xr[c] * inv[c] + shift[c];
        yr[c] = v > 0.0f ? v : 0.0f;
      }
    }
  else
    for (int64_t r = 0; r < N; r++) {
      const float *restrict xr = x + r * C;
      float *restrict yr = y + r * C;
      for (int64_t c = 0; c < C; c++) yr[c] = xr[c] * inv[c] + shift[c];
    }
}

/* v > 0 ? d : +0.0f, as a bit mask (so that GCC vectorizes the loops it is in). */
static inline float relu_mask(float v, float d) {
  uint32_t u;
  memcpy(&u, &d, sizeof u);
  u &= -(uint32_t)(v > 0.0f);
  memcpy(&d, &u, sizeof d);
  return d;
}

RD_SIMD static void backward(const rd_io *io, const float *restrict x, const float *restrict y, float *restrict dy,
                             float *restrict dx) {
  const batch_norm *p = io->self;
  const int64_t C = p->c, N = io->rows * p->hw;
  double *restrict sb = (double *)io->ws, *restrict sg = sb + C;
  const float *restrict mean = io->ws + 4 * C, *restrict rstd = mean + 2 * C;
  /* With the relu taken (io->relu), dy's element counts where the relu's
   * output was > 0, that is where x * scale + shift > 0 with forward's own
   * coefficients, still in the workspace: the same operations on the same
   * values, so the mask of y > 0 (and of a separate pass), without reading y
   * or writing the masked dy back. */
  const float *restrict inv = io->ws + 7 * C, *restrict shift = inv + C;
  (void)y;
  int64_t k0 = 0;
  if (io->relu) {
#define BN_DSUM(nv) bn_dsum_cols(x, dy, N, C, k0, nv, 1, io->ws, sb, sg)
    BN_BLOCKS(C, k0, BN_DSUM);
#undef BN_DSUM
  } else {
#define BN_DSUM(nv) bn_dsum_cols(x, dy, N, C, k0, nv, 0, io->ws, sb, sg)
    BN_BLOCKS(C, k0, BN_DSUM);
#undef BN_DSUM
  }
  for (int64_t c = k0; c < C; c++) sb[c] = 0.0, sg[c] = 0.0;
  if (io->relu)
    for (int64_t r = 0; r < N; r++) {
      const float *restrict xr = x + r * C, *restrict gr = dy + r * C;
      for (int64_t c = k0; c < C; c++) {
        const float g = relu_mask(xr[c] * inv[c] + shift[c], gr[c]);
        const float xhat = (xr[c] - mean[c]) * rstd[c];
        sb[c] += (double)g;
        sg[c] += (double)g * (double)xhat;
      }
    }
  else
    for (int64_t r = 0; r < N; r++) {
      const float *restrict xr = x + r * C, *restrict gr = dy + r * C;
      for (int64_t c = k0; c < C; c++) {
        const float xhat = (xr[c] - mean[c]) * rstd[c];
        sb[c] += (double)gr[c];
        sg[c] += (double)gr[c] * (double)xhat;
      }
    }
  float *restrict k = io->ws + 9 * C, *restrict mb = k + C, *restrict mg = k + 2 * C;
  for (int64_t c = 0; c < C; c++) {
    const float dbeta = (float)sb[c], dgamma = (float)sg[c];
    if (p->scale) io->g[0][c] = dgamma;
    if (p->center) io->g[p->beta][c] = dbeta;
    const float gamma = p->scale ? io->w[0][c] : 1.0f;
    k[c] = gamma * rstd[c];
    mb[c] = dbeta / (float)N;
    mg[c] = dgamma / (float)N;
  }
  if (!dx) return;
  if (io->relu)
    for (int64_t r = 0; r < N; r++) {
      const float *restrict xr = x + r * C, *restrict gr = dy + r * C;
      float *restrict dr = dx + r * C;
      for (int64_t c = 0; c < C; c++) {
        const float g = relu_mask(xr[c] * inv[c] + shift[c], gr[c]);
        const float xhat = (xr[c] - mean[c]) * rstd[c];
        dr[c] = k[c] * (g - mb[c] - xhat * mg[c]);
      }
    }
  else
    for (int64_t r = 0; r < N; r++) {
      const float *restrict xr = x + r * C, *restrict gr = dy + r * C;
      float *restrict dr = dx + r * C;
      for (int64_t c = 0; c < C; c++) {
        const float xhat = (xr[c] - mean[c]) * rstd[c];
        dr[c] = k[c] * (gr[c] - mb[c] - xhat * mg[c]);
      }
    }
}

static void stats_apply(const rd_api *rd, const void *self, const float *sum, int64_t shards, int64_t samples,
                        float *const *w) {
  const batch_norm *p = self;
  const float m = (float)p->momentum, m1 = (float)(1.0 - p->momentum), k = (float)shards;
  float *mm = w[p->mm], *mv = w[p->mm + 1];
  for (int64_t c = 0; c < p->c; c++) {
    mm[c] = mm[c] * m + (sum[c] / k) * m1;
    mv[c] = mv[c] * m + (sum[p->c + c] / k) * m1;
  }
}

const rd_layer_type rd_layer_batch_normalization = {
    .name = "batch_normalization",
    .flags = RD_LAYER_NO_Y | RD_LAYER_TAKES_RELU,
    .self_size = sizeof(batch_norm),
    .build = build,
    .workspace = workspace,
    .forward = forward,
    .backward = backward,
    .stats_size = stats_size,
    .stats_apply = stats_apply,
};
