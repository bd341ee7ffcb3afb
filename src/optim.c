/* optim: Keras SGD and Adam (see optim.h). */
#include "optim.h"

#include <math.h>

void rd_optim_defaults(rd_opt_kind k, rd_optim_spec *s) {
  s->kind = k;
  s->lr = k == RD_OPT_ADAM ? 0.001 : 0.01;
  s->momentum = 0.0;
  s->nesterov = 0;
  s->beta_1 = 0.9;
  s->beta_2 = 0.999;
  s->epsilon = 1e-7;
}

int rd_optim_slots(const rd_optim_spec *s) {
  if (s->kind == RD_OPT_ADAM) return 2;
  return s->momentum != 0.0 ? 1 : 0;
}

double rd_optim_powi(double x, uint64_t n) {
  double r = 1.0;
  while (n) {
    if (n & 1) r *= x;
    x *= x;
    n >>= 1;
  }
  return r;
}

/* The loops are elementwise, so vectorizing them changes no bits: restrict (the
 * arrays never overlap) and -fno-math-errno (sqrtf needs no libm call) let the
 * compiler do it. */
void rd_optim_step(const rd_optim_spec *s, uint64_t iteration, float *restrict w, const float *restrict g,
                   float *restrict state, size_t n, size_t stride) {
  if (s->kind == RD_OPT_ADAM) {
    /* Keras: t = iterations + 1; alpha = lr sqrt(1 - b2^t) / (1 - b1^t);
     * m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); w -= m alpha / (sqrt(v) + eps) */
    uint64_t t = iteration + 1;
    const float alpha =
        (float)(s->lr * sqrt(1.0 - rd_optim_powi(s->beta_2, t)) / (1.0 - rd_optim_powi(s->beta_1, t)));
    const float c1 = (float)(1.0 - s->beta_1), c2 = (float)(1.0 - s->beta_2), eps = (float)s->epsilon;
    float *restrict m = state, *restrict v = state + stride;
    for (size_t i = 0; i < n; i++) {
      m[i] += (g[i] - m[i]) * c1;
      v[i] += (g[i] * g[i] - v[i]) * c2;
      w[i] -= m[i] * alpha / (sqrtf(v[i]) + eps);
    }
    return;
  }
  const float lr = (float)s->lr;
  if (s->momentum == 0.0) {
    for (size_t i = 0; i < n; i++) w[i] -= lr * g[i];
    return;
  }
  const float mu = (float)s->momentum;
  float *restrict m = state;
  for (size_t i = 0; i < n; i++) {
    m[i] = mu * m[i] - lr * g[i];
    w[i] += s->nesterov ? mu * m[i] - lr * g[i] : m[i];
  }
}
