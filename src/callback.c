/* callback: the callbacks' registry and Keras' MonitorCallback (see callback.h). */
#include "callback.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RD_CALLBACK(n) extern const rd_cb_type rd_cb_##n;
#include "callbacks/list.h"
#undef RD_CALLBACK

static const rd_cb_type *const k_types[] = {
#define RD_CALLBACK(n) &rd_cb_##n,
#include "callbacks/list.h"
#undef RD_CALLBACK
};
enum { NTYPES = (int)(sizeof k_types / sizeof *k_types) };

const char *const rd_log_names[RD_LOG_ALL + 1] = {
    "loss", "accuracy", "top_k_categorical_accuracy", "val_loss", "val_accuracy", "val_top_k_categorical_accuracy",
    "learning_rate", NULL};

int rd_cb_count(void) { return NTYPES; }
const rd_cb_type *rd_cb_type_at(int i) { return k_types[i]; }

void rd_callbacks_from_cfg(rd_cfg *c, int has_val, int top_k, int schedule, rd_callbacks *cbs) {
  memset(cbs, 0, sizeof *cbs);
  for (int i = 0; i < NTYPES; i++) {
    const int sec = rd_cfg_section(c, k_types[i]->name, 0);
    if (sec < 0) continue;
    int at = cbs->n++; /* in the config's order: Keras' callbacks list */
    while (at > 0 && cbs->cb[at - 1].sec > sec) cbs->cb[at] = cbs->cb[at - 1], at--;
    memset(&cbs->cb[at], 0, sizeof cbs->cb[at]);
    cbs->cb[at].type = k_types[i], cbs->cb[at].sec = sec;
  }
  rd_cb_env env = {has_val, top_k, schedule, 0};
  for (int i = 0; i < cbs->n; i++) {
    rd_cfg_visit(c, cbs->cb[i].sec);
    cbs->cb[i].type->read(c, cbs->cb[i].sec, &cbs->cb[i], &env);
    if (cbs->cb[i].type == &rd_cb_reduce_lr_on_plateau) env.lr_logged = 1; /* it adds learning_rate to the logs */
  }
}

int rd_callbacks_keep_weights(const rd_callbacks *cbs) {
  for (int i = 0; i < cbs->n; i++)
    if (cbs->cb[i].type->keeps_weights && cbs->cb[i].type->keeps_weights(&cbs->cb[i])) return 1;
  return 0;
}

void rd_callbacks_begin(rd_callbacks *cbs) {
  for (int i = 0; i < cbs->n; i++)
    if (cbs->cb[i].type->begin) cbs->cb[i].type->begin(&cbs->cb[i]);
}

void rd_callbacks_pieces(rd_callbacks *cbs, rd_pieces *ps) {
  char name[64];
  for (int i = 0; i < cbs->n; i++) {
    snprintf(name, sizeof name, "callbacks/%s", cbs->cb[i].type->name);
    rd_pieces_add(ps, RD_PIECE_F64, cbs->cb[i].s, RD_CB_NS, name);
    cbs->cb[i].fresh = 0;
    if (cbs->cb[i].type->log_only) ps->p[ps->n - 1].absent = &cbs->cb[i].fresh; /* may be added at a resume */
  }
}

static void merge(rd_cb_act *all, const rd_cb_act *one) {
  all->stop |= one->stop, all->keep_best |= one->keep_best, all->restore_best |= one->restore_best;
  if (one->lr > 0) all->lr = one->lr;
  if (one->save[0]) snprintf(all->save, sizeof all->save, "%s", one->save);
  if (one->say[0]) {
    const size_t n = strlen(all->say);
    snprintf(all->say + n, sizeof all->say - n, "%s%s", n ? "; " : "", one->say);
  }
}

void rd_callbacks_epoch_end(rd_callbacks *cbs, int64_t epoch, rd_epoch_logs *logs, rd_cb_act *act) {
  memset(act, 0, sizeof *act);
  for (int i = 0; i < cbs->n; i++) {
    rd_cb_act one = {0};
    if (cbs->cb[i].type->epoch_end) cbs->cb[i].type->epoch_end(&cbs->cb[i], epoch, logs, &one);
    cbs->cb[i].seen = *logs; /* what a writer writes: the logs as its turn came */
    merge(act, &one);
  }
}

void rd_callbacks_end(rd_callbacks *cbs, rd_cb_act *act) {
  memset(act, 0, sizeof *act);
  for (int i = 0; i < cbs->n; i++) {
    rd_cb_act one = {0};
    if (cbs->cb[i].type->end) cbs->cb[i].type->end(&cbs->cb[i], &one);
    merge(act, &one);
  }
}

int rd_callbacks_per_batch(const rd_callbacks *cbs) {
  for (int i = 0; i < cbs->n; i++)
    if (cbs->cb[i].type->batch_end) return 1;
  return 0;
}

void rd_callbacks_batch_end(rd_callbacks *cbs, int64_t epoch, int64_t batch, rd_epoch_logs *logs, rd_cb_act *act) {
  memset(act, 0, sizeof *act);
  for (int i = 0; i < cbs->n; i++) {
    rd_cb_act one = {0};
    if (cbs->cb[i].type->batch_end) cbs->cb[i].type->batch_end(&cbs->cb[i], epoch, batch, logs, &one);
    merge(act, &one);
  }
}

void rd_cb_read_monitor(rd_cfg *c, int sec, const char *dflt, const rd_cb_env *env, double *mon, double *dir) {
  const int has_val = env->has_val, top_k = env->top_k;
  int k = 0;
  for (k = 0; k < RD_LOG_N && strcmp(rd_log_names[k], dflt); k++) {
  }
  int m = k;
  static const char *monitors[RD_LOG_N + 1]; /* the logs a monitor may name: not learning_rate */
  for (int i = 0; i < RD_LOG_N; i++) monitors[i] = rd_log_names[i];
  rd_cfg_enum(c, sec, "monitor", monitors, k, 0, &m);
  static const char *const modes[] = {"auto", "min", "max", NULL};
  int mode = 0;
  rd_cfg_enum(c, sec, "mode", modes, 0, 0, &mode);
  const rd_cfg_item *it = rd_cfg_item_of(c, sec, "monitor");
  const int val = m >= RD_LOG_VAL_LOSS, topk = m == RD_LOG_TOPK || m == RD_LOG_VAL_TOPK;
  if (val && !has_val)
    rd_cfg_fail(c, it, it ? -1 : sec,
                "monitor = %s%s needs validation data ([data] validation_split, or val_x and val_y); or monitor "
                "= %s",
                rd_log_names[m], it ? "" : " (the default)", rd_log_names[m - RD_LOG_VAL_LOSS]);
  else if (topk && !top_k)
    rd_cfg_fail(c, it, -1, "monitor = %s needs [train] metrics = top_k_categorical_accuracy", rd_log_names[m]);
  *mon = m;
  /* mode auto: min for a loss, max for an accuracy (Keras' metrics' _direction). */
  *dir = mode == 1 ? RD_CB_LESS : mode == 2 ? RD_CB_GREATER : (m == RD_LOG_LOSS || m == RD_LOG_VAL_LOSS) ? RD_CB_LESS
                                                                                                        : RD_CB_GREATER;
}

int rd_cb_improved(double dir, double min_delta, double value, double ref) {
  if (isnan(ref)) return 1;
  /* MonitorCallback: min_delta = abs(min_delta), negated for ops.less; then
   * ops.less(value - min_delta, ref) on float32 tensors. */
  const double md = dir < 0 ? -fabs(min_delta) : fabs(min_delta);
  const float a = (float)(value - md), b = (float)ref;
  return dir < 0 ? a < b : a > b;
}
