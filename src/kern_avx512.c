/* kern_avx512: the portable GEMM's AVX-512 micro-kernels, 8 x 32 and 16 x 16
 * (compiled with -mavx512f; run only where the CPU has it). _mm512_fmadd_ps
 * rounds once per lane, as fmaf does. */
#include <immintrin.h>

#include "kern_ukr.h"

#define UKR_V __m512
#define UKR_NV 16
#define UKR_LOAD(p) _mm512_loadu_ps(p)
#define UKR_STORE(p, v) _mm512_storeu_ps(p, v)
#define UKR_ZERO _mm512_setzero_ps()
#define UKR_SET1(x) _mm512_set1_ps(x)
#define UKR_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define UKR_M __mmask16
#define UKR_MASK(n) ((__mmask16)((1u << (n)) - 1u))
#define UKR_LOADM(p, m) _mm512_maskz_loadu_ps(m, p)
#define UKR_STOREM(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define UKR_MR_WIDE 8
#define UKR_MR_NARROW 16
#include "kern_ukr_tiles.h"

const rd_kern_ukr rd_kern_ukr_avx512 = {UKR_MR_WIDE, 2 * UKR_NV, ukr,       ukr_edges,  ukr_half,
                                        ukr_half_edges, ukr_m,      ukr_medges, ukr_half_m, ukr_half_medges},
                  rd_kern_ukr_avx512_narrow = {UKR_MR_NARROW, UKR_NV, ukr_narrow, 0, 0, 0, ukr_narrow_m, 0, 0, 0};
