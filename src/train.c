/* train: the training loop (see train.h). */
#include "train.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbfiles.h"
#include "ckpt.h"
#include "comm.h"
#include "data.h"
#include "fault.h"
#include "fsio.h"
#include "fingerprint.h"
#include "mem.h"
#include "reduce.h"
#include "regularizer.h"
#include "seed.h"
#include "shard.h"
#include "sig.h"
#include "zero.h"

/* ---- config ------------------------------------------------------------------- */

int64_t rd_train_default_shard(int64_t batch) {
  int64_t s = 16;
  while (s < 64 && 2 * s <= batch / 8) s *= 2;
  return s;
}

/* [train] class_weight = "0: 1.0, 3: 2.5": Keras' fit(class_weight={0: 1.0, 3: 2.5});
 * classes not named weigh 1. Canonical form "0:1,3:2.5", sorted by class. */
static void read_class_weight(rd_cfg *c, int tr, rd_train_spec *t) {
  const char *v;
  if (rd_cfg_str(c, tr, "class_weight", NULL, 0, &v) <= 0) return;
  rd_cfg_item *it = (rd_cfg_item *)rd_cfg_item_of(c, tr, "class_weight");
  char buf[4096];
  if (strlen(v) >= sizeof buf) {
    rd_cfg_fail(c, it, -1, "class_weight: too long (at most %zu characters)", sizeof buf - 1);
    return;
  }
  snprintf(buf, sizeof buf, "%s", v);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *colon = strchr(tok, ':');
    int64_t k;
    double w;
    if (colon) *colon = '\0';
    while (*tok == ' ' || *tok == '\t') tok++;
    for (char *e = tok + strlen(tok); e > tok && (e[-1] == ' ' || e[-1] == '\t');) *--e = '\0';
    char *ws = colon ? colon + 1 : NULL;
    while (ws && (*ws == ' ' || *ws == '\t')) ws++;
    if (!colon || rd_parse_int(tok, &k) || k < 0 || k > INT32_MAX || rd_parse_double(ws, &w) || !isfinite(w) ||
        w < 0 || w > RD_CFG_F32_MAX) {
      rd_cfg_fail(c, it, -1,
                  "class_weight = '%s': write 'CLASS: WEIGHT, ...' with class labels (integers >= 0) and weights "
                  "(finite numbers >= 0), as Keras' fit(class_weight={0: 1.0, 1: 2.5})",
                  v);
      return;
    }
    for (int i = 0; i < t->ncw; i++)
      if (t->cw_class[i] == k) {
        rd_cfg_fail(c, it, -1, "class_weight: class %lld is given twice", (long long)k);
        return;
      }
    if (t->ncw == RD_TRAIN_CW_MAX) {
      rd_cfg_fail(c, it, -1, "class_weight: more than %d classes", RD_TRAIN_CW_MAX);
      return;
    }
    t->cw_class[t->ncw] = (int32_t)k, t->cw_weight[t->ncw++] = (float)w;
  }
  if (!t->ncw) {
    rd_cfg_fail(c, it, -1, "class_weight is empty: name at least one class, 'CLASS: WEIGHT'");
    return;
  }
  for (int i = 1; i < t->ncw; i++) /* sorted by class: the canonical form */
    for (int j = i; j > 0 && t->cw_class[j - 1] > t->cw_class[j]; j--) {
      int32_t kc = t->cw_class[j];
      float kw = t->cw_weight[j];
      t->cw_class[j] = t->cw_class[j - 1], t->cw_weight[j] = t->cw_weight[j - 1];
      t->cw_class[j - 1] = kc, t->cw_weight[j - 1] = kw;
    }
  size_t o = 0;
  for (int i = 0; i < t->ncw && o < sizeof buf; i++)
    o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%d:%.9g", i ? "," : "", t->cw_class[i], (double)t->cw_weight[i]);
  rd_cfg_canon_value(c, it, buf);
}

/* [train] metrics = accuracy, top_k_categorical_accuracy (Keras' names);
 * accuracy is always reported. top_k = K: Keras' k, 5 by default. */
static void read_metrics(rd_cfg *c, int tr, rd_train_spec *t) {
  char names[4][RD_CFG_NAME_MAX];
  int n = 0, topk = 0;
  if (rd_cfg_names(c, tr, "metrics", 4, names, &n) > 0) {
    const rd_cfg_item *it = rd_cfg_item_of(c, tr, "metrics");
    for (int i = 0; i < n; i++) {
      if (!strcmp(names[i], "top_k_categorical_accuracy"))
        topk = 1;
      else if (strcmp(names[i], "accuracy")) {
        rd_cfg_fail(c, it, -1, "metrics: unknown metric '%s' (known: accuracy, top_k_categorical_accuracy)",
                    names[i]);
        return;
      }
    }
  }
  int64_t k = 0;
  if (topk)
    rd_cfg_int(c, tr, "top_k", 5, 1, 1e9, 0, &k);
  else
    rd_cfg_not_applicable(c, tr, "top_k", "applies only with metrics = top_k_categorical_accuracy");
  t->top_k = (int)k;
}

rd_status rd_train_spec_from_cfg(rd_train_spec *t, rd_cfg *c, const rd_data_spec *data) {
  memset(t, 0, sizeof *t);
  /* portable has been the default since 0.2.0 (CHANGELOG.md; openblas before); the canonical text names the
   * mode either way, so a checkpoint made under the old default is never taken for this one's. */
  rd_cfg_put_default(c, "train", "kernels", rd_kern_mode_names[RD_KERN_PORTABLE]);
  const int tr = rd_cfg_section(c, "train", 0), run = rd_cfg_section(c, "run", 0);
  rd_cfg_int(c, tr, "epochs", 1, 0, 1e9, 0, &t->epochs);
  rd_cfg_int(c, tr, "steps_per_epoch", 0, 1, 1e9, 0, &t->steps_per_epoch);
  rd_cfg_int(c, tr, "batch_size", 32, 1, 1e9, 0, &t->batch);
  if (rd_cfg_int(c, tr, "shard_size", 0, 1, 1e9, 0, &t->shard) <= 0) t->shard = rd_train_default_shard(t->batch);
  if (t->shard > t->batch) t->shard = t->batch; /* a shard never spans two batches */
  rd_cfg_bool(c, tr, "shuffle", 1, 0, &t->shuffle);
  rd_cfg_bool(c, tr, "drop_remainder", 0, 0, &t->drop_remainder);
  rd_optim_from_cfg(c, tr, &t->opt);
  rd_loss_from_cfg(c, tr, &t->loss);
  read_class_weight(c, tr, t);
  read_metrics(c, tr, t);
  rd_callbacks_from_cfg(c, data->has_val || data->validation_split > 0, t->top_k, t->opt.lr.type != NULL,
                        &t->callbacks);
  int kernels = RD_KERN_PORTABLE;
  rd_cfg_enum(c, tr, "kernels", rd_kern_mode_names, RD_KERN_PORTABLE, 0, &kernels);
  t->kernels = (rd_kern_mode)kernels;
  rd_cfg_int(c, tr, "check_every", 0, 0, 1e9, RD_CFG_NOCANON, &t->check_every);
  static const char *const shard_names[] = {"false", "true", "auto", NULL}; /* RD_SHARD_* */
  rd_cfg_enum(c, tr, "shard_optimizer", shard_names, RD_SHARD_AUTO, RD_CFG_NOCANON,
              &t->shard_optimizer); /* the same bits either way */
  rd_cfg_str(c, run, "metrics", NULL, RD_CFG_NOCANON | RD_CFG_EMPTY_OK, &t->metrics_path);
  rd_cfg_str(c, run, "checkpoint_dir", NULL, RD_CFG_NOCANON, &t->ckpt_dir);
  int64_t keep = 3;
  if (t->ckpt_dir)
    rd_cfg_int(c, run, "keep", 3, 1, 1e6, RD_CFG_NOCANON, &keep);
  else
    rd_cfg_not_applicable(c, run, "keep", "does not apply without [run] checkpoint_dir");
  t->keep = (int)keep;
  const char *every;
  if (rd_cfg_str(c, run, "checkpoint_every", NULL, RD_CFG_NOCANON, &every) > 0) {
    const rd_cfg_item *ev = rd_cfg_item_of(c, run, "checkpoint_every");
    long long n = 0;
    char unit[16] = "", junk;
    int k = sscanf(every, "%lld %15s %c", &n, unit, &junk);
    int epochs = !strcmp(unit, "epochs") || !strcmp(unit, "epoch"), steps = !strcmp(unit, "steps") || !strcmp(unit, "step");
    if (k != 2 || n < 1 || !(epochs || steps))
      return rd_cfg_fail(c, ev, -1, "checkpoint_every = '%s': write 'N steps' or 'N epochs' (N >= 1)", every);
    if (!t->ckpt_dir) return rd_cfg_fail(c, ev, -1, "checkpoint_every needs [run] checkpoint_dir");
    t->ckpt_every = n;
    t->ckpt_in_epochs = epochs;
  } else if (t->ckpt_dir) {
    t->ckpt_every = 1; /* a checkpoint directory alone means one per epoch */
    t->ckpt_in_epochs = 1;
  }
  return RD_OK;
}

rd_status rd_train_spec_check(const rd_train_spec *t, const rd_model *m, const rd_cfg *c, rd_err *err) {
  char w[512], sh[96];
  const rd_layer *last = &m->layers[m->nlayers - 1];
  const rd_cfg_item *it = rd_cfg_find(c, "train", 0, "loss");
  if (last->out.ndim != 1)
    return rd_err_set(err, RD_EINPUT,
                      "%s: the last layer '%s' outputs %s per sample; the loss needs one value per class, (classes,) "
                      "(flatten and add a [dense] layer)",
                      rd_cfg_where(c, NULL, last->sec, w, sizeof w), last->name, rd_shape_text(&last->out, sh, sizeof sh));
  const rd_loss_type *L = t->loss.type;
  if (L->act >= 0 && last->act != (rd_act)L->act)
    return rd_err_set(err, RD_EINPUT, "%s: loss = %s needs activation = %s on the last layer ('%s' has %s)",
                      it ? rd_cfg_where(c, it, -1, w, sizeof w) : c->path, L->name, rd_act_name((rd_act)L->act),
                      last->name, rd_act_name(last->act));
  if (L->classes(rd_shape_numel(&last->out)) < 1)
    return rd_err_set(err, RD_EINPUT,
                      "%s: loss = %s needs a last layer of 1 unit (two classes, labels 0 and 1); '%s' has %lld "
                      "(for more classes: categorical_crossentropy and softmax)",
                      it ? rd_cfg_where(c, it, -1, w, sizeof w) : c->path, L->name, last->name,
                      (long long)rd_shape_numel(&last->out));
  const int64_t C = L->classes(rd_shape_numel(&last->out));
  for (int i = 0; i < t->ncw; i++)
    if (t->cw_class[i] >= C) {
      const rd_cfg_item *cw = rd_cfg_find(c, "train", 0, "class_weight");
      return rd_err_set(err, RD_EINPUT, "%s: class_weight names class %d, but the model has %lld classes (0 to %lld)",
                        cw ? rd_cfg_where(c, cw, -1, w, sizeof w) : c->path, t->cw_class[i], (long long)C,
                        (long long)C - 1);
    }
  if (t->top_k && rd_shape_numel(&last->out) < 2) {
    const rd_cfg_item *mi = rd_cfg_find(c, "train", 0, "metrics");
    return rd_err_set(err, RD_EINPUT,
                      "%s: top_k_categorical_accuracy needs one output per class; '%s' has 1 (loss = %s)",
                      mi ? rd_cfg_where(c, mi, -1, w, sizeof w) : c->path, last->name, L->name);
  }
  return RD_OK;
}

/* ---- checkpoints ---------------------------------------------------------------------- */

void rd_train_pieces(rd_pieces *ps, const rd_model *m, float *params, const rd_optim *o, float *state,
                     rd_train_pos *pos, rd_callbacks *cbs, float *best) {
  ps->n = 0;
  rd_pieces_add(ps, RD_PIECE_F32, params, m->nparams, "params");
  rd_optim_pieces(o, &pos->iteration, state, ps);
  rd_pieces_add(ps, RD_PIECE_I64, &pos->epoch, 1, "data/epoch");
  rd_pieces_add(ps, RD_PIECE_I64, &pos->batch, 1, "data/batch");
  rd_pieces_add(ps, RD_PIECE_I64, &pos->seen, 1, "data/seen");
  rd_pieces_add(ps, RD_PIECE_F64, &pos->loss_sum, 1, "metrics/loss_sum");
  rd_pieces_add(ps, RD_PIECE_F64, &pos->correct, 1, "metrics/correct");
  rd_pieces_add(ps, RD_PIECE_F64, &pos->weight, 1, "metrics/weight");
  rd_pieces_add(ps, RD_PIECE_F64, &pos->topk, 1, "metrics/top_k");
  if (cbs) rd_callbacks_pieces(cbs, ps);
  if (best) rd_pieces_add(ps, RD_PIECE_F32, best, m->nparams, "callbacks/best_weights");
}

/* ---- the loop ------------------------------------------------------------------------ */

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Metrics after the gradient: the shard's loss sum, accuracy's and top-k's
 * (weighted) counts, the weight of its rows, and a read error. */
enum { M_LOSS = 0, M_CORRECT, M_WEIGHT, M_TOPK, M_ERRORS, M_COUNT };

/* An overlapped step (comm.h's rd_allreduce_begin): the last local shard's
 * pass reports its gradient's slices as they become final, and the exchange
 * sends them while the rest of its backward pass runs. A slice is final once
 * its layer's backward has written it and the last push's additions have been
 * applied to it (rd_reduce_push_deferred): per element, the same additions in
 * the same order as a plain push, so the same bits. */
typedef struct overlap {
  rd_allreduce *ar;
  const rd_model *m;
  const rd_shard *k;
  float *mt;             /* the last shard's metrics, in its slot */
  rd_reduce_merges mg;   /* the last push's additions */
  char *sent;            /* per tensor: reported in this step */
  int tail_sent;         /* the statistics and metrics, [G, len) */
  size_t G, len;
} overlap;

/* A shard's metrics into its slot. */
static void put_metrics(float *mt, double loss, const rd_shard_metrics *sm) {
  mt[M_LOSS] = (float)loss, mt[M_CORRECT] = (float)sm->correct, mt[M_WEIGHT] = (float)sm->weight;
  mt[M_TOPK] = (float)sm->top_k;
}

static void ov_report(overlap *o, size_t lo, size_t hi) {
  rd_reduce_merges_apply(&o->mg, lo, hi);
  rd_allreduce_ready(o->ar, lo, hi);
}

static void ov_tensor(overlap *o, int t) {
  const rd_tensor *T = &o->m->tensors[t];
  if (!T->trainable || o->sent[t]) return;
  o->sent[t] = 1;
  ov_report(o, T->offset, T->offset + T->numel);
}

/* rd_shard's on_ready: the forward pass and loss are done (the statistics and
 * metrics are final), or layer l's backward is (its tensors' gradients are). */
static void ov_on_ready(void *ctx, int l) {
  overlap *o = ctx;
  if (l == o->m->nlayers) {
    put_metrics(o->mt, o->k->pass_loss, &o->k->pass_mt);
    o->tail_sent = 1;
    ov_report(o, o->G, o->len);
  } else {
    const rd_layer *ly = &o->m->layers[l];
    for (int t = ly->t0; t < ly->t0 + ly->nt; t++) ov_tensor(o, t);
  }
  rd_allreduce_progress(o->ar);
}

/* What the pass did not report (a failed read, or no shard here) is final now. */
static void ov_flush(overlap *o) {
  for (int t = 0; t < o->m->ntensors; t++) ov_tensor(o, t);
  if (!o->tail_sent) ov_report(o, o->G, o->len);
  memset(o->sent, 0, (size_t)o->m->ntensors);
  o->tail_sent = 0;
}

/* A push's additions (deferred) set up as a fold (kern.h) into the slot g's
 * weight gradients, when they form a chain that starts from g; else 0. */
static int fold_from(const rd_reduce_merges *mg, float *g, size_t len, rd_kern_fold *f) {
  if (mg->n < 1 || mg->n > RD_KERN_FOLD_MAX || mg->src[0] != g || !rd_reduce_merges_chain(mg)) return 0;
  f->slot = g, f->len = len, f->n = mg->n, f->nranges = 0;
  for (int q = 0; q < mg->n; q++) f->dst[q] = mg->dst[q];
  return 1;
}

/* The push's additions on the slot's floats [0, len) outside the ranges a GEMM folded. */
static void apply_unfolded(const rd_reduce_merges *mg, const rd_kern_fold *f, size_t len) {
  size_t lo[RD_KERN_FOLD_MAX], hi[RD_KERN_FOLD_MAX], at = 0;
  const int n = f ? f->nranges : 0;
  for (int i = 0; i < n; i++) { /* in increasing order: insertion */
    int j = i;
    for (; j > 0 && lo[j - 1] > f->lo[i]; j--) lo[j] = lo[j - 1], hi[j] = hi[j - 1];
    lo[j] = f->lo[i], hi[j] = f->hi[i];
  }
  for (int i = 0; i < n; i++) {
    if (lo[i] > at) rd_reduce_merges_apply(mg, at, lo[i]);
    if (hi[i] > at) at = hi[i];
  }
  if (at < len) rd_reduce_merges_apply(mg, at, len);
}

/* The shards of one batch that this rank computes, for training and evaluation
 * alike. The batch is rows order[0..n) of ds (order NULL: rows 0..n-1), cut
 * into K = ceil(n / S) shards; rank r of P takes shards [K r / P, K (r+1) / P)
 * (rd_shard_range), the only rank arithmetic of the step. Each shard runs
 * through the model and is pushed into red's canonical tree as one slot: with
 * train, m->ntrain gradient floats and m->nstats batch
 * statistics; then M_COUNT metrics. A shard whose rows cannot be read carries
 * M_ERRORS = 1 instead, which every rank sees after the sum. With ov, the sum
 * is begun (rd_allreduce_begin on ov->ar into out) and runs behind the last
 * shard's backward pass; the caller ends it. */
static void my_shards(rd_shard *k, rd_dataset *ds, const uint32_t *order, int64_t n, const float *params, int train,
                      uint64_t iteration, const float *class_weight, int top_k, rd_reduce *red, overlap *ov,
                      float *out, rd_err *err) {
  const rd_model *m = k->m;
  const int64_t S = k->S, K = ceil_div(n, S), in = rd_shape_numel(&m->input);
  const size_t grad_len = train ? m->ntrain + m->nstats : 0;
  int64_t lo, hi;
  rd_shard_range(K, rd_comm_size(), rd_comm_rank(), &lo, &hi);
  rd_reduce_begin(red, K);
  const int timed = k->times && train; /* RD_PROFILE: where the shards' time goes besides the layers */
  /* Shards [g0, g1) share one forward pass (k->G of them, shard.h's forward
   * groups; one when the model has none), then each runs its loss and
   * backward pass and is pushed. */
  for (int64_t g0 = lo, g1; g0 < hi; g0 = g1) {
    g1 = hi - g0 < k->G ? hi : g0 + k->G;
    int64_t rows = 0;
    for (int64_t s = g0; s < g1; s++) {
      const int64_t s0 = s * S, sn = n - s0 < S ? n - s0 : S;
      for (int64_t i = 0; i < sn; i++) k->sample[rows + i] = order ? order[s0 + i] : (uint32_t)(s0 + i);
      const double tf0 = timed ? now_sec() : 0.0;
      k->failed[s - g0] = (char)(rd_data_fetch(ds, k->sample + rows, sn, k->x + rows * in, k->y + rows, err) != RD_OK);
      if (timed) k->fetch_sec += now_sec() - tf0;
      if (k->failed[s - g0]) memset(k->x + rows * in, 0, sizeof(float) * (size_t)(sn * in)); /* no garbage rows */
      rows += sn;
    }
    if (k->G > 1) rd_shard_forward(k, params, rows, train, iteration);
    rows = 0;
    for (int64_t s = g0; s < g1; s++) {
      const int64_t s0 = s * S, sn = n - s0 < S ? n - s0 : S, r0 = rows;
      rows += sn;
      const int last = ov && s == hi - 1;
      float *g = rd_reduce_slot(red), *mt = g + grad_len;
      const rd_pass p = {n, train ? g : NULL, train ? g + m->ntrain : NULL, iteration, class_weight, top_k};
      rd_shard_metrics sm = {0, 0, 0};
      memset(mt, 0, sizeof(float) * M_COUNT);
      if (last) { /* its node's place in the tree is known before its values */
        rd_reduce_push_deferred(red, 0, s, &ov->mg);
        ov->mt = mt;
        rd_allreduce_begin(ov->ar, red, out);
      }
      /* A training shard's push is known before its pass too: where the
       * mode's gemm_grad folds (portable, model.c), its weight gradients add
       * it in as they are computed; elsewhere nothing is folded and the push
       * does every addition after the pass, as rd_reduce_push would. */
      const int deferred = !last && train;
      rd_reduce_merges mg;
      rd_kern_fold fold;
      int folds = 0;
      if (deferred) {
        rd_reduce_push_deferred(red, 0, s, &mg);
        folds = fold_from(&mg, g, red->len, &fold);
        if (folds) rd_kern_fold_set(&fold);
      }
      if (k->failed[s - g0]) {
        mt[M_ERRORS] = 1.0f; /* no pass over unfilled rows; the step is abandoned by all */
        memset(g, 0, sizeof(float) * grad_len);
      } else {
        if (last) k->on_ready = ov_on_ready, k->on_ready_ctx = ov; /* it writes the metrics, before they are sent */
        const double loss =
            k->G > 1 ? rd_shard_finish(k, params, r0, sn, &p, &sm) : rd_shard_pass(k, params, sn, &p, &sm);
        k->on_ready = NULL;
        if (!last) put_metrics(mt, loss, &sm);
      }
      rd_kern_fold_set(NULL);
      if (!last) {
        const double tp0 = timed ? now_sec() : 0.0;
        if (deferred) apply_unfolded(&mg, folds ? &fold : NULL, red->len);
        else rd_reduce_push(red, 0, s);
        if (timed) k->push_sec += now_sec() - tp0;
      }
    }
  }
  if (ov) {
    if (hi == lo) rd_allreduce_begin(ov->ar, red, out);
    ov_flush(ov);
  }
}

/* Test-set loss and accuracy (and top-k accuracy with top_k), data-parallel
 * over shards of S rows, canonical sums; unweighted, as Keras' validation. */
static rd_status evaluate(rd_shard *k, rd_dataset *ds, const float *params, int top_k, rd_reduce *red,
                          rd_allreduce *ar, double *loss, double *acc, double *topk, rd_err *err) {
  const int64_t n = ds->n;
  my_shards(k, ds, NULL, n, params, 0, 0, NULL, top_k, red, NULL, NULL, err);
  float out[M_COUNT];
  rd_allreduce_finish(ar, red, out);
  if (out[M_ERRORS] != 0.0f) {
    rd_err_weak(err, RD_EINPUT, "%s: reading the test set failed", ds->xname);
    return rd_comm_agree(err);
  }
  *loss = (double)out[M_LOSS] / (double)n + rd_reg_penalty(k->m, params); /* Keras' test loss has the penalty */
  *acc = (double)out[M_CORRECT] / (double)n;
  if (topk) *topk = (double)out[M_TOPK] / (double)n;
  return RD_OK;
}

/* Replicas must hold the same bits; a difference means a broken environment. */
static rd_status check_replicas(const float *params, size_t n, uint64_t iteration, int64_t epoch, rd_err *err) {
  uint64_t h = rd_seed_digest_f32(params, n);
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


/* Test hook (fault.h): RD_FAULT_DIVERGE=RANK:STEP flips one bit of that
 * rank's replica after that optimizer step, so the divergence guard can be tested. */
static void fault_diverge(const rd_fault *f, float *params, uint64_t iteration) {
  if (f->diverge_rank == rd_comm_rank() && f->diverge_step == iteration) {
    uint32_t b;
    memcpy(&b, params, 4);
    b ^= 1u;
    memcpy(params, &b, 4);
  }
}

/* ---- the trainer: one run's state, its step and its epochs ---------------------------- */

typedef struct trainer {
  const rd_train_spec *t;
  const rd_train_ctl *ctl;
  const rd_model *m;
  float *params;                /* the caller's, m->nparams floats */
  float *state;                 /* optimizer state, nopt floats */
  float *gsum;                  /* the step's summed gradient and metrics, len floats */
  size_t G, M, len, nopt;       /* trainable floats; where the metrics start (G + statistics);
                                   M + M_COUNT; optimizer floats */
  int64_t B, S, nb;             /* batch, shard size, batches per epoch */
  int64_t group;                /* shards per forward pass (shard.h's forward groups; 1: none) */
  rd_dataset train, test, val;  /* val: validation_split's view of train, or val_x/val_y */
  int open_train, open_test, open_val, made;
  FILE *mf;                     /* the metrics file (rank 0), opened at the first epoch's end, or NULL */
  int mf_failed;                /* it could not be opened then: warned once */
  rd_shard k;
  rd_reduce red, ered, vred;    /* the step's, the test evaluation's and the validation's trees */
  rd_allreduce *ar, *ear, *var;
  uint32_t *perm;               /* the epoch's order (train.n) */
  uint64_t shuffle_seed;
  rd_optim opt;                 /* the optimizer: clipping, weight decay, the rule */
  int shards;                   /* shard_optimizer, resolved (shards_optimizer): this run shards */
  int sharded;                  /* shard_optimizer: opt's state and update cover this rank's range of ar */
  rd_zero zero;                 /* sharded: the step's halves (its allreduce is ar) */
  overlap ov;                   /* ov.ar set: the step's sum runs behind the backward pass (ar's algorithm has an
                                   overlapped form) */
  int reg;                      /* the model has weight regularizers */
  float *class_weight;          /* [train] class_weight, one per class, or NULL */
  rd_callbacks cbs;             /* the callbacks and their state */
  float *best;                  /* restore_best_weights: the best epoch's weights, or NULL */
  int early;                    /* a callback stopped training */
  int per_batch;                /* a callback acts after each step */
  rd_pieces pieces;             /* what a checkpoint holds: views of the fields below (trainer_pieces) */
  int64_t start_epoch;          /* the epoch the run starts in */
  int resumed;                  /* the position and metrics came from a checkpoint: the first epoch continues */
  rd_ckpt_ident id;
  char ckpath[4096];            /* the checkpoint resumed from */
  char sigdir[4096];            /* where a signal's checkpoint goes */
  const rd_fault *fault;
  int profile;
  double prof[4];               /* RD_PROFILE: shards, reduction, optimizer (s), steps */
  /* Position, and the running metrics of the epoch. */
  rd_train_pos pos;             /* the step count, the data cursor and the epoch's running metrics */
  int64_t seen_here;
  int stopped;                  /* a signal's checkpoint was written */
  double t0, te;                /* start of the run and of the epoch */
} trainer;

static void trainer_free(trainer *tr) {
  if (tr->mf) fclose(tr->mf);
  free(tr->gsum), free(tr->state), free(tr->perm), free(tr->class_weight), free(tr->best), free(tr->ov.sent);
  if (tr->sharded) rd_zero_free(&tr->zero), tr->ar = NULL; /* ar was the zero's */
  rd_optim_free(&tr->opt);
  rd_allreduce_destroy(tr->ar), rd_allreduce_destroy(tr->ear), rd_allreduce_destroy(tr->var);
  rd_reduce_free(&tr->red), rd_reduce_free(&tr->ered), rd_reduce_free(&tr->vred);
  if (tr->made) free(tr->k.times), rd_shard_free(&tr->k);
  if (tr->open_train) rd_data_close(&tr->train);
  if (tr->open_test) rd_data_close(&tr->test);
  if (tr->open_val) rd_data_close(&tr->val);
  memset(tr, 0, sizeof *tr);
}

/* Checkpoints only ever hold state that every replica agrees on. */
static rd_status save_checkpoint(trainer *tr, const char *dir, char *path, size_t n, rd_err *err) {
  if (check_replicas(tr->params, tr->m->nparams, tr->pos.iteration, tr->pos.epoch, err)) return err->code;
  return rd_ckpt_write(dir, tr->t->keep, tr->pos.iteration, tr->m, &tr->pieces, &tr->id, path, n, err);
}

/* Before the step's buffers are made: what they will take on this node, against
 * what it has left. Too much is a config error naming the largest part, not an
 * allocation failing (a bug's abort) or the kernel's OOM killer. Collective. */
static rd_status check_memory(const rd_model *m, int64_t S, int64_t group, int64_t Kmax, size_t len, size_t nopt,
                              rd_err *err) {
  const double f = sizeof(float), ar = (double)rd_allreduce_floats(rd_comm_world(), len, Kmax, RD_XCHG_AUTO);
  const double pool = (double)rd_reduce_floats(len, rd_reduce_local_shards(Kmax, rd_comm_size()));
  double total = f * ((double)m->nparams + (double)nopt + (double)len + pool + ar + (double)rd_shard_base_floats(m, S) +
                      (double)((group - 1) * S * rd_shape_numel(&m->input))); /* a forward group's input rows */
  double top = f * ((double)m->nparams * 2 + (double)nopt + pool + ar);
  char what[300];
  snprintf(what, sizeof what, "the parameters, their gradients and the optimizer state (%zu parameters)", m->nparams);
  for (int l = 0; l < m->nlayers; l++) {
    const double b = f * (double)rd_shard_layer_floats(m, l, group * S);
    total += b;
    if (b > top)
      top = b, snprintf(what, sizeof what, "layer '%s' ([%s]): its output and workspace for %s of %lld samples",
                        m->layers[l].name, m->layers[l].type->name, group > 1 ? "a forward group" : "a shard",
                        (long long)(group * S));
  }
  const int local = rd_comm_local_size();
  const double avail = rd_mem_available(), GB = 1e9;
  if (avail > 0 && total * local > avail)
    rd_err_set(err, RD_EINPUT,
               "reprodist: training needs about %.2f GB per rank (%d on this node: %.2f GB), more than the %.2f GB "
               "available; the largest part is %s, %.2f GB: use a smaller model, shard_size or fewer ranks per node",
               total / GB, local, total * local / GB, avail / GB, what, top / GB);
  return rd_comm_agree(err);
}

/* Shards per forward pass: with forward groups (shard.h), a rank's shards of a
 * batch, as many as keep the group's activations within 64 MB. */
static int64_t forward_group(const rd_model *m, rd_kern_mode mode, int64_t S, int64_t local) {
  if (!rd_shard_groupable(m, mode)) return 1;
  double per_shard = (double)S * (double)rd_shape_numel(&m->input); /* floats */
  for (int l = 0; l < m->nlayers; l++) per_shard += (double)rd_shard_layer_floats(m, l, S);
  int64_t G = local;
  while (G > 1 && (double)G * per_shard * sizeof(float) > 64e6) G--;
  return G;
}

/* Whether a run shards its optimizer: with true always, with false never, and
 * with auto (the default) when there are ranks to share it, every rank runs
 * on one node and the step's exchange has the two halves. On one node every
 * rank sees the checkpoint directory, and the ranges move through shared
 * memory: there the MLPs ran 4-18% faster at np 2 and the convolutional
 * models within the noise (docs/PERFORMANCE.md, run 24). Across nodes a
 * sharded checkpoint needs a directory every node shares, so auto leaves it
 * to the config. Every rank decides the same: one node is a fact of the job. */
static int shards_optimizer(int mode, size_t len, int64_t max_shards) {
  if (mode != RD_SHARD_AUTO) return mode == RD_SHARD_ON;
  return rd_comm_size() > 1 && rd_comm_one_node() && rd_allreduce_shardable(rd_comm_world(), len, max_shards);
}

/* shard_optimizer: the step's allreduce, cut where the optimizer's norm blocks
 * start, gives this rank its range of the parameters; the optimizer keeps
 * state for that range alone. Collective. */
static rd_status shard_state(trainer *tr, rd_err *err) {
  const int P = rd_comm_size();
  if (rd_zero_init(&tr->zero, &tr->opt, tr->len, ceil_div(tr->B, tr->S), err)) return err->code;
  tr->sharded = 1;
  tr->ar = tr->zero.a;
  tr->nopt = (size_t)rd_optim_slots(&tr->t->opt) * (tr->opt.hi - tr->opt.lo);
  /* Every rank writes its part of each checkpoint: a directory some node does not share fails now, not at the first. */
  if (P > 1 && tr->t->ckpt_dir && rd_ckpt_check_shared(tr->t->ckpt_dir, err)) return err->code;
  return RD_OK;
}

/* Resume (if asked), data, metrics file, buffers. Collective. On failure the
 * caller frees; the ranks have agreed on the failure where needed. */
/* The optimizer's state, the callbacks', the checkpoint pieces over them, the
 * resume (if asked: collective) and the class weights. */
static rd_status trainer_state(trainer *tr, int64_t C, rd_err *err) {
  const rd_train_spec *t = tr->t;
  const rd_train_ctl *ctl = tr->ctl;
  const rd_model *m = tr->m;
  float *params = tr->params;
  rd_optim_init(&tr->opt, &t->opt, m);
  if (tr->shards && shard_state(tr, err)) return err->code;
  tr->state = calloc(tr->nopt + 1, sizeof(float));
  RD_ASSERT(tr->state != NULL, "out of memory");
  tr->reg = rd_reg_any(m);
  rd_optim_state_init(&tr->opt, tr->state);
  tr->id = (rd_ckpt_ident){ctl->config_digest, ctl->config_text, ctl->fingerprint, ctl->plugins,
                           ctl->legacy_digest, ctl->legacy_key, ctl->legacy_note, ctl->legacy_advice};
  tr->cbs = t->callbacks;
  rd_callbacks_begin(&tr->cbs);
  tr->per_batch = rd_callbacks_per_batch(&tr->cbs);
  if (rd_callbacks_keep_weights(&tr->cbs)) {
    tr->best = rd_mem_alloc_f32(m->nparams);
    memcpy(tr->best, params, sizeof(float) * m->nparams);
  }
  rd_train_pieces(&tr->pieces, m, params, &tr->opt, tr->state, &tr->pos, &tr->cbs, tr->best);
  if (ctl->resume) {
    if (rd_ckpt_read(ctl->resume, t->ckpt_dir, m, &tr->pieces, &tr->id, tr->ckpath, sizeof tr->ckpath, err))
      return err->code;
    rd_log0("reprodist: resuming from %s at epoch %lld, step %" PRIu64, tr->ckpath, (long long)tr->pos.epoch + 1,
            tr->pos.iteration);
    rd_optim_resume(&tr->opt, tr->pos.iteration);
    tr->resumed = 1;
  }
  if (t->ncw) { /* one weight per class, 1 for those class_weight does not name */
    tr->class_weight = malloc(sizeof(float) * (size_t)C);
    RD_ASSERT(tr->class_weight != NULL, "out of memory");
    for (int64_t k = 0; k < C; k++) tr->class_weight[k] = 1.0f;
    for (int i = 0; i < t->ncw; i++) tr->class_weight[t->cw_class[i]] = t->cw_weight[i];
  }
  return RD_OK;
}

/* The training set, the validation set (validation_split's view of it, or its
 * own files) and the test set; the checks that need them. Collective. */
static rd_status trainer_open_data(trainer *tr, const rd_data_spec *data, int64_t C, rd_err *err) {
  const rd_train_spec *t = tr->t;
  const rd_model *m = tr->m;
  if (rd_data_open(&tr->train, data, RD_DATA_TRAIN, &m->input, C, m->global_seed, tr->S, err)) return err->code;
  tr->open_train = 1;
  if (data->validation_split > 0) { /* the same on every rank: no agreement needed */
    if (rd_data_split(&tr->train, data, &tr->val, err)) return err->code;
    tr->open_val = 1;
  } else if (data->has_val) {
    if (rd_data_open(&tr->val, data, RD_DATA_VAL, &m->input, C, m->global_seed, tr->S, err)) return err->code;
    tr->open_val = 1;
  }
  if (rd_data_open(&tr->test, data, RD_DATA_TEST, &m->input, C, m->global_seed, tr->S, err)) return err->code;
  tr->open_test = 1;
  if (tr->train.n < tr->B)
    rd_err_set(err, RD_EINPUT, "%s: %lld training samples are fewer than one batch (batch_size = %lld)",
               tr->train.xname, (long long)tr->train.n, (long long)tr->B);
  int werr = 0; /* the metrics file is opened at the first epoch's end (write_metrics) */
  if (!err->code && rd_comm_rank() == 0 && t->metrics_path && (werr = rd_fs_can_write(t->metrics_path)))
    rd_err_set(err, RD_EINPUT, "%s: cannot write the metrics file (%s; [run] metrics, or --set run.metrics= for none)",
               t->metrics_path, strerror(werr));
  if (rd_comm_agree(err) || rd_cbfiles_open(&tr->cbs, tr->ctl->cfg, tr->resumed, err)) return err->code;
  return RD_OK;
}

/* The run's first line (ranks, parameters, samples, batches, kernels), and a
 * warning when ranks have no shard to compute. */
static void trainer_announce(const trainer *tr, int64_t Kmax) {
  const rd_train_spec *t = tr->t;
  const int P = rd_comm_size();
  char kern[96];
  if (t->kernels == RD_KERN_PORTABLE)
    snprintf(kern, sizeof kern, "portable kernels (%s path on rank 0), 1 thread", rd_kern_isa_name(rd_kern_isa()));
  else
    snprintf(kern, sizeof kern, "OpenBLAS core %s, %d thread%s", rd_fp_openblas_core(), rd_fp_openblas_threads(),
             rd_fp_openblas_threads() > 1 ? "s" : "");
  char vinfo[64] = "";
  if (tr->open_val)
    snprintf(vinfo, sizeof vinfo, " (%lld validation sample%s)", (long long)tr->val.n, tr->val.n == 1 ? "" : "s");
  char xinfo[64] = "";
  if (P > 1) snprintf(xinfo, sizeof xinfo, "; the %s allreduce", rd_xchg_name(rd_allreduce_algo(tr->ar)));
  char sinfo[192] = "";
  if (tr->sharded) /* rank 0's share; each rank's is in its own line under RD_PROFILE */
    snprintf(sinfo, sizeof sinfo, "; optimizer state sharded%s: rank 0 keeps %zu of %zu",
             t->shard_optimizer == RD_SHARD_AUTO ? " (shard_optimizer = auto: every rank on one node)" : "",
             tr->opt.hi - tr->opt.lo, tr->G);
  rd_log0("reprodist %s: %d rank%s; %zu parameters; %lld training samples%s in %lld batches of %lld "
          "(%lld shards of %lld); %s per rank%s%s",
          rd_fp_version(), P, P > 1 ? "s" : "", tr->m->nparams, (long long)tr->train.n, vinfo, (long long)tr->nb,
          (long long)tr->B, (long long)Kmax, (long long)tr->S, kern, xinfo, sinfo);
  if (P > Kmax)
    rd_warn0("%d ranks but only %lld shards per batch: %lld rank(s) idle each step (results are unchanged; "
             "lower shard_size to use them)",
             P, (long long)Kmax, (long long)(P - Kmax));
}

static rd_status trainer_init(trainer *tr, const rd_train_spec *t, const rd_train_ctl *ctl, const rd_data_spec *data,
                              const rd_model *m, float *params, rd_err *err) {
  memset(tr, 0, sizeof *tr);
  const int64_t C = t->loss.type->classes(rd_shape_numel(&m->layers[m->nlayers - 1].out)); /* label classes */
  tr->t = t, tr->ctl = ctl, tr->m = m, tr->params = params;
  tr->B = t->batch, tr->S = t->shard;
  tr->G = m->ntrain, tr->M = tr->G + m->nstats, tr->len = tr->M + M_COUNT;
  tr->nopt = (size_t)rd_optim_slots(&t->opt) * tr->G;
  /* Sharded: a rank's range is G / np moved by up to a 256-float norm block per level of the exchange. */
  size_t levels = 3;
  for (int p = rd_comm_size(); p > 1; p /= 2) levels++;
  tr->shards = shards_optimizer(t->shard_optimizer, tr->len, ceil_div(tr->B, tr->S));
  const size_t nopt_here = tr->shards
                               ? (size_t)rd_optim_slots(&t->opt) * (tr->G / (size_t)rd_comm_size() + 256 * levels)
                               : tr->nopt;
  tr->group = forward_group(m, t->kernels, tr->S, rd_reduce_local_shards(ceil_div(tr->B, tr->S), rd_comm_size()));
  if (check_memory(m, tr->S, tr->group, ceil_div(tr->B, tr->S), tr->len, nopt_here, err)) return err->code;
  if (trainer_state(tr, C, err)) return err->code;
  if (trainer_open_data(tr, data, C, err)) return err->code;

  const int64_t Kmax = ceil_div(tr->B, tr->S), Ktest = ceil_div(tr->test.n, tr->S);
  rd_shard_init_group(&tr->k, m, tr->S, tr->group, &t->loss, t->kernels);
  tr->made = 1;
  tr->profile = getenv("RD_PROFILE") && !strcmp(getenv("RD_PROFILE"), "1");
  if (tr->profile) {
    tr->k.times = calloc(2 * (size_t)m->nlayers, sizeof(double));
    RD_ASSERT(tr->k.times != NULL, "out of memory");
  }
  const rd_comm *w = rd_comm_world();
  if (!tr->ar) tr->ar = rd_allreduce_create(w, tr->len, Kmax, RD_XCHG_AUTO, err);
  /* this rank's share of the shards; the pool shm's, read there with no copy */
  rd_reduce_init_in(&tr->red, tr->len, rd_reduce_local_shards(Kmax, rd_comm_size()),
                    tr->ar ? rd_allreduce_pool(tr->ar) : NULL);
  rd_reduce_init(&tr->ered, M_COUNT, Ktest);
  tr->ear = rd_allreduce_create(w, M_COUNT, Ktest, RD_XCHG_AUTO, err);
  if (tr->open_val) {
    const int64_t Kval = ceil_div(tr->val.n, tr->S);
    rd_reduce_init(&tr->vred, M_COUNT, Kval);
    tr->var = rd_allreduce_create(w, M_COUNT, Kval, RD_XCHG_AUTO, err);
  }
  if (rd_comm_agree(err)) return err->code; /* the same sizes and rank count on every rank */
  if (!tr->sharded && rd_allreduce_overlaps(tr->ar)) {
    tr->ov = (overlap){.ar = tr->ar, .m = m, .k = &tr->k, .G = m->ntrain, .len = tr->len};
    tr->ov.sent = calloc((size_t)m->ntensors + 1, 1);
    RD_ASSERT(tr->ov.sent != NULL, "out of memory");
  }
  tr->gsum = rd_mem_alloc_f32(tr->len);
  tr->perm = malloc(sizeof(uint32_t) * (size_t)tr->train.n);
  RD_ASSERT(tr->perm != NULL, "out of memory");
  tr->shuffle_seed = rd_seed_tensor(m->global_seed, "", "shuffle");
  tr->nb = t->drop_remainder ? tr->train.n / tr->B : ceil_div(tr->train.n, tr->B);
  if (t->steps_per_epoch > 0 && t->steps_per_epoch < tr->nb) tr->nb = t->steps_per_epoch; /* Keras' steps_per_epoch */
  /* Diagnostics: RD_PROFILE=1 makes every rank log where its step time went (above). */
  tr->fault = rd_fault_get();
  /* Where a signal's checkpoint goes when no checkpoint_dir is configured. */
  if (t->ckpt_dir) snprintf(tr->sigdir, sizeof tr->sigdir, "%s", t->ckpt_dir);
  else snprintf(tr->sigdir, sizeof tr->sigdir, "%s.ckpt", ctl->output);

  trainer_announce(tr, Kmax);
  tr->start_epoch = tr->pos.epoch;
  tr->t0 = now_sec();
  return RD_OK;
}

/* The epoch's order (its shuffle) and running metrics; a resumed epoch starts
 * where its checkpoint left it. */
static void trainer_begin_epoch(trainer *tr) {
  tr->te = now_sec();
  if (tr->t->shuffle)
    rd_seed_permutation(tr->shuffle_seed, (uint64_t)tr->pos.epoch, (uint64_t)tr->train.n, tr->perm);
  else
    for (int64_t i = 0; i < tr->train.n; i++) tr->perm[i] = (uint32_t)i;
  if (!tr->resumed) tr->pos.loss_sum = tr->pos.correct = tr->pos.weight = tr->pos.topk = 0.0, tr->pos.seen = tr->pos.batch = 0;
  tr->resumed = 0;
  tr->seen_here = 0;
}

/* The optimizer's state as a file at path (NULL: the run's outputs) stores it.
 * A sharded optimizer's ranges are gathered, through gsum, for rank 0 (into
 * *full, the caller frees) only when the file stores the state (a .keras
 * archive); *whole is then the optimizer as if unsharded. Collective. */
static rd_optim_view state_view(trainer *tr, const char *path, rd_optim *whole, float **full) {
  *full = NULL;
  const rd_train_ctl *ctl = tr->ctl;
  if (!tr->sharded || !ctl->stores_state || !ctl->stores_state(ctl->save_ctx, path))
    return (rd_optim_view){&tr->opt, tr->state, tr->pos.iteration};
  const size_t slots = (size_t)rd_optim_slots(tr->opt.s), n = tr->opt.hi - tr->opt.lo, G = tr->G;
  if (rd_comm_rank() == 0) *full = rd_mem_alloc_f32(slots * G + 1);
  for (size_t k = 0; k < slots; k++) {
    rd_zero_gather_slot(&tr->zero, &tr->opt, tr->state + k * n, tr->gsum);
    if (*full) memcpy(*full + k * G, tr->gsum, sizeof(float) * G);
  }
  *whole = tr->opt;
  whole->lo = 0, whole->hi = tr->opt.n;
  return (rd_optim_view){whole, *full ? *full : tr->state, tr->pos.iteration};
}

/* model_checkpoint's weights file, made where its directory is missing (as
 * Keras makes it). Collective. */
static rd_status save_callback_weights(trainer *tr, const char *path, rd_err *err) {
  int rc = rd_comm_rank() == 0 ? rd_fs_mkdirs_for(path) : 0;
  if (rc) rd_err_set(err, RD_EINPUT, "%s: cannot make its directory for [model_checkpoint] (%s)", path, strerror(rc));
  if (rd_comm_agree(err)) return err->code;
  rd_optim whole;
  float *full;
  const rd_optim_view ov = state_view(tr, path, &whole, &full);
  tr->ctl->save_weights(tr->ctl->save_ctx, path, tr->params, &ov, err);
  free(full);
  return err->code;
}

/* on_train_batch_end, on the epoch's running logs (model_checkpoint's save_freq = N). */
static rd_status batch_callbacks(trainer *tr, rd_err *err) {
  const rd_train_pos *q = &tr->pos;
  rd_epoch_logs lg = {{q->loss_sum / (double)q->seen, q->correct / q->weight, q->topk / q->weight},
                      {1, 1, tr->t->top_k > 0},
                      (double)tr->opt.lr};
  rd_cb_act act;
  rd_callbacks_batch_end(&tr->cbs, q->epoch, q->batch - 1, &lg, &act);
  if (act.say[0]) rd_log0("%s", act.say);
  if (act.save[0] && save_callback_weights(tr, act.save, err)) return err->code;
  return RD_OK;
}

/* One optimizer step, on batch tr->pos.batch of the epoch: the shards this rank
 * computes (forward and backward), their canonical sum, the update; then the
 * replica guard and the checkpoints that fall on this step. Collective. */
static rd_status trainer_step(trainer *tr, rd_err *err) {
  const rd_train_spec *t = tr->t;
  const size_t G = tr->G, M = tr->M;
  const int64_t b = tr->pos.batch, bn = tr->train.n - b * tr->B < tr->B ? tr->train.n - b * tr->B : tr->B;
  rd_comm_flag_begin(rd_sig_pending() != 0); /* completes behind the step's compute */
  const double tp0 = tr->profile ? now_sec() : 0.0;
  my_shards(&tr->k, &tr->train, tr->perm + b * tr->B, bn, tr->params, 1, tr->pos.iteration, tr->class_weight, t->top_k,
            &tr->red, tr->ov.ar ? &tr->ov : NULL, tr->gsum, err);
  const double tp1 = tr->profile ? now_sec() : 0.0;
  const float *gs;
  if (tr->sharded) { /* this rank's range of the sum, and the statistics and metrics from their owner */
    gs = rd_zero_scatter(&tr->zero, &tr->red, tr->gsum);
  } else if (tr->ov.ar) { /* begun behind the last shard's backward pass */
    gs = rd_allreduce_end(tr->ar);
  } else {
    gs = rd_allreduce_sum(tr->ar, &tr->red, tr->gsum); /* at np 1: the tree's root, not a copy */
  }
  const int stop = rd_comm_flag_end();
  const double tp2 = tr->profile ? now_sec() : 0.0;
  if (gs[M + M_ERRORS] != 0.0f) { /* every rank sees it in the same step */
    rd_err_weak(err, RD_EINPUT, "%s: reading training samples failed", tr->train.xname);
    return rd_comm_agree(err);
  }
  if (!isfinite(gs[M + M_LOSS])) /* identical on every rank, like everything in gsum */
    return rd_err_set(err, RD_ERUNTIME,
                      "reprodist: training diverged: the loss is %g in epoch %lld, step %lld; lower learning_rate",
                      (double)gs[M + M_LOSS], (long long)(tr->pos.epoch + 1), (long long)(b + 1));
  /* Weight regularizers: their penalty joins the batch's loss and its gradient
   * the batch's gradient, computed on the replica (the same on every rank). */
  double penalty = 0.0;
  if (tr->reg) {
    penalty = rd_reg_penalty(tr->m, tr->params);
    rd_reg_grad(tr->m, tr->params, (float *)gs);
  }
  if (M > G) rd_shard_apply_stats(&tr->k, tr->params, gs + G, ceil_div(bn, tr->S), bn);
  /* gs is this rank's reduction buffer (the tree's root at np 1): the step may clip it in place. */
  if (tr->sharded) { /* this rank's range, with every range's norm blocks; then every range to every rank */
    rd_zero_step(&tr->zero, &tr->opt, tr->pos.iteration++, tr->params, (float *)gs, tr->state);
    rd_zero_share(&tr->zero, tr->params);
  } else {
    rd_optim_step(&tr->opt, tr->pos.iteration++, tr->params, (float *)gs, tr->state);
  }
  if (tr->profile) {
    const double tp3 = now_sec();
    tr->prof[0] += tp1 - tp0, tr->prof[1] += tp2 - tp1, tr->prof[2] += tp3 - tp2, tr->prof[3] += 1.0;
  }
  fault_diverge(tr->fault, tr->params, tr->pos.iteration);
  tr->pos.loss_sum += (double)gs[M + M_LOSS] + penalty * (double)bn; /* the epoch's loss: a mean over samples */
  tr->pos.correct += (double)gs[M + M_CORRECT];
  tr->pos.weight += (double)gs[M + M_WEIGHT];
  tr->pos.topk += (double)gs[M + M_TOPK];
  tr->pos.seen += bn;
  tr->seen_here += bn;
  tr->pos.batch++;
  if (tr->per_batch && batch_callbacks(tr, err)) return err->code;
  if (t->check_every > 0 && tr->pos.iteration % (uint64_t)t->check_every == 0 &&
      check_replicas(tr->params, tr->m->nparams, tr->pos.iteration, tr->pos.epoch, err))
    return err->code;
  if (stop) {
    char path[4096];
    if (save_checkpoint(tr, tr->sigdir, path, sizeof path, err) == RD_OK) {
      char hint[8192 + 4200] = "";
      snprintf(hint, sizeof hint, "%s --resume", tr->ctl->command);
      rd_fs_shell_append(hint, sizeof hint, path);
      rd_warn0("stopped by a signal after step %" PRIu64 " (epoch %lld); checkpoint %s; continue with: %s  (any N)",
               tr->pos.iteration, (long long)(tr->pos.epoch + 1), path, hint);
      tr->stopped = 1;
    }
    return err->code;
  }
  if (t->ckpt_every && !t->ckpt_in_epochs && tr->pos.iteration % (uint64_t)t->ckpt_every == 0)
    save_checkpoint(tr, t->ckpt_dir, NULL, 0, err);
  return err->code;
}

/* The end of an epoch: the replica guard (when not per step), evaluation, the
 * epoch's line and metrics, and an epoch checkpoint when one falls due. */
static rd_status trainer_end_epoch(trainer *tr, rd_err *err) {
  const rd_train_spec *t = tr->t;
  const int64_t e = tr->pos.epoch;
  if (t->check_every == 0 && check_replicas(tr->params, tr->m->nparams, tr->pos.iteration, e, err)) return err->code;
  double tl = 0, ta = 0, tk = 0, vl = 0, va = 0, vk = 0;
  if (tr->open_val && evaluate(&tr->k, &tr->val, tr->params, t->top_k, &tr->vred, tr->var, &vl, &va, &vk, err))
    return err->code;
  if (evaluate(&tr->k, &tr->test, tr->params, t->top_k, &tr->ered, tr->ear, &tl, &ta, &tk, err)) return err->code;
  const double tnow = now_sec(), el = tnow - tr->t0, ep = tnow - tr->te;
  const double sps = (double)tr->seen_here / (ep > 0 ? ep : 1e-9);
  const double eta = el / (double)(e + 1 - tr->start_epoch) * (double)(t->epochs - e - 1);
  /* Keras' metrics: weighted means with class_weight (the loss is already a sum over the batch size). */
  const double loss = tr->pos.loss_sum / (double)tr->pos.seen, acc = tr->pos.correct / tr->pos.weight, topk = tr->pos.topk / tr->pos.weight;
  char tks[96] = "", vs[160] = "";
  if (t->top_k) snprintf(tks, sizeof tks, "  top%d %.4f  test_top%d %.4f", t->top_k, topk, t->top_k, tk);
  if (tr->open_val) {
    int o = snprintf(vs, sizeof vs, "  val_loss %.6f  val_acc %.4f", vl, va);
    if (t->top_k) snprintf(vs + o, sizeof vs - (size_t)o, "  val_top%d %.4f", t->top_k, vk);
  }
  rd_log0("epoch %lld/%lld  loss %.6f  acc %.4f%s  test_loss %.6f  test_acc %.4f%s  lr %.6g  |  %.0f samples/s  "
          "elapsed %.1fs  eta %.1fs",
          (long long)(e + 1), (long long)t->epochs, loss, acc, vs, tl, ta, tks, (double)tr->opt.lr, sps, el, eta);
  if (rd_comm_rank() == 0 && t->metrics_path && !tr->mf && !tr->mf_failed &&
      !(tr->mf = fopen(t->metrics_path, tr->ctl->resume ? "a" : "w"))) {
    /* It was writable at the start: a week's run does not end for its log. */
    rd_warn0("reprodist: cannot write the metrics file %s (%s); going on without it", t->metrics_path, strerror(errno));
    tr->mf_failed = 1;
  }
  if (tr->mf) {
    char tkj[320] = "";
    int o = 0;
    if (t->top_k)
      o = snprintf(tkj, sizeof tkj, "\"top_k_categorical_accuracy\": %.9g, \"test_top_k_categorical_accuracy\": %.9g, ",
                   topk, tk);
    if (tr->open_val) /* Keras' history names */
      o += snprintf(tkj + o, sizeof tkj - (size_t)o, "\"val_loss\": %.9g, \"val_accuracy\": %.9g, ", vl, va);
    if (tr->open_val && t->top_k)
      snprintf(tkj + o, sizeof tkj - (size_t)o, "\"val_top_k_categorical_accuracy\": %.9g, ", vk);
    fprintf(tr->mf,
            "{\"epoch\": %lld, \"loss\": %.9g, \"accuracy\": %.9g, \"test_loss\": %.9g, \"test_accuracy\": %.9g, "
            "%s\"learning_rate\": %.9g, \"samples_per_sec\": %.1f, \"elapsed_sec\": %.3f, \"ranks\": %d}\n",
            (long long)(e + 1), loss, acc, tl, ta, tkj, (double)tr->opt.lr, sps, el, rd_comm_size());
    if (fflush(tr->mf) != 0 || ferror(tr->mf)) { /* a full disk: said once, training goes on */
      rd_warn0("reprodist: cannot write the metrics file %s (%s); going on without it", t->metrics_path,
               strerror(errno));
      fclose(tr->mf);
      tr->mf = NULL, tr->mf_failed = 1;
    }
  }
  /* Callbacks, on Keras' logs of this epoch (the same bits at any np). */
  if (tr->cbs.n) {
    rd_epoch_logs lg = {{loss, acc, topk, vl, va, vk},
                        {1, 1, t->top_k > 0, tr->open_val, tr->open_val, tr->open_val && t->top_k > 0},
                        (double)tr->opt.lr};
    rd_cb_act act;
    rd_callbacks_epoch_end(&tr->cbs, e, &lg, &act);
    rd_cbfiles_epoch(&tr->cbs, e);
    if (act.keep_best) memcpy(tr->best, tr->params, sizeof(float) * tr->m->nparams);
    if (act.lr > 0) tr->opt.lr_set = act.lr;
    if (act.say[0]) rd_log0("%s", act.say);
    if (act.save[0] && save_callback_weights(tr, act.save, err)) return err->code;
    tr->early = act.stop;
  }
  /* The position a checkpoint written now continues from: the next epoch's start. */
  tr->pos.epoch++;
  tr->pos.batch = tr->pos.seen = 0, tr->pos.loss_sum = tr->pos.correct = tr->pos.weight = tr->pos.topk = 0.0;
  if (t->ckpt_every && t->ckpt_in_epochs && tr->pos.epoch % t->ckpt_every == 0) save_checkpoint(tr, t->ckpt_dir, NULL, 0, err);
  return err->code;
}

rd_status rd_train_run(const rd_train_spec *t, const rd_train_ctl *ctl, const rd_data_spec *data, const rd_model *m,
                       float *params, rd_err *err) {
  trainer tr;
  if (trainer_init(&tr, t, ctl, data, m, params, err)) {
    trainer_free(&tr);
    return err->code;
  }
  while (tr.pos.epoch < t->epochs && !tr.early) {
    trainer_begin_epoch(&tr);
    while (tr.pos.batch < tr.nb && !trainer_step(&tr, err) && !tr.stopped) {
    }
    if (err->code || tr.stopped || trainer_end_epoch(&tr, err)) break;
  }
  /* Keras' fit ends with optimizer.finalize_variable_values: with use_ema the
   * weights written are the moving average (checkpoints keep both). */
  if (!err->code && !tr.stopped && (tr.pos.epoch >= t->epochs || tr.early)) {
    rd_optim_finalize(&tr.opt, params, tr.state);
    if (tr.sharded) rd_zero_share(&tr.zero, params);
    rd_cb_act act; /* then the callbacks' on_train_end: restore_best_weights */
    rd_callbacks_end(&tr.cbs, &act);
    if (act.restore_best) memcpy(params, tr.best, sizeof(float) * m->nparams);
    if (act.say[0]) rd_log0("%s", act.say);
  }
  if (tr.profile && tr.sharded)
    rd_log_all("profile: optimizer state for parameters [%zu, %zu) of %zu: %zu floats", tr.opt.lo, tr.opt.hi, tr.G, tr.nopt);
  if (tr.profile && tr.prof[3] > 0) {
    if (tr.group > 1)
      rd_log_all("profile: forward passes over up to %lld shards at once (forward groups)", (long long)tr.group);
    rd_log_all("profile: %.0f steps, ms per step: shards %.3f  reduction %.3f  optimizer %.3f  (in the shards: data "
               "%.3f, pushes %.3f)", tr.prof[3], 1e3 * tr.prof[0] / tr.prof[3], 1e3 * tr.prof[1] / tr.prof[3],
               1e3 * tr.prof[2] / tr.prof[3], 1e3 * tr.k.fetch_sec / tr.prof[3], 1e3 * tr.k.push_sec / tr.prof[3]);
    for (int l = 0; l < m->nlayers; l++) /* training and evaluation passes together */
      if (m->layers[l].fused)
        rd_log_all("profile: layer %-20s fused into %s: its %s runs %s", m->layers[l].name,
                   m->layers[m->layers[l].src[0]].name, rd_act_name(m->layers[l].act),
                   rd_layer_takes_relu(&m->layers[m->layers[l].src[0]]) ? "inside that layer's passes" : "in place there");
      else
        rd_log_all("profile: layer %-20s forward %8.3f ms  backward %8.3f ms per step", m->layers[l].name,
                 1e3 * tr.k.times[2 * l] / tr.prof[3], 1e3 * tr.k.times[2 * l + 1] / tr.prof[3]);
  }
  const int stopped = tr.stopped;
  if (!err->code && !stopped && ctl->save_outputs) {
    rd_optim whole;
    float *full;
    const rd_optim_view ov = state_view(&tr, NULL, &whole, &full);
    ctl->save_weights(ctl->save_ctx, NULL, params, &ov, err);
    free(full);
  }
  trainer_free(&tr);
  if (rd_comm_agree(err)) return err->code;
  return stopped ? RD_STOPPED : RD_OK;
}

rd_status rd_train_evaluate(const rd_train_spec *t, const rd_data_spec *data, const rd_model *m, const float *params,
                            double *loss, double *acc, int64_t *n, rd_err *err) {
  const int64_t C = t->loss.type->classes(rd_shape_numel(&m->layers[m->nlayers - 1].out)); /* label classes */
  rd_dataset ds;
  if (rd_data_open(&ds, data, RD_DATA_TEST, &m->input, C, m->global_seed, t->shard, err)) return err->code;
  rd_shard k;
  rd_shard_init(&k, m, t->shard, &t->loss, t->kernels);
  const int64_t K = ceil_div(ds.n, t->shard);
  rd_reduce red;
  rd_reduce_init(&red, M_COUNT, K);
  rd_allreduce *ar = rd_allreduce_create(rd_comm_world(), M_COUNT, K, RD_XCHG_AUTO, err);
  *n = ds.n;
  if (!rd_comm_agree(err)) evaluate(&k, &ds, params, 0, &red, ar, loss, acc, NULL, err);
  rd_allreduce_destroy(ar);
  rd_reduce_free(&red);
  rd_shard_free(&k);
  rd_data_close(&ds);
  return rd_comm_agree(err);
}
