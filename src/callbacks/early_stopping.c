/* [early_stopping]: Keras' EarlyStopping (keras/src/callbacks/early_stopping.py).
 * Defaults: monitor val_loss, min_delta 0, patience 0, mode auto, baseline
 * none, restore_best_weights false, start_from_epoch 0. At each epoch's end
 * from start_from_epoch: wait += 1; an improvement on the best (by min_delta)
 * makes it the best and, when it also beats baseline (if set), resets wait;
 * otherwise, once wait >= patience (and epoch > 0), training stops. With
 * restore_best_weights the best epoch's weights (the first epoch's before any
 * improvement) are put back when training ends, early or not. */
#include <math.h>
#include <stdio.h>

#include "../callback.h"

enum { MON, DIR, MIN_DELTA, PATIENCE, BASELINE, RESTORE, START };   /* p */
enum { WAIT, BEST, BEST_EPOCH, STOPPED_EPOCH, HAS_BEST };          /* s */

static void read(rd_cfg *c, int sec, rd_cb *cb, const rd_cb_env *env) {
  double *p = cb->p;
  rd_cb_read_monitor(c, sec, "val_loss", env, &p[MON], &p[DIR]);
  rd_cfg_float(c, sec, "min_delta", 0.0, -RD_CFG_F32_MAX, RD_CFG_F32_MAX, 0, &p[MIN_DELTA]);
  int64_t n = 0;
  rd_cfg_int(c, sec, "patience", 0, 0, 1e9, 0, &n);
  p[PATIENCE] = (double)n;
  p[BASELINE] = NAN;
  rd_cfg_float(c, sec, "baseline", NAN, -RD_CFG_F32_MAX, RD_CFG_F32_MAX, 0, &p[BASELINE]);
  int r = 0;
  rd_cfg_bool(c, sec, "restore_best_weights", 0, 0, &r);
  p[RESTORE] = r;
  rd_cfg_int(c, sec, "start_from_epoch", 0, 0, 1e9, 0, &n);
  p[START] = (double)n;
}

static void begin(rd_cb *cb) {
  double *s = cb->s;
  s[WAIT] = 0, s[BEST] = NAN, s[BEST_EPOCH] = 0, s[STOPPED_EPOCH] = 0, s[HAS_BEST] = 0;
}

static void epoch_end(rd_cb *cb, int64_t epoch, rd_epoch_logs *logs, rd_cb_act *act) {
  const double *p = cb->p, cur = rd_cb_log(logs, (int)p[MON]);
  double *s = cb->s;
  if ((double)epoch < p[START]) return;
  if (p[RESTORE] != 0 && s[HAS_BEST] == 0) act->keep_best = 1, s[HAS_BEST] = 1, s[BEST_EPOCH] = (double)epoch;
  s[WAIT] += 1;
  if (rd_cb_improved(p[DIR], p[MIN_DELTA], cur, s[BEST])) {
    s[BEST] = cur, s[BEST_EPOCH] = (double)epoch;
    if (p[RESTORE] != 0) act->keep_best = 1;
    if (isnan(p[BASELINE]) || rd_cb_improved(p[DIR], p[MIN_DELTA], cur, p[BASELINE])) s[WAIT] = 0;
    return;
  }
  if (s[WAIT] >= p[PATIENCE] && epoch > 0) {
    s[STOPPED_EPOCH] = (double)epoch;
    act->stop = 1;
    snprintf(act->say, sizeof act->say, "epoch %lld: early stopping (%s: no improvement for %.0f epoch%s)",
             (long long)epoch + 1, rd_log_names[(int)p[MON]], s[WAIT], s[WAIT] == 1 ? "" : "s");
  }
}

static void end(const rd_cb *cb, rd_cb_act *act) {
  const double *p = cb->p, *s = cb->s;
  if (p[RESTORE] == 0 || s[HAS_BEST] == 0) return;
  act->restore_best = 1;
  snprintf(act->say, sizeof act->say, "restoring model weights from the end of the best epoch: %.0f",
           s[BEST_EPOCH] + 1);
}

static int keeps_weights(const rd_cb *cb) { return cb->p[RESTORE] != 0; }

const rd_cb_type rd_cb_early_stopping = {.name = "early_stopping", .keras = "EarlyStopping", .read = read,
                                         .begin = begin, .epoch_end = epoch_end, .end = end,
                                         .keeps_weights = keeps_weights};
