/* fsio: atomic file replacement, shared by weights files and checkpoints.
 * A result is written under a temporary name in the same directory, flushed to
 * disk, then renamed over the final name: a reader sees the old file or the
 * new one, never half of one, even if the process dies in between. */
#ifndef REPRODIST_FSIO_H
#define REPRODIST_FSIO_H

#include "reprodist/log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fsync(tmp), rename(tmp, path), fsync(directory). Not collective.
 * The environment variable RD_FAULT_ABORT_BEFORE_RENAME=1 aborts the process
 * between the fsync and the rename: a fault-injection hook for the tests. */
rd_status rd_fs_commit(const char *tmp, const char *path, rd_err *err);

#ifdef __cplusplus
}
#endif
#endif
