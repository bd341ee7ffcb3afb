/* loss = binary_crossentropy: Keras' BinaryCrossentropy on a single sigmoid
 * unit, labels 0 and 1, with Keras' label_smoothing (0): t = y (1 - ls) +
 * ls / 2. From the logit z: max(z, 0) - z t + log(1 + e^-|z|), gradient
 * (sigmoid(z) - t) / batch. A sample is right when (sigmoid(z) > 0.5) == y,
 * Keras' binary_accuracy. */
#include "../loss.h"

enum { LS };
static const char *const keys[] = {"label_smoothing", NULL};

static void read(rd_cfg *c, int sec, double *p) { rd_cfg_float(c, sec, "label_smoothing", 0.0, 0, 1, 0, &p[LS]); }
static int64_t classes(int64_t units) { return units == 1 ? 2 : -1; }

static double fn(const rd_kern_ops *o, const double *p, const float *Z, const int32_t *y, int64_t S, int64_t C,
                 int64_t batch_n, float *dZ, int64_t *correct) {
  (void)C; /* 1 */
  const float hi = (float)(1.0 - p[LS] / 2.0), lo = (float)(p[LS] / 2.0), b = (float)batch_n;
  double loss = 0.0;
  for (int64_t r = 0; r < S; r++) {
    const float z = Z[r], t = y[r] ? hi : lo, a = z < 0.0f ? -z : z;
    const float e = o->exp(-a);
    loss += (double)((z > 0.0f ? z : 0.0f) - z * t + o->log(1.0f + e));
    *correct += (z > 0.0f) == (y[r] != 0);
    if (dZ) {
      const float s = z >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e); /* sigmoid(z), stable */
      dZ[r] = (s - t) / b;
    }
  }
  return loss;
}

const rd_loss_type rd_loss_binary_crossentropy = {
    "binary_crossentropy", "BinaryCrossentropy", keys, read, 1, RD_ACT_SIGMOID, classes, fn};
