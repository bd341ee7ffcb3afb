/* loss: the training losses, as Keras 3 defines them (keras/src/losses/
 * losses.py): the loss of one sample from the last layer's output and the
 * sample's integer label, and its gradient. Each is one file in src/losses/
 * and one line in src/losses/list.h; [train] loss = NAME picks it and its keys
 * (label_smoothing, ...) are read from [train].
 *
 * A fused loss takes the last layer's pre-activation (softmax or sigmoid
 * logits) and writes dL/dz directly, which is exact and stable for any
 * logits; Keras computes the same loss from the probabilities, clipped to
 * [1e-7, 1 - 1e-7], which differs only where a probability is that close to
 * 0 or 1. The loss is the per-sample value summed over the shard's rows; the
 * gradient is already divided by the batch size (the batch mean). */
#ifndef REPRODIST_LOSS_H
#define REPRODIST_LOSS_H

#include <stdint.h>

#include "cfg.h"
#include "kern.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RD_LOSS_NP 4

struct rd_loss_type;

typedef struct rd_loss_spec {
  const struct rd_loss_type *type;
  double p[RD_LOSS_NP]; /* the type's arguments (its file names them) */
} rd_loss_spec;

typedef struct rd_loss_type {
  const char *name;   /* [train] loss = name */
  const char *keras;  /* Keras' class */
  const char *const *keys; /* its own [train] keys (NULL-terminated): refused under other losses */
  /* Reads its keys from [train] (section sec) into p. */
  void (*read)(rd_cfg *c, int sec, double *p);
  int fused;          /* 1: takes the pre-activation of `act` and writes dL/dz */
  int act;            /* the rd_act the last layer needs (fused), or -1: any */
  /* Label classes for a last layer of `units` outputs (binary: 2 for one unit). */
  int64_t (*classes)(int64_t units);
  /* Sum over the S rows of the per-sample loss; *correct += rows right (the
   * accuracy Keras pairs with the loss); dZ (S, C), when not NULL, = dL/dZ of
   * the batch mean over batch_n samples. */
  double (*fn)(const rd_kern_ops *o, const double *p, const float *Z, const int32_t *y, int64_t S, int64_t C,
               int64_t batch_n, float *dZ, int64_t *correct);
} rd_loss_type;

int rd_loss_count(void);
const rd_loss_type *rd_loss_type_at(int i);
const rd_loss_type *rd_loss_find(const char *name);
/* Reads [train] loss and its keys from section tr. */
void rd_loss_from_cfg(rd_cfg *c, int tr, rd_loss_spec *s);
/* The spec of a loss with its defaults (tests). */
void rd_loss_spec_defaults(const rd_loss_type *t, rd_loss_spec *s);
/* The first index of the largest of n values. */
int64_t rd_loss_argmax(const float *z, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
