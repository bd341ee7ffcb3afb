/* test_depthwise: the depthwise convolution's dm = 1 kernels (register
 * blocks, padding skipped by range, dx gathered) against the plain form
 * (taps tested one by one, dx scattered), which depthwise.h keeps for dm > 1
 * and runs here with dm = 1. They must agree bit for bit: y, dk, db and dx,
 * over channel counts that reach every block (32, 8, single floats),
 * kernels, strides and both paddings, with values of mixed magnitude so
 * that a sum added in another order shows. Every output element is written
 * (the buffers start as NaN), by both forms of dk, forward and dx where the
 * CPU has AVX-512 (depthwise.h, rd_dw_dk3 and rd_dw_run; the 4x12 input has
 * rows of 10 inner positions). The numerics themselves are checked against
 * numpy by tests/reference_layers.py. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/depthwise.h"
#include "seed.h"

#include "check.h"

static void fill(float *v, int64_t n, uint64_t key) {
  for (int64_t i = 0; i < n; i++) {
    const double u = rd_seed_uniform(rd_seed_word(7, key, (uint64_t)i));
    v[i] = (float)((u - 0.5) * (i % 3 == 0 ? 1e4 : i % 3 == 1 ? 1.0 : 1e-3));
  }
}

static float *nans(int64_t n) {
  float *v = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  for (int64_t i = 0; i < n; i++) v[i] = NAN;
  return v;
}

static int same(const float *a, const float *b, int64_t n) { return memcmp(a, b, sizeof(float) * (size_t)n) == 0; }

static void one(int64_t C, int64_t H, int64_t W, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int pad_same) {
  rd_depthwise d = {.c = C, .dm = 1, .has_k = 1};
  if (rd_window_axis(&d.h, H, kh, sh, pad_same) || rd_window_axis(&d.w, W, kw, sw, pad_same)) return;
  const int64_t rows = 2, nx = rows * H * W * C, ny = rows * d.h.out * d.w.out * C, nk = kh * kw * C;
  float *x = nans(nx), *k = nans(nk), *b = nans(C), *dy = nans(ny);
  fill(x, nx, 1), fill(k, nk, 2), fill(b, C, 3), fill(dy, ny, 4);
  char what[160];
  snprintf(what, sizeof what, "C %lld, %lldx%lld, kernel %lldx%lld, strides %lld,%lld, %s", (long long)C,
           (long long)H, (long long)W, (long long)kh, (long long)kw, (long long)sh, (long long)sw,
           pad_same ? "same" : "valid");
  for (int with_bias = 0; with_bias < 2; with_bias++) {
    float *y1 = nans(ny), *y2 = nans(ny);
    rd_dw_forward1(&d, rows, x, k, with_bias ? b : NULL, y1);
    rd_dw_forward_dm(&d, rows, x, k, with_bias ? b : NULL, y2);
    CHECK(same(y1, y2, ny), "forward differs (%s, bias %d)", what, with_bias);
    free(y1), free(y2);
  }
  for (int full = 0; full < 2; full++) { /* with db and dx, then without */
    float *dk1 = nans(nk), *dk2 = nans(nk), *db1 = nans(C), *db2 = nans(C), *dx1 = nans(nx), *dx2 = nans(nx);
    rd_dw_backward1(&d, rows, x, k, dy, dk1, full ? db1 : NULL, full ? dx1 : NULL);
    rd_dw_backward_dm(&d, rows, x, k, dy, dk2, full ? db2 : NULL, full ? dx2 : NULL);
    CHECK(same(dk1, dk2, nk), "dk differs (%s)", what);
    if (full) {
      CHECK(same(db1, db2, C), "db differs (%s)", what);
      CHECK(same(dx1, dx2, nx), "dx differs (%s)", what);
    }
    free(dk1), free(dk2), free(db1), free(db2), free(dx1), free(dx2);
  }
  free(x), free(k), free(b), free(dy);
}

int main(void) {
  static const int64_t cs[] = {1, 3, 8, 13, 27, 32, 43, 56, 64, 72};
  static const int64_t ks[][2] = {{1, 1}, {3, 3}, {2, 3}, {5, 5}, {3, 1}};
  static const int64_t ss[][2] = {{1, 1}, {2, 2}, {2, 1}, {3, 3}};
  static const int64_t hw[][2] = {{7, 6}, {5, 9}, {1, 4}, {4, 12}};
  /* Twice: the AVX-512 forms where the CPU has them (dk three taps at a
   * time, 3x3 rows with the kernel in registers), then the 8-float form. */
  const int wide = rd_dw_wide_on();
  for (int pass = 0; pass < 2; pass++) {
    rd_dw_wide = pass == 0 ? wide : 0;
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++)
      for (size_t kk = 0; kk < sizeof ks / sizeof *ks; kk++)
        for (size_t s = 0; s < sizeof ss / sizeof *ss; s++)
          for (size_t g = 0; g < sizeof hw / sizeof *hw; g++)
            for (int p = 0; p < 2; p++) one(cs[c], hw[g][0], hw[g][1], ks[kk][0], ks[kk][1], ss[s][0], ss[s][1], p);
  }
  printf("test_depthwise: the AVX-512 forms: %s\n", wide ? "run, then the 8-float form" : "not on this CPU; the 8-float form only");
  printf("test_depthwise: %d checks passed, %d failed\n", passes, fails);
  return fails ? 1 : 0;
}
