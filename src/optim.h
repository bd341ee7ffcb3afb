/* optim: Keras 3's optimizers (keras/src/optimizers/), elementwise over the
 * parameter arena, with what base_optimizer.py does around every update:
 * gradient clipping (clipnorm per tensor, else global_clipnorm, else
 * clipvalue; Keras refuses more than one), then weight decay (var -= var * wd
 * * lr on the tensors not excluded), then the optimizer's own rule, at the
 * learning rate of the step (schedule.h).
 *
 * Each optimizer is one file in src/optim/ and one line in src/optim/list.h: an
 * rd_optim_type with its name, defaults, keys, reader and update rule. Every
 * rank applies the same update to the same bits; scalars (bias corrections,
 * powers) are computed in IEEE double by fixed algorithms (rd_optim_powi, not
 * libm's pow), so the update is the same on every CPU. The global norm is one
 * sum of squares over the whole gradient in a fixed order (rd_optim_sumsq): it
 * depends on the arena alone, never on the ranks. */
#ifndef REPRODIST_OPTIM_H
#define REPRODIST_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "piece.h"
#include "model.h"
#include "schedule.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RD_OPTIM_NP 8
#define RD_OPTIM_MAXEX 16

struct rd_optim_type;

typedef struct rd_optim_spec {
  const struct rd_optim_type *type;
  double p[RD_OPTIM_NP];  /* the type's arguments (its file names them) */
  rd_sched lr;            /* the learning rate: a constant or a schedule */
  double weight_decay;    /* 0: none */
  int nexclude;           /* exclude_from_weight_decay: tensor names matched as substrings */
  char exclude[RD_OPTIM_MAXEX][RD_CFG_NAME_MAX];
  double clipnorm, global_clipnorm, clipvalue; /* 0: off; at most one is set */
  int use_ema;            /* an exponential moving average of the trainable weights */
  double ema_momentum;    /* 0.99 */
  int64_t ema_overwrite_frequency; /* 0: never; N: the weights take the average every N steps */
} rd_optim_spec;

/* What an update rule sees of one step. */
typedef struct rd_optim_args {
  const double *p;
  uint64_t iteration; /* 0-based: Keras' optimizer.iterations before the update */
  double lr;          /* the rate at this step (rd_sched_rate) */
  double scalar;      /* the type's scalar state for this step (advance), else 1 */
} rd_optim_args;

typedef struct rd_optim_type {
  const char *name;   /* [train] optimizer = name */
  const char *keras;  /* Keras' class */
  double lr_default;
  double wd_default;  /* weight_decay when [train] does not set it: 0, or adamw's 0.004 */
  const char *const *keys; /* its own [train] keys (NULL-terminated): refused under other optimizers */
  /* Reads its keys from [train] (section sec) into p, with Keras' defaults. */
  void (*read)(rd_cfg *c, int sec, double *p);
  int (*slots)(const double *p); /* state floats per parameter */
  /* Slot k's name, Keras' (momentums, velocities, ...): its checkpoint piece is optimizer/<name>. */
  const char *(*slot_name)(const double *p, int k);
  /* Optional: slot k's initial value (else 0). */
  float (*initial)(const double *p, int k);
  /* Optional: a scalar the rule carries from step to step (nadam's u_product),
   * as a pure function of the previous one: its value for step `iteration`
   * from its value for the step before (1 before step 0). Rebuilt on resume by
   * replaying it, so it needs no room in checkpoints. */
  double (*advance)(const double *p, uint64_t iteration, double prev);
  /* The rule on w[0..n), g, and slot k at state[k * stride ..]: elementwise, so
   * a replica updated in chunks (stride = the replica's size) gets the bits of
   * one call. */
  void (*update)(const rd_optim_args *a, float *w, const float *g, float *state, size_t n, size_t stride);
} rd_optim_type;

/* The registered optimizers (src/optim/list.h), and the one called name or NULL. */
int rd_optim_count(void);
const rd_optim_type *rd_optim_type_at(int i);
const rd_optim_type *rd_optim_find(const char *name);

/* Reads [train] optimizer and everything above from section tr (errors go to
 * the config, cfg.h). */
void rd_optim_from_cfg(rd_cfg *c, int tr, rd_optim_spec *s);
/* The spec of type t with Keras' defaults and a constant rate (tests, benches). */
void rd_optim_spec_defaults(const rd_optim_type *t, rd_optim_spec *s);

/* State floats per parameter: the type's slots, then the moving average with use_ema. */
int rd_optim_slots(const rd_optim_spec *s);
/* x^n by squaring, in IEEE double. */
double rd_optim_powi(double x, uint64_t n);
/* The sum of squares of g[0..n) in double, in a fixed order: blocks of 256
 * summed in sequence, block sums added along a fixed pairwise tree. */
double rd_optim_sumsq(const float *g, size_t n);

/* One run's optimizer: the spec, and what it knows of the model's tensors. */
typedef struct rd_optim {
  const rd_optim_spec *s;
  size_t n;               /* trainable floats: arena[0, n) */
  int nt;                 /* trainable tensors */
  size_t *off, *len;      /* their slices */
  unsigned char *decay;   /* 1: weight decay applies to it */
  /* The range it updates and keeps state for: [0, n), or a rank's [lo, hi)
   * with shard_optimizer (rd_optim_shard); its state is slots * (hi - lo) floats. */
  size_t lo, hi;
  int sharded;            /* rd_optim_shard was called: the state's pieces are slabs */
  /* The norm's blocks with clipnorm (each tensor's 256 floats at a time) or
   * global_clipnorm (the arena's): their starts, blk[nblk] = n; tblk[t]: tensor
   * t's first block (clipnorm). nblk = 0 without a norm. sums: scratch, nblk. */
  size_t nblk, *blk, *tblk;
  double *sums;
  double scalar;          /* the type's scalar for the last step (advance) */
  float lr;               /* the rate of the last step */
  double lr_set;          /* > 0: the rate a callback set (reduce_lr_on_plateau), used instead of the spec's */
} rd_optim;

/* An optimizer's state as it stands, for a file to store: o's slots in state, after `iterations` steps. */
typedef struct rd_optim_view {
  const rd_optim *o;
  const float *state;
  uint64_t iterations;
} rd_optim_view;

void rd_optim_init(rd_optim *o, const rd_optim_spec *s, const rd_model *m);
void rd_optim_free(rd_optim *o);

/* ---- sharded state (ZeRO stage 1) ---------------------------------------------------
 * Each rank keeps the state of, and updates, one range of the trainable floats;
 * the parameters stay whole on every rank. Every operation is elementwise except
 * the norms of clipnorm and global_clipnorm, which are computed from 256-float
 * blocks' sums of squares along a fixed tree (rd_optim_sumsq's): so a range must
 * start at a block's start, the sums of every range are shared, and the bits are
 * those of one unsharded update at any np. */
/* The cut rule for rd_cut (comm.h), over a vector whose first n floats are the
 * trainable parameters: the largest block start <= x (any x without a norm), and
 * n for any x >= n, so that whatever follows the parameters stays in one range. */
size_t rd_optim_cut(const void *o, size_t x);
/* From now on o updates and keeps state for [lo, hi) (clipped to n). */
void rd_optim_shard(rd_optim *o, size_t lo, size_t hi);
/* The first block starting at or after x (nblk for x >= n). */
size_t rd_optim_block_at(const rd_optim *o, size_t x);
/* The sums of squares of g's blocks in o's range, into sums[rd_optim_block_at(lo) ..]. */
void rd_optim_block_sums(const rd_optim *o, const float *g, double *sums);
/* Step `iteration` on o's range, with every block's sum (nblk doubles, NULL
 * when nblk = 0): w and g are the whole vectors, state o's. */
void rd_optim_step_sums(rd_optim *o, uint64_t iteration, float *w, float *g, float *state, const double *sums);

/* The state's values before the first step (slots * n floats). */
void rd_optim_state_init(const rd_optim *o, float *state);
/* After resuming at `iteration` steps done: rebuilds the carried scalar. */
void rd_optim_resume(rd_optim *o, uint64_t iteration);
/* Step `iteration` (0-based): clips g in place, decays, updates w and state
 * (on o's range: rd_optim_step_sums with its own block sums). */
void rd_optim_step(rd_optim *o, uint64_t iteration, float *w, float *g, float *state);
/* Its checkpoint pieces: optimizer/iterations (*iterations, the step count its
 * schedule and bias corrections run on), optimizer/learning_rate (lr_set),
 * optimizer/<slot> for each slot of state, and optimizer/average with use_ema. Nadam's carried product is rebuilt
 * from the step count (rd_optim_resume), so it needs no piece. */
void rd_optim_pieces(const rd_optim *o, uint64_t *iterations, float *state, rd_pieces *ps);
/* The end of training: with use_ema, the weights take their moving average (o's range of them). */
void rd_optim_finalize(const rd_optim *o, float *w, const float *state);

#ifdef __cplusplus
}
#endif
#endif
