/* [piecewise_constant_decay]: Keras' PiecewiseConstantDecay
 * (learning_rate_schedule.py): values[0] while step <= boundaries[0],
 * values[i] while boundaries[i-1] < step <= boundaries[i], the last value
 * after the last boundary. Boundaries must increase (Keras sums overlapping
 * ranges' values when they do not; that is refused here). */
#include "../schedule.h"

static void read(rd_cfg *c, int sec, rd_sched *s) {
  int64_t b[RD_SCHED_MAXB];
  int nb = 0, nv = 0;
  if (rd_cfg_ints(c, sec, "boundaries", 1, RD_SCHED_MAXB, NULL, 0, 0, 1e15, 0, b, &nb) == 0)
    rd_cfg_fail(c, NULL, sec, "boundaries is required (1 to %d step numbers, increasing)", RD_SCHED_MAXB);
  if (rd_cfg_floats(c, sec, "values", 2, RD_SCHED_MAXB + 1, 0, RD_CFG_F32_MAX, 0, s->v, &nv) == 0)
    rd_cfg_fail(c, NULL, sec, "values is required (one more rate than boundaries)");
  s->nb = nb;
  for (int i = 0; i < nb; i++) {
    s->b[i] = (double)b[i];
    if (i && b[i] <= b[i - 1])
      rd_cfg_fail(c, rd_cfg_item_of(c, sec, "boundaries"), -1, "boundaries must increase (%lld follows %lld)",
                  (long long)b[i], (long long)b[i - 1]);
  }
  if (nb && nv && nv != nb + 1)
    rd_cfg_fail(c, rd_cfg_item_of(c, sec, "values"), -1,
                "values has %d rates for %d boundaries; it needs one more than boundaries (%d)", nv, nb, nb + 1);
}

static double rate(const rd_sched *s, uint64_t step) {
  const double g = (double)step;
  int i = 0;
  while (i < s->nb && g > s->b[i]) i++;
  return s->v[i];
}

const rd_sched_type rd_sched_piecewise_constant_decay = {"piecewise_constant_decay", "PiecewiseConstantDecay", read,
                                                         rate};
