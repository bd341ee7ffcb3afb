/* cbfiles: the writer callbacks' files (see cbfiles.h). */
#include "cbfiles.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "comm.h"
#include "fsio.h"

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int is_writer(const rd_cb *cb) { return cb->type->files != NULL; }

/* Rank 0: file i of a writer, ready to be appended to; 0 or an errno. */
static int ready_file(rd_cb *cb, int i, int resumed, const char *path) {
  double *len = &cb->s[RD_CB_WRITTEN + i];
  int rc = rd_fs_mkdirs_for(path);
  if (rc) return rc;
  struct stat st;
  const int exists = stat(path, &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) return EISDIR;
  if (resumed) {
    if (!exists) {
      rd_warn0("reprodist: %s, written before the checkpoint, is gone; starting it anew", path);
      *len = 0;
    } else if ((double)st.st_size < *len) {
      rd_warn0("reprodist: %s is shorter than at the checkpoint (%lld bytes, was %.0f); appending after it", path,
               (long long)st.st_size, *len);
      *len = (double)st.st_size;
    } else if (truncate(path, (off_t)*len) != 0) { /* what a run wrote past its checkpoint */
      return errno;
    }
  } else if (cb->type->appends && cb->type->appends(cb)) {
    *len = exists ? (double)st.st_size : 0;
  } else {
    *len = 0;
  }
  FILE *f = fopen(path, resumed || (cb->type->appends && cb->type->appends(cb)) ? "ab" : "wb");
  if (!f) return errno;
  return fclose(f) != 0 ? errno : 0;
}

rd_status rd_cbfiles_open(rd_callbacks *cbs, const rd_cfg *cfg, int resumed, rd_err *err) {
  char path[RD_CB_STR + 128], where[512];
  const double start = floor(wall_now());
  for (int c = 0; c < cbs->n && rd_comm_rank() == 0 && !err->code; c++) {
    rd_cb *cb = &cbs->cb[c];
    if (!is_writer(cb)) continue;
    const int cont = resumed && !cb->fresh; /* a writer added at the resume starts as in a fresh run */
    if (!cont) cb->s[RD_CB_START] = start;
    for (int i = 0; i < cb->type->files(cb) && !err->code; i++) {
      cb->type->path(cb, i, path, sizeof path);
      const int rc = ready_file(cb, i, cont, path);
      if (rc)
        rd_err_set(err, RD_EINPUT, "%s: cannot write this file of [%s] (%s): %s", path, cb->type->name,
                   rd_cfg_where(cfg, NULL, cb->sec, where, sizeof where), strerror(rc));
    }
  }
  if (rd_comm_agree(err)) return err->code;
  for (int c = 0; c < cbs->n; c++) { /* rank 0's lengths and start time, on every rank */
    if (!is_writer(&cbs->cb[c])) continue;
    void *buf = cbs->cb[c].s;
    size_t len = sizeof cbs->cb[c].s;
    rd_comm_bcast_bytes(&buf, &len, 0);
    if (buf != cbs->cb[c].s) memcpy(cbs->cb[c].s, buf, sizeof cbs->cb[c].s), free(buf);
  }
  return RD_OK;
}

void rd_cbfiles_epoch(rd_callbacks *cbs, int64_t epoch) {
  static char buf[1 << 14];
  char path[RD_CB_STR + 128];
  const double now = wall_now();
  for (int c = 0; c < cbs->n; c++) {
    rd_cb *cb = &cbs->cb[c];
    if (!is_writer(cb)) continue;
    for (int i = 0; i < cb->type->files(cb); i++) {
      const size_t n = cb->type->bytes(cb, i, epoch, &cb->seen, now, buf, sizeof buf);
      if (rd_comm_rank() == 0 && !cb->failed[i]) {
        cb->type->path(cb, i, path, sizeof path);
        FILE *f = fopen(path, "ab");
        const int ok = f && fwrite(buf, 1, n, f) == n;
        if (!(f && fclose(f) == 0 && ok)) {
          rd_warn0("reprodist: cannot write %s ([%s]: %s); going on without it", path, cb->type->name,
                   strerror(errno));
          cb->failed[i] = 1;
        }
      }
      cb->s[RD_CB_WRITTEN + i] += (double)n;
    }
  }
}
