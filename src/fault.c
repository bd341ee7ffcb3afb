/* fault: fault-injection hooks for the tests (see include/reprodist/fault.h). */
#include "fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    loaded = 1;
  }
  return &f;
}
