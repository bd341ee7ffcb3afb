/* [reduce_lr_on_plateau]: Keras' ReduceLROnPlateau
 * (keras/src/callbacks/reduce_lr_on_plateau.py). Defaults: monitor val_loss,
 * factor 0.1 (below 1, as Keras requires), patience 10, mode auto, min_delta
 * 1e-4, cooldown 0, min_lr 0. At each epoch's end: in cooldown, the counter
 * goes down and wait is reset; an improvement makes the value the best and
 * resets wait; otherwise, out of cooldown, wait += 1 and at patience the rate
 * becomes max(rate factor, min_lr) (a float32 variable in Keras, so rounded
 * to float32) if it is above min_lr, which starts the cooldown. Keras cannot
 * set the rate of an optimizer built with a schedule: refused here with it. */
#include <math.h>
#include <stdio.h>

#include "../callback.h"

enum { MON, DIR, FACTOR, PATIENCE, MIN_DELTA, COOLDOWN, MIN_LR }; /* p */
enum { BEST, WAIT, COOLING };                                     /* s */

static void read(rd_cfg *c, int sec, rd_cb *cb, const rd_cb_env *env) {
  double *p = cb->p;
  if (env->schedule)
    rd_cfg_fail(c, NULL, sec,
                "[reduce_lr_on_plateau] needs a constant [train] learning_rate: Keras cannot set the rate of an "
                "optimizer built with a LearningRateSchedule");
  rd_cb_read_monitor(c, sec, "val_loss", env, &p[MON], &p[DIR]);
  rd_cfg_float(c, sec, "factor", 0.1, 0, 1, RD_CFG_HI_OPEN, &p[FACTOR]);
  int64_t n = 0;
  rd_cfg_int(c, sec, "patience", 10, 0, 1e9, 0, &n);
  p[PATIENCE] = (double)n;
  rd_cfg_float(c, sec, "min_delta", 1e-4, -RD_CFG_F32_MAX, RD_CFG_F32_MAX, 0, &p[MIN_DELTA]);
  rd_cfg_int(c, sec, "cooldown", 0, 0, 1e9, 0, &n);
  p[COOLDOWN] = (double)n;
  rd_cfg_float(c, sec, "min_lr", 0.0, 0, RD_CFG_F32_MAX, 0, &p[MIN_LR]);
}

static void begin(rd_cb *cb) {
  double *s = cb->s;
  s[BEST] = NAN, s[WAIT] = 0, s[COOLING] = 0;
}

static void epoch_end(rd_cb *cb, int64_t epoch, rd_epoch_logs *logs, rd_cb_act *act) {
  const double *p = cb->p, cur = rd_cb_log(logs, (int)p[MON]);
  double *s = cb->s;
  /* Keras adds the rate the epoch trained with to the logs the later callbacks see. */
  logs->v[RD_LOG_LR] = logs->learning_rate, logs->has[RD_LOG_LR] = 1;
  if (s[COOLING] > 0) s[COOLING] -= 1, s[WAIT] = 0;
  if (rd_cb_improved(p[DIR], p[MIN_DELTA], cur, s[BEST])) {
    s[BEST] = cur, s[WAIT] = 0;
    return;
  }
  if (s[COOLING] > 0) return;
  s[WAIT] += 1;
  if (s[WAIT] < p[PATIENCE]) return;
  const double old = logs->learning_rate;
  if (!((float)old > (float)p[MIN_LR])) return;
  double lr = old * p[FACTOR];
  lr = lr > p[MIN_LR] ? lr : p[MIN_LR];
  act->lr = (double)(float)lr; /* optimizer.learning_rate is a float32 variable */
  s[COOLING] = p[COOLDOWN], s[WAIT] = 0;
  snprintf(act->say, sizeof act->say, "epoch %lld: reduce_lr_on_plateau reducing the learning rate to %.9g",
           (long long)epoch + 1, act->lr);
}

const rd_cb_type rd_cb_reduce_lr_on_plateau = {.name = "reduce_lr_on_plateau", .keras = "ReduceLROnPlateau",
                                               .read = read, .begin = begin, .epoch_end = epoch_end};
