/* optimizer = lion: Keras' Lion (keras/src/optimizers/lion.py). Defaults:
 * learning_rate 0.001, beta_1 0.9, beta_2 0.99 (beta_1 in (0, 1]).
 * w -= lr sign(beta_1 m + (1 - beta_1) g); m = beta_2 m + (1 - beta_2) g. */
#include "../optim.h"
#include "../simd.h"

enum { B1, B2 };
static const char *const keys[] = {"beta_1", "beta_2", NULL};

static void read(rd_cfg *c, int sec, double *p) {
  rd_cfg_float(c, sec, "beta_1", 0.9, 0, 1, RD_CFG_LO_OPEN, &p[B1]);
  rd_cfg_float(c, sec, "beta_2", 0.99, 0, 1, 0, &p[B2]);
}

static int slots(const double *p) {
  (void)p;
  return 1;
}

static const char *slot_name(const double *p, int k) {
  (void)p, (void)k;
  return "momentums";
}

RD_SIMD_AVX2 static void update(const rd_optim_args *a, float *restrict w, const float *restrict g,
                                float *restrict state, size_t n, size_t stride) {
  (void)stride;
  const float lr = (float)a->lr, b1 = (float)a->p[B1], c1 = (float)(1.0 - a->p[B1]);
  const float b2 = (float)a->p[B2], c2 = (float)(1.0 - a->p[B2]);
  float *restrict m = state;
  for (size_t i = 0; i < n; i++) {
    const float d = m[i] * b1 + g[i] * c1;
    w[i] -= lr * (float)((d > 0.0f) - (d < 0.0f));
    m[i] = m[i] * b2 + g[i] * c2;
  }
}

const rd_optim_type rd_optim_lion = {"lion", "Lion", 0.001, 0.0, keys, read, slots, slot_name, NULL, NULL, update};
