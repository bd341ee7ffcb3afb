/* reshape: Keras' Reshape(target_shape): the same values in another shape of
 * as many, e.g. flat HDF5 features (784,) into (28, 28, 1) for [conv2d].
 * RD_LAYER_RESHAPE: nothing moves. Key: target_shape (required, "28,28,1"). */
#include "reprodist/layer.h"

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  const int got = rd->get_shape(b, "target_shape", out);
  if (got < 0) return 1;
  if (got == 0) return rd->fail(b, NULL, "[reshape] needs target_shape = H,W,C (or any shape of as many values)");
  if (rd_shape_numel(out) != rd_shape_numel(in))
    return rd->fail(b, "target_shape", "target_shape holds %lld values, the input %lld",
                    (long long)rd_shape_numel(out), (long long)rd_shape_numel(in));
  return 0;
}

const rd_layer_type rd_layer_reshape = {.name = "reshape", .flags = RD_LAYER_RESHAPE, .build = build};
