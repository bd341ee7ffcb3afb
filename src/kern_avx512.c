/* kern_avx512: the portable GEMM's AVX-512 micro-kernel, 8 x 32 (compiled with
 * -mavx512f; run only where the CPU has it). _mm512_fmadd_ps rounds once per
 * lane, as fmaf does. */
#include <immintrin.h>

#include "kern_ukr.h"

#define UKR_MR 8
#define UKR_V __m512
#define UKR_NV 16
#define UKR_LOAD(p) _mm512_loadu_ps(p)
#define UKR_STORE(p, v) _mm512_storeu_ps(p, v)
#define UKR_ZERO _mm512_setzero_ps()
#define UKR_SET1(x) _mm512_set1_ps(x)
#define UKR_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#include "kern_ukr_body.h"

const rd_kern_ukr rd_kern_ukr_avx512 = {UKR_MR, 2 * UKR_NV, ukr};
