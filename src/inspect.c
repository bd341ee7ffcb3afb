/* inspect: check and digest commands (see inspect.h). */
#include "inspect.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "compare.h"
#include "h5io.h"
#include "keras_file.h"
#include "seed.h"

/* A legacy .h5 weights file or a .keras archive. */
static rd_status read_any(const char *path, rd_h5_weights *w, rd_err *err) {
  return rd_keras_is_archive(path) ? rd_keras_read_weights(path, w, err) : rd_h5_read_weights(path, w, err);
}

static void shape_text(const rd_h5_tensor *t, char *buf, size_t n) {
  size_t o = (size_t)snprintf(buf, n, "(");
  for (int d = 0; d < t->ndim && o < n; d++)
    o += (size_t)snprintf(buf + o, n - o, "%s%" PRId64, d ? ", " : "", t->shape[d]);
  snprintf(buf + o, o < n ? n - o : 0, "%s)", t->ndim == 1 ? "," : "");
}

/* Same tensors, in the same order, with the same shapes? */
static rd_status same_layout(const char *fa, const rd_h5_weights *a, const char *fb, const rd_h5_weights *b,
                             rd_err *err) {
  if (a->ntensors != b->ntensors)
    return rd_err_set(err, RD_EINPUT, "%s: %d tensors, but %s has %d: not the same model", fb, b->ntensors, fa,
                      a->ntensors);
  for (int i = 0; i < a->ntensors; i++) {
    const rd_h5_tensor *x = &a->tensors[i], *y = &b->tensors[i];
    char sx[64], sy[64];
    shape_text(x, sx, sizeof sx);
    shape_text(y, sy, sizeof sy);
    if (strcmp(x->path, y->path) || strcmp(sx, sy))
      return rd_err_set(err, RD_EINPUT, "%s: tensor %d is %s %s, but in %s it is %s %s: not the same model", fb, i,
                        y->path, sy, fa, x->path, sx);
  }
  return RD_OK;
}

rd_status rd_inspect_check(const char *const *files, int n, rd_err *err) {
  rd_h5_weights ref;
  if (read_any(files[0], &ref, err)) return err->code;
  int any_differ = 0;
  for (int f = 1; f < n && !err->code; f++) {
    rd_h5_weights w;
    if (read_any(files[f], &w, err)) break;
    if (same_layout(files[0], &ref, files[f], &w, err) == RD_OK) {
      rd_out("%s vs %s\n", files[0], files[f]);
      int differ = 0;
      for (int i = 0; i < w.ntensors; i++) {
        rd_cmp c;
        rd_cmp_floats(ref.tensors[i].data, w.tensors[i].data, w.tensors[i].numel, &c);
        if (c.differ == 0) {
          rd_out("  identical  %s\n", w.tensors[i].path);
        } else {
          differ = 1;
          rd_out("  DIFFERS    %s: %zu of %zu elements differ, max |diff| %.9g, max %" PRIu64
                 " ulp, first at flat index %zu (%.9g vs %.9g)\n",
                 w.tensors[i].path, c.differ, w.tensors[i].numel, c.max_abs, c.max_ulp, c.first,
                 (double)ref.tensors[i].data[c.first], (double)w.tensors[i].data[c.first]);
        }
      }
      rd_out("  => %s\n", differ ? "DIFFERENT" : "IDENTICAL");
      any_differ |= differ;
    }
    rd_h5_weights_free(&w);
  }
  rd_h5_weights_free(&ref);
  if (err->code) return err->code;
  return any_differ ? RD_ERUNTIME : RD_OK;
}

rd_status rd_inspect_digest(const char *const *files, int n, rd_err *err) {
  for (int f = 0; f < n; f++) {
    rd_h5_weights w;
    if (read_any(files[f], &w, err)) return err->code;
    /* The file's digest: XXH64 over the tensors' canonical (big-endian) digests in order. */
    XXH64_state_t *st = XXH64_createState();
    XXH64_reset(st, 0);
    for (int i = 0; i < w.ntensors; i++) {
      uint64_t h = rd_seed_digest_f32(w.tensors[i].data, w.tensors[i].numel);
      XXH64_canonical_t c;
      XXH64_canonicalFromHash(&c, h);
      XXH64_update(st, c.digest, sizeof c.digest);
      char shape[64];
      shape_text(&w.tensors[i], shape, sizeof shape);
      rd_out("%016" PRIx64 "  %s  %s\n", h, w.tensors[i].path, shape);
    }
    rd_out("%016" PRIx64 "  %s  (all %d tensors)\n", XXH64_digest(st), files[f], w.ntensors);
    XXH64_freeState(st);
    rd_h5_weights_free(&w);
  }
  return RD_OK;
}
