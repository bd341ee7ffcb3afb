/* [tensorboard]: Keras' TensorBoard callback (keras/src/callbacks/tensorboard.py)
 * with its epoch scalars: log_dir ("logs"). At each epoch's end, step = the
 * epoch (from 0), as _log_epoch_metrics writes them:
 *   LOG_DIR/train/...       epoch_loss, epoch_accuracy, epoch_top_k_categorical_accuracy,
 *                           epoch_learning_rate (the optimizer's rate)
 *   LOG_DIR/validation/...  epoch_loss, epoch_accuracy, ... of the validation data
 * in event files named events.out.tfevents.<start time>.reprodist.v2 (one per
 * run, like TensorFlow's writers; a resume continues its run's files, cut back
 * to their length at the checkpoint). Records: tfevent.h. Keras' other
 * arguments (histograms, graphs, images, profiling) are not offered. */
#include <stdio.h>
#include <string.h>

#include "../callback.h"
#include "../tfevent.h"

enum { HAS_VAL }; /* p */

static void read(rd_cfg *c, int sec, rd_cb *cb, const rd_cb_env *env) {
  const char *d = "logs";
  rd_cfg_str(c, sec, "log_dir", "logs", RD_CFG_NOCANON, &d);
  snprintf(cb->str[0], RD_CB_STR, "%s", d);
  cb->p[HAS_VAL] = env->has_val;
}

static int files(const rd_cb *cb) { return cb->p[HAS_VAL] != 0 ? 2 : 1; }

static void path(const rd_cb *cb, int i, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s/events.out.tfevents.%010lld.reprodist.v2", cb->str[0], i ? "validation" : "train",
           (long long)cb->s[RD_CB_START]);
}

static size_t bytes(const rd_cb *cb, int i, int64_t epoch, const rd_epoch_logs *logs, double now, char *buf,
                    size_t cap) {
  uint8_t *o = (uint8_t *)buf;
  size_t n = 0;
  if (cb->s[RD_CB_WRITTEN + i] == 0) n += rd_tfevent_version(now, o, cap);
  char tag[96];
  for (int k = 0; k < RD_LOG_N; k++) {
    const int val = !strncmp(rd_log_names[k], "val_", 4);
    if (!logs->has[k] || val != i) continue;
    snprintf(tag, sizeof tag, "epoch_%s", rd_log_names[k] + (val ? 4 : 0));
    n += rd_tfevent_scalar(now, epoch, tag, (float)logs->v[k], o + n, cap - n);
  }
  if (i == 0) n += rd_tfevent_scalar(now, epoch, "epoch_learning_rate", (float)logs->learning_rate, o + n, cap - n);
  return n;
}

const rd_cb_type rd_cb_tensorboard = {.name = "tensorboard",
    .log_only = 1, .keras = "TensorBoard", .read = read, .files = files,
                                      .path = path, .bytes = bytes};
