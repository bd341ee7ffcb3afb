/* mem: aligned float buffers, and how much memory is left (see mem.h). */
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

float *rd_mem_alloc_f32(size_t n) {
  float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64 + 64);
  RD_ASSERT(p != NULL, "out of memory for %zu floats", n);
  return p;
}

void rd_mem_touch(const void *p, size_t n) {
  const volatile unsigned char *b = p;
  unsigned char acc = 0;
  for (size_t i = 0; i < n; i += 4096) acc ^= b[i];
  if (n) acc ^= b[n - 1];
  (void)acc;
}

/* The first number after key in file, times scale; -1 if absent. */
static double read_num(const char *path, const char *key, double scale) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  double v = -1;
  while (fgets(line, sizeof line, f)) {
    if (key && strncmp(line, key, strlen(key))) continue;
    const char *p = line + (key ? strlen(key) : 0);
    char *end;
    double x = strtod(p, &end);
    if (end != p) v = x * scale;
    break;
  }
  fclose(f);
  return v;
}

double rd_mem_available(void) {
  double avail = read_num("/proc/meminfo", "MemAvailable:", 1024.0);
  double max = read_num("/sys/fs/cgroup/memory.max", NULL, 1.0), cur = read_num("/sys/fs/cgroup/memory.current", NULL, 1.0);
  if (max > 0 && cur >= 0 && (avail < 0 || max - cur < avail)) avail = max - cur; /* "max" itself reads as -1 */
  return avail > 0 ? avail : 0;
}
