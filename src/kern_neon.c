/* kern_neon: the portable GEMM's aarch64 NEON micro-kernel, 8 x 8 (Advanced
 * SIMD is part of every aarch64 CPU). Each lane is one output element's chain:
 * vfmaq_n_f32 rounds once per lane, as fmaf does. */
#include "kern_ukr.h"

#include <arm_neon.h>

#define MR 8
static void ukr(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb, float *c,
                int64_t ldc, int load) {
  float32x4_t c0[MR], c1[MR];
  const float *ar[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    ar[i] = a + i * rsa;
    c0[i] = load ? vld1q_f32(c + i * ldc) : vdupq_n_f32(0.0f);
    c1[i] = load ? vld1q_f32(c + i * ldc + 4) : vdupq_n_f32(0.0f);
  }
  for (int64_t p = 0, o = 0; p < kc; p++, o += csa, b += rsb) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      c0[i] = vfmaq_n_f32(c0[i], b0, ar[i][o]);
      c1[i] = vfmaq_n_f32(c1[i], b1, ar[i][o]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {
    vst1q_f32(c + i * ldc, c0[i]);
    vst1q_f32(c + i * ldc + 4, c1[i]);
  }
}

const rd_kern_ukr rd_kern_ukr_neon = {MR, 8, ukr};
