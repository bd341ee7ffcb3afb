/* keras_model: a reprodist model as Keras 3's model config, the config.json
 * of a .keras archive (keras/src/saving/serialization_lib.py).
 *
 * A stack of layers is a Sequential model and a graph (a section with
 * `inputs`) a Functional one, its layers in Keras' model.layers order
 * (m->keras_order) with their inbound_nodes. Each built-in layer is its Keras
 * class with every argument Keras 3.15 writes: the config's values, Keras'
 * defaults where the config is silent, initializers with their seeds,
 * regularizers, and fixed values for what reprodist does not vary
 * (data_format channels_last, dilation_rate 1, constraints none). A plugin
 * layer is a custom class (see rd_keras_class_name) whose config holds its
 * section's keys. With a training spec, compile_config holds the loss, the
 * optimizer with its schedule and arguments, and the metrics.
 *
 * Also the layout of Keras 3's weights file (model.weights.h5): each layer's
 * variables at layers/<class in snake case>[_N]/vars/<i>, N counting the
 * layers of that class in model.layers order, trainable ones first. */
#ifndef REPRODIST_KERAS_MODEL_H
#define REPRODIST_KERAS_MODEL_H

#include <jansson.h>

#include "cfg.h"
#include "model.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A built-in layer type's Keras class: whether Keras records a build_config
 * for it, and its arguments in the order Keras writes them ("name:kind[:a[:b]]",
 * ';' between them; keras_model.c says what the kinds are). */
typedef struct rd_keras_class {
  const char *type, *keras;
  int build;
  const char *args;
} rd_keras_class;

/* One "name:kind[:a[:b]]" argument of a class's args, split in place (spec is
 * modified); prefix is "kernel_" of kernel_initializer (up to the last '_'). */
typedef struct rd_keras_arg {
  const char *name, *kind, *a, *b;
  char prefix[64];
} rd_keras_arg;
void rd_keras_arg_split(char *spec, rd_keras_arg *arg);

/* The class of reprodist's layer type, or of Keras' class name; NULL if none. */
const rd_keras_class *rd_keras_class_of_type(const char *type);
const rd_keras_class *rd_keras_class_of_keras(const char *keras);
/* The Keras initializer class of each rd_init_kind ("GlorotUniform"). */
const char *rd_keras_init_class(int kind);

/* The model's config (and compile_config when t is not NULL), new reference. */
json_t *rd_keras_model_json(const rd_model *m, const rd_cfg *c, const rd_train_spec *t);

/* Keras' class of layer L: "Conv2D"; a plugin type's is its name in CamelCase
 * ("my_scale" -> "MyScale"), the class the user registers in Python. */
const char *rd_keras_class_name(const rd_layer *L, char *buf, size_t n);

/* Keras' naming.to_snake_case: "Conv2D" -> "conv2d", "RMSprop" -> "rm_sprop". */
void rd_keras_snake(const char *cls, char *out, size_t n);

/* The weights-file group of each layer, in model order: groups[l] (l a model
 * layer index) = "layers/conv2d_1". buf holds m->nlayers names of RD_KERAS_GROUP_MAX. */
#define RD_KERAS_GROUP_MAX (RD_NAME_MAX + 16)
void rd_keras_groups(const rd_model *m, char (*groups)[RD_KERAS_GROUP_MAX]);
/* The group of the (count+1)-th layer of class cls: "layers/conv2d", "layers/conv2d_1", ... */
void rd_keras_group(const char *cls, int count, char *out);

#ifdef __cplusplus
}
#endif
#endif
