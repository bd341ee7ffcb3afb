/* concatenate: Keras' Concatenate(axis=-1): the inputs side by side along
 * axis, in the order of `inputs`. axis counts as Keras does, with the batch
 * axis 0: -1 (the default) or 3 is the channels of an (H, W, C) input; the
 * batch axis cannot be joined. Every other dimension must agree.
 * Key: axis. */
#include <stdio.h>
#include <string.h>

#include "reprodist/layer.h"

typedef struct {
  int nin;
  int64_t outer;                  /* per sample: the values before the axis, times 1 */
  int64_t inner[RD_MAX_INPUTS];   /* per sample, per input: the values from the axis on */
  int64_t inner_out;              /* their sum */
} concatenate;

static int build(const rd_api *rd, rd_build *b, void *self, int nin, const rd_shape *ins, rd_shape *out) {
  concatenate *p = self;
  int64_t axis;
  const int nd = ins[0].ndim;
  if (rd->get_int(b, "axis", -1, -4, 4, &axis) < 0) return 1;
  if (nin < 2) return rd->fail(b, "inputs", "[concatenate] takes two or more inputs (inputs = a, b, ...); it has %d", nin);
  if (axis == 0 || axis < -nd || axis > nd)
    return rd->fail(b, "axis", "axis = %lld: the inputs have %d axes besides the batch axis 0, so axis is one of 1..%d "
                    "or -%d..-1", (long long)axis, nd, nd, nd);
  const int a = axis < 0 ? nd + (int)axis : (int)axis - 1; /* in the per-sample shape */
  *out = ins[0];
  out->dim[a] = 0;
  p->nin = nin;
  p->outer = 1;
  for (int d = 0; d < a; d++) p->outer *= ins[0].dim[d];
  p->inner_out = 0;
  for (int i = 0; i < nin; i++) {
    int same = ins[i].ndim == nd;
    for (int d = 0; same && d < nd; d++) same = d == a || ins[i].dim[d] == ins[0].dim[d];
    if (!same) {
      char s0[64], si[64];
      int o = 0;
      for (int d = 0; d < nd; d++) o += snprintf(s0 + o, sizeof s0 - (size_t)o, "%s%lld", d ? ", " : "", (long long)ins[0].dim[d]);
      o = 0;
      for (int d = 0; d < ins[i].ndim; d++) o += snprintf(si + o, sizeof si - (size_t)o, "%s%lld", d ? ", " : "", (long long)ins[i].dim[d]);
      return rd->fail(b, "inputs", "[concatenate] along axis %lld: input 1 is (%s%s) but input %d is (%s%s); only "
                      "that axis may differ", (long long)axis, s0, nd == 1 ? "," : "", i + 1, si,
                      ins[i].ndim == 1 ? "," : "");
    }
    out->dim[a] += ins[i].dim[a];
    p->inner[i] = rd_shape_numel(&ins[i]) / p->outer;
    p->inner_out += p->inner[i];
  }
  return 0;
}

static void forward(const rd_io *io, const float *const *x, float *y) {
  const concatenate *p = io->self;
  const int64_t outer = io->rows * p->outer;
  for (int64_t o = 0; o < outer; o++) {
    float *dst = y + o * p->inner_out;
    for (int i = 0; i < p->nin; i++) {
      memcpy(dst, x[i] + o * p->inner[i], sizeof(float) * (size_t)p->inner[i]);
      dst += p->inner[i];
    }
  }
}

static void backward(const rd_io *io, const float *const *x, const float *y, float *dy, float *const *dx) {
  const concatenate *p = io->self;
  const int64_t outer = io->rows * p->outer;
  (void)x, (void)y;
  for (int64_t o = 0; o < outer; o++) {
    const float *src = dy + o * p->inner_out;
    for (int i = 0; i < p->nin; i++) {
      if (dx[i]) memcpy(dx[i] + o * p->inner[i], src, sizeof(float) * (size_t)p->inner[i]);
      src += p->inner[i];
    }
  }
}

const rd_layer_type rd_layer_concatenate = {.name = "concatenate",
                                            .self_size = sizeof(concatenate),
                                            .build_n = build,
                                            .forward_n = forward,
                                            .backward_n = backward};
