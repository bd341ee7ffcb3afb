/* job: everything one config describes, read once and checked whole.
 *
 * rd_job_load parses the text, applies the --set overrides, loads the plugins
 * named by [run] plugins, checks that every section is [run] [model] [data]
 * [train] or a registered layer type, builds the model (every layer's build
 * reads its own keys), reads [train], [data] and [run]; then every key must
 * have been read (cfg.h, rd_cfg_finish). The first error is one line naming
 * the file and line (or the --set, or the plugin file). Not collective: every
 * rank loads the same bytes and gets the same answer (plugins aside: each rank
 * loads its own copy, and the caller agrees on failure). */
#ifndef REPRODIST_JOB_H
#define REPRODIST_JOB_H

#include <stddef.h>

#include "cfg.h"
#include "data.h"
#include "log.h"
#include "model.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rd_job {
  rd_cfg cfg;
  rd_model model;
  rd_train_spec train;
  rd_data_spec data;
  const char *output;   /* [run] output (weights.h5), points into cfg */
  const char *date_saved; /* [run] date_saved: a .keras archive's metadata (not the clock) */
  const char *keras_weights; /* [model] keras_weights: start from this file's weights (.keras or .h5), or NULL */
  const char *plugins;  /* the canonical plugin list ("name@xxh64,..."; "" without) */
} rd_job;

enum { RD_JOB_NO_PLUGINS = 1 }; /* [run] plugins is an error (fuzzing) */

/* text (len bytes) is the config file at path; sets[0..nsets) the overrides.
 * The caller owns j afterwards, also on failure: rd_job_free. */
rd_status rd_job_load(rd_job *j, const char *path, const char *text, size_t len, const char *const *sets, int nsets,
                      unsigned flags, rd_err *err);
void rd_job_free(rd_job *j);

#ifdef __cplusplus
}
#endif
#endif
