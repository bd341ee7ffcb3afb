/* [model_checkpoint]: Keras' ModelCheckpoint (keras/src/callbacks/model_checkpoint.py):
 * filepath (required), monitor (val_loss), verbose (0), save_best_only
 * (false), save_weights_only (false), mode (auto), save_freq (epoch),
 * initial_value_threshold (none). At each epoch's end the weights are written
 * to filepath formatted as Python's str.format with epoch (from 1) and the
 * epoch's logs ("w.{epoch:02d}-{val_loss:.2f}.h5"); with save_best_only, only
 * when monitor improved on the best so far (no min_delta; the first value
 * always does unless initial_value_threshold beats it). The trainer writes
 * them through the weights file's own path (a temporary file renamed into
 * place), collectively; missing directories are made, as Keras makes them.
 *
 * As Keras: a .keras filepath gets the whole model (a Keras 3 archive with the
 * optimizer's state, keras_file.h), which save_weights_only refuses; a .h5
 * one gets the weights file (model.save_weights' layout), and must end in
 * .weights.h5 with save_weights_only, as Keras requires.
 *
 * save_freq = N saves every N steps instead, on the epoch's running logs
 * (loss, accuracy: no validation logs), with {batch} (from 1 within the
 * epoch) in the path too; the count of steps since the last save runs across
 * epochs and is in the checkpoint. save_best_only then needs a monitor the
 * step's logs have: Keras would warn and save at every one. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../callback.h"
#include "../pyfmt.h"

enum { MON, DIR, BEST_ONLY, VERBOSE, THRESHOLD, FREQ }; /* p; FREQ 0: every epoch */
enum { BEST = 3, SEEN };                                 /* s (after the writers' slots, unused here) */

static int ends(const char *s, const char *suffix) {
  const size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

typedef struct {
  int64_t epoch, batch; /* batch -1: formatting at an epoch's end */
  const rd_epoch_logs *logs;
} fmt_ctx;

static int lookup(const void *ctx, const char *name, double *v, int *is_int) {
  const fmt_ctx *f = ctx;
  if (!strcmp(name, "epoch")) {
    *v = (double)(f->epoch + 1), *is_int = 1;
    return 1;
  }
  if (f->batch >= 0 && !strcmp(name, "batch")) {
    *v = (double)(f->batch + 1), *is_int = 1;
    return 1;
  }
  for (int k = 0; k < RD_LOG_ALL; k++)
    if (f->logs->has[k] && !strcmp(name, rd_log_names[k])) {
      *v = rd_cb_log(f->logs, k), *is_int = 0;
      return 1;
    }
  return 0;
}

static void read(rd_cfg *c, int sec, rd_cb *cb, const rd_cb_env *env) {
  double *p = cb->p;
  const char *f = NULL, *freq = "epoch";
  const int got = rd_cfg_str(c, sec, "filepath", NULL, RD_CFG_NOCANON, &f);
  const rd_cfg_item *it = rd_cfg_item_of(c, sec, "filepath");
  int best = 0, wo = 0;
  int64_t verbose = 0;
  rd_cfg_bool(c, sec, "save_best_only", 0, RD_CFG_NOCANON, &best);
  rd_cfg_bool(c, sec, "save_weights_only", 0, RD_CFG_NOCANON, &wo);
  rd_cfg_int(c, sec, "verbose", 0, 0, 1, RD_CFG_NOCANON, &verbose);
  p[BEST_ONLY] = best, p[VERBOSE] = (double)verbose;
  /* The monitor matters with save_best_only only (Keras reads it otherwise and never uses it). */
  const rd_cb_env any = {1, 1, env->schedule, env->lr_logged};
  rd_cb_read_monitor(c, sec, "val_loss", best ? env : &any, &p[MON], &p[DIR]);
  p[THRESHOLD] = NAN;
  rd_cfg_float(c, sec, "initial_value_threshold", NAN, -RD_CFG_F32_MAX, RD_CFG_F32_MAX, RD_CFG_NOCANON, &p[THRESHOLD]);
  const rd_cfg_item *fi = rd_cfg_item_of(c, sec, "save_freq");
  int64_t every = 0;
  if (rd_cfg_str(c, sec, "save_freq", "epoch", RD_CFG_NOCANON, &freq) > 0 && strcmp(freq, "epoch") &&
      (rd_parse_int(freq, &every) || every < 1 || every > 1000000000))
    rd_cfg_fail(c, fi, -1, "save_freq = %s must be epoch or a number of steps (batches), 1 or more", freq);
  p[FREQ] = (double)(every > 0 ? every : 0);
  if (every > 0 && best && (int)p[MON] >= RD_LOG_VAL_LOSS)
    rd_cfg_fail(c, fi, -1,
                "save_freq = %s with save_best_only needs a monitor the steps' logs have (loss, accuracy): %s "
                "exists at epochs' ends only (Keras would save at every step)",
                freq, rd_log_names[(int)p[MON]]);
  if (got == 0) {
    rd_cfg_fail(c, NULL, sec, "[model_checkpoint] needs filepath = PATH (Keras' ModelCheckpoint(filepath))");
    return;
  }
  if (!f) return;
  snprintf(cb->str[0], RD_CB_STR, "%s", f);
  if (wo && !ends(f, ".weights.h5"))
    rd_cfg_fail(c, it, -1, "filepath = %s must end in .weights.h5 with save_weights_only = true (as Keras requires)", f);
  else if (!ends(f, ".h5") && !ends(f, ".keras"))
    rd_cfg_fail(c, it, -1, "filepath = %s must end in .keras (the whole model) or .h5 (the weights), as Keras requires", f);
  else { /* every placeholder must name epoch (and batch) or a log this run has there */
    rd_epoch_logs lg = {{0}, {0}, 0};
    for (int k = 0; k < RD_LOG_N; k++) {
      const int val = k >= RD_LOG_VAL_LOSS, topk = k == RD_LOG_TOPK || k == RD_LOG_VAL_TOPK;
      lg.has[k] = (!val || (env->has_val && every == 0)) && (!topk || env->top_k);
    }
    lg.has[RD_LOG_LR] = (unsigned char)(env->lr_logged && every == 0);
    fmt_ctx fc = {0, every > 0 ? 0 : -1, &lg};
    char out[RD_CB_STR], why[256];
    if (rd_pyfmt_format(f, lookup, &fc, out, sizeof out, why, sizeof why))
      rd_cfg_fail(c, it, -1, "filepath = %s: %s", f, why);
  }
}

static void begin(rd_cb *cb) {
  memset(cb->s, 0, sizeof cb->s);
  cb->s[BEST] = cb->p[THRESHOLD]; /* NaN: none yet */
}

/* Keras' _save_model: the path, and whether to write it (save_best_only). */
static void save(rd_cb *cb, int64_t epoch, int64_t batch, rd_epoch_logs *logs, rd_cb_act *act) {
  const double *p = cb->p;
  fmt_ctx fc = {epoch, batch, logs};
  char why[256];
  if (rd_pyfmt_format(cb->str[0], lookup, &fc, act->save, sizeof act->save, why, sizeof why)) {
    act->save[0] = '\0'; /* checked when read: cannot happen */
    return;
  }
  if (p[BEST_ONLY] == 0) {
    if (p[VERBOSE] != 0) snprintf(act->say, sizeof act->say, "Epoch %lld: saving model to %s", (long long)epoch + 1, act->save);
    return;
  }
  const double cur = rd_cb_log(logs, (int)p[MON]);
  char best[48] = "None";
  if (!isnan(cb->s[BEST])) snprintf(best, sizeof best, "%.5f", cb->s[BEST]);
  if (rd_cb_improved(p[DIR], 0.0, cur, cb->s[BEST])) {
    if (p[VERBOSE] != 0)
      snprintf(act->say, sizeof act->say, "Epoch %lld: %s improved from %s to %.5f, saving model to %s",
               (long long)epoch + 1, rd_log_names[(int)p[MON]], best, cur, act->save);
    cb->s[BEST] = cur;
    return;
  }
  if (p[VERBOSE] != 0)
    snprintf(act->say, sizeof act->say, "Epoch %lld: %s did not improve from %s", (long long)epoch + 1,
             rd_log_names[(int)p[MON]], best);
  act->save[0] = '\0';
}

static void epoch_end(rd_cb *cb, int64_t epoch, rd_epoch_logs *logs, rd_cb_act *act) {
  if (cb->p[FREQ] == 0) save(cb, epoch, -1, logs, act);
}

/* Keras' _should_save_on_batch: steps since the last save, across epochs. */
static void batch_end(rd_cb *cb, int64_t epoch, int64_t batch, rd_epoch_logs *logs, rd_cb_act *act) {
  if (cb->p[FREQ] == 0 || ++cb->s[SEEN] < cb->p[FREQ]) return;
  cb->s[SEEN] = 0;
  save(cb, epoch, batch, logs, act);
}

const rd_cb_type rd_cb_model_checkpoint = {.name = "model_checkpoint",
    .log_only = 1, .keras = "ModelCheckpoint", .read = read,
                                           .begin = begin, .epoch_end = epoch_end, .batch_end = batch_end};
