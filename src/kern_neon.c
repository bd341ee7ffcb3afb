/* kern_neon: the portable GEMM's aarch64 NEON micro-kernel, 8 x 8 (Advanced
 * SIMD is part of every aarch64 CPU). vfmaq_f32 rounds once per lane, as fmaf
 * does. */
#include <arm_neon.h>

#include "kern_ukr.h"

#define UKR_MR 8
#define UKR_V float32x4_t
#define UKR_NV 4
#define UKR_LOAD(p) vld1q_f32(p)
#define UKR_STORE(p, v) vst1q_f32(p, v)
#define UKR_ZERO vdupq_n_f32(0.0f)
#define UKR_SET1(x) vdupq_n_f32(x)
#define UKR_FMA(a, b, c) vfmaq_f32(c, a, b)
#include "kern_ukr_body.h"

const rd_kern_ukr rd_kern_ukr_neon = {UKR_MR, 2 * UKR_NV, ukr};
