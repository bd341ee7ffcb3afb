/* kern_neon: the portable GEMM's aarch64 NEON micro-kernels, 8 x 8 and
 * 16 x 4 (Advanced SIMD is part of every aarch64 CPU). vfmaq_f32 rounds once
 * per lane, as fmaf does. */
#include <arm_neon.h>

#include "kern_ukr.h"

#define UKR_V float32x4_t
#define UKR_NV 4
#define UKR_LOAD(p) vld1q_f32(p)
#define UKR_STORE(p, v) vst1q_f32(p, v)
#define UKR_ZERO vdupq_n_f32(0.0f)
#define UKR_SET1(x) vdupq_n_f32(x)
#define UKR_FMA(a, b, c) vfmaq_f32(c, a, b)
#define UKR_MR_WIDE 8
#define UKR_MR_NARROW 16
#include "kern_ukr_tiles.h"

const rd_kern_ukr rd_kern_ukr_neon = {UKR_MR_WIDE, 2 * UKR_NV, ukr, ukr_edges, ukr_half, ukr_half_edges, 0, 0, 0, 0},
                      rd_kern_ukr_neon_narrow = {UKR_MR_NARROW, UKR_NV, ukr_narrow, 0, 0, 0, 0, 0, 0, 0};
