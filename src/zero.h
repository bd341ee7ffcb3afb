/* zero: sharded steps (ZeRO stage 1, [train] shard_optimizer): the glue
 * between comm's two halves of the canonical allreduce and the optimizer's
 * ranges. A step: rd_zero_scatter (this rank's range of the sum; what follows
 * the parameters in the vector, the batch statistics and metrics, from the one
 * rank whose range holds it), then rd_zero_step (the norms' block sums from
 * every range, the update of this rank's range) and rd_zero_share (every range
 * of the parameters to every rank). docs/SCALING.md, section 5. */
#ifndef REPRODIST_ZERO_H
#define REPRODIST_ZERO_H

#include <stddef.h>
#include <stdint.h>

#include "comm.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rd_zero {
  rd_allreduce *a;      /* the step's allreduce, its ranges cut at the optimizer's norm blocks */
  rd_cut cut;
  size_t G, len;        /* the trainable floats (what is updated); the summed vector's floats */
  int tail;             /* the rank whose range holds [G, len) */
  int *bcount, *bdispl; /* each rank's norm blocks: how many, the first */
} rd_zero;

/* Collective. The allreduce for vectors of len floats (the parameters first)
 * and up to max_shards shards, and o's range (rd_optim_shard). o must outlive z.
 * Agreed: on failure every rank returns err's code, with nothing to free. */
rd_status rd_zero_init(rd_zero *z, rd_optim *o, size_t len, int64_t max_shards, rd_err *err);
void rd_zero_free(rd_zero *z);
/* Collective. Returns a vector holding the sum on this rank's range and on [G, len). */
float *rd_zero_scatter(rd_zero *z, rd_reduce *local, float *out);
/* Collective. Step `iteration` of o on its range of params, from g (rd_zero_scatter's). */
void rd_zero_step(rd_zero *z, rd_optim *o, uint64_t iteration, float *params, float *g, float *state);
/* Collective. Every rank's range of params[0, G) to every rank. */
void rd_zero_share(rd_zero *z, float *params);
/* Collective. n = o's range floats of slab (one state slot) placed in buf (G floats) and shared: afterwards
 * buf holds the whole slot on every rank. */
void rd_zero_gather_slot(rd_zero *z, const rd_optim *o, const float *slab, float *buf);

#ifdef __cplusplus
}
#endif
#endif
