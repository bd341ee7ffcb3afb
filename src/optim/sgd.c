/* optimizer = sgd: Keras' SGD (keras/src/optimizers/sgd.py). Defaults:
 * learning_rate 0.01, momentum 0, nesterov false. With momentum:
 * m = momentum m - lr g; w += m, or w += momentum m - lr g with nesterov. */
#include "../optim.h"
#include "../simd.h"

enum { MOM, NEST };
static const char *const keys[] = {"momentum", "nesterov", NULL};

static void read(rd_cfg *c, int sec, double *p) {
  int n = 0;
  rd_cfg_float(c, sec, "momentum", 0.0, 0, 1, 0, &p[MOM]);
  rd_cfg_bool(c, sec, "nesterov", 0, 0, &n);
  p[NEST] = n;
}

static int slots(const double *p) { return p[MOM] != 0.0 ? 1 : 0; }

RD_SIMD_AVX2 static void update(const rd_optim_args *a, float *restrict w, const float *restrict g,
                                float *restrict state, size_t n, size_t stride) {
  (void)stride;
  const float lr = (float)a->lr;
  if (a->p[MOM] == 0.0) {
    for (size_t i = 0; i < n; i++) w[i] -= lr * g[i];
    return;
  }
  const float mu = (float)a->p[MOM];
  const int nesterov = a->p[NEST] != 0.0;
  float *restrict m = state;
  for (size_t i = 0; i < n; i++) {
    m[i] = mu * m[i] - lr * g[i];
    w[i] += nesterov ? mu * m[i] - lr * g[i] : m[i];
  }
}

static const char *slot_name(const double *p, int k) {
  (void)p, (void)k;
  return "momentums";
}

const rd_optim_type rd_optim_sgd = {"sgd", "SGD", 0.01, 0.0, keys, read, slots, slot_name, NULL, NULL, update};
