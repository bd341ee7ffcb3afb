/* loss = mse: Keras' MeanSquaredError against onehot(y), on any output:
 * mean_k (y_k - t_k)^2, gradient 2 (y - t) / C / batch (rd_nn_mse). */
#include "../loss.h"
#include "../nn.h"

static void read(rd_cfg *c, int sec, double *p) { (void)c, (void)sec, (void)p; }
static int64_t classes(int64_t units) { return units; }

static double fn(const rd_kern_ops *o, const double *p, const float *Z, const int32_t *y, int64_t S, int64_t C,
                 int64_t batch_n, float *dZ, int64_t *correct) {
  (void)o, (void)p;
  return rd_nn_mse(Z, y, S, C, batch_n, dZ, correct);
}

const rd_loss_type rd_loss_mse = {"mse", "MeanSquaredError", NULL, read, 0, -1, classes, fn};
