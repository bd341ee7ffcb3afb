/* optimizer = adamw: Keras' AdamW (keras/src/optimizers/adamw.py): Adam's rule
 * and arguments with weight_decay 0.004 by default, applied as every Keras
 * optimizer applies it (optim.h): var -= var * weight_decay * lr before the
 * update. */
#include "../optim.h"

extern const rd_optim_type rd_optim_adam;
static const char *const keys[] = {"beta_1", "beta_2", "epsilon", NULL};

static void read(rd_cfg *c, int sec, double *p) { rd_optim_adam.read(c, sec, p); }
static int slots(const double *p) { return rd_optim_adam.slots(p); }
static const char *slot_name(const double *p, int k) { return rd_optim_adam.slot_name(p, k); }
static void update(const rd_optim_args *a, float *w, const float *g, float *state, size_t n, size_t stride) {
  rd_optim_adam.update(a, w, g, state, n, stride);
}

const rd_optim_type rd_optim_adamw = {"adamw", "AdamW", 0.001, 0.004, keys, read, slots, slot_name, NULL, NULL, update};
