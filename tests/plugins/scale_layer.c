/* scale_layer: y = a * x with one trainable scalar a (initializer "ones"), a
 * test plugin for `reprodist gradcheck`. Built twice: as it should be, and with
 * -DRD_FORGET_FACTOR, whose backward forgets the factor a in dx (dx = dy). At
 * a's initial value 1 the two agree, which is how such a bug hides from a
 * check at the initial weights; gradcheck moves a away from 1 and must catch it.
 * Its key l2 = X puts Keras' L2(X) on a through rd->regularize, as a Keras
 * custom layer's add_weight(regularizer=...) does. */
#include <reprodist/layer.h>

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  (void)self;
  rd_shape one = {1, {1}};
  double l2 = 0.0;
  const int t = rd->tensor(b, "a", &one, NULL, "ones", 1), got = rd->get_float(b, "l2", 0.0, 0.0, 1e6, 0, &l2);
  if (t < 0 || got < 0) return 1;
  if (got > 0 && rd->regularize(b, t, 0.0, l2)) return 1;
  *out = *in;
  return 0;
}

static void forward(const rd_io *io, const float *x, float *y) {
  const int64_t n = io->rows * rd_shape_numel(io->in);
  const float a = io->w[0][0];
  for (int64_t i = 0; i < n; i++) y[i] = a * x[i];
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  (void)y;
  const int64_t n = io->rows * rd_shape_numel(io->in);
  const float a = io->w[0][0];
  float da = 0.0f;
  for (int64_t i = 0; i < n; i++) da += dy[i] * x[i];
  io->g[0][0] = da;
  if (dx)
    for (int64_t i = 0; i < n; i++) {
#ifdef RD_FORGET_FACTOR
      (void)a;
      dx[i] = dy[i];
#else
      dx[i] = a * dy[i];
#endif
    }
}

static const rd_layer_type scale_layer = {
    .name = "scale_layer", .build = build, .forward = forward, .backward = backward};
RD_PLUGIN("scale_layer", &scale_layer)
