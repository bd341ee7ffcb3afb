/* minimum: Keras' Minimum(): y = the smallest of x1, x2, ... at each element, taken
 * in the order of `inputs`. dL/dx goes to the first input that holds it
 * (merge.h). Inputs: two or more of one shape. No keys. */
#include "merge.h"

static int build(const rd_api *rd, rd_build *b, void *self, int nin, const rd_shape *ins, rd_shape *out) {
  return rd_merge_build(rd, b, "minimum", 2, 0, self, nin, ins, out);
}

static void forward(const rd_io *io, const float *const *x, float *y) { rd_merge_extreme_forward(io, x, y, 0); }

static void backward(const rd_io *io, const float *const *x, const float *y, float *dy, float *const *dx) {
  rd_merge_pick_backward(io, x, y, dy, dx);
}

const rd_layer_type rd_layer_minimum = {
    .name = "minimum", .self_size = sizeof(rd_merge), .build_n = build, .forward_n = forward, .backward_n = backward};
