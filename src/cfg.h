/* cfg: the strict INI-style config format, and reading it key by key.
 *
 *   # comment
 *   [section]
 *   key = value        # trailing comments are allowed after whitespace
 *
 * Parsing (rd_cfg_parse) checks only the syntax: "[name]" headers, "key =
 * value" lines, keys of lower-case letters, digits and '_', no duplicate key in
 * a section, no duplicate of the fixed sections [run] [model] [data] [train].
 * Any other section is a layer and may repeat; which layer types exist is the
 * registry's business (registry.h). Overrides ("--set SECTION.KEY=VALUE", with
 * SECTION.N.KEY for the N-th of a repeated section, N from 0) replace or add
 * items and are reported as "--set SECTION.KEY=VALUE: message".
 *
 * Reading, as darknet's option lists do: whoever uses a section reads its keys
 * with the typed readers below, which check the value (junk, overflow, NaN,
 * inf, ranges, enums) and mark the key as read; a section's reader marks the
 * section visited first. rd_cfg_finish then reports, in this order: the first
 * bad value in file order; else the first key of a visited section nobody read
 * ("unknown key 'unit' in [dense]", or why it does not apply: a typo is the
 * likeliest cause of anything else that went wrong there); else the first
 * error a reader recorded. Every message is one line naming the file and line.
 *
 * The canonical text (rd_cfg_canonical) is built from what was read, so it
 * exists only after a successful read of every key.
 *
 * Usage:
 *   rd_cfg c; rd_err e = {0};
 *   rd_cfg_parse(&c, "x.cfg", text, len, &e) || rd_cfg_set(&c, "run.seed=7", &e);
 *   int s = rd_cfg_section(&c, "train", 0);
 *   int64_t epochs; rd_cfg_int(&c, s, "epochs", 1, 0, 1e9, 0, &epochs);
 *   ... rd_cfg_finish(&c, &e) ...; rd_cfg_free(&c); */
#ifndef REPRODIST_CFG_H
#define REPRODIST_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How an item was read: its type decides its canonical form. */
typedef enum { RD_CFG_UNREAD, RD_CFG_INT, RD_CFG_U64, RD_CFG_FLOAT, RD_CFG_BOOL, RD_CFG_STR, RD_CFG_INTS } rd_cfg_type;

typedef struct rd_cfg_item {
  int sec;       /* index into rd_cfg.secs */
  char *key;
  char *value;   /* trimmed */
  int line;      /* 1-based line in the file; 0 when it came from --set */
  char *origin;  /* where it came from when not a line of the file ("--set run.seed=7", or its
                    section's origin), or NULL */
  /* Filled by the readers: */
  rd_cfg_type type;
  int canon;     /* 1: can change the result, so it enters the canonical text */
  char *canon_value; /* canonical value, when not the value re-printed (see rd_cfg_canon_value) */
  char *bad;     /* the message of a bad value, or NULL */
  char *na;      /* why the key does not apply here, or NULL */
} rd_cfg_item;

typedef struct rd_cfg_sec {
  char *name;
  int ordinal; /* 0 for the first [dense], 1 for the second, ... */
  int line;    /* 0 when --set created it */
  int visited; /* its reader ran (rd_cfg_visit): a key it did not read is unknown */
  char *origin; /* NULL, or where a section a program made came from ("m.json: layer 'dense'") */
} rd_cfg_sec;

typedef struct rd_cfg {
  char *path;
  rd_cfg_sec *secs;
  int nsecs;
  rd_cfg_item *items;
  int nitems;
  rd_err first;  /* the first error a reader recorded with rd_cfg_fail */
} rd_cfg;

/* The sections that are not layers; each appears at most once: "run", "model",
 * "data", "train", then the learning-rate schedules (src/schedules/list.h), NULL. */
extern const char *const rd_cfg_fixed_sections[];
int rd_cfg_is_fixed(const char *section);

/* Parses text (len bytes, need not be NUL-terminated). Caller owns cfg: rd_cfg_free. */
rd_status rd_cfg_parse(rd_cfg *cfg, const char *path, const char *text, size_t len, rd_err *err);
/* Applies one "SECTION.KEY=VALUE" or "SECTION.N.KEY=VALUE" override. A fixed
 * section the file lacks is created; a layer section must exist. */
rd_status rd_cfg_set(rd_cfg *cfg, const char *assignment, rd_err *err);
/* A layer section made by a program (the Keras importer), appended; messages
 * about it and its keys name origin instead of a line of the file. */
int rd_cfg_add_section(rd_cfg *cfg, const char *name, const char *origin);
void rd_cfg_add_item(rd_cfg *cfg, int sec, const char *key, const char *value);
/* For a key whose default changed between releases (CHANGELOG.md): when the
 * config does not set [section] key, adds it with value (the default), from
 * "(the default)", so that the canonical text and digest name it and a text
 * written before the change (without the key) never matches. Call before the
 * section is read; the fixed section is created if missing. */
void rd_cfg_put_default(rd_cfg *cfg, const char *section, const char *key, const char *value);
void rd_cfg_free(rd_cfg *cfg);

/* Number of sections called name (e.g. how many [dense]). */
int rd_cfg_count(const rd_cfg *cfg, const char *section);
/* Index of the ordinal-th section called name, or -1. */
int rd_cfg_section(const rd_cfg *cfg, const char *name, int ordinal);
/* The item of key in section sec, or NULL (also for sec -1). */
rd_cfg_item *rd_cfg_item_of(const rd_cfg *cfg, int sec, const char *key);
/* The item, or NULL. ordinal picks among repeated sections. */
const rd_cfg_item *rd_cfg_find(const rd_cfg *cfg, const char *section, int ordinal, const char *key);
/* Writes "path:line" or "--set ..." for an item (or for section sec's header
 * when item is NULL, or the path alone when sec is -1 too) into buf. */
const char *rd_cfg_where(const rd_cfg *cfg, const rd_cfg_item *item, int sec, char *buf, size_t n);

/* Marks section sec (-1: none) as read by its reader: what it leaves unread is unknown. */
void rd_cfg_visit(rd_cfg *c, int sec);

/* ---- typed readers -------------------------------------------------------------
 * Each reads key in section sec (-1: an absent section, so the default) and
 * marks it read. Returns 1 when set (*out holds the value), 0 when absent
 * (*out = dflt), -1 when the value is bad (*out = dflt; the message is kept
 * for rd_cfg_finish). flags: */
enum {
  RD_CFG_LO_OPEN = 1, /* the lower bound is excluded */
  RD_CFG_HI_OPEN = 2, /* the upper bound is excluded */
  RD_CFG_NOCANON = 4, /* cannot change the result (paths, logging): left out of the canonical text */
  RD_CFG_ONE_OR_ALL = 8, /* rd_cfg_ints: exactly 1 or nmax values; one value is repeated nmax times */
  RD_CFG_EMPTY_OK = 16   /* rd_cfg_str: an empty value is a value ("metrics =": none), not an error */
};
/* The largest float32: a bound for values that end up in float32 tensors or
 * arithmetic, so they stay finite there. */
#define RD_CFG_F32_MAX 3.4028234663852886e38

int rd_cfg_int(rd_cfg *c, int sec, const char *key, int64_t dflt, double lo, double hi, unsigned flags, int64_t *out);
int rd_cfg_u64(rd_cfg *c, int sec, const char *key, uint64_t dflt, unsigned flags, uint64_t *out);
int rd_cfg_float(rd_cfg *c, int sec, const char *key, double dflt, double lo, double hi, unsigned flags, double *out);
int rd_cfg_bool(rd_cfg *c, int sec, const char *key, int dflt, unsigned flags, int *out);
/* names is NULL-terminated; *out is the index of the value (dflt if absent). */
int rd_cfg_enum(rd_cfg *c, int sec, const char *key, const char *const *names, int dflt, unsigned flags, int *out);
int rd_cfg_str(rd_cfg *c, int sec, const char *key, const char *dflt, unsigned flags, const char **out);
/* A name: a letter or '_', then letters, digits, '_' or '-'; at most 64. */
int rd_cfg_name(rd_cfg *c, int sec, const char *key, const char *dflt, unsigned flags, const char **out);
/* A comma-separated list of nmin..nmax integers, each in [lo, hi]; *n gets the
 * count (ndflt when absent, with dflt's values). Canonical form "a,b,c". */
/* A comma list of 1..nmax names (as rd_cfg_name checks each) into out[0..*n);
 * canonical form "a, b". */
#define RD_CFG_NAME_MAX 72
int rd_cfg_names(rd_cfg *c, int sec, const char *key, int nmax, char (*out)[RD_CFG_NAME_MAX], int *n);
int rd_cfg_ints(rd_cfg *c, int sec, const char *key, int nmin, int nmax, const int64_t *dflt, int ndflt, double lo,
                double hi, unsigned flags, int64_t *out, int *n);
/* A comma-separated list of nmin..nmax finite numbers, each in [lo, hi] (flags as
 * rd_cfg_float's), into out[0..*n) (*n = 0 when absent); canonical "a,b,c" with
 * each number re-printed to 17 digits. */
int rd_cfg_floats(rd_cfg *c, int sec, const char *key, int nmin, int nmax, double lo, double hi, unsigned flags,
                  double *out, int *n);
/* Marks key (if set) as not applying here, with the reason given as the rest
 * of its message: "KEY <why>", e.g. why = "is set but use_bias = false". */
void rd_cfg_not_applicable(rd_cfg *c, int sec, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records an error a reader found (first one wins), naming the item (or the
 * section, or the file); returns RD_EINPUT. */
rd_status rd_cfg_fail(rd_cfg *c, const rd_cfg_item *item, int sec, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The canonical value of an item already read, when not its value re-printed
 * (e.g. a plugin path stands for the plugin's XXH64). */
void rd_cfg_canon_value(rd_cfg *c, rd_cfg_item *item, const char *value);
/* After every reader ran: the error to report, as described above, in err. */
rd_status rd_cfg_finish(const rd_cfg *c, rd_err *err);

/* The canonical text of the result-relevant part of the config: [run] and
 * [model], then the layers in file order, then [data] and [train]; keys sorted,
 * values normalised (numbers re-printed), keys that cannot change the weights
 * left out. malloc'ed. Only after a successful rd_cfg_finish. */
char *rd_cfg_canonical(const rd_cfg *cfg);
/* XXH64 (seed 0) of rd_cfg_canonical. */
uint64_t rd_cfg_digest(const rd_cfg *cfg);
/* The same without [train] epochs: what a checkpoint must match, so that a run
 * can be resumed with more (or fewer) epochs. */
uint64_t rd_cfg_digest_resumable(const rd_cfg *cfg);
/* Its text (rd_cfg_canonical without [train] epochs), malloc'ed. */
char *rd_cfg_canonical_resumable(const rd_cfg *cfg);
/* rd_cfg_digest_resumable of the text without the line `key = ...` of the
 * fixed section `section`: the digest a release before that key's default
 * changed gave the same run (rd_cfg_put_default). */
uint64_t rd_cfg_digest_resumable_without(const rd_cfg *cfg, const char *section, const char *key);
/* Names what differs between two canonical texts, `was` (e.g. a checkpoint's)
 * and `now`, key by key: "[train] learning_rate: 0.001 in the checkpoint, 0.002
 * now; [dense] (the 2nd) units: not set in the checkpoint, 64 now". A
 * section's n-th occurrence is matched with the n-th. At most 4 differences,
 * then "and N more". `in_was` names the first text ("in the checkpoint"). */
void rd_cfg_text_diff(const char *was, const char *now, const char *in_was, char *buf, size_t n);

/* Strict number parsing shared with the command line. Return 0 on success. */
int rd_parse_int(const char *s, int64_t *out);
int rd_parse_u64(const char *s, uint64_t *out);
int rd_parse_double(const char *s, double *out);

#ifdef __cplusplus
}
#endif
#endif
