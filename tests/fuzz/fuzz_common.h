/* fuzz_common: what the file-reading fuzz targets share: a private scratch
 * directory, MPI as a singleton, and writing the input bytes to a file there.
 * Header-only on purpose: each target is one translation unit. */
#ifndef RD_FUZZ_COMMON_H
#define RD_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sanitizer/lsan_interface.h>
#include <unistd.h>

#include "comm.h"
#include "h5io.h"

static char rd_fuzz_dir[256];

static void rd_fuzz_cleanup(void) {
  DIR *d = rd_fuzz_dir[0] ? opendir(rd_fuzz_dir) : NULL;
  for (struct dirent *e; d && (e = readdir(d));) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", rd_fuzz_dir, e->d_name);
    if (e->d_name[0] != '.') unlink(p);
  }
  if (d) closedir(d), rmdir(rd_fuzz_dir);
  __lsan_disable();
  rd_comm_finalize();
  __lsan_enable();
}

/* MPI singleton (np 1: every collective returns at once), HDF5 quiet, and a
 * scratch directory under $TMPDIR (tmpfs /dev/shm when there is one: faster).
 * What Open MPI allocates in MPI_Init and MPI_Finalize is not leak-checked:
 * some of it is held only by components it has already dlclose'd, so its
 * stacks name no library a suppression could match. */
static void rd_fuzz_setup(int *argc, char ***argv) {
  __lsan_disable();
  rd_comm_init(argc, argv);
  __lsan_enable();
  rd_h5_quiet();
  const char *base = getenv("TMPDIR");
  if (!base || !*base) base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(rd_fuzz_dir, sizeof rd_fuzz_dir, "%s/rdfuzz.XXXXXX", base);
  if (!mkdtemp(rd_fuzz_dir)) {
    perror("rd_fuzz_setup: mkdtemp");
    abort();
  }
  atexit(rd_fuzz_cleanup);
}

/* Writes data to <scratch>/<name> and puts that path in path (n bytes). */
static void rd_fuzz_write(const char *name, const uint8_t *data, size_t size, char *path, size_t n) {
  snprintf(path, n, "%s/%s", rd_fuzz_dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    perror(path);
    abort();
  }
}

#endif
