/* cfg: the strict INI-style config format.
 *
 *   # comment
 *   [section]
 *   key = value        # trailing comments are allowed after whitespace
 *
 * Sections and keys come from a fixed schema (cfg.c); [dense] may repeat and
 * defines the layers in order. Everything else is rejected with one line
 * "path:line: message": unknown sections or keys, duplicate keys, lines without
 * '=', keys outside a section, bad numbers (junk, overflow, NaN, inf), values
 * out of range and unknown enum values. Overrides ("--set SECTION.KEY=VALUE",
 * with SECTION.N.KEY for the N-th repeated section, N from 0) go through the
 * same checks and are reported as "--set SECTION.KEY=VALUE: message".
 *
 * Usage:
 *   rd_cfg c; rd_err e = {0};
 *   if (rd_cfg_parse(&c, "x.cfg", text, len, &e) || rd_cfg_set(&c, "run.seed=7", &e) ||
 *       rd_cfg_validate(&c, &e)) { ...report e... }
 *   int64_t units; rd_cfg_get_int(&c, "dense", 0, "units", 0, &units);
 *   rd_cfg_free(&c); */
#ifndef REPRODIST_CFG_H
#define REPRODIST_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "reprodist/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rd_cfg_item {
  int sec;     /* index into rd_cfg.secs */
  char *key;
  char *value; /* trimmed */
  int line;    /* 1-based line in the file; 0 when it came from --set */
  char *origin;/* the --set text it came from, or NULL */
} rd_cfg_item;

typedef struct rd_cfg_section {
  char *name;
  int ordinal; /* 0 for the first [dense], 1 for the second, ... */
  int line;
} rd_cfg_section;

typedef struct rd_cfg {
  char *path;
  rd_cfg_section *secs;
  int nsecs;
  rd_cfg_item *items;
  int nitems;
} rd_cfg;

/* Parses text (len bytes, need not be NUL-terminated). Caller owns cfg: rd_cfg_free. */
rd_status rd_cfg_parse(rd_cfg *cfg, const char *path, const char *text, size_t len, rd_err *err);
/* Applies one "SECTION.KEY=VALUE" or "SECTION.N.KEY=VALUE" override. */
rd_status rd_cfg_set(rd_cfg *cfg, const char *assignment, rd_err *err);
/* Checks every value against the schema: types, ranges, enums. */
rd_status rd_cfg_validate(const rd_cfg *cfg, rd_err *err);
void rd_cfg_free(rd_cfg *cfg);

/* Number of sections called name (e.g. how many [dense]). */
int rd_cfg_count(const rd_cfg *cfg, const char *section);
/* The item, or NULL. ordinal picks among repeated sections. */
const rd_cfg_item *rd_cfg_find(const rd_cfg *cfg, const char *section, int ordinal, const char *key);
/* Writes "path:line" or "--set ..." for an item (or for the section header when
 * item is NULL and sec >= 0) into buf. */
const char *rd_cfg_where(const rd_cfg *cfg, const rd_cfg_item *item, int sec, char *buf, size_t n);

/* Typed getters: return 1 and set *out when the key is present (values were
 * validated already), 0 and set *out = dflt when it is absent. */
int rd_cfg_get_int(const rd_cfg *cfg, const char *sec, int ord, const char *key, int64_t dflt, int64_t *out);
int rd_cfg_get_u64(const rd_cfg *cfg, const char *sec, int ord, const char *key, uint64_t dflt, uint64_t *out);
int rd_cfg_get_double(const rd_cfg *cfg, const char *sec, int ord, const char *key, double dflt, double *out);
int rd_cfg_get_bool(const rd_cfg *cfg, const char *sec, int ord, const char *key, int dflt, int *out);
int rd_cfg_get_str(const rd_cfg *cfg, const char *sec, int ord, const char *key, const char *dflt, const char **out);

/* The canonical text of the result-relevant part of the config: sections in file
 * order, keys sorted, values normalised (numbers re-printed), keys that cannot
 * change the weights (output and other paths of results) left out. malloc'ed. */
char *rd_cfg_canonical(const rd_cfg *cfg);
/* XXH64 (seed 0) of rd_cfg_canonical. */
uint64_t rd_cfg_digest(const rd_cfg *cfg);
/* The same without [train] epochs: what a checkpoint must match, so that a run
 * can be resumed with more (or fewer) epochs. */
uint64_t rd_cfg_digest_resumable(const rd_cfg *cfg);

/* Strict number parsing shared with the command line. Return 0 on success. */
int rd_parse_int(const char *s, int64_t *out);
int rd_parse_u64(const char *s, uint64_t *out);
int rd_parse_double(const char *s, double *out);

#ifdef __cplusplus
}
#endif
#endif
