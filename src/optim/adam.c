/* optimizer = adam: Keras' Adam (keras/src/optimizers/adam.py). Defaults:
 * learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7. With t =
 * iteration + 1: alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t);
 * m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2); w -= m alpha / (sqrt(v) + eps).
 * (amsgrad is not supported: the key is refused as unknown.) */
#include <math.h>

#include "../optim.h"
#include "../simd.h"

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

/* The loops are elementwise, so vectorizing them changes no bits: restrict (the
 * arrays never overlap) and -fno-math-errno (sqrtf needs no libm call) let the
 * compiler do it, and RD_SIMD_AVX2 compiles an AVX2 copy too (simd.h). */
RD_SIMD_AVX2 static void update(const rd_optim_args *a, float *restrict w, const float *restrict g,
                                float *restrict state, size_t n, size_t stride) {
  const double *p = a->p;
  const uint64_t t = a->iteration + 1;
  const float alpha = (float)(a->lr * sqrt(1.0 - rd_optim_powi(p[B2], t)) / (1.0 - rd_optim_powi(p[B1], t)));
  const float c1 = (float)(1.0 - p[B1]), c2 = (float)(1.0 - p[B2]), eps = (float)p[EPS];
  float *restrict m = state, *restrict v = state + stride;
  for (size_t i = 0; i < n; i++) {
    m[i] += (g[i] - m[i]) * c1;
    v[i] += (g[i] * g[i] - v[i]) * c2;
    w[i] -= m[i] * alpha / (sqrtf(v[i]) + eps);
  }
}

const rd_optim_type rd_optim_adam = {"adam", "Adam", 0.001, 0.0, keys, read, slots, slot_name, NULL, NULL, update};
