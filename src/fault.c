/* fault: fault-injection hooks for the tests (see fault.h). */
#include "fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const rd_fault *rd_fault_get(void) {
  static rd_fault f;
  static int loaded = 0;
  if (!loaded) {
    const char *a = getenv("RD_FAULT_ABORT_BEFORE_RENAME"), *d = getenv("RD_FAULT_DIVERGE");
    f.abort_before_rename = a && !strcmp(a, "1");
    f.diverge_rank = -1;
    int r;
    unsigned long long step;
    if (d && sscanf(d, "%d:%llu", &r, &step) == 2 && r >= 0) f.diverge_rank = r, f.diverge_step = step;
    const char *p = getenv("RD_FAULT_PAUSE"), *c = p ? strchr(p, ':') : NULL;
    if (c && c > p && (size_t)(c - p) < sizeof f.pause_point && c[1]) {
      memcpy(f.pause_point, p, (size_t)(c - p));
      f.pause_path = c + 1;
    }
    loaded = 1;
  }
  return &f;
}

void rd_fault_pause(const char *point) {
  const rd_fault *f = rd_fault_get();
  const char *p = f->pause_path;
  if (!p || strcmp(point, f->pause_point)) return;
  char path[4096];
  snprintf(path, sizeof path, "%s.paused", p);
  FILE *mark = fopen(path, "w"); /* holds the point's name: a waiter may wait for a non-empty file */
  if (mark) fprintf(mark, "%s\n", point), fclose(mark);
  snprintf(path, sizeof path, "%s.go", p);
  const struct timespec tick = {0, 10000000};
  while (access(path, F_OK) != 0) nanosleep(&tick, NULL); /* the test's own clock decides */
}
