/* log: the one output sink of reprodist, and the two tiers of errors.
 *
 * Tier 1, bugs: RD_ASSERT(cond, fmt, ...) prints "[rank r/P] file:line: message"
 * and aborts the whole MPI job. Use it for things no user input can cause.
 *
 * Tier 2, user-caused failures (config, data, paths, disk): functions return an
 * rd_status and fill an rd_err with ONE line that names the file and line (or the
 * dataset) and says what to do. The caller lets all ranks agree on the failure
 * (rd_comm_agree) before anyone exits, so nothing hangs.
 *
 * Library code never calls printf; it calls rd_log0 (rank 0, stdout), rd_warn0
 * (rank 0, stderr) or rd_log_all (every rank, stderr, prefixed with the rank). */
#ifndef REPRODIST_LOG_H
#define REPRODIST_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit codes of the binary, and status codes of fallible functions. */
typedef enum {
  RD_OK = 0,
  RD_ERUNTIME = 1, /* a runtime failure: I/O error, MPI failure, divergence */
  RD_EINPUT = 2,   /* a usage, config or input error the user can fix */
  RD_STOPPED = 3   /* stopped by SIGTERM/SIGINT/SIGUSR1 after writing a checkpoint */
} rd_status;

#define RD_ERR_MSG_MAX 1024

/* A user-facing error: a status and one line of text. Caller-owned; no _free. */
typedef struct rd_err {
  rd_status code;
  int weak;     /* 1: the message only says that something failed elsewhere (see rd_err_weak) */
  char msg[RD_ERR_MSG_MAX];
} rd_err;

/* Sets err (if err is not NULL and no error is recorded yet) and returns code.
 * The first error wins: later calls keep the original, more specific message. */
rd_status rd_err_set(rd_err *err, rd_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rd_err_clear(rd_err *err);
/* Like rd_err_set, for a rank that only learns that another rank failed ("reading
 * training samples failed"): when ranks agree (rd_comm_agree), a rank's own,
 * specific message wins over such a one, whichever rank found it. */
rd_status rd_err_weak(rd_err *err, rd_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Tells the log which rank this process is; before that, rank 0 of 1 is assumed. */
void rd_log_set_rank(int rank, int size);
int rd_log_rank(void);
/* What rd_bug calls to end the job: comm installs MPI_Abort (rd_comm_init), so
 * that log needs no MPI; without a hook (before comm, in unit tests) rd_bug
 * exits with RD_ERUNTIME. The hook must not return. */
typedef void (*rd_log_abort_fn)(int code);
void rd_log_set_abort(rd_log_abort_fn fn);

void rd_log0(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rd_warn0(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rd_log_all(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Rank 0 writes the message to stderr as it is (one line, newline added). */
void rd_err_print0(const rd_err *err);
/* Writes to stdout from whichever rank calls it: for commands whose output is
 * data (digest, check, seeds), which run their printing on one rank only. */
void rd_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "[rank r/P] file:line: message" and aborts every rank. Never returns. */
void rd_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define RD_ASSERT(cond, ...)                              \
  do {                                                    \
    if (!(cond)) rd_bug(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif
