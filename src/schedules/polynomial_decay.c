/* [polynomial_decay]: Keras' PolynomialDecay (learning_rate_schedule.py):
 * (initial_learning_rate - end_learning_rate) * (1 - s / d) ^ power +
 * end_learning_rate, with s = min(step, decay_steps) and d = decay_steps; with
 * cycle, s = step and d = decay_steps * ceil(step / decay_steps) (1 at step 0). */
#include <math.h>

#include "../pmath.h"
#include "../schedule.h"

enum { LR0, STEPS, END, POWER, CYCLE };

static void read(rd_cfg *c, int sec, rd_sched *s) {
  int cy = 0;
  rd_sched_need_rate(c, sec, "initial_learning_rate", &s->p[LR0]);
  rd_sched_need_steps(c, sec, "decay_steps", &s->p[STEPS]);
  rd_cfg_float(c, sec, "end_learning_rate", 0.0001, 0, RD_CFG_F32_MAX, 0, &s->p[END]);
  rd_cfg_float(c, sec, "power", 1.0, 0, 1e6, 0, &s->p[POWER]);
  rd_cfg_bool(c, sec, "cycle", 0, 0, &cy);
  s->p[CYCLE] = cy;
}

static double rate(const rd_sched *s, uint64_t step) {
  double g = (double)step, d = s->p[STEPS];
  if (s->p[CYCLE] != 0.0)
    d = d * (step == 0 ? 1.0 : ceil(g / s->p[STEPS]));
  else if (g > d)
    g = d;
  return (s->p[LR0] - s->p[END]) * rd_pmath_pow(1.0 - g / d, s->p[POWER]) + s->p[END];
}

const rd_sched_type rd_sched_polynomial_decay = {"polynomial_decay", "PolynomialDecay", read, rate};
