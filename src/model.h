/* model: the layer stack a config describes, and its parameter arena.
 *
 * Each layer section ([dense], [my_custom_layer], ...) is one layer of the
 * registered type of that name (registry.h); its build (layer.h) reads the
 * section's keys, checks the input shape and declares tensors. The core reads
 * `name` for every layer; unnamed layers get Keras' names per type: dense,
 * dense_1, ..., conv2d, conv2d_1, ...
 *
 * All parameters live in one contiguous float buffer (the arena); each tensor
 * is a slice of it at a fixed offset. The trainable tensors come first, in
 * model order (for each layer, its tensors in the order it declared them),
 * then the non-trainable ones: the optimizer, the gradient and the reduction
 * touch only arena[0, ntrain). Reducing, hashing, checkpointing and writing
 * are one call on one buffer. */
#ifndef REPRODIST_MODEL_H
#define REPRODIST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "init.h"
#include "kern.h"
#include "reprodist/layer.h"
#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RD_ACT_LINEAR, RD_ACT_RELU, RD_ACT_TANH, RD_ACT_SIGMOID, RD_ACT_SOFTMAX } rd_act;

#define RD_NAME_MAX 72

typedef struct rd_tensor {
  char layer[RD_NAME_MAX];
  char name[32];           /* "kernel", "bias", "gamma", ... */
  rd_shape shape;          /* ndim 1..4, Keras' layout */
  int trainable;
  size_t offset, numel;    /* slice of the arena */
  rd_init_spec init;
  uint64_t seed;           /* the tensor seed its values were drawn from */
  int explicit_seed;       /* 1 if a *_seed key set it */
  double reg_l1, reg_l2;   /* its regularizer (regularizer.h), 0 for none */
} rd_tensor;

typedef struct rd_layer {
  const rd_layer_type *type;
  char name[RD_NAME_MAX];
  int sec;                 /* its config section */
  rd_shape in, out;        /* per sample; in is ins[0] */
  int nin;                 /* its inputs: nin sources, in `inputs` order */
  int src[RD_MAX_INPUTS];  /* the layer each comes from (an earlier one), or -1: the model input */
  rd_shape ins[RD_MAX_INPUTS];
  rd_act act;              /* applied by the core after forward (layer.h, "Activations") */
  rd_act run_act;          /* what the shard pass applies: act, or the activation of the
                              Activation layer fused into this one (RD_LAYER_NO_Y) */
  int fused;               /* an Activation layer fused into its source: a view of the
                              source's output, like a reshape, in the shard pass */
  void *self;              /* type->self_size bytes, owned by the model */
  int t0, nt;              /* its tensors: m->tensors[t0 .. t0 + nt), declaration order */
  uint64_t seed;           /* its draw seed (rd_io.seed) */
  size_t nstats, stats_off;/* batch statistics per shard: floats, and offset in the stats block */
  double act_l1, act_l2;   /* its activity_regularizer (regularizer.h), 0 for none */
  char *crash[3];          /* a plugin layer: the line sig.c prints should it crash in build,
                              forward or backward (rd_sig_crash_line); NULL for a built-in one */
} rd_layer;

enum { RD_CRASH_BUILD = 0, RD_CRASH_FORWARD = 1, RD_CRASH_BACKWARD = 2 };

typedef struct rd_model {
  uint64_t global_seed;
  rd_shape input;          /* [model] input, per sample */
  int nlayers, ntensors;
  rd_layer *layers;        /* config order, which is a topological order: a layer's
                              sources come before it; the last is the output */
  int graph;               /* 1 if a section names its `inputs` (a Keras Functional
                              model: its file lists the input layer too), 0 for a stack */
  int *keras_order;        /* the layers in Keras' model.layers order (by depth in the
                              graph, keras/src/ops/function.py); identity for a stack */
  rd_tensor *tensors;
  size_t nparams;          /* floats in the arena */
  size_t ntrain;           /* the trainable ones, arena[0, ntrain) */
  size_t nstats;           /* batch-statistics floats per shard, every layer's */
} rd_model;

/* Keras' name of a Functional model's input layer (listed first in its file). */
#define RD_INPUT_LAYER_NAME "input_layer"

/* Builds the model from the config: [run] seed, [model] input and every layer
 * section in file order, reading their keys (cfg.h). A section's `inputs`
 * (names of earlier layers, or `input`) are its sources; without it, the
 * section before it (the model input for the first). Errors are recorded in
 * the config (rd_cfg_fail / bad values) and reported by rd_cfg_finish; returns
 * RD_EINPUT when the model could not be built. */
rd_status rd_model_from_cfg(rd_model *m, rd_cfg *cfg);
void rd_model_free(rd_model *m);
/* Writes every tensor's initial values into params[0 .. m->nparams). */
void rd_model_init_params(const rd_model *m, float *params);
const char *rd_act_name(rd_act a);
/* "(784, 128)", "(10,)". */
const char *rd_shape_text(const rd_shape *s, char *buf, size_t n);
/* Floats of the widest activation (input included), per sample. */
int64_t rd_model_max_width(const rd_model *m);
/* The table of functions layers call (layer.h), with the arithmetic (gemm,
 * exp, log, tanh) of the given kernel mode. Layers build with the openblas one. */
const rd_api *rd_model_api(rd_kern_mode mode);
/* 1 when RD_UNFUSED=1 (read once): every pass runs as written, no Activation
 * layer fused into its source (rd_layer.fused), no relu run inside a layer
 * (rd_layer_takes_relu) and no convolution split into row blocks (layer.h,
 * gemm_chains). The bits are the same either way; tests compare. */
int rd_model_unfused(void);

/* 1 when the relu the shard pass would apply after layer L (run_act) is
 * applied by the layer itself, in its own passes (layer.h,
 * RD_LAYER_TAKES_RELU: io->relu). */
int rd_layer_takes_relu(const rd_layer *L);

#ifdef __cplusplus
}
#endif
#endif
