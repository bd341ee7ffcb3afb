/* mem: aligned float buffers (see include/reprodist/mem.h). */
#include "mem.h"

#include <stdlib.h>

#include "log.h"

float *rd_mem_alloc_f32(size_t n) {
  float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64 + 64);
  RD_ASSERT(p != NULL, "out of memory for %zu floats", n);
  return p;
}
