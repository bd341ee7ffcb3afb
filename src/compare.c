/* compare: bitwise tensor comparison (see compare.h). */
#include "compare.h"

#include <math.h>
#include <string.h>

/* Maps float bits to a line where adjacent floats are adjacent integers. */
static int64_t ordered(float x) {
  int32_t i;
  memcpy(&i, &x, 4);
  return i >= 0 ? (int64_t)i : -(int64_t)(i & 0x7fffffff) - 1;
}

uint64_t rd_cmp_ulp(float a, float b) {
  int64_t d = ordered(a) - ordered(b);
  return (uint64_t)(d < 0 ? -d : d);
}

void rd_cmp_floats(const float *a, const float *b, size_t n, rd_cmp *o) {
  memset(o, 0, sizeof *o);
  for (size_t i = 0; i < n; i++) {
    if (memcmp(&a[i], &b[i], sizeof(float)) == 0) continue;
    if (o->differ++ == 0) o->first = i;
    double d = isnan(a[i]) || isnan(b[i]) ? INFINITY : fabs((double)a[i] - (double)b[i]);
    if (d > o->max_abs) o->max_abs = d;
    uint64_t u = rd_cmp_ulp(a[i], b[i]);
    if (u > o->max_ulp) o->max_ulp = u;
  }
}
