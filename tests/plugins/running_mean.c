/* running_mean: a test plugin for the batch-statistics hook (layer.h).
 *
 * y = x (the layer changes nothing on the way through); a non-trainable tensor
 * "mean" (the input's last axis) tracks the mean of the inputs it saw in
 * training, as BatchNormalization's moving_mean does:
 *     mean = momentum * mean + (1 - momentum) * (the batch's column means)
 * Each training shard contributes its column sums and its row count (stats);
 * stats_apply gets their sum over the batch's shards, once per step. A count
 * other than the batch's sample count makes the mean NaN, so a wrong sum is
 * seen in the weights file. tests/stats_hook.sh checks it against numpy. */
#include <math.h>
#include <reprodist/layer.h>

typedef struct {
  int64_t d, rows; /* columns (the last axis), rows per sample */
  double momentum;
} running_mean;

static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  running_mean *p = self;
  if (rd->get_float(b, "momentum", 0.9, 0.0, 1.0, 0, &p->momentum) < 0) return 1;
  p->d = in->dim[in->ndim - 1];
  p->rows = rd_shape_numel(in) / p->d;
  rd_shape s = {1, {p->d}};
  if (rd->tensor(b, "mean", &s, NULL, "zeros", 0) < 0) return 1;
  *out = *in;
  return 0;
}

static size_t stats_size(const void *self, const rd_shape *in, const rd_shape *out) {
  return (size_t)((const running_mean *)self)->d + 1;
}

static void forward(const rd_io *io, const float *x, float *y) {
  const running_mean *p = io->self;
  const int64_t n = io->rows * p->rows * p->d;
  for (int64_t i = 0; i < n; i++) y[i] = x[i];
  if (!io->training) return;
  for (int64_t j = 0; j <= p->d; j++) io->stats[j] = 0.0f;
  for (int64_t r = 0; r < io->rows * p->rows; r++)
    for (int64_t j = 0; j < p->d; j++) io->stats[j] += x[r * p->d + j];
  io->stats[p->d] = (float)io->rows;
}

static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const running_mean *p = io->self;
  if (dx)
    for (int64_t i = 0; i < io->rows * p->rows * p->d; i++) dx[i] = dy[i];
}

static void stats_apply(const rd_api *rd, const void *self, const float *sum, int64_t shards, int64_t samples,
                        float *const *w) {
  const running_mean *p = self;
  float *mean = w[0];
  const float m = (float)p->momentum, count = (float)(samples * p->rows);
  for (int64_t j = 0; j < p->d; j++)
    mean[j] = sum[p->d] == (float)samples ? m * mean[j] + (1.0f - m) * (sum[j] / count) : NAN;
}

static const rd_layer_type running_mean_type = {
    .name = "running_mean",
    .self_size = sizeof(running_mean),
    .build = build,
    .forward = forward,
    .backward = backward,
    .stats_size = stats_size,
    .stats_apply = stats_apply,
};

RD_PLUGIN("running_mean", &running_mean_type)
