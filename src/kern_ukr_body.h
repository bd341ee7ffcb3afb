/* kern_ukr_body: the one micro-kernel (kern_ukr.h's contract), written once
 * for every SIMD path and both tile widths. A path's file defines, then
 * includes this, once per tile:
 *   UKR_NAME              the function's name
 *   UKR_MR                rows of the tile
 *   UKR_NW                vectors per row: 2 (the wide tile) or 1 (the narrow
 *                         one, for products with at most one vector of columns)
 *   UKR_V, UKR_NV         its vector type and lanes (the tile is UKR_NW UKR_NV wide)
 *   UKR_LOAD(p), UKR_STORE(p, v), UKR_ZERO, UKR_SET1(x)
 *   UKR_FMA(a, b, c)      a * b + c rounded once per lane, as fmaf does
 * Each lane is one output element's chain, so every path and every tile has
 * the same bits. */
static void UKR_NAME(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb, float *c,
                     int64_t ldc, int load) {
  UKR_V c0[UKR_MR];
#if UKR_NW == 2
  UKR_V c1[UKR_MR];
#endif
  const float *ar[UKR_MR];
#pragma GCC unroll 16
  for (int i = 0; i < UKR_MR; i++) {
    ar[i] = a + i * rsa;
    c0[i] = load ? UKR_LOAD(c + i * ldc) : UKR_ZERO;
#if UKR_NW == 2
    c1[i] = load ? UKR_LOAD(c + i * ldc + UKR_NV) : UKR_ZERO;
#endif
  }
  for (int64_t p = 0, o = 0; p < kc; p++, o += csa, b += rsb) {
    const UKR_V b0 = UKR_LOAD(b);
#if UKR_NW == 2
    const UKR_V b1 = UKR_LOAD(b + UKR_NV);
#endif
#pragma GCC unroll 16
    for (int i = 0; i < UKR_MR; i++) {
      const UKR_V ai = UKR_SET1(ar[i][o]);
      c0[i] = UKR_FMA(ai, b0, c0[i]);
#if UKR_NW == 2
      c1[i] = UKR_FMA(ai, b1, c1[i]);
#endif
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < UKR_MR; i++) {
    UKR_STORE(c + i * ldc, c0[i]);
#if UKR_NW == 2
    UKR_STORE(c + i * ldc + UKR_NV, c1[i]);
#endif
  }
}
