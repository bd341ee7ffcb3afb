/* nn: the math of one shard. Pure functions over float pointers and sizes:
 * no MPI, no files, no globals, no printing. Shapes in comments as (rows, cols),
 * all row-major. S is the number of rows (samples) in the shard; the same shard
 * always has the same S, whichever rank runs it, so every GEMM has the same shape. */
#ifndef REPRODIST_NN_H
#define REPRODIST_NN_H

#include <stdint.h>

#include "kern.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The exp, log, tanh and sigmoid come from o (kern.h: libm's or pmath's). */

/* In place: Y (S, n) = act(Y), row by row (softmax over each row's n values). */
void rd_nn_act_forward(const rd_kern_ops *o, rd_act act, int64_t S, int64_t n, float *Y);

/* In place: dY (S, n) = dL/dY becomes dL/dZ, given the layer's output Y. */
void rd_nn_act_backward(rd_act act, const float *Y, int64_t S, int64_t n, float *dY);

/* Sparse categorical crossentropy from logits Z (S, C), labels y (S):
 * returns the sum over rows of -log softmax(Z)[y]; *correct counts rows whose
 * first arg-max is y; dZ (S, C) = (softmax(Z) - onehot(y)) / batch_n. */
double rd_nn_xent(const rd_kern_ops *o, const float *Z, const int32_t *y, int64_t S, int64_t C, int64_t batch_n, float *dZ,
                  int64_t *correct);

/* Mean squared error against onehot(y): returns the sum over rows of
 * mean_k (Y - t)^2; dY = 2 (Y - t) / C / batch_n. */
double rd_nn_mse(const float *Y, const int32_t *y, int64_t S, int64_t C, int64_t batch_n, float *dY,
                 int64_t *correct);

#ifdef __cplusplus
}
#endif
#endif
