/* optimizer = adam: Keras' Adam (keras/src/optimizers/adam.py). Defaults:
 * learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7. With t =
 * iteration + 1: alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t);
 * m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2); w -= m alpha / (sqrt(v) + eps).
 * (amsgrad is not supported: the key is refused as unknown.) */
#include <math.h>

#include "../optim.h"
#include "../simd.h"
#include "stuck.h"

enum { B1, B2, EPS };
static const char *const keys[] = {"beta_1", "beta_2", "epsilon", NULL};

static void read(rd_cfg *c, int sec, double *p) {
  rd_cfg_float(c, sec, "beta_1", 0.9, 0, 1, RD_CFG_HI_OPEN, &p[B1]);
  rd_cfg_float(c, sec, "beta_2", 0.999, 0, 1, RD_CFG_HI_OPEN, &p[B2]);
  rd_cfg_float(c, sec, "epsilon", 1e-7, 0, RD_CFG_F32_MAX, RD_CFG_LO_OPEN, &p[EPS]);
}

static int slots(const double *p) {
  (void)p;
  return 2;
}

static const char *slot_name(const double *p, int k) {
  (void)p;
  return k == 0 ? "momentums" : "velocities";
}

/* First moments stuck at a denormal (stuck.h). With g = +-0, m stays m once
 * m (1 - beta_1) rounds to zero: m is then k units of 2^-149 with k c1 <=
 * 1/2 (k <= 4 at the default beta_1). Such moments are common: 8.8% of the
 * Fashion-MNIST MLP's after 4 epochs, 97% of its denormal ones, mostly the
 * weights of units relu keeps at 0 (Adam ran 2.3-3.6x slower on them). With
 * also k |alpha| <= 1/2 the formula's values are known: g - m = -m, times c1
 * rounds to a zero, so m stays m; and m alpha rounds to a zero, the one that
 * m's signed zero times alpha gives. The stuck loop computes those lanes
 * from m = +0, stores m as it was and goes on from its signed zero. kmax:
 * the largest such k (0 where alpha is infinite or NaN). */
static uint32_t stuck_kmax(float c1, float alpha) {
  const double a = fabs((double)alpha);
  const uint32_t kc = rd_stuck_kmax(c1, 0), ka = a == 0.0 ? 0x7fffffu : rd_stuck_kmax(a, 0);
  return kc < ka ? kc : ka;
}

/* The rule as written, over n elements. */
static inline __attribute__((always_inline)) void adam_plain(float *restrict w, const float *restrict g,
                                                             float *restrict m, float *restrict v, size_t n, float c1,
                                                             float c2, float alpha, float eps) {
  for (size_t i = 0; i < n; i++) {
    m[i] += (g[i] - m[i]) * c1;
    v[i] += (g[i] * g[i] - v[i]) * c2;
    w[i] -= m[i] * alpha / (sqrtf(v[i]) + eps);
  }
}

/* The same, with stuck moments taken around: st is all ones in their lanes. */
static inline __attribute__((always_inline)) void adam_stuck(float *restrict w, const float *restrict g,
                                                             float *restrict m, float *restrict v, size_t n, float c1,
                                                             float c2, float alpha, float eps, uint32_t kmax) {
  for (size_t i = 0; i < n; i++) {
    const uint32_t mb = rd_stuck_bits(m[i]), gb = rd_stuck_bits(g[i]);
    const uint32_t st = rd_stuck_mask(mb, kmax) & (0u - (uint32_t)((gb & 0x7fffffffu) == 0));
    const float mz = rd_stuck_float(mb & ~st); /* +0 in a stuck lane */
    const uint32_t mn = rd_stuck_bits(mz + (g[i] - mz) * c1);
    v[i] += (g[i] * g[i] - v[i]) * c2;
    m[i] = rd_stuck_float((mb & st) | (mn & ~st));
    w[i] -= rd_stuck_float((mb & 0x80000000u & st) | (mn & ~st)) * alpha / (sqrtf(v[i]) + eps);
  }
}

/* The loops are elementwise, so vectorizing them changes no bits: restrict (the
 * arrays never overlap) and -fno-math-errno (sqrtf needs no libm call) let the
 * compiler do it, and RD_SIMD_AVX2 compiles an AVX2 copy too (simd.h). Blocks
 * without a denormal first moment run the plain loop (the blocks split
 * nothing: each element is updated alone). */
RD_SIMD_AVX2 static void update(const rd_optim_args *a, float *restrict w, const float *restrict g,
                                float *restrict state, size_t n, size_t stride) {
  const double *p = a->p;
  const uint64_t t = a->iteration + 1;
  const float alpha = (float)(a->lr * sqrt(1.0 - rd_optim_powi(p[B2], t)) / (1.0 - rd_optim_powi(p[B1], t)));
  const float c1 = (float)(1.0 - p[B1]), c2 = (float)(1.0 - p[B2]), eps = (float)p[EPS];
  const uint32_t kmax = stuck_kmax(c1, alpha);
  float *restrict m = state, *restrict v = state + stride;
  for (size_t i = 0; i < n; i += RD_STUCK_BLOCK) {
    const size_t nb = n - i < RD_STUCK_BLOCK ? n - i : RD_STUCK_BLOCK;
    if (kmax && rd_stuck_any(m + i, nb))
      adam_stuck(w + i, g + i, m + i, v + i, nb, c1, c2, alpha, eps, kmax);
    else
      adam_plain(w + i, g + i, m + i, v + i, nb, c1, c2, alpha, eps);
  }
}

const rd_optim_type rd_optim_adam = {"adam", "Adam", 0.001, 0.0, keys, read, slots, slot_name, NULL, NULL, update};
