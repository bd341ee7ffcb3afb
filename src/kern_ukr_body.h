/* kern_ukr_body: the one micro-kernel (kern_ukr.h's contract), written once
 * for every SIMD path. A path's file defines, then includes this:
 *   UKR_MR                rows of the tile
 *   UKR_V, UKR_NV         its vector type and lanes (the tile is 2 UKR_NV wide)
 *   UKR_LOAD(p), UKR_STORE(p, v), UKR_ZERO, UKR_SET1(x)
 *   UKR_FMA(a, b, c)      a * b + c rounded once per lane, as fmaf does
 * Each lane is one output element's chain, so every path has the same bits. */
static void ukr(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb, float *c,
                int64_t ldc, int load) {
  UKR_V c0[UKR_MR], c1[UKR_MR];
  const float *ar[UKR_MR];
#pragma GCC unroll 16
  for (int i = 0; i < UKR_MR; i++) {
    ar[i] = a + i * rsa;
    c0[i] = load ? UKR_LOAD(c + i * ldc) : UKR_ZERO;
    c1[i] = load ? UKR_LOAD(c + i * ldc + UKR_NV) : UKR_ZERO;
  }
  for (int64_t p = 0, o = 0; p < kc; p++, o += csa, b += rsb) {
    const UKR_V b0 = UKR_LOAD(b), b1 = UKR_LOAD(b + UKR_NV);
#pragma GCC unroll 16
    for (int i = 0; i < UKR_MR; i++) {
      const UKR_V ai = UKR_SET1(ar[i][o]);
      c0[i] = UKR_FMA(ai, b0, c0[i]);
      c1[i] = UKR_FMA(ai, b1, c1[i]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < UKR_MR; i++) {
    UKR_STORE(c + i * ldc, c0[i]);
    UKR_STORE(c + i * ldc + UKR_NV, c1[i]);
  }
}
