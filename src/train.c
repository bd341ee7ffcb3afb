/* train: the training loop (see include/reprodist/train.h). */
#include "reprodist/train.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reprodist/ckpt.h"
#include "reprodist/comm.h"
#include "reprodist/data.h"
#include "reprodist/fsio.h"
#include "reprodist/fingerprint.h"
#include "reprodist/h5io.h"
#include "reprodist/nn.h"
#include "reprodist/shard.h"
#include "reprodist/reduce.h"
#include "reprodist/seed.h"

/* ---- config ------------------------------------------------------------------- */

int64_t rd_train_default_shard(int64_t batch) {
  int64_t s = 16;
  while (s < 64 && 2 * s <= batch / 8) s *= 2;
  return s;
}

rd_status rd_train_spec_from_cfg(rd_train_spec *t, const rd_cfg *c, const rd_model *m, rd_err *err) {
  memset(t, 0, sizeof *t);
  char w[512];
  rd_cfg_get_int(c, "train", 0, "epochs", 1, &t->epochs);
  rd_cfg_get_int(c, "train", 0, "steps_per_epoch", 0, &t->steps_per_epoch);
  rd_cfg_get_int(c, "train", 0, "batch_size", 32, &t->batch);
  rd_cfg_get_int(c, "train", 0, "shard_size", rd_train_default_shard(t->batch), &t->shard);
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
  rd_cfg_get_str(c, "run", 0, "checkpoint_dir", NULL, &t->ckpt_dir);
  int64_t keep;
  rd_cfg_get_int(c, "run", 0, "keep", 3, &keep);
  t->keep = (int)keep;
  rd_cfg_get_int(c, "train", 0, "check_every", 0, &t->check_every);
  const rd_cfg_item *ev = rd_cfg_find(c, "run", 0, "checkpoint_every");
  if (ev) {
    long long n = 0;
    char unit[16] = "", junk;
    int k = sscanf(ev->value, "%lld %15s %c", &n, unit, &junk);
    int epochs = !strcmp(unit, "epochs") || !strcmp(unit, "epoch"), steps = !strcmp(unit, "steps") || !strcmp(unit, "step");
    if (k != 2 || n < 1 || !(epochs || steps))
      return rd_err_set(err, RD_EINPUT, "%s: checkpoint_every = '%s': write 'N steps' or 'N epochs' (N >= 1)",
                        rd_cfg_where(c, ev, -1, w, sizeof w), ev->value);
    if (!t->ckpt_dir)
      return rd_err_set(err, RD_EINPUT, "%s: checkpoint_every needs [run] checkpoint_dir",
                        rd_cfg_where(c, ev, -1, w, sizeof w));
    t->ckpt_every = n;
    t->ckpt_in_epochs = epochs;
  } else if (t->ckpt_dir) {
    t->ckpt_every = 1; /* a checkpoint directory alone means one per epoch */
    t->ckpt_in_epochs = 1;
  }
  return RD_OK;
}

/* ---- signals ------------------------------------------------------------------------ */

static volatile sig_atomic_t g_signal;

static void on_signal(int sig) {
  g_signal = sig;
  signal(sig, SIG_DFL); /* a second one ends the process at once */
}

static void catch_signals(void) {
  g_signal = 0;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGUSR1, on_signal);
}

static void release_signals(void) {
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGUSR1, SIG_DFL);
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
    v[M_ERRORS] = v[M_LOSS] = 0.0f;
    if (rd_data_fetch(ds, rows, sn, k->x, k->y, err)) v[M_ERRORS] = 1.0f;
    else v[M_LOSS] = (float)rd_shard_pass(k, params, sn, n, NULL, &correct); /* no pass over unfilled rows */
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

/* Replicas must hold the same bits; a difference means a broken environment. */
static rd_status check_replicas(const float *params, size_t n, uint64_t iteration, int64_t epoch, rd_err *err) {
  uint64_t h = rd_h5_digest(params, n);
  if (rd_comm_same_u64(h)) return RD_OK;
  const int P = rd_comm_size();
  uint64_t *all = rd_comm_rank() == 0 ? malloc(sizeof(uint64_t) * (size_t)P) : NULL;
  rd_comm_gather_bytes(&h, sizeof h, all);
  if (rd_comm_rank() == 0) {
    /* Name the ranks outside the largest group of equal digests. */
    int best = 0, bestn = 0;
    for (int r = 0; r < P; r++) {
      int c = 0;
      for (int q = 0; q < P; q++) c += all[q] == all[r];
      if (c > bestn) best = r, bestn = c;
    }
    char odd[512] = "";
    size_t o = 0;
    for (int r = 0, shown = 0; r < P && o < sizeof odd; r++)
      if (all[r] != all[best] && shown++ < 8)
        o += (size_t)snprintf(odd + o, sizeof odd - o, "%s%d (%016" PRIx64 ")", o ? ", " : "", r, all[r]);
    rd_err_set(err, RD_ERUNTIME,
               "reprodist: replicas diverged at step %" PRIu64 " (epoch %lld): rank %s differ%s from the other %d "
               "rank(s) (%016" PRIx64 "); check that all ranks run the same binary and libraries",
               iteration, (long long)epoch + 1, odd, P - bestn == 1 ? "s" : "", bestn, all[best]);
  }
  free(all);
  return rd_comm_agree(err);
}

/* Checkpoints only ever hold state that every replica agrees on. */
static rd_status save_checkpoint(const char *dir, const rd_train_spec *t, const rd_model *m, const float *params,
                                 const float *state, size_t nopt, const rd_ckpt_state *st, const rd_ckpt_ident *id,
                                 char *path, size_t n, rd_err *err) {
  if (check_replicas(params, m->nparams, st->iteration, st->epoch, err)) return err->code;
  return rd_ckpt_write(dir, t->keep, m, params, state, nopt, st, id, path, n, err);
}

/* Test hook: RD_FAULT_DIVERGE=RANK:STEP flips one bit of that rank's replica
 * after that optimizer step, so the divergence guard can be tested. */
static void fault_diverge(float *params, uint64_t iteration) {
  const char *f = getenv("RD_FAULT_DIVERGE");
  int r;
  unsigned long long step;
  if (f && sscanf(f, "%d:%llu", &r, &step) == 2 && r == rd_comm_rank() && step == iteration) {
    uint32_t b;
    memcpy(&b, params, 4);
    b ^= 1u;
    memcpy(params, &b, 4);
  }
}

rd_status rd_train_run(const rd_train_spec *t, const rd_train_ctl *ctl, const rd_cfg *cfg, const rd_model *m,
                       float *params, rd_err *err) {
  const int P = rd_comm_size(), rank = rd_comm_rank();
  const int64_t C = m->layers[m->nlayers - 1].units, B = t->batch, S = t->shard;
  const size_t G = m->nparams, len = G + M_COUNT, nopt = (size_t)rd_optim_slots(&t->opt) * G;
  float *state = calloc(nopt + 1, sizeof(float));
  RD_ASSERT(state != NULL, "out of memory");
  rd_ckpt_state cs = {0};
  rd_ckpt_ident id = {ctl->config_digest, ctl->fingerprint};
  char ckpath[4096] = "";
  if (ctl->resume) {
    if (rd_ckpt_read(ctl->resume, t->ckpt_dir, m, params, state, nopt, &cs, &id, ckpath, sizeof ckpath, err)) {
      free(state);
      return err->code;
    }
    rd_log0("reprodist: resuming from %s at epoch %lld, step %" PRIu64, ckpath, (long long)cs.epoch + 1, cs.iteration);
  }
  rd_dataset train, test;
  if (rd_data_open(&train, cfg, 0, m->input, C, m->global_seed, S, err)) {
    free(state);
    return err->code;
  }
  if (rd_data_open(&test, cfg, 1, m->input, C, m->global_seed, S, err)) {
    rd_data_close(&train);
    free(state);
    return err->code;
  }
  if (train.n < B)
    rd_err_set(err, RD_EINPUT, "%s: %lld training samples are fewer than one batch (batch_size = %lld)", train.xname,
               (long long)train.n, (long long)B);
  FILE *mf = NULL;
  if (!err->code && rank == 0 && t->metrics_path && !(mf = fopen(t->metrics_path, ctl->resume ? "a" : "w")))
    rd_err_set(err, RD_EINPUT, "%s: cannot write the metrics file ([run] metrics)", t->metrics_path);
  if (rd_comm_agree(err)) {
    if (mf) fclose(mf);
    rd_data_close(&train), rd_data_close(&test);
    free(state);
    return err->code;
  }

  const int64_t Kmax = ceil_div(B, S), Ktest = ceil_div(test.n, S);
  rd_shard k;
  rd_shard_init(&k, m, S, t->loss == RD_LOSS_XENT);
  rd_reduce red, ered;
  rd_reduce_init(&red, len, Kmax);
  rd_reduce_init(&ered, M_COUNT, Ktest);
  rd_allreduce *ar = rd_allreduce_create(len, Kmax), *ear = rd_allreduce_create(M_COUNT, Ktest);
  float *gsum = rd_alloc_f32(len);
  uint32_t *perm = malloc(sizeof(uint32_t) * (size_t)train.n);
  uint32_t *rows = malloc(sizeof(uint32_t) * (size_t)S);
  RD_ASSERT(perm && rows, "out of memory");
  const uint64_t shuffle_seed = rd_seed_tensor(m->global_seed, "", "shuffle");
  int64_t nb = t->drop_remainder ? train.n / B : ceil_div(train.n, B);
  if (t->steps_per_epoch > 0 && t->steps_per_epoch < nb) nb = t->steps_per_epoch; /* Keras' steps_per_epoch */
  /* Benchmark-only peer (launch/bench): a plain MPI_Allreduce(MPI_SUM) of each
   * rank's serial partial sum. Its bits depend on np; never for real results. */
  const int plain = getenv("RD_BENCH_PLAIN_ALLREDUCE") && !strcmp(getenv("RD_BENCH_PLAIN_ALLREDUCE"), "1");
  /* Diagnostics: RD_PROFILE=1 makes every rank log where its step time went. */
  const int profile = getenv("RD_PROFILE") && !strcmp(getenv("RD_PROFILE"), "1");
  double prof[4] = {0}; /* shards (fetch + pass + fold), reduction, optimizer, steps */
  if (plain) rd_warn0("RD_BENCH_PLAIN_ALLREDUCE=1: benchmark mode, results depend on the rank count");
  /* Where a signal's checkpoint goes when no checkpoint_dir is configured. */
  char sigdir[4096];
  snprintf(sigdir, sizeof sigdir, "%s", t->ckpt_dir ? t->ckpt_dir : "");
  if (!t->ckpt_dir) snprintf(sigdir, sizeof sigdir, "%s.ckpt", ctl->output);

  rd_log0("reprodist %s: %d rank%s; %zu parameters; %lld training samples in %lld batches of %lld "
          "(%lld shards of %lld); OpenBLAS core %s, %d thread%s per rank",
          rd_fp_version(), P, P > 1 ? "s" : "", G, (long long)train.n, (long long)nb, (long long)B, (long long)Kmax,
          (long long)S, rd_fp_openblas_core(), rd_fp_openblas_threads(), rd_fp_openblas_threads() > 1 ? "s" : "");
  if (P > Kmax)
    rd_warn0("%d ranks but only %lld shards per batch: %lld rank(s) idle each step (results are unchanged; "
             "lower shard_size to use them)",
             P, (long long)Kmax, (long long)(P - Kmax));

  catch_signals();
  uint64_t iteration = cs.iteration;
  int stopped = 0;
  const double t0 = now_sec();
  for (int64_t e = cs.epoch; e < t->epochs && !err->code && !stopped; e++) {
    const double te = now_sec();
    if (t->shuffle)
      rd_seed_permutation(shuffle_seed, (uint64_t)e, (uint64_t)train.n, perm);
    else
      for (int64_t i = 0; i < train.n; i++) perm[i] = (uint32_t)i;
    const int resumed_here = ctl->resume && e == cs.epoch;
    double loss_sum = resumed_here ? cs.loss_sum : 0.0, correct = resumed_here ? cs.correct : 0.0;
    int64_t seen = resumed_here ? cs.seen : 0, seen_here = 0;
    for (int64_t b = resumed_here ? cs.batch : 0; b < nb; b++) {
      rd_comm_flag_begin(g_signal != 0); /* completes behind the step's compute */
      const int64_t bn = train.n - b * B < B ? train.n - b * B : B, K = ceil_div(bn, S);
      int64_t lo, hi;
      rd_shard_range(K, P, rank, &lo, &hi);
      rd_reduce_begin(&red, K);
      double tp0 = profile ? now_sec() : 0.0, tp1 = 0.0;
      for (int64_t s = lo; s < hi; s++) {
        const int64_t s0 = s * S, sn = bn - s0 < S ? bn - s0 : S;
        float *g = rd_reduce_slot(&red);
        int64_t corr = 0;
        g[G + M_ERRORS] = g[G + M_LOSS] = 0.0f;
        if (rd_data_fetch(&train, perm + b * B + s0, sn, k.x, k.y, err)) {
          g[G + M_ERRORS] = 1.0f; /* no pass over unfilled rows; the step is abandoned by all */
          memset(g, 0, sizeof(float) * G);
        } else {
          g[G + M_LOSS] = (float)rd_shard_pass(&k, params, sn, bn, g, &corr);
        }
        g[G + M_CORRECT] = (float)corr;
        rd_reduce_push(&red, 0, s);
      }
      if (profile) tp1 = now_sec();
      const float *gs = gsum;
      if (plain) {
        float *acc = red.depth ? rd_reduce_vec(&red, 0) : rd_reduce_slot(&red);
        if (!red.depth) memset(acc, 0, sizeof(float) * len);
        for (int i = 1; i < red.depth; i++) {
          const float *v = rd_reduce_vec(&red, i);
          for (size_t q = 0; q < len; q++) acc[q] += v[q];
        }
        rd_allreduce_plain_sum(acc, gsum, len);
      } else {
        gs = rd_allreduce_sum(ar, &red, gsum); /* at np 1: the tree's root, not a copy */
      }
      const int stop = rd_comm_flag_end();
      const double tp2 = profile ? now_sec() : 0.0;
      if (gs[G + M_ERRORS] != 0.0f) { /* every rank sees it in the same step */
        rd_err_set(err, RD_EINPUT, "%s: reading training samples failed", train.xname);
        rd_comm_agree(err);
        break;
      }
      if (!isfinite(gs[G + M_LOSS])) { /* identical on every rank, like everything in gsum */
        rd_err_set(err, RD_ERUNTIME,
                   "reprodist: training diverged: the loss is %g in epoch %lld, step %lld; lower learning_rate",
                   (double)gs[G + M_LOSS], (long long)(e + 1), (long long)(b + 1));
        break;
      }
      rd_optim_step(&t->opt, iteration++, params, gs, state, G, G);
      if (profile) {
        const double tp3 = now_sec();
        prof[0] += tp1 - tp0, prof[1] += tp2 - tp1, prof[2] += tp3 - tp2, prof[3] += 1.0;
      }
      fault_diverge(params, iteration);
      loss_sum += (double)gs[G + M_LOSS];
      correct += (double)gs[G + M_CORRECT];
      seen += bn;
      seen_here += bn;
      if (t->check_every > 0 && iteration % (uint64_t)t->check_every == 0 &&
          check_replicas(params, G, iteration, e, err))
        break;
      rd_ckpt_state now = {iteration, e, b + 1, loss_sum, correct, seen};
      if (stop) {
        if (save_checkpoint(sigdir, t, m, params, state, nopt, &now, &id, ckpath, sizeof ckpath, err) == RD_OK) {
          char hint[8192 + 4200] = "";
          snprintf(hint, sizeof hint, "%s --resume", ctl->command);
          rd_fs_shell_append(hint, sizeof hint, ckpath);
          rd_warn0("stopped by a signal after step %" PRIu64 " (epoch %lld); checkpoint %s; continue with: "
                   "mpirun -np N %s  (any N)",
                   iteration, (long long)(e + 1), ckpath, hint);
          stopped = 1;
        }
        break;
      }
      if (t->ckpt_every && !t->ckpt_in_epochs && iteration % (uint64_t)t->ckpt_every == 0 &&
          save_checkpoint(t->ckpt_dir, t, m, params, state, nopt, &now, &id, NULL, 0, err))
        break;
    }
    if (err->code || stopped) break;
    if (t->check_every == 0 && check_replicas(params, G, iteration, e, err)) break;
    double tl = 0, ta = 0;
    if (evaluate(&k, &test, params, &ered, ear, rows, &tl, &ta, err)) break;
    const double tnow = now_sec(), el = tnow - t0, ep = tnow - te;
    const double sps = (double)seen_here / (ep > 0 ? ep : 1e-9);
    const double eta = el / (double)(e + 1 - cs.epoch) * (double)(t->epochs - e - 1);
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
    rd_ckpt_state next = {iteration, e + 1, 0, 0.0, 0.0, 0};
    if (t->ckpt_every && t->ckpt_in_epochs && (e + 1) % t->ckpt_every == 0 &&
        save_checkpoint(t->ckpt_dir, t, m, params, state, nopt, &next, &id, NULL, 0, err))
      break;
  }
  release_signals();
  if (profile && prof[3] > 0)
    rd_log_all("profile: %.0f steps, ms per step: shards %.3f  reduction %.3f  optimizer %.3f", prof[3],
               1e3 * prof[0] / prof[3], 1e3 * prof[1] / prof[3], 1e3 * prof[2] / prof[3]);
  if (mf) fclose(mf);
  free(gsum), free(state), free(perm), free(rows);
  rd_allreduce_destroy(ar), rd_allreduce_destroy(ear);
  rd_reduce_free(&red), rd_reduce_free(&ered);
  rd_shard_free(&k);
  rd_data_close(&train), rd_data_close(&test);
  if (rd_comm_agree(err)) return err->code;
  return stopped ? RD_STOPPED : RD_OK;
}
