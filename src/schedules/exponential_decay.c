/* [exponential_decay]: Keras' ExponentialDecay (learning_rate_schedule.py):
 * initial_learning_rate * decay_rate ^ (step / decay_steps), the exponent
 * floored when staircase. */
#include <math.h>

#include "../pmath.h"
#include "../schedule.h"

enum { LR0, STEPS, RATE, STAIR };

static void read(rd_cfg *c, int sec, rd_sched *s) {
  int st = 0;
  rd_sched_need_rate(c, sec, "initial_learning_rate", &s->p[LR0]);
  rd_sched_need_steps(c, sec, "decay_steps", &s->p[STEPS]);
  rd_sched_need_rate(c, sec, "decay_rate", &s->p[RATE]);
  rd_cfg_bool(c, sec, "staircase", 0, 0, &st);
  s->p[STAIR] = st;
}

static double rate(const rd_sched *s, uint64_t step) {
  double p = (double)step / s->p[STEPS];
  if (s->p[STAIR] != 0.0) p = floor(p);
  return s->p[LR0] * rd_pmath_pow(s->p[RATE], p);
}

const rd_sched_type rd_sched_exponential_decay = {"exponential_decay", "ExponentialDecay", read, rate};
