/* regularizer: Keras 3's L1, L2 and L1L2 (keras/src/regularizers/
 * regularizers.py) on weights and on layer outputs.
 *
 * A tensor declared with keys "kernel_" (rd_api.tensor) takes
 * kernel_regularizer = l1 | l2 | l1_l2 and its factors kernel_l1, kernel_l2:
 * Keras' kernel_regularizer, bias_regularizer, depthwise_regularizer,
 * pointwise_regularizer, gamma_regularizer and beta_regularizer, and the same
 * for a custom layer's tensors. Every layer takes activity_regularizer (with
 * activity_l1, activity_l2) on its output. Defaults as Keras': l1 -> L1(l1 =
 * 0.01), l2 -> L2(l2 = 0.01), l1_l2 -> L1L2(l1 = 0, l2 = 0).
 *
 * The penalty of a tensor x is l1 sum |x| + l2 sum x^2 (no factor 1/2), its
 * gradient l1 sign(x) + 2 l2 x. Weight penalties join each batch's loss (and
 * the test loss, as Keras' compute_loss); an output's penalty is divided by
 * the batch size (Keras' Layer.__call__), i.e. it is a per-sample term of the
 * loss. Sums are in double in a fixed order (blocks of 256, a fixed tree), so
 * every rank gets the same value. No MPI. */
#ifndef REPRODIST_REGULARIZER_H
#define REPRODIST_REGULARIZER_H

#include <stddef.h>

#include "cfg.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads "<p>regularizer" and "<p>l1", "<p>l2" of section sec into *l1, *l2 (0:
 * none). allowed 0 marks them as not applying, with `why`. Returns -1 on a bad
 * value (the config holds the error). */
int rd_reg_read(rd_cfg *c, int sec, const char *p, int allowed, const char *why, double *l1, double *l2);

/* The weight penalty of the model's regularized tensors at params. */
double rd_reg_penalty(const rd_model *m, const float *params);
/* g[t] += l1 sign(w) + 2 l2 w on each regularized tensor (g: the trainable part of the arena). */
void rd_reg_grad(const rd_model *m, const float *params, float *g);
/* 1 if any tensor is regularized. */
int rd_reg_any(const rd_model *m);

/* An output's penalty: l1 sum |y| + l2 sum y^2 over n floats, in double. */
double rd_reg_sum(double l1, double l2, const float *y, size_t n);
/* dy += (l1 sign(y) + 2 l2 y) / batch_n over n floats. */
void rd_reg_add_grad(double l1, double l2, const float *y, size_t n, int64_t batch_n, float *dy);

#ifdef __cplusplus
}
#endif
#endif
