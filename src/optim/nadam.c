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
#include "stuck.h"

enum { B1, B2, EPS }; /* Adam's arguments, names and defaults */
extern const rd_optim_type rd_optim_adam;
static const char *const keys[] = {"beta_1", "beta_2", "epsilon", NULL};

static void read(rd_cfg *c, int sec, double *p) { rd_optim_adam.read(c, sec, p); }
static int slots(const double *p) { return rd_optim_adam.slots(p); }
static const char *slot_name(const double *p, int k) { return rd_optim_adam.slot_name(p, k); }

static double u(const double *p, uint64_t s) { return p[B1] * (1.0 - 0.5 * rd_optim_powi(0.96, s)); }

static double advance(const double *p, uint64_t iteration, double prev) { return prev * u(p, iteration + 1); }

/* The rule as written, over n elements. */
static inline __attribute__((always_inline)) void nadam_plain(float *restrict w, const float *restrict g,
                                                              float *restrict m, float *restrict v, size_t n, float c1,
                                                              float c2, float cm, float cg, float vd, float lr,
                                                              float eps) {
  for (size_t i = 0; i < n; i++) {
    m[i] += (g[i] - m[i]) * c1;
    v[i] += (g[i] * g[i] - v[i]) * c2;
    const float mh = cm * m[i] + cg * g[i], vh = v[i] / vd;
    w[i] -= mh * lr / (sqrtf(vh) + eps);
  }
}

/* First moments stuck at a denormal (stuck.h), as Adam's: g = +-0 and m of
 * k units of 2^-149 with k c1 <= 1/2 stays m (3.5% of the Fashion-MNIST
 * MLP's after 4 epochs, which ran 13-15% slower). Then cm m rounds to j units,
 * j = rint(k |cm|), and g's term is a signed zero, so m_hat is cm m when j
 * >= 1, else the sum of two signed zeros; with (k |cm| + 1) |lr| <= 1/2,
 * m_hat lr rounds to a zero whose sign m_hat's gives. The stuck lanes run
 * from m's signed zero (no denormal operand): m_hat is cm times it (j >= 1:
 * k > kj) or that plus g's term, as the formula's is, and m is stored as it
 * was. */
static inline __attribute__((always_inline)) void nadam_stuck(float *restrict w, const float *restrict g,
                                                              float *restrict m, float *restrict v, size_t n, float c1,
                                                              float c2, float cm, float cg, float vd, float lr,
                                                              float eps, uint32_t kmax, uint32_t kj) {
  for (size_t i = 0; i < n; i++) {
    const uint32_t mb = rd_stuck_bits(m[i]), gb = rd_stuck_bits(g[i]);
    const uint32_t st = rd_stuck_mask(mb, kmax) & (0u - (uint32_t)((gb & 0x7fffffffu) == 0));
    const uint32_t jpos = st & (0u - (uint32_t)((mb & 0x7fffffffu) > kj));
    const float mz = rd_stuck_float((mb & ~st) | (mb & 0x80000000u & st)); /* m's signed zero in a stuck lane */
    const uint32_t mn = rd_stuck_bits(mz + (g[i] - mz) * c1);
    v[i] += (g[i] * g[i] - v[i]) * c2;
    m[i] = rd_stuck_float((mb & st) | (mn & ~st));
    const float p1 = cm * rd_stuck_float((rd_stuck_bits(mz) & st) | (mn & ~st)); /* cm times the new m */
    const float mh = rd_stuck_float((rd_stuck_bits(p1) & jpos) | (rd_stuck_bits(p1 + cg * g[i]) & ~jpos));
    w[i] -= mh * lr / (sqrtf(v[i] / vd) + eps);
  }
}

/* kmax: the largest k with k c1 <= 1/2 and (k |cm| + 1) |lr| <= 1/2 (so
 * that rint(k |cm|) |lr| < 1/2, with room for the double's rounding); kj:
 * the largest k with k |cm| <= 1/2 (j = 0). Training's cm is below 1 (u <
 * beta_1 < 1, P' < 1/2), so cm m stays below 2^24 units, where floats are
 * the units' grid; kmax is 0 where |cm| >= 2, cg or lr is not finite, or
 * |lr| >= 1/2 (the update called with another carried product). */
static void stuck_bounds(float c1, float cm, float cg, float lr, uint32_t *kmax, uint32_t *kj) {
  const double c = fabs((double)cm), l = fabs((double)lr);
  *kmax = *kj = 0;
  if (!(c < 2.0) || !(fabs((double)cg) < INFINITY) || !(l < INFINITY) || l >= 0.5) return;
  *kj = c == 0.0 ? 0x7fffffu : rd_stuck_kmax(c, 0);
  double k = l == 0.0 || c == 0.0 ? 0x7fffff : floor((0.5 / l - 1.0) / c);
  k = k > 0x7fffff ? 0x7fffff : k < 0 ? 0 : k;
  while (k > 0 && (k * c + 1.0) * l > 0.5) k--;
  const uint32_t kc = rd_stuck_kmax(c1, 0);
  *kmax = kc < (uint32_t)k ? kc : (uint32_t)k;
}

RD_SIMD_AVX2 static void update(const rd_optim_args *a, float *restrict w, const float *restrict g,
                                float *restrict state, size_t n, size_t stride) {
  const double *p = a->p;
  const uint64_t t = a->iteration + 1;
  const double ut = u(p, t), ut1 = u(p, t + 1), pt = a->scalar, pt1 = pt * ut1;
  const float cm = (float)(ut1 / (1.0 - pt1)), cg = (float)((1.0 - ut) / (1.0 - pt));
  const float vd = (float)(1.0 - rd_optim_powi(p[B2], t)), lr = (float)a->lr, eps = (float)p[EPS];
  const float c1 = (float)(1.0 - p[B1]), c2 = (float)(1.0 - p[B2]);
  uint32_t kmax, kj;
  stuck_bounds(c1, cm, cg, lr, &kmax, &kj);
  float *restrict m = state, *restrict v = state + stride;
  for (size_t i = 0; i < n; i += RD_STUCK_BLOCK) {
    const size_t nb = n - i < RD_STUCK_BLOCK ? n - i : RD_STUCK_BLOCK;
    if (kmax && rd_stuck_any(m + i, nb))
      nadam_stuck(w + i, g + i, m + i, v + i, nb, c1, c2, cm, cg, vd, lr, eps, kmax, kj);
    else
      nadam_plain(w + i, g + i, m + i, v + i, nb, c1, c2, cm, cg, vd, lr, eps);
  }
}

const rd_optim_type rd_optim_nadam = {"nadam", "Nadam", 0.001, 0.0, keys, read, slots, slot_name, NULL, advance, update};
