/* fsio: atomic file replacement, shared by weights files and checkpoints.
 * A result is written under a temporary name in the same directory, flushed to
 * disk, then renamed over the final name: a reader sees the old file or the
 * new one, never half of one, even if the process dies in between. */
#ifndef REPRODIST_FSIO_H
#define REPRODIST_FSIO_H

#include <stddef.h>

#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fsync(tmp), rename(tmp, path), fsync(directory). Not collective.
 * The test hook RD_FAULT_ABORT_BEFORE_RENAME (fault.h) aborts the process
 * between the fsync and the rename. */
rd_status rd_fs_commit(const char *tmp, const char *path, rd_err *err);

/* Appends s to the NUL-terminated buf (n bytes), after a space unless buf is
 * empty, single-quoted when a shell would otherwise split or expand it. */
void rd_fs_shell_append(char *buf, size_t n, const char *s);

#ifdef __cplusplus
}
#endif
#endif
