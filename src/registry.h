/* registry: the layer types a config can use. reprodist's own (src/layers/,
 * listed in src/layers/builtin.h) and those of plugins register the same way,
 * through rd_registry_add; each type's name is a config section.
 *
 * Plugins are shared libraries named by [run] plugins (reprodist/layer.h tells
 * how to write one). Loading one checks, in order: the file exists, it is a
 * shared library, it exports RD_PLUGIN_SYMBOL, it was built for this
 * RD_LAYER_ABI, and its types' names are free (not a fixed section, not a
 * built-in type, not another plugin's). Each failure is one message naming the
 * plugin file. The XXH64 of each loaded plugin's bytes identifies it in the
 * environment fingerprint, the weights file and checkpoints.
 *
 * The registry is per process and only grows; loading the same file again is a
 * no-op. */
#ifndef REPRODIST_REGISTRY_H
#define REPRODIST_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "reprodist/layer.h"
#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* At most this many layer types, built-in and plugins together. */
#define RD_REGISTRY_MAX_TYPES 128
/* A layer type's self_size may be at most this many bytes. */
#define RD_REGISTRY_MAX_SELF (64 << 20)

/* Registers reprodist's built-in types (once; later calls do nothing). */
void rd_registry_init(void);
/* Registers a type; origin names where it comes from ("built in", a plugin
 * path) in messages. Refuses bad or clashing names. */
rd_status rd_registry_add(const rd_layer_type *t, const char *origin, rd_err *err);
/* The type called name, or NULL. */
const rd_layer_type *rd_registry_find(const char *name);
/* "[dense] [my_custom_layer] ...", every registered type, in registration order. */
void rd_registry_names(char *buf, size_t n);
/* The number of registered types, and the i-th. */
int rd_registry_count(void);
const rd_layer_type *rd_registry_type(int i);

/* Loads the plugin at path and registers its types; id (idn bytes) gets
 * "name@xxh64". where ("c.cfg:3") locates the setting that named it, for the
 * message. */
rd_status rd_registry_load(const char *path, const char *where, char *id, size_t idn, rd_err *err);
/* The loaded plugins as "name@xxh64" joined by ",", or "" without plugins. */
const char *rd_registry_plugins(void);
/* The plugin file (resolved path) that defines type t; NULL for a built-in type. */
const char *rd_registry_origin(const rd_layer_type *t);
/* The loaded plugins' files (resolved paths), in load order. */
int rd_registry_plugin_count(void);
const char *rd_registry_plugin_path(int i);

#ifdef __cplusplus
}
#endif
#endif
