/* log: the single output sink (see log.h). */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_rank = 0, g_size = 1;
static rd_log_abort_fn g_abort = NULL;

void rd_log_set_rank(int rank, int size) {
  g_rank = rank;
  g_size = size;
}

int rd_log_rank(void) { return g_rank; }

void rd_log_set_abort(rd_log_abort_fn fn) { g_abort = fn; }

rd_status rd_err_set(rd_err *err, rd_status code, const char *fmt, ...) {
  if (err && err->code == RD_OK) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    err->weak = 0;
  }
  return code;
}

rd_status rd_err_weak(rd_err *err, rd_status code, const char *fmt, ...) {
  if (err && err->code == RD_OK) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    err->weak = 1;
  }
  return code;
}

void rd_err_clear(rd_err *err) {
  err->code = RD_OK;
  err->weak = 0;
  err->msg[0] = '\0';
}

static void vlog(FILE *f, const char *prefix, const char *fmt, va_list ap) {
  char line[4096];
  vsnprintf(line, sizeof line, fmt, ap);
  /* One fputs per line so lines from different ranks do not interleave mid-line. */
  char out[4200];
  snprintf(out, sizeof out, "%s%s\n", prefix, line);
  fputs(out, f);
  fflush(f);
}

void rd_log0(const char *fmt, ...) {
  if (g_rank != 0) return;
  va_list ap;
  va_start(ap, fmt);
  vlog(stdout, "", fmt, ap);
  va_end(ap);
}

void rd_warn0(const char *fmt, ...) {
  if (g_rank != 0) return;
  va_list ap;
  va_start(ap, fmt);
  vlog(stderr, "reprodist: warning: ", fmt, ap);
  va_end(ap);
}

void rd_log_all(const char *fmt, ...) {
  char prefix[64];
  snprintf(prefix, sizeof prefix, "[rank %d/%d] ", g_rank, g_size);
  va_list ap;
  va_start(ap, fmt);
  vlog(stderr, prefix, fmt, ap);
  va_end(ap);
}

void rd_out(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
}

void rd_err_print0(const rd_err *err) {
  if (g_rank != 0 || err->code == RD_OK) return;
  fprintf(stderr, "%s\n", err->msg);
  fflush(stderr);
}

void rd_bug(const char *file, int line, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "[rank %d/%d] %s:%d: internal error: %s\n", g_rank, g_size, file, line, msg);
  fflush(stderr);
  if (g_abort) g_abort(RD_ERUNTIME);
  exit(RD_ERUNTIME);
}
