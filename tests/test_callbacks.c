/* test_callbacks: [early_stopping], [reduce_lr_on_plateau] and
 * [model_checkpoint] on scripted metric sequences. The expected decisions are
 * what Keras 3.15.1's own EarlyStopping, ReduceLROnPlateau and ModelCheckpoint
 * did on the same sequences (driven by hand through on_epoch_end, numpy
 * backend, values as float32 like fit's logs): after each epoch, wait, best,
 * best_epoch, stop; the optimizer's rate; the epochs a checkpoint is saved at. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "callback.h"
#include "cfg.h"

#include "check.h"

/* One callback from config text (its section alone), on a run with validation
 * data and top-k, in its begin state; *lg zeroed. A CHECK names a bad config. */
static int make(const char *name, rd_cb *cb, const char *text, rd_epoch_logs *lg) {
  memset(lg, 0, sizeof *lg);
  rd_cfg c;
  rd_err err = {0};
  rd_callbacks cbs = {0};
  if (rd_cfg_parse(&c, "t.cfg", text, strlen(text), &err) == RD_OK) {
    rd_callbacks_from_cfg(&c, 1, 5, 0, &cbs);
    for (int i = 0; i < c.nsecs; i++) rd_cfg_visit(&c, i);
    rd_cfg_finish(&c, &err);
  }
  rd_cfg_free(&c);
  if (err.code || cbs.n != 1) {
    printf("config: %s\n", err.msg);
    CHECK(0, "%s: config", name);
    return -1;
  }
  *cb = cbs.cb[0];
  cb->type->begin(cb);
  return 0;
}

typedef struct {
  int wait;
  double best; /* NAN: none */
  int best_epoch, stop;
} es_want;

/* EarlyStopping's state after each epoch (s: WAIT, BEST, BEST_EPOCH) and its stop. */
static void es_case(const char *name, const char *text, int log, const double *seq, int n, const es_want *want,
                    int nwant, int restore_epoch) {
  rd_cb cb;
  rd_epoch_logs lg;
  if (make(name, &cb, text, &lg)) return;
  int e = 0, kept = -1;
  for (; e < n; e++) {
    lg.v[log] = seq[e], lg.has[log] = 1;
    rd_cb_act act = {0};
    cb.type->epoch_end(&cb, e, &lg, &act);
    if (act.keep_best) kept = e;
    CHECK(e < nwant, "%s: epoch %d: Keras had stopped", name, e);
    if (e >= nwant) return;
    const es_want *w = &want[e];
    const int same_best = isnan(w->best) ? isnan(cb.s[1]) : (float)cb.s[1] == (float)w->best;
    CHECK((int)cb.s[0] == w->wait && same_best && (int)cb.s[2] == w->best_epoch && act.stop == w->stop,
          "%s: epoch %d: wait %g best %g best_epoch %g stop %d; Keras: %d %g %d %d", name, e, cb.s[0], cb.s[1],
          cb.s[2], act.stop, w->wait, w->best, w->best_epoch, w->stop);
    if (act.stop) break;
  }
  CHECK(e + 1 == nwant, "%s: stopped after epoch %d, Keras after %d", name, e, nwant - 1);
  rd_cb_act end = {0};
  if (cb.type->end) cb.type->end(&cb, &end);
  CHECK(end.restore_best == (restore_epoch >= 0) && (restore_epoch < 0 || kept == restore_epoch),
        "%s: restores the weights of epoch %d (Keras: %d)", name, end.restore_best ? kept : -1, restore_epoch);
}

static void rlr_case(const char *name, const char *text, int log, const double *seq, int n, double lr0,
                     const double *want_lr) {
  rd_cb cb;
  rd_epoch_logs lg;
  if (make(name, &cb, text, &lg)) return;
  double lr = (double)(float)lr0;
  for (int e = 0; e < n; e++) {
    lg.v[log] = seq[e], lg.has[log] = 1, lg.learning_rate = lr;
    rd_cb_act act = {0};
    cb.type->epoch_end(&cb, e, &lg, &act);
    if (act.lr > 0) lr = act.lr;
    CHECK(lr == want_lr[e], "%s: epoch %d: rate %.17g, Keras %.17g", name, e, lr, want_lr[e]);
  }
}

/* ModelCheckpoint with save_best_only: the epochs (from 1) it saves at. */
static void mc_case(const char *name, const char *text, int log, const double *seq, int n, const int *want, int nwant) {
  rd_cb cb;
  rd_epoch_logs lg;
  if (make(name, &cb, text, &lg)) return;
  int saved[16], ns = 0;
  for (int e = 0; e < n; e++) {
    lg.v[log] = seq[e], lg.has[log] = 1;
    rd_cb_act act = {0};
    cb.type->epoch_end(&cb, e, &lg, &act);
    if (act.save[0] && ns < 16) saved[ns++] = e + 1;
  }
  int same = ns == nwant;
  for (int i = 0; same && i < ns; i++) same = saved[i] == want[i];
  CHECK(same, "%s: saved at %d epochs (first %d), Keras at %d (first %d)", name, ns, ns ? saved[0] : 0, nwant, want[0]);
}

int main(void) {
  const double N = NAN;
  {
    const double seq[] = {1.0, 0.995, 0.98, 0.985, 0.99, 0.97};
    const es_want w[] = {{0, 1.0, 0, 0}, {1, 1.0, 0, 0}, {0, 0.98, 2, 0}, {1, 0.98, 2, 0}, {2, 0.98, 2, 1}};
    es_case("patience 2, min_delta 0.01", "[early_stopping]\npatience = 2\nmin_delta = 0.01\n", RD_LOG_VAL_LOSS, seq,
            6, w, 5, -1);
  }
  {
    const double seq[] = {0.3, 0.4, 0.45, 0.6, 0.55, 0.58, 0.5};
    const es_want w[] = {{0, N, 0, 0}, {1, 0.4, 1, 0}, {2, 0.45, 2, 0}, {0, 0.6, 3, 0}, {1, 0.6, 3, 1}};
    es_case("val_accuracy (auto: max), baseline 0.5, start_from_epoch 1",
            "[early_stopping]\nmonitor = val_accuracy\npatience = 1\nbaseline = 0.5\nstart_from_epoch = 1\n",
            RD_LOG_VAL_ACCURACY, seq, 7, w, 5, -1);
  }
  {
    const double seq[] = {0.5, 0.4, 0.45, 0.41, 0.42, 0.3};
    const es_want w[] = {{0, 0.5, 0, 0}, {0, 0.4, 1, 0}, {1, 0.4, 1, 0}, {2, 0.4, 1, 0}, {3, 0.4, 1, 1}};
    es_case("loss, patience 3, restore_best_weights",
            "[early_stopping]\nmonitor = loss\npatience = 3\nrestore_best_weights = true\n", RD_LOG_LOSS, seq, 6, w,
            5, 1);
  }
  {
    const double seq[] = {0.5, 0.6, 0.7};
    const es_want w[] = {{0, 0.5, 0, 0}, {1, 0.5, 0, 1}};
    es_case("loss, patience 0 (the default)", "[early_stopping]\nmonitor = loss\n", RD_LOG_LOSS, seq, 3, w, 2, -1);
  }
  {
    const double seq[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const double lr[] = {0.009999999776482582,  0.009999999776482582,  0.004999999888241291,
                         0.004999999888241291,  0.0024999999441206455, 0.0024999999441206455,
                         0.0020000000949949026, 0.0020000000949949026, 0.0020000000949949026};
    rlr_case("factor 0.5, patience 2, cooldown 1, min_lr 0.002",
             "[reduce_lr_on_plateau]\nfactor = 0.5\npatience = 2\ncooldown = 1\nmin_lr = 0.002\n", RD_LOG_VAL_LOSS,
             seq, 9, 0.01, lr);
  }
  {
    const double seq[] = {1.0, 0.9, 0.89995, 0.8, 0.8, 0.8, 0.8};
    const double lr[] = {0.10000000149011612,  0.10000000149011612,   0.030000001192092896, 0.030000001192092896,
                         0.009000000543892384, 0.0027000000700354576, 0.0008099999977275729};
    rlr_case("loss, factor 0.3, patience 1, min_delta 1e-4 (the default)",
             "[reduce_lr_on_plateau]\nmonitor = loss\nfactor = 0.3\npatience = 1\n", RD_LOG_LOSS, seq, 7, 0.1, lr);
  }
  /* The epochs Keras 3.15.1's ModelCheckpoint(save_best_only=True) saved at, on the same float32 sequences. */
  {
    const double seq[] = {0.5, 0.62, 0.62, 0.6, 0.7, 0.69, 0.71};
    const int want[] = {2, 5, 7};
    mc_case("model_checkpoint: val_accuracy, mode max, initial_value_threshold 0.6",
            "[model_checkpoint]\nfilepath = e{epoch}.h5\nsave_best_only = true\nmonitor = val_accuracy\nmode = max\n"
            "initial_value_threshold = 0.6\n",
            RD_LOG_VAL_ACCURACY, seq, 7, want, 3);
  }
  {
    const double seq[] = {2.0, 1.5, 1.5, 1.6, 1.4, 1.4000001, 1.3999999};
    const int want[] = {1, 2, 5, 7};
    mc_case("model_checkpoint: loss, mode min", "[model_checkpoint]\nfilepath = e{epoch}.h5\nsave_best_only = true\n"
            "monitor = loss\nmode = min\n", RD_LOG_LOSS, seq, 7, want, 4);
  }
  {
    const double seq[] = {1.0, 0.9, 1.1, 1.2, 1.15};
    const int want[] = {1, 3, 4};
    mc_case("model_checkpoint: val_loss, mode max", "[model_checkpoint]\nfilepath = e{epoch}.h5\nsave_best_only = true\n"
            "mode = max\n", RD_LOG_VAL_LOSS, seq, 5, want, 3);
  }
  printf("%d passed, %d failed\n", passes, fails);
  return fails != 0;
}
