/* compare: exact comparison of float tensors, for `reprodist check`.
 * Pure functions; no files, no MPI. */
#ifndef REPRODIST_COMPARE_H
#define REPRODIST_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rd_cmp {
  size_t differ;         /* elements whose bits differ */
  size_t first;          /* index of the first one (valid when differ > 0) */
  double max_abs;        /* largest |a - b| (NaN-aware: NaN vs number counts as inf) */
  uint64_t max_ulp;      /* largest distance in units in the last place */
} rd_cmp;

/* Compares a and b (n floats each) bit for bit. */
void rd_cmp_floats(const float *a, const float *b, size_t n, rd_cmp *out);
/* Number of representable floats between a and b (0 when the bits are equal;
 * +0 and -0 are 1 apart, as their bits differ). */
uint64_t rd_cmp_ulp(float a, float b);

#ifdef __cplusplus
}
#endif
#endif
