/* loss = sparse_categorical_crossentropy: Keras' SparseCategoricalCrossentropy
 * on a softmax output, from the logits: -log softmax(z)[y], gradient
 * (softmax(z) - onehot(y)) / batch (rd_nn_xent). Keras gives it no
 * label_smoothing: that key is refused with the reason. */
#include "../loss.h"
#include "../nn.h"

static void read(rd_cfg *c, int sec, double *p) {
  (void)p;
  rd_cfg_not_applicable(c, sec, "label_smoothing",
                        "does not apply to loss = sparse_categorical_crossentropy (Keras' SparseCategoricalCrossentropy "
                        "has none; loss = categorical_crossentropy takes it)");
}

static int64_t classes(int64_t units) { return units; }

static double fn(const rd_kern_ops *o, const double *p, const float *Z, const int32_t *y, int64_t S, int64_t C,
                 int64_t batch_n, float *dZ, int64_t *correct) {
  (void)p;
  return rd_nn_xent(o, Z, y, S, C, batch_n, dZ, correct);
}

const rd_loss_type rd_loss_sparse_categorical_crossentropy = {
    "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", NULL, read, 1, RD_ACT_SOFTMAX, classes, fn};
