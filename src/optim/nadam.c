/* optimizer = nadam: Keras' Nadam (keras/src/optimizers/nadam.py). Defaults:
 * learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7. With t =
 * iteration + 1 and u_s = beta_1 (1 - 0.5 * 0.96^s): the carried product
 * P_t = u_1 ... u_t (Keras' _u_product, advanced before the update), P' = P_t
 * u_(t+1); m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
 * m_hat = u_(t+1) m / (1 - P') + (1 - u_t) g / (1 - P_t);
 * v_hat = v / (1 - beta_2^t); w -= m_hat lr / (sqrt(v_hat) + eps). */
#include <math.h>

#include "../optim.h"
#include "../simd.h"

enum { B1, B2, EPS }; /* Adam's arguments, names and defaults */
extern const rd_optim_type rd_optim_adam;
static const char *const keys[] = {"beta_1", "beta_2", "epsilon", NULL};

static void read(rd_cfg *c, int sec, double *p) { rd_optim_adam.read(c, sec, p); }
static int slots(const double *p) { return rd_optim_adam.slots(p); }
static const char *slot_name(const double *p, int k) { return rd_optim_adam.slot_name(p, k); }

static double u(const double *p, uint64_t s) { return p[B1] * (1.0 - 0.5 * rd_optim_powi(0.96, s)); }

static double advance(const double *p, uint64_t iteration, double prev) { return prev * u(p, iteration + 1); }

RD_SIMD_AVX2 static void update(const rd_optim_args *a, float *restrict w, const float *restrict g,
                                float *restrict state, size_t n, size_t stride) {
  const double *p = a->p;
  const uint64_t t = a->iteration + 1;
  const double ut = u(p, t), ut1 = u(p, t + 1), pt = a->scalar, pt1 = pt * ut1;
  const float cm = (float)(ut1 / (1.0 - pt1)), cg = (float)((1.0 - ut) / (1.0 - pt));
  const float vd = (float)(1.0 - rd_optim_powi(p[B2], t)), lr = (float)a->lr, eps = (float)p[EPS];
  const float c1 = (float)(1.0 - p[B1]), c2 = (float)(1.0 - p[B2]);
  float *restrict m = state, *restrict v = state + stride;
  for (size_t i = 0; i < n; i++) {
    m[i] += (g[i] - m[i]) * c1;
    v[i] += (g[i] * g[i] - v[i]) * c2;
    const float mh = cm * m[i] + cg * g[i], vh = v[i] / vd;
    w[i] -= mh * lr / (sqrtf(vh) + eps);
  }
}

const rd_optim_type rd_optim_nadam = {"nadam", "Nadam", 0.001, 0.0, keys, read, slots, slot_name, NULL, advance, update};
