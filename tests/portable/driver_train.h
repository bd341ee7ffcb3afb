/* The portable and SimGrid drivers' training loop (driver_train.c). Test code: no MPI here. */
#ifndef REPRODIST_DRIVER_TRAIN_H
#define REPRODIST_DRIVER_TRAIN_H

#include <stdint.h>

#include "optim.h"
#include "reduce.h"

typedef struct rd_driver_dist {
  int P, rank;
  /* Collective: the whole sum of every rank's local shards, into out or elsewhere. */
  const float *(*sum)(void *ctx, rd_reduce *local, float *out);
  void *ctx;
  /* Optional, sharded steps (ZeRO-1; NULL: none). shard gives the optimizer its
   * range before the first step (len: the summed floats); then each step
   * scatter replaces sum (the sum on this rank's range and on the statistics)
   * and update replaces rd_optim_step (the range's update, then every range
   * of the parameters to every rank). All collective. */
  void (*shard)(void *ctx, rd_optim *o, size_t len, int64_t max_shards);
  float *(*scatter)(void *ctx, rd_reduce *local, float *out);
  void (*update)(void *ctx, rd_optim *o, uint64_t iteration, float *params, float *g, float *state);
} rd_driver_dist;

/* Returns 0, or 2 when the config cannot be read (a message on stderr). */
int rd_driver_train(const char *path, int64_t steps, int64_t B, int64_t S, const rd_driver_dist *d);

#endif
