/* optim: Keras' SGD and Adam update rules, elementwise over the parameter arena.
 * Pure functions; every rank applies the same update to the same bits. The
 * powers beta^t are computed by binary exponentiation in double, not libm's pow,
 * so they are the same on every IEEE machine. */
#ifndef REPRODIST_OPTIM_H
#define REPRODIST_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RD_OPT_SGD, RD_OPT_ADAM } rd_opt_kind;

typedef struct rd_optim_spec {
  rd_opt_kind kind;
  double lr;
  double momentum; /* sgd */
  int nesterov;    /* sgd */
  double beta_1, beta_2, epsilon; /* adam */
} rd_optim_spec;

/* Keras defaults: sgd lr 0.01, momentum 0; adam lr 0.001, 0.9, 0.999, 1e-7. */
void rd_optim_defaults(rd_opt_kind k, rd_optim_spec *s);
/* Number of state floats per parameter: sgd 1 with momentum (else 0), adam 2. */
int rd_optim_slots(const rd_optim_spec *s);
/* x^n by squaring, in IEEE double. */
double rd_optim_powi(double x, uint64_t n);

/* One step number `iteration` (0-based) on params[0..n) with gradient g.
 * Slot k of the state (zero before the first step) is state[k*stride ..][0..n):
 * stride n for a whole replica, the replica's size for a chunk of it. Purely
 * elementwise: updating a replica in chunks gives the bits of one call. */
void rd_optim_step(const rd_optim_spec *s, uint64_t iteration, float *params, const float *g, float *state, size_t n,
                   size_t stride);

#ifdef __cplusplus
}
#endif
#endif
