/* merge.h: what Keras' merge layers share (Add, Subtract, Multiply, Average,
 * Maximum, Minimum): two or more inputs of one shape, combined element by
 * element, in the order the config's `inputs` key lists them. Included by
 * each of their files; static, so each keeps its own copy. */
#ifndef RD_LAYERS_MERGE_H
#define RD_LAYERS_MERGE_H

#include <stdio.h>

#include "reprodist/layer.h"

typedef struct {
  int nin;   /* inputs */
  int64_t n; /* values per sample, the same for every input */
} rd_merge;

/* Checks nin (min .. max; max 0: no limit) and that every input has the first
 * one's shape; the output has that shape. */
static inline int rd_merge_build(const rd_api *rd, rd_build *b, const char *type, int min, int max, rd_merge *p,
                                 int nin, const rd_shape *ins, rd_shape *out) {
  if (nin < min || (max && nin > max)) {
    if (max == min)
      return rd->fail(b, "inputs", "[%s] takes exactly %d inputs (inputs = a, b); it has %d", type, min, nin);
    return rd->fail(b, "inputs", "[%s] takes two or more inputs (inputs = a, b, ...); it has %d", type, nin);
  }
  for (int i = 1; i < nin; i++) {
    int same = ins[i].ndim == ins[0].ndim;
    for (int d = 0; same && d < ins[0].ndim; d++) same = ins[i].dim[d] == ins[0].dim[d];
    if (!same) {
      char s0[64], si[64];
      int o = 0;
      for (int d = 0; d < ins[0].ndim; d++) o += snprintf(s0 + o, sizeof s0 - (size_t)o, "%s%lld", d ? ", " : "", (long long)ins[0].dim[d]);
      o = 0;
      for (int d = 0; d < ins[i].ndim; d++) o += snprintf(si + o, sizeof si - (size_t)o, "%s%lld", d ? ", " : "", (long long)ins[i].dim[d]);
      return rd->fail(b, "inputs", "[%s] takes inputs of one shape: input 1 is (%s%s) but input %d is (%s%s)", type, s0,
                      ins[0].ndim == 1 ? "," : "", i + 1, si, ins[i].ndim == 1 ? "," : "");
    }
  }
  p->nin = nin;
  p->n = rd_shape_numel(&ins[0]);
  *out = ins[0];
  return 0;
}

/* Maximum (largest = 1) and Minimum (0): y = the extreme of x1, x2, ... at
 * each element, taken in the order of `inputs`. */
static inline void rd_merge_extreme_forward(const rd_io *io, const float *const *x, float *y, int largest) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  for (size_t j = 0; j < n; j++) y[j] = x[0][j];
  for (int i = 1; i < p->nin; i++)
    for (size_t j = 0; j < n; j++) {
      const float v = x[i][j];
      y[j] = (largest ? v > y[j] : v < y[j]) ? v : y[j];
    }
}

/* Maximum and Minimum: y is one of the inputs at each element; its gradient
 * goes to the first input (in `inputs` order) equal to y there, as
 * tf.maximum's does on ties, and the others get 0. */
static inline void rd_merge_pick_backward(const rd_io *io, const float *const *x, const float *y, const float *dy,
                                          float *const *dx) {
  const rd_merge *p = io->self;
  const size_t n = (size_t)(io->rows * p->n);
  for (size_t j = 0; j < n; j++) {
    int won = 0;
    for (int i = 0; i < p->nin; i++) {
      const int w = !won && x[i][j] == y[j];
      won |= w;
      if (dx[i]) dx[i][j] = w ? dy[j] : 0.0f;
    }
  }
}

#endif
