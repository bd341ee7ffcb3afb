/* optimizer = rmsprop: Keras' RMSprop (keras/src/optimizers/rmsprop.py).
 * Defaults: learning_rate 0.001, rho 0.9, momentum 0, epsilon 1e-7, centered
 * false. v = rho v + (1 - rho) g^2; centered: a = rho a + (1 - rho) g and the
 * denominator is v - a^2 + eps, else v + eps; inc = lr g / sqrt(denominator);
 * with momentum: m = momentum m + inc, w -= m; else w -= inc.
 * Slots: velocity, then momentum (if momentum > 0), then the average gradient
 * (if centered). */
#include <math.h>

#include "../optim.h"
#include "../simd.h"
#include "stuck.h"

enum { RHO, MOM, EPS, CENT };
static const char *const keys[] = {"rho", "momentum", "epsilon", "centered", NULL};

static void read(rd_cfg *c, int sec, double *p) {
  int ce = 0;
  rd_cfg_float(c, sec, "rho", 0.9, 0, 1, 0, &p[RHO]);
  rd_cfg_float(c, sec, "momentum", 0.0, 0, 1, 0, &p[MOM]);
  rd_cfg_float(c, sec, "epsilon", 1e-7, 0, RD_CFG_F32_MAX, RD_CFG_LO_OPEN, &p[EPS]);
  rd_cfg_bool(c, sec, "centered", 0, 0, &ce);
  p[CENT] = ce;
}

static int slots(const double *p) { return 1 + (p[MOM] > 0.0) + (p[CENT] != 0.0); }
static const char *slot_name(const double *p, int k) {
  return k == 0 ? "velocities" : k == 1 && p[MOM] > 0.0 ? "momentums" : "average_gradients";
}

/* The rule as written, over n elements. */
static inline __attribute__((always_inline)) void rms_plain(float *restrict w, const float *restrict g,
                                                            float *restrict v, float *restrict m, float *restrict avg,
                                                            size_t n, float rho, float omr, float eps, float lr,
                                                            float mu, int has_m, int centered) {
  for (size_t i = 0; i < n; i++) {
    v[i] = rho * v[i] + omr * (g[i] * g[i]);
    float den;
    if (centered) {
      avg[i] = rho * avg[i] + omr * g[i];
      den = v[i] - avg[i] * avg[i] + eps;
    } else {
      den = v[i] + eps;
    }
    const float inc = lr * g[i] / sqrtf(den);
    if (has_m) {
      m[i] = mu * m[i] + inc;
      w[i] -= m[i];
    } else {
      w[i] -= inc;
    }
  }
}

/* Velocities stuck at a denormal (stuck.h): with g = +-0, v = rho v + 0
 * stays v once rho v rounds back to v: k units of 2^-149 with k (1 - rho)
 * < 1/2 (k <= 4 at the default rho; 3.7% of the Fashion-MNIST MLP's
 * velocities after 4 epochs, which ran 7-11% slower). Not centered, inc = lr
 * g / sqrt(v + eps) is then lr g's signed zero for any v + eps > 0, as from
 * v = +0 while eps > 0 (an epsilon below 2^-150 rounds to a float 0, and
 * 0 / sqrt(0) is NaN: then no lane is stuck): the stuck lanes (v > 0) run
 * from +0 and store v as it was; their inc and momentum are the formula's. */
static inline __attribute__((always_inline)) void rms_stuck(float *restrict w, const float *restrict g,
                                                            float *restrict v, float *restrict m, size_t n, float rho,
                                                            float omr, float eps, float lr, float mu, int has_m,
                                                            uint32_t kmax) {
  for (size_t i = 0; i < n; i++) {
    const uint32_t vb = rd_stuck_bits(v[i]), gb = rd_stuck_bits(g[i]);
    const uint32_t st = (0u - (uint32_t)(vb - 1u < kmax)) & (0u - (uint32_t)((gb & 0x7fffffffu) == 0)); /* v > 0 */
    const float vn = rho * rd_stuck_float(vb & ~st) + omr * (g[i] * g[i]);
    v[i] = rd_stuck_float((vb & st) | (rd_stuck_bits(vn) & ~st));
    const float inc = lr * g[i] / sqrtf(vn + eps);
    if (has_m) {
      m[i] = mu * m[i] + inc;
      w[i] -= m[i];
    } else {
      w[i] -= inc;
    }
  }
}

RD_SIMD_AVX2 static void update(const rd_optim_args *a, float *restrict w, const float *restrict g,
                                float *restrict state, size_t n, size_t stride) {
  const double *p = a->p;
  const float rho = (float)p[RHO], omr = (float)(1.0 - p[RHO]), eps = (float)p[EPS], lr = (float)a->lr;
  const float mu = (float)p[MOM];
  const int has_m = p[MOM] > 0.0, centered = p[CENT] != 0.0;
  /* A slot the options leave out points at v (never read or written), so
   * that m + i and avg + i below stay inside the state. */
  float *restrict v = state, *restrict m = has_m ? state + stride : state;
  float *restrict avg = centered ? state + stride * (size_t)(1 + has_m) : state;
  const uint32_t kmax = centered || !(eps > 0.0f) ? 0 : rd_stuck_kmax(1.0 - (double)rho, 1);
  for (size_t i = 0; i < n; i += RD_STUCK_BLOCK) {
    const size_t nb = n - i < RD_STUCK_BLOCK ? n - i : RD_STUCK_BLOCK;
    if (kmax && rd_stuck_any(v + i, nb))
      rms_stuck(w + i, g + i, v + i, m + i, nb, rho, omr, eps, lr, mu, has_m, kmax);
    else
      rms_plain(w + i, g + i, v + i, m + i, avg + i, nb, rho, omr, eps, lr, mu, has_m, centered);
  }
}

const rd_optim_type rd_optim_rmsprop = {"rmsprop", "RMSprop", 0.001, 0.0, keys, read, slots, slot_name, NULL, NULL, update};
