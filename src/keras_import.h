/* keras_import: a Keras model as the config's model ([model] keras = FILE).
 *
 * FILE is the JSON of Keras' model.to_json(), or a .keras archive whose
 * config.json is used. Its layers become the config's layer sections, in the
 * order the JSON lists them (Keras' model.layers order), as if written by
 * hand: each built-in class as its section (keras_model.h's table), each
 * argument that differs from Keras' default as a key, initializers with their
 * seeds, regularizers; a Functional model's inbound layers as `inputs` where
 * the source is not the section before. [model] input is the input layer's
 * shape. So a config exported with `reprodist keras-config` and imported
 * again has the same canonical text when it writes no key at its default, and
 * a stack (or a graph written in Keras' order) the same bits.
 *
 * Nothing is silently ignored: a class, argument or value reprodist does not
 * support (dilation_rate 2, channels_first, groups 2, a dtype policy other than
 * float32, a shared layer, several inputs or outputs) is an error naming the
 * file, the layer, the argument and the value, and what is supported. A custom
 * class registered as reprodist>Class maps to the plugin layer type whose
 * CamelCase name is Class (my_scale: MyScale), its config keys as section keys. */
#ifndef REPRODIST_KERAS_IMPORT_H
#define REPRODIST_KERAS_IMPORT_H

#include "cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* If [model] has keras = FILE, adds the layer sections and [model] input from
 * it (the config must have neither). Errors: RD_EINPUT with one message. */
rd_status rd_keras_import(rd_cfg *c, rd_err *err);

#ifdef __cplusplus
}
#endif
#endif
