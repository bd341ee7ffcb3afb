/* kjson: JSON as Keras writes and reads it. Values are Jansson's (json_t,
 * objects keep their insertion order); rd_kjson_dumps prints them as Python's
 * json.dumps does with its defaults (", " and ": " separators, non-ASCII as
 * \uXXXX, floats as repr(): 0.001, 1e-07, 0.0), so a file reprodist writes
 * reads like the one Keras writes for the same model. */
#ifndef REPRODIST_KJSON_H
#define REPRODIST_KJSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The text of v, malloc'ed and NUL-terminated. */
char *rd_kjson_dumps(const json_t *v);

/* Parses n bytes of what (a file name, or "x.keras: config.json") into *out.
 * An error names what, the line and the column, with exit code RD_EINPUT. */
rd_status rd_kjson_parse(const char *what, const char *text, size_t n, json_t **out, rd_err *err);

/* Builders that keep call sites short: o[key] = value, taking the reference. */
void rd_kjson_set(json_t *o, const char *key, json_t *v);
/* A JSON list of n ints. */
json_t *rd_kjson_ints(const int64_t *v, int n);
/* {"module": module, "class_name": cls, "config": config, "registered_name": null}. */
json_t *rd_kjson_object(const char *module, const char *cls, json_t *config);

#ifdef __cplusplus
}
#endif
#endif
