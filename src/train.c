/* train: the training loop (see include/reprodist/train.h). */
#include "reprodist/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reprodist/comm.h"
#include "reprodist/data.h"
#include "reprodist/fingerprint.h"
#include "reprodist/nn.h"
#include "reprodist/shard.h"
#include "reprodist/reduce.h"
#include "reprodist/seed.h"

/* ---- config ------------------------------------------------------------------- */

rd_status rd_train_spec_from_cfg(rd_train_spec *t, const rd_cfg *c, const rd_model *m, rd_err *err) {
  memset(t, 0, sizeof *t);
  char w[512];
  rd_cfg_get_int(c, "train", 0, "epochs", 1, &t->epochs);
  rd_cfg_get_int(c, "train", 0, "batch_size", 32, &t->batch);
  rd_cfg_get_int(c, "train", 0, "shard_size", 16, &t->shard);
  rd_cfg_get_bool(c, "train", 0, "shuffle", 1, &t->shuffle);
  rd_cfg_get_bool(c, "train", 0, "drop_remainder", 0, &t->drop_remainder);
  const char *s;
  rd_cfg_get_str(c, "train", 0, "optimizer", "adam", &s);
  rd_optim_defaults(!strcmp(s, "sgd") ? RD_OPT_SGD : RD_OPT_ADAM, &t->opt);
  static const char *const sgd_only[] = {"momentum", "nesterov"}, *const adam_only[] = {"beta_1", "beta_2", "epsilon"};
  const char *const *bad = t->opt.kind == RD_OPT_ADAM ? sgd_only : adam_only;
  int nbad = t->opt.kind == RD_OPT_ADAM ? 2 : 3;
  for (int i = 0; i < nbad; i++) {
    const rd_cfg_item *it = rd_cfg_find(c, "train", 0, bad[i]);
    if (it)
      return rd_err_set(err, RD_EINPUT, "%s: %s does not apply to optimizer = %s", rd_cfg_where(c, it, -1, w, sizeof w),
                        bad[i], s);
  }
  rd_cfg_get_double(c, "train", 0, "learning_rate", t->opt.lr, &t->opt.lr);
  rd_cfg_get_double(c, "train", 0, "momentum", t->opt.momentum, &t->opt.momentum);
  rd_cfg_get_bool(c, "train", 0, "nesterov", 0, &t->opt.nesterov);
  rd_cfg_get_double(c, "train", 0, "beta_1", t->opt.beta_1, &t->opt.beta_1);
  rd_cfg_get_double(c, "train", 0, "beta_2", t->opt.beta_2, &t->opt.beta_2);
  rd_cfg_get_double(c, "train", 0, "epsilon", t->opt.epsilon, &t->opt.epsilon);
  rd_cfg_get_str(c, "train", 0, "loss", "sparse_categorical_crossentropy", &s);
  t->loss = !strcmp(s, "mse") ? RD_LOSS_MSE : RD_LOSS_XENT;
  const rd_layer *last = &m->layers[m->nlayers - 1];
  if (t->loss == RD_LOSS_XENT && last->act != RD_ACT_SOFTMAX) {
    const rd_cfg_item *it = rd_cfg_find(c, "train", 0, "loss");
    return rd_err_set(err, RD_EINPUT,
                      "%s: loss = sparse_categorical_crossentropy needs activation = softmax on the last layer "
                      "('%s' has %s)",
                      it ? rd_cfg_where(c, it, -1, w, sizeof w) : c->path, last->name, rd_act_name(last->act));
  }
  if (t->shard > t->batch) t->shard = t->batch; /* a shard never spans two batches */
  rd_cfg_get_str(c, "run", 0, "metrics", NULL, &t->metrics_path);
  return RD_OK;
}

/* ---- the loop ------------------------------------------------------------------------ */

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

enum { M_LOSS = 0, M_CORRECT = 1, M_ERRORS = 2, M_COUNT = 3 }; /* metrics after the gradient */

/* Test-set loss and accuracy, data-parallel over shards of S rows, canonical sums. */
static rd_status evaluate(rd_shard *k, rd_dataset *ds, const float *params, rd_reduce *red, rd_allreduce *ar,
                          uint32_t *rows, double *loss, double *acc, rd_err *err) {
  const int64_t n = ds->n, S = k->S, K = ceil_div(n, S);
  int64_t lo, hi;
  rd_shard_range(K, rd_comm_size(), rd_comm_rank(), &lo, &hi);
  rd_reduce_begin(red, K);
  for (int64_t s = lo; s < hi; s++) {
    int64_t s0 = s * S, sn = n - s0 < S ? n - s0 : S;
    for (int64_t i = 0; i < sn; i++) rows[i] = (uint32_t)(s0 + i);
    float *v = rd_reduce_slot(red);
    int64_t correct = 0;
    v[M_ERRORS] = 0.0f;
    if (rd_data_fetch(ds, rows, sn, k->x, k->y, err)) v[M_ERRORS] = 1.0f;
    v[M_LOSS] = (float)rd_shard_pass(k, params, sn, n, NULL, &correct);
    v[M_CORRECT] = (float)correct;
    rd_reduce_push(red, 0, s);
  }
  float out[M_COUNT];
  rd_allreduce_finish(ar, red, out);
  if (out[M_ERRORS] != 0.0f) {
    rd_err_set(err, RD_EINPUT, "%s: reading the test set failed", ds->xname);
    return rd_comm_agree(err);
  }
  *loss = (double)out[M_LOSS] / (double)n;
  *acc = (double)out[M_CORRECT] / (double)n;
  return RD_OK;
}

rd_status rd_train_run(const rd_train_spec *t, const rd_cfg *cfg, const rd_model *m, float *params, rd_err *err) {
  const int P = rd_comm_size(), rank = rd_comm_rank();
  const int64_t C = m->layers[m->nlayers - 1].units, B = t->batch, S = t->shard;
  rd_dataset train, test;
  if (rd_data_open(&train, cfg, 0, m->input, C, m->global_seed, S, err)) return err->code;
  if (rd_data_open(&test, cfg, 1, m->input, C, m->global_seed, S, err)) {
    rd_data_close(&train);
    return err->code;
  }
  if (train.n < B) {
    rd_err_set(err, RD_EINPUT, "%s: %lld training samples are fewer than one batch (batch_size = %lld)", train.xname,
               (long long)train.n, (long long)B);
    rd_data_close(&train), rd_data_close(&test);
    return err->code;
  }
  FILE *mf = NULL;
  if (rank == 0 && t->metrics_path && !(mf = fopen(t->metrics_path, "w")))
    rd_err_set(err, RD_EINPUT, "%s: cannot write the metrics file ([run] metrics)", t->metrics_path);
  if (rd_comm_agree(err)) {
    rd_data_close(&train), rd_data_close(&test);
    return err->code;
  }

  const size_t G = m->nparams, len = G + M_COUNT;
  const int64_t Kmax = ceil_div(B, S), Ktest = ceil_div(test.n, S);
  rd_shard k;
  rd_shard_init(&k, m, t->shard, t->loss == RD_LOSS_XENT);
  rd_reduce red, ered;
  rd_reduce_init(&red, len, Kmax);
  rd_reduce_init(&ered, M_COUNT, Ktest);
  rd_allreduce *ar = rd_allreduce_create(len, Kmax), *ear = rd_allreduce_create(M_COUNT, Ktest);
  float *gsum = malloc(sizeof(float) * len);
  float *state = calloc((size_t)rd_optim_slots(&t->opt) * G + 1, sizeof(float));
  uint32_t *perm = malloc(sizeof(uint32_t) * (size_t)train.n);
  uint32_t *rows = malloc(sizeof(uint32_t) * (size_t)S);
  RD_ASSERT(gsum && state && perm && rows, "out of memory");
  const uint64_t shuffle_seed = rd_seed_tensor(m->global_seed, "", "shuffle");
  const int64_t nb = t->drop_remainder ? train.n / B : ceil_div(train.n, B);

  rd_log0("reprodist %s: %d rank%s; %zu parameters; %lld training samples in %lld batches of %lld "
          "(%lld shards of %lld); OpenBLAS core %s, %d thread%s per rank",
          rd_fp_version(), P, P > 1 ? "s" : "", G, (long long)train.n, (long long)nb, (long long)B, (long long)Kmax,
          (long long)S, rd_fp_openblas_core(), rd_fp_openblas_threads(), rd_fp_openblas_threads() > 1 ? "s" : "");
  if (P > Kmax)
    rd_warn0("%d ranks but only %lld shards per batch: %lld rank(s) idle each step (results are unchanged; "
             "lower shard_size to use them)",
             P, (long long)Kmax, (long long)(P - Kmax));

  uint64_t iteration = 0;
  const double t0 = now_sec();
  for (int64_t e = 0; e < t->epochs && !err->code; e++) {
    const double te = now_sec();
    if (t->shuffle)
      rd_seed_permutation(shuffle_seed, (uint64_t)e, (uint64_t)train.n, perm);
    else
      for (int64_t i = 0; i < train.n; i++) perm[i] = (uint32_t)i;
    double loss_sum = 0.0, correct = 0.0;
    int64_t seen = 0;
    for (int64_t b = 0; b < nb; b++) {
      const int64_t bn = train.n - b * B < B ? train.n - b * B : B, K = ceil_div(bn, S);
      int64_t lo, hi;
      rd_shard_range(K, P, rank, &lo, &hi);
      rd_reduce_begin(&red, K);
      for (int64_t s = lo; s < hi; s++) {
        const int64_t s0 = s * S, sn = bn - s0 < S ? bn - s0 : S;
        float *g = rd_reduce_slot(&red);
        int64_t corr = 0;
        g[G + M_ERRORS] = 0.0f;
        if (rd_data_fetch(&train, perm + b * B + s0, sn, k.x, k.y, err)) g[G + M_ERRORS] = 1.0f;
        g[G + M_LOSS] = (float)rd_shard_pass(&k, params, sn, bn, g, &corr);
        g[G + M_CORRECT] = (float)corr;
        rd_reduce_push(&red, 0, s);
      }
      rd_allreduce_finish(ar, &red, gsum);
      if (gsum[G + M_ERRORS] != 0.0f) { /* every rank sees it in the same step */
        rd_err_set(err, RD_EINPUT, "%s: reading training samples failed", train.xname);
        rd_comm_agree(err);
        break;
      }
      if (!isfinite(gsum[G + M_LOSS])) { /* identical on every rank, like everything in gsum */
        rd_err_set(err, RD_ERUNTIME,
                   "reprodist: training diverged: the loss is %g in epoch %lld, step %lld; lower learning_rate",
                   (double)gsum[G + M_LOSS], (long long)(e + 1), (long long)(b + 1));
        break;
      }
      rd_optim_step(&t->opt, iteration++, params, gsum, state, G);
      loss_sum += (double)gsum[G + M_LOSS];
      correct += (double)gsum[G + M_CORRECT];
      seen += bn;
    }
    if (err->code) break;
    double tl = 0, ta = 0;
    if (evaluate(&k, &test, params, &ered, ear, rows, &tl, &ta, err)) break;
    const double tnow = now_sec(), el = tnow - t0, ep = tnow - te;
    const double sps = (double)seen / (ep > 0 ? ep : 1e-9);
    const double eta = el / (double)(e + 1) * (double)(t->epochs - e - 1);
    rd_log0("epoch %lld/%lld  loss %.6f  acc %.4f  test_loss %.6f  test_acc %.4f  |  %.0f samples/s  "
            "elapsed %.1fs  eta %.1fs",
            (long long)(e + 1), (long long)t->epochs, loss_sum / (double)seen, correct / (double)seen, tl, ta, sps,
            el, eta);
    if (mf) {
      fprintf(mf,
              "{\"epoch\": %lld, \"loss\": %.9g, \"accuracy\": %.9g, \"test_loss\": %.9g, \"test_accuracy\": %.9g, "
              "\"samples_per_sec\": %.1f, \"elapsed_sec\": %.3f, \"ranks\": %d}\n",
              (long long)(e + 1), loss_sum / (double)seen, correct / (double)seen, tl, ta, sps, el, P);
      fflush(mf);
    }
  }
  if (mf) fclose(mf);
  free(gsum), free(state), free(perm), free(rows);
  rd_allreduce_destroy(ar), rd_allreduce_destroy(ear);
  rd_reduce_free(&red), rd_reduce_free(&ered);
  rd_shard_free(&k);
  rd_data_close(&train), rd_data_close(&test);
  return rd_comm_agree(err);
}
