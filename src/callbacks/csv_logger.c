/* [csv_logger]: Keras' CSVLogger (keras/src/callbacks/csv_logger.py):
 * filename (required), separator (","), append (false). Each epoch's end
 * appends a row: the epoch (from 0), then the logs in Keras' column order,
 * the log names sorted (and, when the run has no validation data, a "val_"
 * column for each of them, holding NA, as Keras adds), each value as Python
 * prints a float (repr of the float32 log). The first row of a new (or empty)
 * file comes after the header "epoch,<names>". Lines end with \r\n and fields
 * holding the separator or a quote are quoted, as Python's csv.excel writes
 * them. learning_rate is a column only when [reduce_lr_on_plateau] comes
 * before [csv_logger] in the config: Keras adds it to the logs then. Without
 * append, a fresh run starts the file anew; a resumed run cuts it back to
 * its length at the checkpoint (cbfiles.c) and goes on. */
#include <stdio.h>
#include <string.h>

#include "../callback.h"
#include "../pyfmt.h"

enum { SEP, APPEND };

static void read(rd_cfg *c, int sec, rd_cb *cb, const rd_cb_env *env) {
  (void)env;
  const char *f = NULL, *sep = ",";
  if (rd_cfg_str(c, sec, "filename", NULL, RD_CFG_NOCANON, &f) == 0)
    rd_cfg_fail(c, NULL, sec, "[csv_logger] needs filename = PATH (Keras' CSVLogger(filename))");
  snprintf(cb->str[0], RD_CB_STR, "%s", f ? f : "");
  const int got = rd_cfg_str(c, sec, "separator", ",", RD_CFG_NOCANON, &sep);
  if (got > 0 && strlen(sep) != 1)
    rd_cfg_fail(c, rd_cfg_item_of(c, sec, "separator"), -1,
                "separator = '%s' must be one character (Python's csv module takes one)", sep);
  cb->p[SEP] = (unsigned char)sep[0];
  int a = 0;
  rd_cfg_bool(c, sec, "append", 0, RD_CFG_NOCANON, &a);
  cb->p[APPEND] = a;
}

static int files(const rd_cb *cb) {
  (void)cb;
  return 1;
}

static int appends(const rd_cb *cb) { return cb->p[APPEND] != 0; }

static void path(const rd_cb *cb, int i, char *buf, size_t n) {
  (void)i;
  snprintf(buf, n, "%s", cb->str[0]);
}

/* The columns after "epoch": log indices, -1 - k for "val_" + name k (NA). */
static int columns(const rd_epoch_logs *logs, int *col) {
  int n = 0, val = 0;
  for (int k = 0; k < RD_LOG_ALL; k++)
    if (logs->has[k]) col[n++] = k, val |= !strncmp(rd_log_names[k], "val_", 4);
  for (int a = 1; a < n; a++) /* sorted(logs.keys()) */
    for (int b = a; b > 0 && strcmp(rd_log_names[col[b - 1]], rd_log_names[col[b]]) > 0; b--) {
      const int t = col[b];
      col[b] = col[b - 1], col[b - 1] = t;
    }
  if (!val)
    for (int i = 0, m = n; i < m; i++) col[n++] = -1 - col[i];
  return n;
}

/* One field, quoted when it holds the separator, a quote or a line end. */
static size_t put(char *buf, size_t o, size_t cap, const char *f, char sep) {
  const int q = strchr(f, sep) || strchr(f, '"') || strchr(f, '\r') || strchr(f, '\n');
  if (q && o < cap) buf[o++] = '"';
  for (const char *c = f; *c && o + 1 < cap; c++) {
    if (*c == '"') buf[o++] = '"';
    buf[o++] = *c;
  }
  if (q && o < cap) buf[o++] = '"';
  return o;
}

static size_t bytes(const rd_cb *cb, int i, int64_t epoch, const rd_epoch_logs *logs, double now, char *buf,
                    size_t cap) {
  (void)i, (void)now;
  const char sep = (char)cb->p[SEP];
  int col[2 * RD_LOG_ALL];
  const int n = columns(logs, col);
  char f[160];
  size_t o = 0;
  if (cb->s[RD_CB_WRITTEN] == 0) { /* a new or empty file: the header first */
    o = put(buf, o, cap, "epoch", sep);
    for (int c = 0; c < n; c++) {
      snprintf(f, sizeof f, "%s%s", col[c] < 0 ? "val_" : "", rd_log_names[col[c] < 0 ? -1 - col[c] : col[c]]);
      if (o + 1 < cap) buf[o++] = sep;
      o = put(buf, o, cap, f, sep);
    }
    o += (size_t)snprintf(buf + o, cap - o, "\r\n");
  }
  snprintf(f, sizeof f, "%lld", (long long)epoch);
  o = put(buf, o, cap, f, sep);
  for (int c = 0; c < n; c++) {
    if (col[c] < 0) snprintf(f, sizeof f, "NA");
    else rd_pyfmt_repr(rd_cb_log(logs, col[c]), f, sizeof f);
    if (o + 1 < cap) buf[o++] = sep;
    o = put(buf, o, cap, f, sep);
  }
  o += (size_t)snprintf(buf + o, cap - o, "\r\n");
  return o < cap ? o : cap;
}

const rd_cb_type rd_cb_csv_logger = {.name = "csv_logger",
    .log_only = 1, .keras = "CSVLogger", .read = read, .files = files, .appends = appends, .path = path,
                                     .bytes = bytes};
