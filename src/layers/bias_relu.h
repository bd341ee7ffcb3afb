/* bias_relu: the passes Conv2D and Dense run after and before their GEMMs
 * when they take the relu after them (layer.h, RD_LAYER_TAKES_RELU): the
 * separate passes' operations, fused. Private to src/layers/. */
#ifndef REPRODIST_LAYERS_BIAS_RELU_H
#define REPRODIST_LAYERS_BIAS_RELU_H

#include <stdint.h>

#include "simd.h"

/* y (rows, n) = y + bias (bias NULL: none), then with relu y > 0 ? y : 0,
 * in one pass. */
RD_SIMD static void rd_bias_relu(int64_t rows, int64_t n, const float *restrict bias, int relu, float *restrict y) {
  if (bias && relu)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t k = 0; k < n; k++) {
        const float v = y[r * n + k] + bias[k];
        y[r * n + k] = v > 0.0f ? v : 0.0f;
      }
  else if (bias)
    for (int64_t r = 0; r < rows; r++)
      for (int64_t k = 0; k < n; k++) y[r * n + k] += bias[k];
  else if (relu)
    for (int64_t i = 0; i < rows * n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

/* Backward's first pass over dy (rows, n): with relu, dy = y > 0 ? dy : 0 in
 * place, y being the relu's output; with db, db = the column sums of that
 * dy, row by row. */
RD_SIMD static void rd_relu_dbias(int64_t rows, int64_t n, const float *restrict y, int relu, float *restrict dy,
                                  float *restrict db) {
  if (db) {
    for (int64_t k = 0; k < n; k++) db[k] = 0.0f;
    for (int64_t r = 0; r < rows; r++) {
      float *restrict g = dy + r * n;
      if (relu)
        for (int64_t k = 0; k < n; k++) g[k] = y[r * n + k] > 0.0f ? g[k] : 0.0f;
      for (int64_t k = 0; k < n; k++) db[k] += g[k];
    }
  } else if (relu) {
    for (int64_t i = 0; i < rows * n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  }
}

#endif
