/* paths: outputs against inputs (see paths.h). */
#include "paths.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt.h"

/* Where a path is: its inode if it exists, else its resolved directory + name. */
typedef struct {
  int exists;
  dev_t dev;
  ino_t ino;
  char canon[PATH_MAX + NAME_MAX + 2];
} place;

static void locate(const char *path, place *p) {
  struct stat st;
  memset(p, 0, sizeof *p);
  if (stat(path, &st) == 0) p->exists = 1, p->dev = st.st_dev, p->ino = st.st_ino;
  char a[PATH_MAX], b[PATH_MAX], dir[PATH_MAX];
  snprintf(a, sizeof a, "%s", path);
  snprintf(b, sizeof b, "%s", path);
  if (realpath(dirname(a), dir))
    snprintf(p->canon, sizeof p->canon, "%s/%s", dir, basename(b));
  else
    snprintf(p->canon, sizeof p->canon, "%s", path);
}

static int same(const place *a, const place *b) {
  if (a->exists && b->exists) return a->dev == b->dev && a->ino == b->ino;
  return !a->exists && !b->exists && !strcmp(a->canon, b->canon);
}

/* 1 if the output at o is a checkpoint's name inside ckpt_dir. */
static int in_ckpt_dir(const char *path, const char *ckpt_dir) {
  char a[PATH_MAX], b[PATH_MAX], d1[PATH_MAX], d2[PATH_MAX];
  snprintf(a, sizeof a, "%s", path);
  snprintf(b, sizeof b, "%s", path);
  return rd_ckpt_is_name(basename(b), NULL) && realpath(dirname(a), d1) && realpath(ckpt_dir, d2) && !strcmp(d1, d2);
}

rd_status rd_paths_check(const rd_path_use *outs, int nout, const rd_path_use *ins, int nin, const char *ckpt_dir,
                         rd_err *err) {
  for (int i = 0; i < nout; i++) {
    const rd_path_use *o = &outs[i];
    if (!o->path) continue;
    place po, q;
    locate(o->path, &po);
    for (int k = 0; k < nin; k++) {
      if (!ins[k].path) continue;
      locate(ins[k].path, &q);
      if (same(&po, &q))
        return rd_err_set(err, RD_EINPUT, "%s: %s would overwrite %s ('%s', the same file); choose another output",
                          o->path, o->what, ins[k].what, ins[k].path);
    }
    for (int k = 0; k < i; k++) {
      if (!outs[k].path) continue;
      locate(outs[k].path, &q);
      if (same(&po, &q))
        return rd_err_set(err, RD_EINPUT, "%s: %s and %s name the same file; give each its own", o->path, o->what,
                          outs[k].what);
    }
    if (po.exists && rd_ckpt_is_checkpoint(o->path))
      return rd_err_set(err, RD_EINPUT, "%s: %s would overwrite a reprodist checkpoint; choose another output",
                        o->path, o->what);
    if (ckpt_dir && in_ckpt_dir(o->path, ckpt_dir))
      return rd_err_set(err, RD_EINPUT,
                        "%s: %s is a checkpoint's name in checkpoint_dir '%s', where checkpoints are written; "
                        "choose another output",
                        o->path, o->what, ckpt_dir);
  }
  return RD_OK;
}

void rd_paths_metrics_default(const char *weights, char *buf, size_t n) {
  static const char *const exts[] = {".h5", ".hdf5", ".keras"};
  size_t len = strlen(weights);
  const char *base = strrchr(weights, '/');
  base = base ? base + 1 : weights;
  for (size_t e = 0; e < sizeof exts / sizeof exts[0]; e++) {
    size_t k = strlen(exts[e]);
    if (len > k && (size_t)(weights + len - base) > k && !strcmp(weights + len - k, exts[e])) {
      len -= k;
      break;
    }
  }
  snprintf(buf, n, "%.*s.metrics.jsonl", (int)len, weights);
}
