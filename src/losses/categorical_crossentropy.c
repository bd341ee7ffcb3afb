/* loss = categorical_crossentropy: Keras' CategoricalCrossentropy on a
 * softmax output, with one-hot targets made from the labels and Keras'
 * label_smoothing (0): t = onehot(y) (1 - ls) + ls / C. From the logits:
 * -sum_k t_k log softmax(z)_k = log sum_k e^(z_k - max) - sum_k t_k (z_k - max)
 * (sum t = 1), gradient (softmax(z) - t) / batch. */
#include "../loss.h"

enum { LS };
static const char *const keys[] = {"label_smoothing", NULL};

static void read(rd_cfg *c, int sec, double *p) { rd_cfg_float(c, sec, "label_smoothing", 0.0, 0, 1, 0, &p[LS]); }
static int64_t classes(int64_t units) { return units; }

static double fn(const rd_kern_ops *o, const double *p, const float *Z, const int32_t *y, int64_t S, int64_t C,
                 int64_t batch_n, float *dZ, int64_t *correct) {
  const float on = (float)(1.0 - p[LS] + p[LS] / (double)C), off = (float)(p[LS] / (double)C), b = (float)batch_n;
  double loss = 0.0;
  for (int64_t r = 0; r < S; r++) {
    const float *z = Z + r * C;
    float mx = z[0];
    for (int64_t k = 1; k < C; k++) mx = z[k] > mx ? z[k] : mx;
    float sum = 0.0f, dot = 0.0f;
    for (int64_t k = 0; k < C; k++) {
      sum += o->exp(z[k] - mx);
      dot += (k == y[r] ? on : off) * (z[k] - mx);
    }
    loss += (double)(o->log(sum) - dot);
    *correct += rd_loss_argmax(z, C) == y[r];
    if (dZ) {
      float *d = dZ + r * C;
      for (int64_t k = 0; k < C; k++) d[k] = (o->exp(z[k] - mx) / sum - (k == y[r] ? on : off)) / b;
    }
  }
  return loss;
}

const rd_loss_type rd_loss_categorical_crossentropy = {
    "categorical_crossentropy", "CategoricalCrossentropy", keys, read, 1, RD_ACT_SOFTMAX, classes, fn};
