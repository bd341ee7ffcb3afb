/* kern_avx2: the portable GEMM's AVX2+FMA micro-kernels, 6 x 16 and 12 x 8
 * (compiled with -mavx2 -mfma; run only where the CPU has both).
 * _mm256_fmadd_ps rounds once per lane, as fmaf does. */
#include <immintrin.h>

#include "kern_ukr.h"

#define UKR_V __m256
#define UKR_NV 8
#define UKR_LOAD(p) _mm256_loadu_ps(p)
#define UKR_STORE(p, v) _mm256_storeu_ps(p, v)
#define UKR_ZERO _mm256_setzero_ps()
#define UKR_SET1(x) _mm256_set1_ps(x)
#define UKR_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define UKR_M __m256i
#define UKR_MASK(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define UKR_LOADM(p, m) _mm256_maskload_ps(p, m)
#define UKR_STOREM(p, m, v) _mm256_maskstore_ps(p, m, v)
#define UKR_MR_WIDE 6
#define UKR_MR_NARROW 12
#include "kern_ukr_tiles.h"

const rd_kern_ukr rd_kern_ukr_avx2 = {UKR_MR_WIDE, 2 * UKR_NV, ukr,       ukr_edges,  ukr_half,
                                      ukr_half_edges, ukr_m,      ukr_medges, ukr_half_m, ukr_half_medges},
                  rd_kern_ukr_avx2_narrow = {UKR_MR_NARROW, UKR_NV, ukr_narrow, 0, 0, 0, ukr_narrow_m, 0, 0, 0};
