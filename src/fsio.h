/* fsio: atomic file replacement, shared by weights files and checkpoints.
 * A result is written under a temporary name in the same directory, flushed to
 * disk, then renamed over the final name: a reader sees the old file or the
 * new one, never half of one, even if the process dies in between. */
#ifndef REPRODIST_FSIO_H
#define REPRODIST_FSIO_H

#include <stdint.h>

#include <stddef.h>

#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* fsync(tmp), rename(tmp, path), fsync(directory). Not collective.
 * The test hook RD_FAULT_ABORT_BEFORE_RENAME (fault.h) aborts the process
 * between the fsync and the rename. */
rd_status rd_fs_commit(const char *tmp, const char *path, rd_err *err);

/* Creates path (it must not exist) and reserves bytes of disk for it, so that a
 * full disk is found before a library writes anything. Returns 0, or the errno
 * of the failure (ENOSPC, EDQUOT: not enough space; the file is then removed).
 * HDF5 truncates the file when it opens it, so the reservation is a check of
 * the free space at that moment, not a guarantee against other writers. */
int rd_fs_reserve(const char *path, long long bytes);

/* Temporary files a process that died while writing left behind: in dir, each
 * entry named STEM.tmp.PID (with any_middle: STEM*.tmp.PID, e.g. the
 * ckpt-<step>.h5.tmp.PID of a checkpoint directory) whose PID is no running
 * process here is removed, with a warning naming it and its size. One whose
 * PID runs is left alone and named (another run writing to the same place).
 * Rank 0 only; not collective. */
void rd_fs_clean_stale_tmps(const char *dir, const char *stem, int any_middle);

/* 0 if path could be written without creating or changing anything now: an
 * existing writable file, or a new name in a writable directory; else the errno
 * (EISDIR for a directory). For files opened later (the metrics, at the first
 * epoch's end), so a run that fails early leaves no file behind. */
int rd_fs_can_write(const char *path);

/* Makes the directory that holds path, and its parents (mkdir -p of
 * dirname(path)). 0, or the errno of the first that could not be made. */
int rd_fs_mkdirs_for(const char *path);

/* XXH64 of the whole file at path into *h: 0, or -1 when it cannot be read (errno). */
int rd_fs_hash_file(const char *path, uint64_t *h);

/* Appends s to the NUL-terminated buf (n bytes), after a space unless buf is
 * empty, single-quoted when a shell would otherwise split or expand it. */
void rd_fs_shell_append(char *buf, size_t n, const char *s);

#ifdef __cplusplus
}
#endif
#endif
