/* The portable and SimGrid drivers' training loop (driver_train.c). Test code: no MPI here. */
#ifndef REPRODIST_DRIVER_TRAIN_H
#define REPRODIST_DRIVER_TRAIN_H

#include <stdint.h>

#include "reduce.h"

typedef struct rd_driver_dist {
  int P, rank;
  /* Collective: the whole sum of every rank's local shards, into out or elsewhere. */
  const float *(*sum)(void *ctx, rd_reduce *local, float *out);
  void *ctx;
} rd_driver_dist;

/* Returns 0, or 2 when the config cannot be read (a message on stderr). */
int rd_driver_train(const char *path, int64_t steps, int64_t B, int64_t S, const rd_driver_dist *d);

#endif
