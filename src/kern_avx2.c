/* kern_avx2: the portable GEMM's AVX2+FMA micro-kernel, 6 x 16 (compiled with
 * -mavx2 -mfma; run only where the CPU has both). Each lane is one output
 * element's chain: _mm256_fmadd_ps rounds once per lane, as fmaf does. */
#include "kern_ukr.h"

#include <immintrin.h>

#define MR 6
static void ukr(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb, float *c,
                int64_t ldc, int load) {
  __m256 c0[MR], c1[MR];
  const float *ar[MR];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    ar[i] = a + i * rsa;
    c0[i] = load ? _mm256_loadu_ps(c + i * ldc) : _mm256_setzero_ps();
    c1[i] = load ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_setzero_ps();
  }
  for (int64_t p = 0, o = 0; p < kc; p++, o += csa, b += rsb) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      const __m256 ai = _mm256_set1_ps(ar[i][o]);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++) {
    _mm256_storeu_ps(c + i * ldc, c0[i]);
    _mm256_storeu_ps(c + i * ldc + 8, c1[i]);
  }
}

const rd_kern_ukr rd_kern_ukr_avx2 = {MR, 16, ukr};
