/* fsio: atomic replace (see include/reprodist/fsio.h). */
#include "reprodist/fsio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

rd_status rd_fs_commit(const char *tmp, const char *path, rd_err *err) {
  int fd = open(tmp, O_RDONLY);
  if (fd < 0 || fsync(fd) != 0) {
    rd_err_set(err, RD_EINPUT, "%s: could not flush the new file to disk (%s); the old file, if any, is untouched",
               path, strerror(errno));
    if (fd >= 0) close(fd);
    return err->code;
  }
  close(fd);
  const char *fault = getenv("RD_FAULT_ABORT_BEFORE_RENAME");
  if (fault && !strcmp(fault, "1")) abort();
  if (rename(tmp, path) != 0)
    return rd_err_set(err, RD_EINPUT, "%s: could not move the new file into place (%s)", path, strerror(errno));
  char *dup = strdup(path);
  int dfd = dup ? open(dirname(dup), O_RDONLY | O_DIRECTORY) : -1;
  if (dfd >= 0) fsync(dfd), close(dfd);
  free(dup);
  return RD_OK;
}
