/* optimizer = adagrad: Keras' Adagrad (keras/src/optimizers/adagrad.py).
 * Defaults: learning_rate 0.001, initial_accumulator_value 0.1, epsilon 1e-7.
 * acc += g^2 (acc starts at initial_accumulator_value); w -= lr g / sqrt(acc + eps). */
#include <math.h>

#include "../optim.h"
#include "../simd.h"

enum { INIT, EPS };
static const char *const keys[] = {"initial_accumulator_value", "epsilon", NULL};

static void read(rd_cfg *c, int sec, double *p) {
  rd_cfg_float(c, sec, "initial_accumulator_value", 0.1, 0, RD_CFG_F32_MAX, 0, &p[INIT]);
  rd_cfg_float(c, sec, "epsilon", 1e-7, 0, RD_CFG_F32_MAX, RD_CFG_LO_OPEN, &p[EPS]);
}

static int slots(const double *p) {
  (void)p;
  return 1;
}

static const char *slot_name(const double *p, int k) {
  (void)p, (void)k;
  return "accumulators";
}

static float initial(const double *p, int k) {
  (void)k;
  return (float)p[INIT];
}

RD_SIMD_AVX2 static void update(const rd_optim_args *a, float *restrict w, const float *restrict g,
                                float *restrict state, size_t n, size_t stride) {
  (void)stride;
  const float lr = (float)a->lr, eps = (float)a->p[EPS];
  float *restrict acc = state;
  for (size_t i = 0; i < n; i++) {
    acc[i] += g[i] * g[i];
    w[i] -= lr * g[i] / sqrtf(acc[i] + eps);
  }
}

const rd_optim_type rd_optim_adagrad = {"adagrad", "Adagrad", 0.001, 0.0, keys, read, slots, slot_name, initial, NULL, update};
