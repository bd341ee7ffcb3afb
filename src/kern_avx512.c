/* kern_avx512: the portable GEMM's AVX-512 micro-kernel, 8 x 32 (compiled with
 * -mavx512f; run only where the CPU has it). Each lane is one output element's
 * chain: _mm512_fmadd_ps rounds once per lane, as fmaf does. */
#include "kern_ukr.h"

#include <immintrin.h>

#define MR 8
static void ukr(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb, float *c,
                int64_t ldc, int load) {
  __m512 c0[MR], c1[MR];
  const float *ar[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    ar[i] = a + i * rsa;
    c0[i] = load ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps();
    c1[i] = load ? _mm512_loadu_ps(c + i * ldc + 16) : _mm512_setzero_ps();
  }
  for (int64_t p = 0, o = 0; p < kc; p++, o += csa, b += rsb) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m512 ai = _mm512_set1_ps(ar[i][o]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    _mm512_storeu_ps(c + i * ldc, c0[i]);
    _mm512_storeu_ps(c + i * ldc + 16, c1[i]);
  }
}

const rd_kern_ukr rd_kern_ukr_avx512 = {MR, 32, ukr};
