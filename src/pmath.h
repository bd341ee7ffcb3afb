/* pmath: portable elementary functions. Each is a fixed algorithm over IEEE-754
 * double +, -, *, / (no fma, no libm, no table), then one rounding to float, so
 * it gives the same bits on every IEEE machine and compiler that does not
 * contract or reorder (the build checks -ffp-contract=off). They are what
 * portable mode ([train] kernels = portable, docs/PORTABLE.md) uses instead of
 * libm's expf, logf and tanhf, and what the normal initializer's log is.
 *
 * Accuracy, measured by tests/test_pmath.c against float64 libm: the float
 * functions are within 1 ulp of the exactly rounded result (the double
 * intermediate is within ~1e-15 relative, so only results within that of a
 * rounding boundary can round the other way). Special values: exp(-inf) = 0,
 * exp(+inf) = +inf, log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf, tanh and
 * sigmoid saturate exactly; every NaN input or result is the one quiet NaN
 * 0x7fc00000, whatever the CPU's default NaN. */
#ifndef REPRODIST_PMATH_H
#define REPRODIST_PMATH_H

#ifdef __cplusplus
extern "C" {
#endif

/* Natural log for normal (not subnormal) finite double x > 0, from +,-,*,/
 * only (docs/SEEDS.md); within 3 ulp of the true value. */
double rd_pmath_log(double x);

/* The double functions the learning-rate schedules use (schedule.h): e^x; cos x
 * for |x| <= 2^20 (a three-part Cody-Waite reduction by pi/2, then the Taylor
 * series of sin or cos to degree 21 / 20 on [-pi/4, pi/4]); x^y for x >= 0 as
 * e^(y log x), with 0^y = 0 for y > 0 and x^0 = 1. Each within ~1e-15 relative
 * of the true value (test_kern checks them against libm); results below
 * 2^-1020 are flushed to 0, above 2^1023 are +inf. */
double rd_pmath_exp(double x);
double rd_pmath_cos(double x);
/* sin x for |x| <= 2^20, from the same reduction and series as rd_pmath_cos;
 * the image augmentation layers' rotation (layer.h's rd->sin, rd->cos). */
double rd_pmath_sin(double x);
double rd_pmath_pow(double x, double y);

float rd_pmath_expf(float x);
float rd_pmath_logf(float x);
float rd_pmath_tanhf(float x);
/* 1 / (1 + exp(-x)), evaluated in double and rounded once. */
float rd_pmath_sigmoidf(float x);

#ifdef __cplusplus
}
#endif
#endif
