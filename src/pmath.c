/* pmath: portable elementary functions (see pmath.h and
 * docs/PORTABLE.md, which states each algorithm so it can be reimplemented). */
#include "pmath.h"

#include <stdint.h>
#include <string.h>

static float f32_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static double f64_bits(uint64_t u) {
  double d;
  memcpy(&d, &u, 8);
  return d;
}

#define QNAN 0x7fc00000u
#define LN2 0.6931471805599453

double rd_pmath_log(double x) {
  /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(f), f = (m-1)/(m+1),
   * by its series to f^23 (|f| <= 0.1716: the next term is below 1e-19 relative). */
  uint64_t bits;
  memcpy(&bits, &x, 8);
  int e = (int)((bits >> 52) & 0x7ff) - 1023;
  double m = f64_bits((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL); /* m in [1, 2) */
  if (m > 1.4142135623730951) {
    m = m * 0.5;
    e += 1;
  }
  double f = (m - 1.0) / (m + 1.0);
  double f2 = f * f;
  double p = 1.0 / 23.0;
  for (int k = 10; k >= 0; k--) p = p * f2 + 1.0 / (double)(2 * k + 1);
  return (double)e * LN2 + 2.0 * f * p;
}

/* e^x for double x in [-110, 100]: x = n ln2 + r, |r| <= ln2 / 2, with n the
 * nearest integer to x log2(e) (ties to even, by adding and subtracting 1.5 2^52)
 * and ln2 split in two (LN2_HI has 33 significant bits, so n LN2_HI is exact);
 * e^r by its Taylor series to r^12 (the rest is below 1e-16 relative); times 2^n,
 * made from its bits (n + 1023 is a normal exponent over the whole range). */
#define LN2_HI 0x1.62e42fefp-1
#define LN2_LO 0x1.473de6af278edp-34
static double exp_reduced(double x) {
  double t = x * 1.4426950408889634;
  double nd = (t + 0x1.8p52) - 0x1.8p52;
  double r = (x - nd * LN2_HI) - nd * LN2_LO;
  double p = 1.0 / 479001600.0; /* 1/12! */
  static const double inv_fact[12] = {1.0,           1.0,           1.0 / 2,        1.0 / 6,
                                      1.0 / 24,      1.0 / 120,     1.0 / 720,      1.0 / 5040,
                                      1.0 / 40320,   1.0 / 362880,  1.0 / 3628800,  1.0 / 39916800};
  for (int k = 11; k >= 0; k--) p = p * r + inv_fact[k];
  int n = (int)nd;
  return p * f64_bits((uint64_t)(n + 1023) << 52);
}

float rd_pmath_expf(float x) {
  if (x != x) return f32_bits(QNAN);
  if (x > 100.0f) return f32_bits(0x7f800000u); /* e^89 already overflows float */
  if (x < -110.0f) return 0.0f;                  /* e^-104 already rounds to 0 */
  return (float)exp_reduced((double)x);
}

float rd_pmath_logf(float x) {
  if (x != x || x < 0.0f) return f32_bits(QNAN);
  if (x == 0.0f) return f32_bits(0xff800000u);
  if (x == f32_bits(0x7f800000u)) return x;
  return (float)rd_pmath_log((double)x); /* a float, subnormal or not, is a normal double */
}

float rd_pmath_tanhf(float x) {
  if (x != x) return f32_bits(QNAN);
  uint32_t u;
  memcpy(&u, &x, 4);
  const int neg = (int)(u >> 31); /* tanh(-0) = -0 */
  const double a = neg ? -(double)x : (double)x;
  double t;
  if (a > 10.0) {
    t = 1.0; /* 1 - tanh(10) = 4e-9: rounds to 1 in float */
  } else if (a < 0x1p-13) {
    t = a - a * a * a / 3.0; /* the next term, 2a^5/15, is below 2^-66 a */
  } else {
    /* tanh a = (e^2a - 1) / (e^2a + 1); e^2a - 1 >= 2^-12 loses at most 12 of the
     * double's 53 bits, far more than float needs. */
    const double e = exp_reduced(2.0 * a);
    t = (e - 1.0) / (e + 1.0);
  }
  return (float)(neg ? -t : t);
}

float rd_pmath_sigmoidf(float x) {
  if (x != x) return f32_bits(QNAN);
  if (x > 40.0f) return 1.0f;   /* 1 - sigmoid(40) = 4e-18 */
  if (x < -110.0f) return 0.0f; /* sigmoid(-104) < 2^-150 */
  return (float)(1.0 / (1.0 + exp_reduced(-(double)x)));
}
