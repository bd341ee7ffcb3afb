/* [inverse_time_decay]: Keras' InverseTimeDecay (learning_rate_schedule.py):
 * initial_learning_rate / (1 + decay_rate * step / decay_steps), the quotient
 * step / decay_steps floored when staircase. */
#include <math.h>

#include "../schedule.h"

enum { LR0, STEPS, RATE, STAIR };

static void read(rd_cfg *c, int sec, rd_sched *s) {
  int st = 0;
  rd_sched_need_rate(c, sec, "initial_learning_rate", &s->p[LR0]);
  rd_sched_need_steps(c, sec, "decay_steps", &s->p[STEPS]);
  if (rd_cfg_float(c, sec, "decay_rate", 0.0, 0, RD_CFG_F32_MAX, 0, &s->p[RATE]) == 0)
    rd_cfg_fail(c, NULL, sec, "decay_rate is required (a number >= 0)");
  rd_cfg_bool(c, sec, "staircase", 0, 0, &st);
  s->p[STAIR] = st;
}

static double rate(const rd_sched *s, uint64_t step) {
  double p = (double)step / s->p[STEPS];
  if (s->p[STAIR] != 0.0) p = floor(p);
  return s->p[LR0] / (1.0 + s->p[RATE] * p);
}

const rd_sched_type rd_sched_inverse_time_decay = {"inverse_time_decay", "InverseTimeDecay", read, rate};
