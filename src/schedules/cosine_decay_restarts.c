/* [cosine_decay_restarts]: Keras' CosineDecayRestarts (SGDR,
 * learning_rate_schedule.py): period i (from 0) lasts first_decay_steps *
 * t_mul^i steps; within it, at fraction f, the rate is initial_learning_rate *
 * ((1 - alpha) * 0.5 m_mul^i (1 + cos(pi f)) + alpha).
 *
 * Keras finds i as floor(log(1 - f0 (1 - t_mul)) / log(t_mul)) in float32,
 * which can land one period off exactly at a restart (where the rate jumps
 * from its minimum to its maximum). Here i and the period's start are found
 * exactly: periods are summed in double until the step falls inside one. */
#include <math.h>

#include "../optim.h"
#include "../pmath.h"
#include "../schedule.h"

enum { LR0, FIRST, TMUL, MMUL, ALPHA };
#define PI 3.141592653589793

static void read(rd_cfg *c, int sec, rd_sched *s) {
  rd_sched_need_rate(c, sec, "initial_learning_rate", &s->p[LR0]);
  rd_sched_need_steps(c, sec, "first_decay_steps", &s->p[FIRST]);
  if (rd_cfg_float(c, sec, "t_mul", 2.0, 1, 1e6, 0, &s->p[TMUL]) < 0) return;
  rd_cfg_float(c, sec, "m_mul", 1.0, 0, 1e6, 0, &s->p[MMUL]);
  rd_cfg_float(c, sec, "alpha", 0.0, 0, 1, 0, &s->p[ALPHA]);
}

static double rate(const rd_sched *s, uint64_t step) {
  const double g = (double)step;
  double start = 0.0, len = s->p[FIRST];
  uint64_t i = 0;
  if (s->p[TMUL] == 1.0) {
    i = (uint64_t)floor(g / len);
    start = (double)i * len;
  } else {
    while (g >= start + len) start += len, len *= s->p[TMUL], i++;
  }
  const double f = (g - start) / len;
  const double cosine = 0.5 * rd_optim_powi(s->p[MMUL], i) * (1.0 + rd_pmath_cos(PI * f));
  return s->p[LR0] * ((1.0 - s->p[ALPHA]) * cosine + s->p[ALPHA]);
}

const rd_sched_type rd_sched_cosine_decay_restarts = {"cosine_decay_restarts", "CosineDecayRestarts", read, rate};
