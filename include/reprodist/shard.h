/* shard: forward and backward of a whole model over one shard of rows.
 * The unit of work and of determinism: a shard's GEMMs have shapes that depend
 * only on the shard's row count, never on which rank runs it. Buffers are made
 * once by rd_shard_init; rd_shard_pass allocates nothing. No MPI, no files. */
#ifndef REPRODIST_SHARD_H
#define REPRODIST_SHARD_H

#include <stdint.h>

#include "reprodist/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rd_shard {
  const rd_model *m;
  int xent;        /* 1: softmax fused with sparse crossentropy; 0: mse */
  int64_t S, C;    /* max rows; classes (last layer units) */
  float *x;        /* (S, input): the caller fills the rows here */
  int32_t *y;      /* (S): and the labels here */
  float **act;     /* act[l]: (S, units_l) */
  float *d0, *d1;  /* (S, max width): gradient ping-pong */
} rd_shard;

void rd_shard_init(rd_shard *k, const rd_model *m, int64_t max_rows, int xent);
void rd_shard_free(rd_shard *k);

/* Forward over the first S rows of k->x / k->y; returns the loss summed over
 * the rows and adds the rows predicted right to *correct. With grad (an arena
 * of m->nparams floats), also writes the gradient of (loss sum / batch_n). */
double rd_shard_pass(rd_shard *k, const float *params, int64_t S, int64_t batch_n, float *grad, int64_t *correct);

#ifdef __cplusplus
}
#endif
#endif
