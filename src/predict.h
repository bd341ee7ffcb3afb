/* predict: a model's outputs (the last layer's activation: softmax
 * probabilities for a classifier) for every sample of an input, computed over
 * fixed shards of the config's shard_size rows, so each row's numbers are the
 * same at any rank count, and written as .npy or HDF5. */
#ifndef REPRODIST_PREDICT_H
#define REPRODIST_PREDICT_H

#include <stdint.h>

#include "log.h"
#include "model.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Collective. x (n rows of the model's input, the same on every rank) in;
 * rank 0's out (n x C floats, C the last layer's width) receives every row's
 * output; other ranks may pass NULL. */
rd_status rd_predict_run(const rd_train_spec *t, const rd_model *m, const float *params, const float *x, int64_t n,
                         float *out, rd_err *err);

/* Rank 0: writes the (n, c) float32 matrix to path, a .npy file, or an HDF5
 * file with the dataset /predictions (any other name), through a temporary in
 * the same directory renamed into place: an existing file is replaced only
 * by a complete one. */
rd_status rd_predict_write(const char *path, const float *out, int64_t n, int64_t c, rd_err *err);

#ifdef __cplusplus
}
#endif
#endif
