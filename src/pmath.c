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

double rd_pmath_exp(double x) {
  if (x != x) return x;
  if (x > 709.0) return f64_bits(0x7ff0000000000000ULL);
  if (x < -707.0) return 0.0; /* keeps 2^n normal in exp_reduced */
  return exp_reduced(x);
}

/* pi/2 in three parts of 33, 33 and 53 bits (fdlibm's pio2_1, pio2_2, pio2_2t):
 * k * the first two are exact for |k| < 2^20. */
#define PIO2_1 1.57079632673412561417e+00
#define PIO2_2 6.07710050630396597660e-11
#define PIO2_2T 2.02226624879595063154e-21
/* cos x (odd = 0) or sin x (odd = 1): sin x = cos(x - pi/2), taken as one more
 * quarter turn of the reduction, so both share its accuracy. */
static double sincos_reduced(double x, int odd) {
  if (x != x || x > 0x1p20 || x < -0x1p20) return f64_bits(0x7ff8000000000000ULL);
  const double kd = (x * 0.63661977236758134308 + 0x1.8p52) - 0x1.8p52; /* nearest integer to x / (pi/2) */
  const double r = ((x - kd * PIO2_1) - kd * PIO2_2) - kd * PIO2_2T, r2 = r * r;
  /* cos r = sum (-1)^j r^2j / (2j)!, sin r = r sum (-1)^j r^2j / (2j+1)!, j <= 10 */
  double c = 0.0, s = 0.0, fc = 1.0, fs = 1.0;
  double cc[11], sc[11];
  for (int j = 0; j <= 10; j++) {
    cc[j] = (j & 1 ? -1.0 : 1.0) / fc;
    sc[j] = (j & 1 ? -1.0 : 1.0) / fs;
    fc *= (double)((2 * j + 1) * (2 * j + 2));
    fs *= (double)((2 * j + 2) * (2 * j + 3));
  }
  for (int j = 10; j >= 0; j--) c = c * r2 + cc[j], s = s * r2 + sc[j];
  s *= r;
  /* x = kd pi/2 + r: cos x by kd mod 4 is c, -s, -c, s; sin x = cos(x - pi/2), one quarter back. */
  switch ((int)(((int64_t)kd - odd) & 3)) {
    case 0: return c;
    case 1: return -s;
    case 2: return -c;
    default: return s;
  }
}

double rd_pmath_cos(double x) { return sincos_reduced(x, 0); }
double rd_pmath_sin(double x) { return sincos_reduced(x, 1); }

double rd_pmath_pow(double x, double y) {
  if (x != x || y != y || x < 0.0) return f64_bits(0x7ff8000000000000ULL);
  if (y == 0.0 || x == 1.0) return 1.0;
  if (x == 0.0) return y > 0.0 ? 0.0 : f64_bits(0x7ff0000000000000ULL);
  if (x == f64_bits(0x7ff0000000000000ULL)) return y > 0.0 ? x : 0.0;
  if (x < 0x1p-1022) x = 0x1p-1022; /* rd_pmath_log takes normal numbers */
  return rd_pmath_exp(y * rd_pmath_log(x));
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
