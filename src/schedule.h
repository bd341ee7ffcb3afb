/* sched: the learning rate, a constant or one of Keras 3's schedules
 * (keras/src/optimizers/schedules/learning_rate_schedule.py), evaluated at
 * Keras' step: the 0-based iteration, before that iteration's update.
 *
 * Each schedule is a section of the config named by [train] learning_rate
 * (learning_rate = cosine_decay, then [cosine_decay] initial_learning_rate =
 * ...), one file in src/schedules/ and one line in src/schedules/list.h. The rate is
 * computed in IEEE double from +, -, *, /, floor, ceil and pmath's exp, log,
 * cos and pow (never libm's), then rounded once to float: the same bits on
 * every CPU and compiler, in both kernel modes, at any rank count. */
#ifndef REPRODIST_SCHED_H
#define REPRODIST_SCHED_H

#include <stdint.h>

#include "cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RD_SCHED_NP 8
#define RD_SCHED_MAXB 64

struct rd_sched_type;

typedef struct rd_sched {
  const struct rd_sched_type *type; /* NULL: the constant `lr` */
  double lr;
  double p[RD_SCHED_NP];            /* the type's arguments (its file names them) */
  int nb;                           /* piecewise_constant_decay: nb boundaries, nb + 1 values */
  double b[RD_SCHED_MAXB], v[RD_SCHED_MAXB + 1];
} rd_sched;

typedef struct rd_sched_type {
  const char *name;  /* its section: Keras' class in snake case */
  const char *keras; /* Keras' class, for messages and the docs */
  /* Reads and checks its section's keys (errors go to rd_cfg_fail; sec is the
   * section's index) into s->p, s->b, s->v. */
  void (*read)(rd_cfg *c, int sec, rd_sched *s);
  /* The rate at step, in double. */
  double (*rate)(const rd_sched *s, uint64_t step);
} rd_sched_type;

/* The registered schedules (src/schedules/list.h), and the one called name or NULL. */
int rd_sched_count(void);
const rd_sched_type *rd_sched_type_at(int i);
const rd_sched_type *rd_sched_find(const char *name);

/* Reads [train] learning_rate (section index tr): a positive number (dflt when
 * absent), or the name of a schedule whose section the config has. A schedule
 * section that learning_rate does not name is an error. */
void rd_sched_from_cfg(rd_cfg *c, int tr, double dflt, rd_sched *s);

/* The rate in use at the 0-based step: a schedule's rounded once to float, a
 * constant as the config wrote it (the optimizers round it where Keras does). */
double rd_sched_rate(const rd_sched *s, uint64_t step);

/* "0.001" or "cosine_decay": for the log. */
const char *rd_sched_name(const rd_sched *s);

/* Helpers for the schedules' readers: a required positive step count, a
 * required rate (> 0), and "KEY is required" for other keys. */
void rd_sched_need_steps(rd_cfg *c, int sec, const char *key, double *out);
void rd_sched_need_rate(rd_cfg *c, int sec, const char *key, double *out);

#ifdef __cplusplus
}
#endif
#endif
