/* nn: shard math (see nn.h). */
#include "nn.h"


static void softmax_row(const rd_kern_ops *o, const float *z, int64_t n, float *p) {
  float mx = z[0];
  for (int64_t k = 1; k < n; k++) mx = z[k] > mx ? z[k] : mx;
  float sum = 0.0f;
  for (int64_t k = 0; k < n; k++) sum += (p[k] = o->exp(z[k] - mx));
  for (int64_t k = 0; k < n; k++) p[k] /= sum;
}

void rd_nn_act_forward(const rd_kern_ops *o, rd_act act, int64_t S, int64_t n, float *Y) {
  const int64_t N = S * n;
  switch (act) {
    case RD_ACT_LINEAR: return;
    case RD_ACT_RELU:
      for (int64_t i = 0; i < N; i++) Y[i] = Y[i] > 0.0f ? Y[i] : 0.0f;
      return;
    case RD_ACT_TANH:
      for (int64_t i = 0; i < N; i++) Y[i] = o->tanh(Y[i]);
      return;
    case RD_ACT_SIGMOID:
      for (int64_t i = 0; i < N; i++) Y[i] = o->sigmoid(Y[i]);
      return;
    case RD_ACT_SOFTMAX:
      for (int64_t r = 0; r < S; r++) softmax_row(o, Y + r * n, n, Y + r * n);
      return;
  }
}

void rd_nn_act_backward(rd_act act, const float *Y, int64_t S, int64_t n, float *dY) {
  const int64_t N = S * n;
  switch (act) {
    case RD_ACT_LINEAR: return;
    case RD_ACT_RELU:
      for (int64_t i = 0; i < N; i++) dY[i] = Y[i] > 0.0f ? dY[i] : 0.0f;
      return;
    case RD_ACT_TANH:
      for (int64_t i = 0; i < N; i++) dY[i] *= 1.0f - Y[i] * Y[i];
      return;
    case RD_ACT_SIGMOID:
      for (int64_t i = 0; i < N; i++) dY[i] *= Y[i] * (1.0f - Y[i]);
      return;
    case RD_ACT_SOFTMAX:
      /* dz_k = y_k (dy_k - sum_j dy_j y_j) */
      for (int64_t r = 0; r < S; r++) {
        const float *y = Y + r * n;
        float *d = dY + r * n;
        float dot = 0.0f;
        for (int64_t k = 0; k < n; k++) dot += d[k] * y[k];
        for (int64_t k = 0; k < n; k++) d[k] = y[k] * (d[k] - dot);
      }
      return;
  }
}

static int first_argmax(const float *z, int64_t n) {
  int64_t best = 0;
  for (int64_t k = 1; k < n; k++)
    if (z[k] > z[best]) best = k;
  return (int)best;
}

double rd_nn_xent(const rd_kern_ops *o, const float *Z, const int32_t *y, int64_t S, int64_t C, int64_t batch_n, float *dZ,
                  int64_t *correct) {
  double loss = 0.0;
  const float inv = (float)batch_n;
  for (int64_t r = 0; r < S; r++) {
    const float *z = Z + r * C;
    float mx = z[0];
    for (int64_t k = 1; k < C; k++) mx = z[k] > mx ? z[k] : mx;
    float sum = 0.0f;
    for (int64_t k = 0; k < C; k++) sum += o->exp(z[k] - mx);
    /* -log p_y = log(sum) - (z_y - max): stable for any logits. */
    loss += (double)(o->log(sum) - (z[y[r]] - mx));
    *correct += first_argmax(z, C) == y[r];
    if (dZ) {
      float *d = dZ + r * C;
      for (int64_t k = 0; k < C; k++) d[k] = (o->exp(z[k] - mx) / sum - (k == y[r] ? 1.0f : 0.0f)) / inv;
    }
  }
  return loss;
}

double rd_nn_mse(const float *Y, const int32_t *y, int64_t S, int64_t C, int64_t batch_n, float *dY,
                 int64_t *correct) {
  double loss = 0.0;
  for (int64_t r = 0; r < S; r++) {
    const float *p = Y + r * C;
    float s = 0.0f;
    for (int64_t k = 0; k < C; k++) {
      float e = p[k] - (k == y[r] ? 1.0f : 0.0f);
      s += e * e;
      if (dY) dY[r * C + k] = 2.0f * e / (float)C / (float)batch_n;
    }
    loss += (double)(s / (float)C);
    *correct += first_argmax(p, C) == y[r];
  }
  return loss;
}
