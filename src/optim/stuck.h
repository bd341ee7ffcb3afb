/* stuck: state stuck at a denormal, for the optimizers' loops (private to
 * src/optim). While a weight's gradient is 0, a moving average of it (Adam's
 * and Nadam's first moment, RMSprop's velocity) shrinks by a factor each
 * step until the shrinking rounds away: it then stays at a denormal of a
 * few units of 2^-149 for good. Operations on denormals cost this CPU (AMD
 * EPYC) a microcode assist each, so an update over such state ran 2.3-3.6x
 * slower. An optimizer whose formula's values on such an element are known
 * without computing on the denormal takes those lanes around it, from a
 * zero in its place, and stores the state as it was: the formula's bits
 * (test_optim compares each with its formula computed step by step). Blocks
 * of RD_STUCK_BLOCK elements without a denormal run the plain loop. */
#ifndef REPRODIST_OPTIM_STUCK_H
#define REPRODIST_OPTIM_STUCK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { RD_STUCK_BLOCK = 256 };

static inline uint32_t rd_stuck_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}
static inline float rd_stuck_float(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* All ones where |x|'s bits u are k units of 2^-149 with 1 <= k <= kmax, else 0. */
static inline uint32_t rd_stuck_mask(uint32_t u, uint32_t kmax) { return 0u - (uint32_t)((u & 0x7fffffffu) - 1u < kmax); }

/* Whether x[0, n) holds a denormal: 2 |x|'s bits - 2 (unsigned) is below
 * 2^24 - 2 for a denormal alone (+-0 wraps to the top); one min over the
 * block (fewer operations per vector than a flag per element). */
static inline __attribute__((always_inline)) int rd_stuck_any(const float *restrict x, size_t n) {
  uint32_t lo = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    const uint32_t t = (rd_stuck_bits(x[i]) << 1) - 2u;
    lo = t < lo ? t : lo;
  }
  return lo < 0xfffffeu;
}

/* The largest k <= 2^23 - 1 with k x <= 1/2 (strict: < 1/2), for x a float
 * or a difference of floats exact in double, so that k x is exact; 0 where
 * x is not finite or not > 0. */
static inline uint32_t rd_stuck_kmax(double x, int strict) {
  if (!(x > 0.0) || !(x < INFINITY)) return 0;
  double k = floor(0.5 / x);
  k = k > 0x7fffff ? 0x7fffff : k;
  while (k > 0 && (k * x > 0.5 || (strict && k * x == 0.5))) k--;
  while (k < 0x7fffff && ((k + 1) * x < 0.5 || (!strict && (k + 1) * x == 0.5))) k++;
  return (uint32_t)k;
}

#endif
