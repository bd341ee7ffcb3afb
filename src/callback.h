/* callback: Keras 3's training callbacks (keras/src/callbacks/) as config
 * sections: [early_stopping], [reduce_lr_on_plateau], [model_checkpoint],
 * [csv_logger] and [tensorboard], with Keras' argument names, defaults and
 * rules. Each is one file in src/callbacks/ and one line in
 * src/callbacks/list.h; a section present turns it on, and they run in the
 * order of their sections in the config, as Keras runs its callbacks list.
 *
 * Callbacks act at an epoch's end on that epoch's logs, values reprodist
 * computes with the same bits at any rank count, so every decision (stop, rate
 * cut, best epoch, which checkpoint to keep) falls on the same epoch at any
 * np. Logs hold what Keras' fit would: float32 values (loss, accuracy,
 * top_k_categorical_accuracy, and with validation data val_loss, val_accuracy,
 * val_top_k_categorical_accuracy; learning_rate once reduce_lr_on_plateau has
 * run, as Keras' adds it to the shared logs), compared as Keras compares them:
 * in float32, after subtracting min_delta in double. A callback's state
 * (counters, best value, bytes written) is its own checkpoint piece, so a
 * resume at another np decides as the uninterrupted run.
 *
 * Callbacks never touch files or MPI: model_checkpoint names the weights file
 * to write (the trainer writes it, collectively, through the weights file's
 * atomic path), and the writers (csv_logger, tensorboard) return the bytes
 * their files get, which cbfiles.c appends on rank 0. */
#ifndef REPRODIST_CALLBACK_H
#define REPRODIST_CALLBACK_H

#include <stdint.h>

#include "cfg.h"
#include "piece.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The logs a monitor may name (RD_LOG_N of them), then learning_rate. */
enum {
  RD_LOG_LOSS, RD_LOG_ACCURACY, RD_LOG_TOPK, RD_LOG_VAL_LOSS, RD_LOG_VAL_ACCURACY, RD_LOG_VAL_TOPK, RD_LOG_N,
  RD_LOG_LR = RD_LOG_N, RD_LOG_ALL
};
extern const char *const rd_log_names[RD_LOG_ALL + 1]; /* Keras' names of the logs, NULL-terminated */

/* An epoch's logs: has[k] when the run computes log k. */
typedef struct rd_epoch_logs {
  double v[RD_LOG_ALL];
  unsigned char has[RD_LOG_ALL];
  double learning_rate; /* the optimizer's rate (a float32 value) */
} rd_epoch_logs;

/* What callbacks decide at an epoch's end. */
typedef struct rd_cb_act {
  int stop;           /* stop training after this epoch (model.stop_training) */
  int keep_best;      /* early stopping with restore_best_weights: these weights are the best so far */
  int restore_best;   /* at the end of training: put the kept best weights back */
  double lr;          /* > 0: the optimizer's rate from now on (optimizer.learning_rate = lr) */
  char say[2048];     /* a line for the log, or "" */
  char save[1024];    /* model_checkpoint: write the weights to this path now, or "" */
} rd_cb_act;

#define RD_CB_NP 8
#define RD_CB_NS 6
#define RD_CB_NSTR 2
#define RD_CB_STR 1024

/* What a callback's reader knows of the run. */
typedef struct rd_cb_env {
  int has_val;    /* validation data */
  int top_k;      /* [train] top_k, or 0 without the metric */
  int schedule;   /* learning_rate names a schedule */
  int lr_logged;  /* a callback before this one adds learning_rate to the logs */
} rd_cb_env;

typedef struct rd_cb rd_cb;
typedef struct rd_cb_type {
  const char *name;   /* its section: [name] */
  const char *keras;  /* Keras' class */
  /* 1 when it changes no weight (its keys stay out of the config digest):
   * its state is an optional checkpoint piece, so it may be added or removed
   * when a run is resumed (piece.h). */
  int log_only;
  /* Reads its keys from section sec into cb->p and cb->str. */
  void (*read)(rd_cfg *c, int sec, rd_cb *cb, const rd_cb_env *env);
  /* on_train_begin (optional): its state cb->s at the start of training
   * (zeros without it). */
  void (*begin)(rd_cb *cb);
  /* on_epoch_end (optional for writers): epoch from 0. It may add to the logs (learning_rate), as
   * Keras' callbacks add to the dict the later ones receive. */
  void (*epoch_end)(rd_cb *cb, int64_t epoch, rd_epoch_logs *logs, rd_cb_act *act);
  /* on_train_end (optional). */
  void (*end)(const rd_cb *cb, rd_cb_act *act);
  /* on_train_batch_end (optional): after step `batch` (from 0) of the epoch,
   * with the epoch's running logs (loss, accuracy, top-k: no validation). */
  void (*batch_end)(rd_cb *cb, int64_t epoch, int64_t batch, rd_epoch_logs *logs, rd_cb_act *act);
  /* Optional: 1 when it keeps a copy of the weights (restore_best_weights). */
  int (*keeps_weights)(const rd_cb *cb);
  /* ---- writers (optional): callbacks that append to files ----
   * files: how many (at most 2); path: file i's path (from cb->str and cb->s).
   * bytes: what file i gets at this epoch's end, after epoch_end ran on the
   * same logs (at most cap bytes into buf; the length), given the time now
   * (seconds since 1970) for records that carry one. cb->s[RD_CB_WRITTEN + i]
   * holds the bytes file i had received, which cbfiles.c keeps; the logs are
   * cb->seen, as they were when the writer's turn came. */
  int (*files)(const rd_cb *cb);
  /* Optional: 1 when a fresh run appends to an existing file (csv_logger's
   * append); otherwise a fresh run starts its files anew. */
  int (*appends)(const rd_cb *cb);
  void (*path)(const rd_cb *cb, int i, char *buf, size_t n);
  size_t (*bytes)(const rd_cb *cb, int i, int64_t epoch, const rd_epoch_logs *logs, double now, char *buf, size_t cap);
} rd_cb_type;

/* A writer's state: s[RD_CB_WRITTEN + i], the bytes its file i holds (its
 * length at the start, or after a checkpoint), so a resume can cut what a
 * run wrote past its checkpoint. At most 2 files. */
#define RD_CB_WRITTEN 0
/* And s[RD_CB_START]: the first run's start time (whole seconds since 1970),
 * for file names; kept across resumes. */
#define RD_CB_START 2

struct rd_cb {
  const rd_cb_type *type;
  int sec;                          /* its config section */
  double p[RD_CB_NP];
  double s[RD_CB_NS];
  char str[RD_CB_NSTR][RD_CB_STR];  /* its text arguments (paths) */
  unsigned char failed[2];          /* cbfiles.c gave up writing file i (rank 0) */
  rd_epoch_logs seen;               /* a writer: the logs as its turn came (Keras' order) */
  unsigned char fresh;              /* log_only: the checkpoint resumed from had no state for it */
};

#define RD_CB_MAX 8
typedef struct rd_callbacks {
  int n;
  rd_cb cb[RD_CB_MAX];
} rd_callbacks;

int rd_cb_count(void);
const rd_cb_type *rd_cb_type_at(int i);

/* Reads every callback section the config has, in the config's order. */
void rd_callbacks_from_cfg(rd_cfg *c, int has_val, int top_k, int schedule, rd_callbacks *cbs);
/* 1 when one keeps a copy of the weights (the trainer holds it: callbacks/best_weights). */
int rd_callbacks_keep_weights(const rd_callbacks *cbs);
/* Their states at the start of training. */
void rd_callbacks_begin(rd_callbacks *cbs);
/* Each callback's state as the checkpoint piece callbacks/<name>. */
void rd_callbacks_pieces(rd_callbacks *cbs, rd_pieces *ps);
/* Runs every callback's on_epoch_end in order; their acts merged into *act
 * (stop if any stops; the last rate set; the log lines joined; the last
 * checkpoint path). The logs are the ones the callbacks left (learning_rate
 * added), for the writers' bytes. */
void rd_callbacks_epoch_end(rd_callbacks *cbs, int64_t epoch, rd_epoch_logs *logs, rd_cb_act *act);
void rd_callbacks_end(rd_callbacks *cbs, rd_cb_act *act);
/* 1 when one acts after each step (model_checkpoint with save_freq = N). */
int rd_callbacks_per_batch(const rd_callbacks *cbs);
/* Runs every callback's on_train_batch_end in order; acts merged as above. */
void rd_callbacks_batch_end(rd_callbacks *cbs, int64_t epoch, int64_t batch, rd_epoch_logs *logs, rd_cb_act *act);

/* ---- for the callbacks (MonitorCallback) ---- */
enum { RD_CB_LESS = -1, RD_CB_GREATER = 1 };
/* Reads monitor (dflt) and mode (auto, min, max) into p[mon] (a log index)
 * and p[dir] (RD_CB_LESS or RD_CB_GREATER); refuses a log the run does not
 * compute, naming what would make it. */
void rd_cb_read_monitor(rd_cfg *c, int sec, const char *dflt, const rd_cb_env *env, double *mon, double *dir);
/* A log as Keras' logs hold it: the float32 value, widened. */
static inline double rd_cb_log(const rd_epoch_logs *logs, int k) { return (double)(float)logs->v[k]; }
/* Keras' _is_improvement: value - min_delta (sign by direction) beats ref;
 * ref NaN (None) is always beaten. In float32, as Keras' ops.less/greater. */
int rd_cb_improved(double dir, double min_delta, double value, double ref);

#ifdef __cplusplus
}
#endif
#endif
