/* model: the layer stack described by a config, and its parameter arena.
 *
 * All parameters live in one contiguous float buffer (the arena); each tensor is
 * a slice of it at a fixed offset, in Keras order: for each layer, kernel then
 * bias. Reducing, hashing, checkpointing and writing are one call on one buffer. */
#ifndef REPRODIST_MODEL_H
#define REPRODIST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "reprodist/cfg.h"
#include "reprodist/init.h"
#include "reprodist/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RD_ACT_LINEAR, RD_ACT_RELU, RD_ACT_TANH, RD_ACT_SIGMOID, RD_ACT_SOFTMAX } rd_act;

#define RD_NAME_MAX 72

typedef struct rd_tensor {
  char layer[RD_NAME_MAX];
  char name[16];           /* "kernel" or "bias" */
  int ndim;
  int64_t shape[2];
  size_t offset, numel;    /* slice of the arena */
  rd_init_spec init;
  uint64_t seed;           /* the tensor seed its values were drawn from */
  int explicit_seed;       /* 1 if kernel_seed / bias_seed set it */
} rd_tensor;

typedef struct rd_layer {
  char name[RD_NAME_MAX];
  int64_t in, units;
  rd_act act;
  int use_bias;
  int kernel, bias;        /* indices into rd_model.tensors; bias -1 without bias */
} rd_layer;

typedef struct rd_model {
  uint64_t global_seed;
  int64_t input;
  int nlayers, ntensors;
  rd_layer *layers;
  rd_tensor *tensors;
  size_t nparams;
} rd_model;

/* Builds the model from a validated config. Errors name the file and line. */
rd_status rd_model_from_cfg(rd_model *m, const rd_cfg *cfg, rd_err *err);
void rd_model_free(rd_model *m);
/* Writes every tensor's initial values into params[0 .. m->nparams). */
void rd_model_init_params(const rd_model *m, float *params);
const char *rd_act_name(rd_act a);
/* The widest layer (input included): sizes activation buffers. */
int64_t rd_model_max_width(const rd_model *m);

#ifdef __cplusplus
}
#endif
#endif
