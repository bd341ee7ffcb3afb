/* fsio: atomic replace (see fsio.h). */
#include "fsio.h"

#include <xxhash.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <sys/stat.h>
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
  rd_fault_pause("commit");
  if (rename(tmp, path) != 0)
    return rd_err_set(err, RD_EINPUT, "%s: could not move the new file into place (%s)", path, strerror(errno));
  char *dup = strdup(path);
  int dfd = dup ? open(dirname(dup), O_RDONLY | O_DIRECTORY) : -1;
  if (dfd >= 0) fsync(dfd), close(dfd);
  free(dup);
  return RD_OK;
}

int rd_fs_reserve(const char *path, long long bytes) {
  int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
  if (fd < 0) return errno;
  int rc = bytes > 0 ? posix_fallocate(fd, 0, (off_t)bytes) : 0;
  close(fd);
  if (rc == ENOSPC || rc == EDQUOT) unlink(path);
  return rc == ENOSPC || rc == EDQUOT ? rc : 0; /* other errors (no fallocate support): no check */
}

/* 1 if name is STEM[middle].tmp.PID (middle empty unless any_middle); sets *pid. */
static int stale_name(const char *name, const char *stem, int any_middle, long *pid) {
  size_t ls = strlen(stem);
  if (strncmp(name, stem, ls) != 0) return 0;
  const char *t = strstr(name + ls, ".tmp.");
  if (!t || (!any_middle && t != name + ls)) return 0;
  while (strstr(t + 5, ".tmp.")) t = strstr(t + 5, ".tmp."); /* the last one */
  char *end;
  errno = 0;
  *pid = strtol(t + 5, &end, 10);
  return t[5] >= '0' && t[5] <= '9' && *end == '\0' && errno == 0 && *pid > 0;
}

void rd_fs_clean_stale_tmps(const char *dir, const char *stem, int any_middle) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    long pid;
    if (!stale_name(e->d_name, stem, any_middle, &pid)) continue;
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
      rd_warn0("reprodist: %s is being written by process %ld, another run writing to the same place; left alone",
               path, pid);
    } else if (unlink(path) == 0) {
      rd_warn0("reprodist: removed %s (%lld bytes), left by an earlier run that stopped while writing it", path,
               (long long)st.st_size);
    }
  }
  closedir(d);
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


int rd_fs_can_write(const char *path) {
  struct stat st;
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) return EISDIR;
    return access(path, W_OK) == 0 ? 0 : errno;
  }
  if (errno != ENOENT) return errno;
  char *copy = strdup(path);
  if (!copy) return ENOMEM;
  const char *dir = dirname(copy);
  int rc = stat(dir, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : access(dir, W_OK | X_OK) == 0 ? 0 : errno;
  free(copy);
  return rc;
}

int rd_fs_mkdirs_for(const char *path) {
  char *d = strdup(path);
  if (!d) return ENOMEM;
  char *slash = strrchr(d, '/');
  int rc = 0;
  if (slash && slash != d) {
    *slash = '\0';
    for (char *p = d + 1;; p++) { /* each prefix ending at a '/', then the whole */
      const int end = *p == '\0';
      if (*p == '/' || end) {
        const char keep = *p;
        *p = '\0';
        struct stat st;
        if (stat(d, &st) != 0 && mkdir(d, 0755) != 0 && errno != EEXIST) rc = errno;
        *p = keep;
        if (rc || end) break;
      }
    }
  }
  free(d);
  return rc;
}

int rd_fs_hash_file(const char *path, uint64_t *h) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  XXH64_state_t *s = XXH64_createState();
  XXH64_reset(s, 0);
  char buf[1 << 16];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, f)) > 0) XXH64_update(s, buf, k);
  int bad = ferror(f);
  fclose(f);
  *h = XXH64_digest(s);
  XXH64_freeState(s);
  return bad ? -1 : 0;
}
