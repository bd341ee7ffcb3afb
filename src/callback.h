/* callback: Keras 3's training callbacks (keras/src/callbacks/) as config
 * sections: [early_stopping] and [reduce_lr_on_plateau], with Keras' argument
 * names, defaults and rules (monitor_callback.py, early_stopping.py,
 * reduce_lr_on_plateau.py). Each is one file in src/callbacks/ and one line in
 * src/callbacks/list.h; a section present turns it on.
 *
 * Callbacks act at an epoch's end on that epoch's logs, values reprodist
 * computes with the same bits at any rank count, so every decision (stop, rate
 * cut, best epoch) falls on the same epoch at any np. Logs hold what Keras'
 * fit would: float32 values (loss, accuracy, top_k_categorical_accuracy, and
 * with validation data val_loss, val_accuracy, val_top_k_categorical_accuracy),
 * compared as Keras compares them: in float32, after subtracting min_delta in
 * double. A callback's state (counters, best value) is its own checkpoint
 * piece, so a resume at another np decides as the uninterrupted run. */
#ifndef REPRODIST_CALLBACK_H
#define REPRODIST_CALLBACK_H

#include <stdint.h>

#include "cfg.h"
#include "piece.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { RD_LOG_LOSS, RD_LOG_ACCURACY, RD_LOG_TOPK, RD_LOG_VAL_LOSS, RD_LOG_VAL_ACCURACY, RD_LOG_VAL_TOPK, RD_LOG_N };
extern const char *const rd_log_names[RD_LOG_N]; /* Keras' names of the logs */

/* An epoch's logs: has[k] when the run computes log k. */
typedef struct rd_epoch_logs {
  double v[RD_LOG_N];
  unsigned char has[RD_LOG_N];
  double learning_rate; /* the optimizer's rate (a float32 value) */
} rd_epoch_logs;

/* What callbacks decide at an epoch's end. */
typedef struct rd_cb_act {
  int stop;           /* stop training after this epoch (model.stop_training) */
  int keep_best;      /* early stopping with restore_best_weights: these weights are the best so far */
  int restore_best;   /* at the end of training: put the kept best weights back */
  double lr;          /* > 0: the optimizer's rate from now on (optimizer.learning_rate = lr) */
  char say[256];      /* a line for the log, or "" */
} rd_cb_act;

#define RD_CB_NP 8
#define RD_CB_NS 6

typedef struct rd_cb_type {
  const char *name;   /* its section: [name] */
  const char *keras;  /* Keras' class */
  /* Reads its keys from section sec into p. has_val: the run has validation data;
   * schedule: learning_rate names a schedule. */
  void (*read)(rd_cfg *c, int sec, double *p, int has_val, int top_k, int schedule);
  /* on_train_begin: its state s[RD_CB_NS] at the start of training. */
  void (*begin)(const double *p, double *s);
  /* on_epoch_end: epoch from 0. */
  void (*epoch_end)(const double *p, double *s, int64_t epoch, const rd_epoch_logs *logs, rd_cb_act *act);
  /* on_train_end (optional). */
  void (*end)(const double *p, const double *s, rd_cb_act *act);
  /* Optional: 1 when it keeps a copy of the weights (restore_best_weights). */
  int (*keeps_weights)(const double *p);
} rd_cb_type;

typedef struct rd_cb {
  const rd_cb_type *type;
  double p[RD_CB_NP];
  double s[RD_CB_NS];
} rd_cb;

#define RD_CB_MAX 4
typedef struct rd_callbacks {
  int n;
  rd_cb cb[RD_CB_MAX];
} rd_callbacks;

int rd_cb_count(void);
const rd_cb_type *rd_cb_type_at(int i);

/* Reads every callback section the config has. */
void rd_callbacks_from_cfg(rd_cfg *c, int has_val, int top_k, int schedule, rd_callbacks *cbs);
/* 1 when one keeps a copy of the weights (the trainer holds it: callbacks/best_weights). */
int rd_callbacks_keep_weights(const rd_callbacks *cbs);
/* Their states at the start of training. */
void rd_callbacks_begin(rd_callbacks *cbs);
/* Each callback's state as the checkpoint piece callbacks/<name>. */
void rd_callbacks_pieces(rd_callbacks *cbs, rd_pieces *ps);
/* Runs every callback's on_epoch_end in registry order; their acts merged
 * into *act (stop if any stops; the last rate set; the log lines joined). */
void rd_callbacks_epoch_end(rd_callbacks *cbs, int64_t epoch, const rd_epoch_logs *logs, rd_cb_act *act);
void rd_callbacks_end(rd_callbacks *cbs, rd_cb_act *act);

/* ---- for the callbacks (MonitorCallback) ---- */
enum { RD_CB_LESS = -1, RD_CB_GREATER = 1 };
/* Reads monitor (dflt) and mode (auto, min, max) into p[mon] (a log index)
 * and p[dir] (RD_CB_LESS or RD_CB_GREATER); refuses a log the run does not
 * compute, naming what would make it. */
void rd_cb_read_monitor(rd_cfg *c, int sec, const char *dflt, int has_val, int top_k, double *mon, double *dir);
/* Keras' _is_improvement: value - min_delta (sign by direction) beats ref;
 * ref NaN (None) is always beaten. In float32, as Keras' ops.less/greater. */
int rd_cb_improved(double dir, double min_delta, double value, double ref);

#ifdef __cplusplus
}
#endif
#endif
