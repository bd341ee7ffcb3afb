/* [cosine_decay]: Keras' CosineDecay (learning_rate_schedule.py). Without
 * warmup_target: initial_learning_rate * ((1 - alpha) * 0.5 (1 + cos(pi s / d))
 * + alpha), s = min(step, decay_steps), d = decay_steps. With warmup_target, s =
 * min(step, decay_steps + warmup_steps): a linear rise from
 * initial_learning_rate to warmup_target while s < warmup_steps, then the same
 * decay from warmup_target at s - warmup_steps. */
#include <math.h>

#include "../pmath.h"
#include "../schedule.h"

enum { LR0, STEPS, ALPHA, HAS_TARGET, TARGET, WARM };
#define PI 3.141592653589793

static void read(rd_cfg *c, int sec, rd_sched *s) {
  int64_t w = 0;
  rd_sched_need_rate(c, sec, "initial_learning_rate", &s->p[LR0]);
  rd_sched_need_steps(c, sec, "decay_steps", &s->p[STEPS]);
  rd_cfg_float(c, sec, "alpha", 0.0, 0, 1, 0, &s->p[ALPHA]);
  s->p[HAS_TARGET] = rd_cfg_float(c, sec, "warmup_target", 0.0, 0, RD_CFG_F32_MAX, RD_CFG_LO_OPEN, &s->p[TARGET]) > 0;
  if (s->p[HAS_TARGET] != 0.0)
    rd_cfg_int(c, sec, "warmup_steps", 0, 0, 1e15, 0, &w);
  else
    rd_cfg_not_applicable(c, sec, "warmup_steps", "is set without warmup_target (Keras then ignores it)");
  s->p[WARM] = (double)w;
}

static double decay(const rd_sched *s, double g, double from) {
  const double cosine = 0.5 * (1.0 + rd_pmath_cos(PI * (g / s->p[STEPS])));
  return from * ((1.0 - s->p[ALPHA]) * cosine + s->p[ALPHA]);
}

static double rate(const rd_sched *s, uint64_t step) {
  double g = (double)step;
  if (s->p[HAS_TARGET] == 0.0) return decay(s, g < s->p[STEPS] ? g : s->p[STEPS], s->p[LR0]);
  const double end = s->p[STEPS] + s->p[WARM];
  if (g > end) g = end;
  if (g < s->p[WARM]) return (s->p[TARGET] - s->p[LR0]) * (g / s->p[WARM]) + s->p[LR0];
  return decay(s, g - s->p[WARM], s->p[TARGET]);
}

const rd_sched_type rd_sched_cosine_decay = {"cosine_decay", "CosineDecay", read, rate};
