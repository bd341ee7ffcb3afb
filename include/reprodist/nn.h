/* nn: the math of one shard. Pure functions over float pointers and sizes:
 * no MPI, no files, no globals, no printing. Shapes in comments as (rows, cols),
 * all row-major. S is the number of rows (samples) in the shard; the same shard
 * always has the same S, whichever rank runs it, so every GEMM has the same shape. */
#ifndef REPRODIST_NN_H
#define REPRODIST_NN_H

#include <stdint.h>

#include "reprodist/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Y (S, out) = act(A (S, in) . W (in, out) + b (out)); b may be NULL.
 * With act = RD_ACT_SOFTMAX and logits_only, Y holds the logits. */
void rd_nn_dense_forward(const float *A, int64_t S, int64_t in, const float *W, const float *b, int64_t out,
                         rd_act act, int logits_only, float *Y);

/* In place: dY (S, n) = dL/dY becomes dL/dZ, given the layer's output Y. */
void rd_nn_act_backward(rd_act act, const float *Y, int64_t S, int64_t n, float *dY);

/* dW (in, out) = A^T . dZ;  db (out) = column sums of dZ (if db);  dA (S, in) = dZ . W^T (if dA). */
void rd_nn_dense_backward(const float *A, const float *dZ, const float *W, int64_t S, int64_t in, int64_t out,
                          float *dW, float *db, float *dA);

/* Sparse categorical crossentropy from logits Z (S, C), labels y (S):
 * returns the sum over rows of -log softmax(Z)[y]; *correct counts rows whose
 * first arg-max is y; dZ (S, C) = (softmax(Z) - onehot(y)) / batch_n. */
double rd_nn_xent(const float *Z, const int32_t *y, int64_t S, int64_t C, int64_t batch_n, float *dZ,
                  int64_t *correct);

/* Mean squared error against onehot(y): returns the sum over rows of
 * mean_k (Y - t)^2; dY = 2 (Y - t) / C / batch_n. */
double rd_nn_mse(const float *Y, const int32_t *y, int64_t S, int64_t C, int64_t batch_n, float *dY,
                 int64_t *correct);

#ifdef __cplusplus
}
#endif
#endif
