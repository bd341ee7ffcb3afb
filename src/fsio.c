/* fsio: atomic replace (see include/reprodist/fsio.h). */
#include "fsio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

rd_status rd_fs_commit(const char *tmp, const char *path, rd_err *err) {
  int fd = open(tmp, O_RDONLY);
  if (fd < 0 || fsync(fd) != 0) {
    rd_err_set(err, RD_EINPUT, "%s: could not flush the new file to disk (%s); the old file, if any, is untouched",
               path, strerror(errno));
    if (fd >= 0) close(fd);
    return err->code;
  }
  close(fd);
  if (rd_fault_get()->abort_before_rename) abort();
  if (rename(tmp, path) != 0)
    return rd_err_set(err, RD_EINPUT, "%s: could not move the new file into place (%s)", path, strerror(errno));
  char *dup = strdup(path);
  int dfd = dup ? open(dirname(dup), O_RDONLY | O_DIRECTORY) : -1;
  if (dfd >= 0) fsync(dfd), close(dfd);
  free(dup);
  return RD_OK;
}

/* Appends s to buf, single-quoted when it holds anything a shell would interpret. */
void rd_fs_shell_append(char *buf, size_t n, const char *s) {
  size_t o = strlen(buf);
  int plain = *s != '\0';
  for (const char *p = s; *p; p++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%", *p)) plain = 0;
  if (o && o < n - 1) buf[o++] = ' ';
  if (plain) {
    snprintf(buf + o, n - o, "%s", s);
    return;
  }
  if (o < n - 1) buf[o++] = '\'';
  for (const char *p = s; *p && o < n - 5; p++) {
    if (*p == '\'') {
      memcpy(buf + o, "'\\''", 4);
      o += 4;
    } else {
      buf[o++] = *p;
    }
  }
  if (o < n - 1) buf[o++] = '\'';
  buf[o < n ? o : n - 1] = '\0';
}

