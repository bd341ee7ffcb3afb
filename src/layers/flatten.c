/* flatten: Keras' Flatten: (h, w, c) -> (h*w*c,). Free in NHWC: the bytes do
 * not move, the shape changes (RD_LAYER_RESHAPE). No keys. */
#include "reprodist/layer.h"

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  *out = (rd_shape){1, {rd_shape_numel(in)}};
  return 0;
}

const rd_layer_type rd_layer_flatten = {.name = "flatten", .flags = RD_LAYER_RESHAPE, .build = build};
