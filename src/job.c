/* job: one config, read whole (see job.h). */
#include "job.h"

#include <errno.h>
#include <inttypes.h>

#include "fsio.h"
#include "keras_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern.h"
#include "registry.h"

/* [run] plugins: a comma-separated list of shared libraries, loaded in order.
 * Their canonical value is what identifies them: name@xxh64 of their bytes. */
static rd_status load_plugins(rd_job *j, unsigned flags, rd_err *err) {
  rd_cfg *c = &j->cfg;
  const int run = rd_cfg_section(c, "run", 0);
  const char *list;
  if (rd_cfg_str(c, run, "plugins", NULL, 0, &list) <= 0) return RD_OK; /* a bad value: rd_cfg_finish says it */
  rd_cfg_item *it = rd_cfg_item_of(c, run, "plugins");
  char where[512];
  rd_cfg_where(c, it, -1, where, sizeof where);
  if (flags & RD_JOB_NO_PLUGINS) return rd_err_set(err, RD_EINPUT, "%s: plugins are not loaded here", where);
  char ids[4096] = "";
  for (const char *p = list; *p;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    char path[4096];
    while (n && (*p == ' ' || *p == '\t')) p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (n == 0 || n >= sizeof path)
      return rd_err_set(err, RD_EINPUT, "%s: plugins = '%s': write one or more paths separated by commas", where, list);
    snprintf(path, sizeof path, "%.*s", (int)n, p);
    char id[128];
    if (rd_registry_load(path, where, id, sizeof id, err)) return err->code;
    size_t o = strlen(ids);
    snprintf(ids + o, sizeof ids - o, "%s%s", o ? "," : "", id);
    if (!comma) break;
    p = comma + 1;
  }
  rd_cfg_canon_value(c, it, ids);
  j->plugins = it->canon_value;
  return RD_OK;
}

/* Every section is a fixed one or a registered layer type. */
static rd_status check_sections(const rd_cfg *c, rd_err *err) {
  for (int i = 0; i < c->nsecs; i++) {
    const char *s = c->secs[i].name;
    if (rd_cfg_is_fixed(s) || rd_registry_find(s)) continue;
    char where[512], names[2048];
    rd_registry_names(names, sizeof names);
    return rd_err_set(err, RD_EINPUT, "%s: unknown section [%s] (known: [run] [model] [data] [train], and the layers %s)",
                      rd_cfg_where(c, NULL, i, where, sizeof where), s, names);
  }
  return RD_OK;
}

/* [model] keras_weights = FILE: fine-tuning from FILE's weights. The file's
 * content (its XXH64) is part of the run's identity, so its canonical value is
 * the digest: the same bytes under another name are the same run. */
static void keras_weights(rd_job *j, rd_err *err) {
  rd_cfg *c = &j->cfg;
  const int msec = rd_cfg_section(c, "model", 0);
  j->keras_weights = NULL;
  if (msec < 0 || rd_cfg_str(c, msec, "keras_weights", NULL, 0, &j->keras_weights) <= 0 || !j->keras_weights) return;
  rd_cfg_item *it = rd_cfg_item_of(c, msec, "keras_weights");
  uint64_t h = 0;
  if (rd_fs_hash_file(j->keras_weights, &h) != 0) {
    rd_cfg_fail(c, it, -1, "keras_weights = %s: cannot read it (%s)", j->keras_weights, strerror(errno));
    return;
  }
  char canon[32];
  snprintf(canon, sizeof canon, "xxh64:%016" PRIx64, h);
  rd_cfg_canon_value(c, it, canon);
  (void)err;
}

rd_status rd_job_load(rd_job *j, const char *path, const char *text, size_t len, const char *const *sets, int nsets,
                      unsigned flags, rd_err *err) {
  memset(j, 0, sizeof *j);
  j->plugins = "";
  rd_cfg *c = &j->cfg;
  if (rd_cfg_parse(c, path, text, len, err)) return err->code;
  for (int i = 0; i < nsets; i++)
    if (rd_cfg_set(c, sets[i], err)) return err->code;
  rd_registry_init();
  if (load_plugins(j, flags, err) || rd_keras_import(c, err) || check_sections(c, err)) return err->code;
  /* Each reader records its errors in the config; rd_cfg_finish picks the one
   * to report. The fixed sections are read whatever the model's fate; a layer
   * that failed to build leaves the layers after it unvisited. */
  const rd_status built = rd_model_from_cfg(&j->model, c);
  rd_data_spec_from_cfg(&j->data, c);
  rd_train_spec_from_cfg(&j->train, c, &j->data);
  const int run = rd_cfg_section(c, "run", 0);
  rd_cfg_str(c, run, "output", "weights.h5", RD_CFG_NOCANON, &j->output);
  /* Keras writes the clock's time; reprodist a value of the config, so that the archive's bytes are the run's. */
  rd_cfg_str(c, run, "date_saved", "1980-01-01@00:00:00", RD_CFG_NOCANON, &j->date_saved);
  keras_weights(j, err);
  for (int i = 0; i < c->nsecs; i++)
    if (rd_cfg_is_fixed(c->secs[i].name)) rd_cfg_visit(c, i);
  rd_cfg_finish(c, err);
  /* The portable GEMM's path: RD_ISA forces one (tests), else the best this CPU runs. */
  char msg[256];
  if (!err->code && rd_kern_isa_select(getenv("RD_ISA"), msg, sizeof msg))
    rd_err_set(err, RD_EINPUT, "reprodist: %s", msg);
  RD_ASSERT(err->code || built == RD_OK, "the model failed to build without an error");
  return err->code;
}

void rd_job_free(rd_job *j) {
  rd_model_free(&j->model);
  rd_cfg_free(&j->cfg);
  memset(j, 0, sizeof *j);
}
