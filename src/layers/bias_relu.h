/* bias_relu: the passes Conv2D and Dense run after and before their GEMMs
 * when they take the relu after them (layer.h, RD_LAYER_TAKES_RELU): the
 * separate passes' operations, fused. Private to src/layers/. */
#ifndef REPRODIST_LAYERS_BIAS_RELU_H
#define REPRODIST_LAYERS_BIAS_RELU_H

#include <stdint.h>
#include <string.h>

#include "../simd.h"

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

/* 16 floats as one value: GCC's generic vectors, whatever the clone's
 * vector width. */
typedef float rd_br_v16 __attribute__((vector_size(64)));
typedef int32_t rd_br_i16 __attribute__((vector_size(64)));

#define RD_BR_LOAD(v, p) memcpy(&(v), (p), sizeof(rd_br_v16))

/* Columns [k0, k0 + 16 nv) of rd_relu_dbias: their sums stay in registers
 * over all the rows (stored to db at each row, they cost a store and a
 * reload on each sum's chain per row: a first layer's 32 filters over a
 * shard's 10816 rows).
 * Each lane is one column's sum, row by row. */
static inline __attribute__((always_inline)) void rd_br_cols(int64_t rows, int64_t n, int64_t k0, int nv,
                                                             const float *restrict y, int relu, float *restrict dy,
                                                             float *restrict db) {
  rd_br_v16 acc[4];
  for (int v = 0; v < nv; v++) RD_BR_LOAD(acc[v], db + k0 + 16 * v);
  for (int64_t r = 0; r < rows; r++)
    for (int v = 0; v < nv; v++) {
      float *g = dy + r * n + k0 + 16 * v;
      rd_br_v16 gv, yv;
      RD_BR_LOAD(gv, g);
      if (relu) {
        const rd_br_v16 zero = {0};
        RD_BR_LOAD(yv, y + r * n + k0 + 16 * v);
        gv = (rd_br_v16)((rd_br_i16)gv & (yv > zero));
        memcpy(g, &gv, sizeof gv);
      }
      acc[v] += gv;
    }
  for (int v = 0; v < nv; v++) memcpy(db + k0 + 16 * v, &acc[v], sizeof acc[v]);
}

/* Backward's first pass over dy (rows, n): with relu, dy = y > 0 ? dy : 0 in
 * place, y being the relu's output; with db, db = the column sums of that
 * dy, row by row, from 0 (first) or continuing db's sums (consecutive row
 * blocks, in order, then give the whole pass's sums). */
RD_SIMD static void rd_relu_dbias(int64_t rows, int64_t n, const float *restrict y, int relu, float *restrict dy,
                                  float *restrict db, int first) {
  if (db) {
    if (first)
      for (int64_t k = 0; k < n; k++) db[k] = 0.0f;
    /* Up to 64 columns (a convolution's filters), in registers over all the
     * rows; wider rows (Dense's 1024 units) row by row, as below: their
     * many vectors per row keep each sum's store and reload apart, and one
     * pass per 64 columns would read rows a power of two apart (L1 set
     * conflicts: Dense 1024-1024's backward 3-5% slower). */
    int64_t k0 = 0;
    if (n <= 64) {
      if (k0 + 64 <= n) rd_br_cols(rows, n, k0, 4, y, relu, dy, db), k0 += 64;
      if (k0 + 32 <= n) rd_br_cols(rows, n, k0, 2, y, relu, dy, db), k0 += 32;
      if (k0 + 16 <= n) rd_br_cols(rows, n, k0, 1, y, relu, dy, db), k0 += 16;
      if (k0 == n) return;
    }
    for (int64_t r = 0; r < rows; r++) {
      float *restrict g = dy + r * n;
      if (relu)
        for (int64_t k = k0; k < n; k++) g[k] = y[r * n + k] > 0.0f ? g[k] : 0.0f;
      for (int64_t k = k0; k < n; k++) db[k] += g[k];
    }
  } else if (relu) {
    for (int64_t i = 0; i < rows * n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  }
}

#endif
