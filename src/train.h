/* train: the data-parallel training loop.
 *
 * Each global batch of B samples (a slice of the epoch's hash-derived shuffle)
 * is cut into K = ceil(B / S) shards of S = shard_size samples (the last may be
 * shorter); rank r of P computes shards [K r / P, K (r+1) / P). A shard's
 * forward and backward GEMMs have the same shapes on every rank, and shard
 * gradients are summed along the canonical tree (reduce.h), so every rank ends
 * every step with the same bits, whatever P is. Loss and accuracy travel in the
 * same reduction, so printed metrics are identical for every P too. */
#ifndef REPRODIST_TRAIN_H
#define REPRODIST_TRAIN_H

#include <stdint.h>

#include "callback.h"
#include "cfg.h"
#include "data.h"
#include "log.h"
#include "loss.h"
#include "model.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RD_TRAIN_CW_MAX 1024

typedef struct rd_train_spec {
  int64_t epochs, batch, shard;
  int64_t steps_per_epoch;  /* 0: every batch of the epoch */
  int shuffle, drop_remainder;
  rd_loss_spec loss;        /* [train] loss and its keys (loss.h) */
  int ncw;                  /* [train] class_weight: ncw classes with a weight of their own (others 1) */
  int32_t cw_class[RD_TRAIN_CW_MAX];
  float cw_weight[RD_TRAIN_CW_MAX];
  int top_k;                /* [train] metrics has top_k_categorical_accuracy: its k; else 0 */
  rd_callbacks callbacks;   /* [early_stopping], [reduce_lr_on_plateau] (callback.h) */
  rd_kern_mode kernels;     /* portable (the default) or openblas: kern.h, docs/PORTABLE.md */
  rd_optim_spec opt;
  const char *metrics_path; /* [run] metrics; NULL: absent, the default next to the weights
                               (rd_train_metrics_default); "": none */
  const char *ckpt_dir;     /* NULL: no periodic checkpoints */
  int64_t ckpt_every;       /* 0: none */
  int ckpt_in_epochs;       /* 1: ckpt_every counts epochs; 0: steps */
  int keep;                 /* newest checkpoints kept */
  int64_t check_every;      /* replica digest comparison every N steps; 0: every epoch */
  int shard_optimizer;      /* ZeRO stage 1: each rank keeps and updates 1/np of the optimizer state (same bits):
                               RD_SHARD_OFF, RD_SHARD_ON, or RD_SHARD_AUTO (train.c decides: one node) */
} rd_train_spec;

/* [train] shard_optimizer's values, in the config's spelling: false, true, auto. */
enum { RD_SHARD_OFF, RD_SHARD_ON, RD_SHARD_AUTO };

/* Where a run is and the epoch's running metrics: with the parameters and the
 * optimizer's slots, everything a resume needs. */
typedef struct rd_train_pos {
  uint64_t iteration;       /* optimizer steps done: the schedule and the bias corrections run on it */
  int64_t epoch, batch;     /* the epoch (from 0) and its next batch; the epoch's order is a function of
                               (seed, epoch), so this places a resume exactly */
  int64_t seen;             /* samples of the epoch done */
  double loss_sum, correct, weight, topk; /* the epoch's sums: loss, accuracy's and top-k's (weighted)
                               counts, the rows' weight (seen, without class_weight) */
} rd_train_pos;

/* What a checkpoint holds, as named pieces (piece.h) viewing the run's state:
 * params; the optimizer's (rd_optim_pieces: optimizer/iterations, its slots);
 * data/epoch, data/batch, data/seen; metrics/loss_sum, metrics/correct,
 * metrics/weight, metrics/top_k; callbacks/<name> for each callback (cbs may
 * be NULL) and callbacks/best_weights (best, m->nparams floats, when not NULL). */
void rd_train_pieces(rd_pieces *ps, const rd_model *m, float *params, const rd_optim *o, float *state,
                     rd_train_pos *pos, rd_callbacks *cbs, float *best);

/* Per-run inputs that are not config: where to resume from, and what
 * identifies this run in its checkpoints. */
typedef struct rd_train_ctl {
  const char *resume;       /* checkpoint path, "latest", or NULL */
  uint64_t config_digest;   /* rd_cfg_digest_resumable: what checkpoints must match */
  const char *config_text;  /* rd_cfg_canonical_resumable: stored in checkpoints, to name a mismatch */
  const char *fingerprint;
  const char *output;       /* for the default signal-checkpoint directory */
  const char *command;      /* the command that reruns this one (launcher, rank count N, arguments without
                               --resume), shell-quoted: for the resume hint */
  const char *plugins;      /* the layer plugins ("name@xxh64,..."): checkpoints must match */
  /* Writes a weights file as the run's output is written (model_checkpoint's
   * path), or with path NULL the run's own outputs (when the run finishes);
   * collective. opt: the optimizer's state then (a .keras archive stores it). */
  rd_status (*save_weights)(const void *ctx, const char *path, const float *params, const rd_optim_view *opt,
                            rd_err *err);
  const void *save_ctx;
  const rd_cfg *cfg;        /* for messages naming a callback's section */
  int save_outputs;          /* 1: a run that finishes calls save_weights(ctx, NULL, ...) */
  /* 1 when save_weights(ctx, path, ...) stores the optimizer's state (a .keras
   * archive); NULL: never. A sharded optimizer gathers its state only then. */
  int (*stores_state)(const void *ctx, const char *path);
  uint64_t legacy_digest;   /* rd_ckpt_ident's: a checkpoint of 0.1.x may carry it instead (0: none) */
  const char *legacy_key, *legacy_note, *legacy_advice; /* rd_ckpt_ident's (NULL: none) */
} rd_train_ctl;

/* The shard_size used when the config sets none: about 8 shards per batch,
 * a power of two from 16 to 64 rows (batch 64 -> 16, 256 -> 32, >= 512 -> 64).
 * A function of the batch size alone, never of the rank count. Bigger shards
 * make faster GEMMs and fewer folds but leave ranks beyond B/S idle. */
int64_t rd_train_default_shard(int64_t batch);

/* Reads [train] and [run]'s metrics and checkpoint keys (cfg.h: errors are
 * recorded in the config and reported by rd_cfg_finish). */
rd_status rd_train_spec_from_cfg(rd_train_spec *t, rd_cfg *cfg, const rd_data_spec *data);
/* What training needs of the model: a last layer with one output per class,
 * and softmax on it for crossentropy. Errors name the file and line. */
rd_status rd_train_spec_check(const rd_train_spec *t, const rd_model *m, const rd_cfg *cfg, rd_err *err);

/* Collective: trains from the initial weights (or the checkpoint in ctl) and
 * leaves the result in params (m->nparams floats, already initialised).
 * Returns RD_STOPPED after SIGTERM/SIGINT/SIGUSR1: every rank finished the
 * same step and a checkpoint was written. */
rd_status rd_train_run(const rd_train_spec *t, const rd_train_ctl *ctl, const rd_data_spec *data, const rd_model *m,
                       float *params, rd_err *err);

/* Collective: the test set's loss and accuracy with these parameters, over
 * fixed shards of t->shard rows summed along the canonical tree (the numbers
 * training prints after an epoch; the same bits at any rank count). *n is the
 * number of test samples. */
rd_status rd_train_evaluate(const rd_train_spec *t, const rd_data_spec *data, const rd_model *m, const float *params,
                            double *loss, double *acc, int64_t *n, rd_err *err);

#ifdef __cplusplus
}
#endif
#endif
