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
 * With UKR_MASKED, the masked form (kern_ukr.h's rd_kern_ukr_mfn), from the
 * path's UKR_M (a mask's type), UKR_MASK(n) (the first n lanes),
 * UKR_LOADM(p, m) (zero in the other lanes) and UKR_STOREM(p, m, v).
 * Each lane is one output element's chain, so every path and every tile has
 * the same bits. */
#ifdef UKR_MASKED
static void UKR_NAME(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb, float *c,
                     int64_t ldc, int load, int cols) {
  const UKR_M mk = UKR_MASK(cols - (UKR_NW - 1) * UKR_NV);
#define UKR_LOADL_(p) UKR_LOADM(p, mk)
#define UKR_STOREL_(p, v) UKR_STOREM(p, mk, v)
#else
static void UKR_NAME(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb, float *c,
                     int64_t ldc, int load) {
#define UKR_LOADL_(p) UKR_LOAD(p)
#define UKR_STOREL_(p, v) UKR_STORE(p, v)
#endif
  /* The last vector of a row goes through UKR_LOADL_ and UKR_STOREL_. */
#if UKR_NW == 2
#define UKR_LOAD0_(p) UKR_LOAD(p)
#define UKR_STORE0_(p, v) UKR_STORE(p, v)
#else
#define UKR_LOAD0_(p) UKR_LOADL_(p)
#define UKR_STORE0_(p, v) UKR_STOREL_(p, v)
#endif
  UKR_V c0[UKR_MR];
#if UKR_NW == 2
  UKR_V c1[UKR_MR];
#endif
  const float *ar[UKR_MR];
#pragma GCC unroll 16
  for (int i = 0; i < UKR_MR; i++) {
    ar[i] = a + i * rsa;
    c0[i] = load ? UKR_LOAD0_(c + i * ldc) : UKR_ZERO;
#if UKR_NW == 2
    c1[i] = load ? UKR_LOADL_(c + i * ldc + UKR_NV) : UKR_ZERO;
#endif
  }
  for (int64_t p = 0, o = 0; p < kc; p++, o += csa, b += rsb) {
    const UKR_V b0 = UKR_LOAD0_(b);
#if UKR_NW == 2
    const UKR_V b1 = UKR_LOADL_(b + UKR_NV);
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
    UKR_STORE0_(c + i * ldc, c0[i]);
#if UKR_NW == 2
    UKR_STOREL_(c + i * ldc + UKR_NV, c1[i]);
#endif
  }
}
#undef UKR_LOADL_
#undef UKR_STOREL_
#undef UKR_LOAD0_
#undef UKR_STORE0_
