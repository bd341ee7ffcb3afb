/* shard: forward and backward of the model over one shard (see shard.h). */
#include "shard.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "nn.h"
#include "regularizer.h"
#include "sig.h"

/* A reshape, or an Activation layer fused into its source (model.h): a view
 * of its source's output, with no pass of its own. */
static int reshape(const rd_layer *L) { return (L->type->flags & RD_LAYER_RESHAPE) != 0 || L->fused; }

/* Layer l's output is the model input reinterpreted (reshapes only): no
 * gradient flows into it. */
static int from_input(const rd_model *m, int l) {
  while (l >= 0 && reshape(&m->layers[l])) l = m->layers[l].src[0];
  return l < 0;
}

/* A free buffer for need floats per sample, marked busy: the smallest free one
 * that holds need, else the largest free one (grown to need), else a new one.
 * cap[b] is buffer b's size so far; *nbuf counts the buffers ever used. */
static int take_buf(char *busy, int64_t *cap, int *nbuf, int64_t need) {
  int fit = -1, big = -1;
  for (int b = 0; b < *nbuf; b++) {
    if (busy[b]) continue;
    if (cap[b] >= need && (fit < 0 || cap[b] < cap[fit])) fit = b;
    if (big < 0 || cap[b] > cap[big]) big = b;
  }
  const int b = fit >= 0 ? fit : big >= 0 ? big : (*nbuf)++;
  if (cap[b] < need) cap[b] = need;
  busy[b] = 1;
  return b;
}

int rd_shard_plan(const rd_model *m, rd_shard_step *steps, int64_t *sizes) {
  const int L = m->nlayers;
  int *held = malloc(sizeof(int) * (size_t)L); /* the buffer holding layer l's dL/dy, or -1 */
  /* At most one buffer per layer output plus one per input of a layer is ever busy. */
  char *busy = calloc((size_t)L + RD_MAX_INPUTS + 2, 1);
  int64_t *cap = calloc((size_t)L + RD_MAX_INPUTS + 2, sizeof(int64_t));
  RD_ASSERT(held && busy && cap, "out of memory");
  int nbuf = 0;
  for (int l = 0; l < L; l++) held[l] = -1;
  held[L - 1] = take_buf(busy, cap, &nbuf, rd_shape_numel(&m->layers[L - 1].out)); /* the loss writes it */
  for (int l = L - 1; l >= 0; l--) {
    const rd_layer *ly = &m->layers[l];
    rd_shard_step st;
    st.dy = held[l];
    for (int i = 0; i < RD_MAX_INPUTS; i++) st.dx[i] = st.add[i] = -1;
    if (from_input(m, l)) { /* the input reshaped: no gradient */
      if (steps) steps[l] = st;
      continue;
    }
    RD_ASSERT(st.dy >= 0, "layer %s reaches no output", ly->name);
    int keep_dy = 0;
    for (int i = 0; i < ly->nin; i++) {
      const int s = ly->src[i];
      if (s < 0 || from_input(m, s)) continue; /* no gradient for the model input */
      if (reshape(ly)) { /* dL/dx is dL/dy reinterpreted: handed to the source, or added to its gradient */
        if (held[s] < 0)
          held[s] = st.dy, keep_dy = 1;
        else
          st.add[0] = held[s];
        continue;
      }
      st.dx[i] = take_buf(busy, cap, &nbuf, rd_shape_numel(&ly->ins[i]));
      if (held[s] < 0)
        held[s] = st.dx[i];
      else
        st.add[i] = held[s];
    }
    /* After the layer, its dy and the dx that were added are free again. */
    if (!keep_dy) busy[st.dy] = 0;
    for (int i = 0; i < ly->nin; i++)
      if (st.add[i] >= 0 && st.dx[i] >= 0) busy[st.dx[i]] = 0;
    if (steps) steps[l] = st;
  }
  if (sizes)
    for (int b = 0; b < nbuf; b++) sizes[b] = cap[b];
  free(held), free(busy), free(cap);
  return nbuf;
}

void rd_shard_init(rd_shard *k, const rd_model *m, int64_t max_rows, const rd_loss_spec *loss, rd_kern_mode mode) {
  rd_shard_init_group(k, m, max_rows, 1, loss, mode);
}

void rd_shard_init_group(rd_shard *k, const rd_model *m, int64_t max_rows, int64_t group, const rd_loss_spec *loss,
                         rd_kern_mode mode) {
  memset(k, 0, sizeof *k);
  RD_ASSERT(group == 1 || (group > 1 && rd_shard_groupable(m, mode)), "forward groups for a model that has none");
  const int L = m->nlayers;
  k->m = m;
  k->loss = loss;
  k->fused = loss && loss->type->fused;
  k->ops = rd_kern_ops_of(mode);
  k->api = rd_model_api(mode);
  k->S = max_rows, k->G = group;
  const int64_t R = k->G * k->S; /* the forward buffers' rows */
  k->C = rd_shape_numel(&m->layers[L - 1].out);
  k->x = rd_mem_alloc_f32((size_t)(R * rd_shape_numel(&m->input)));
  k->y = malloc(sizeof(int32_t) * (size_t)R);
  k->sample = malloc(sizeof(uint32_t) * (size_t)R);
  k->act = calloc((size_t)L, sizeof(float *));
  k->ws = calloc((size_t)L, sizeof(float *));
  k->ws_row = calloc((size_t)L, sizeof(int64_t));
  k->failed = calloc((size_t)k->G, 1);
  k->w = calloc((size_t)m->ntensors + 1, sizeof(float *));
  k->g = calloc((size_t)m->ntensors + 1, sizeof(float *));
  k->plan = malloc(sizeof *k->plan * (size_t)L);
  RD_ASSERT(k->x && k->y && k->sample && k->act && k->ws && k->ws_row && k->failed && k->w && k->g && k->plan,
            "out of memory");
  for (int l = 0; l < L; l++) {
    const rd_layer *ly = &m->layers[l];
    if (!reshape(ly)) k->act[l] = rd_mem_alloc_f32((size_t)(R * rd_shape_numel(&ly->out)));
    size_t ws = ly->type->workspace ? ly->type->workspace(ly->self, &ly->in, &ly->out, R) : 0;
    if (ws) k->ws[l] = rd_mem_alloc_f32(ws);
    if (ws && k->G > 1) { /* a groupable layer's workspace is so many floats a row */
      k->ws_row[l] = (int64_t)ly->type->workspace(ly->self, &ly->in, &ly->out, 1);
      RD_ASSERT((int64_t)ws == R * k->ws_row[l], "layer %s: workspace not row by row", ly->name);
    }
  }
  k->bufn = malloc(sizeof(int64_t) * ((size_t)L + RD_MAX_INPUTS + 2));
  RD_ASSERT(k->bufn != NULL, "out of memory");
  k->nbuf = rd_shard_plan(m, k->plan, k->bufn);
  k->buf = calloc((size_t)k->nbuf, sizeof(float *));
  RD_ASSERT(k->buf != NULL, "out of memory");
  for (int b = 0; b < k->nbuf; b++) k->bufn[b] *= k->S, k->buf[b] = rd_mem_alloc_f32((size_t)k->bufn[b]);
}

size_t rd_shard_layer_floats(const rd_model *m, int l, int64_t max_rows) {
  const rd_layer *ly = &m->layers[l];
  size_t n = reshape(ly) ? 0 : (size_t)(max_rows * rd_shape_numel(&ly->out));
  return n + (ly->type->workspace ? ly->type->workspace(ly->self, &ly->in, &ly->out, max_rows) : 0);
}

size_t rd_shard_base_floats(const rd_model *m, int64_t max_rows) {
  int64_t *sizes = malloc(sizeof(int64_t) * ((size_t)m->nlayers + RD_MAX_INPUTS + 2)), grad = 0;
  RD_ASSERT(sizes != NULL, "out of memory");
  const int n = rd_shard_plan(m, NULL, sizes);
  for (int b = 0; b < n; b++) grad += sizes[b];
  free(sizes);
  return (size_t)max_rows * ((size_t)rd_shape_numel(&m->input) + (size_t)grad);
}

void rd_shard_free(rd_shard *k) {
  for (int l = 0; l < k->m->nlayers; l++) {
    if (!reshape(&k->m->layers[l])) free(k->act[l]);
    free(k->ws[l]);
  }
  for (int b = 0; b < k->nbuf; b++) free(k->buf[b]);
  free(k->act), free(k->ws), free(k->ws_row), free(k->failed), free(k->w), free(k->g), free(k->buf), free(k->bufn);
  free(k->plan);
  free(k->x), free(k->y), free(k->sample);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The activation is applied over the output's last axis (softmax per row). */
static void act_shape(const rd_layer *ly, int64_t S, int64_t *rows, int64_t *n) {
  *n = ly->out.dim[ly->out.ndim - 1];
  *rows = S * (rd_shape_numel(&ly->out) / *n);
}

/* Where layer ly's input i is in this pass. */
static const float *input_of(const rd_shard *k, const rd_layer *ly, int i) {
  return ly->src[i] < 0 ? k->x : k->act[ly->src[i]];
}

/* a += b, n floats: one gradient contribution added to another (rd_shard_step). */
static void add_into(float *restrict a, const float *restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] += b[i];
}

/* 1 if the label's output is at least the k-th largest of the row's C: fewer
 * than k outputs are strictly larger (numpy's in_top_k: ties count in). */
static int in_top_k(const float *z, int64_t C, int32_t y, int k) {
  int64_t above = 0;
  for (int64_t j = 0; j < C; j++) above += z[j] > z[y];
  return above < k;
}

/* The loss of the shard's rows and its gradient into dy0, weighted row by row
 * with class_weight; the metrics. */
static double loss_rows(rd_shard *k, const rd_pass *p, int64_t S, float *dy0, rd_shard_metrics *mt) {
  const rd_loss_type *L = k->loss->type;
  const float *Z = k->act[k->m->nlayers - 1];
  const int64_t C = k->C;
  memset(mt, 0, sizeof *mt);
  double loss = 0.0;
  if (!p->class_weight) {
    int64_t correct = 0;
    loss = L->fn(k->ops, k->loss->p, Z, k->y, S, k->C, p->batch_n, dy0, &correct);
    mt->correct = (double)correct, mt->weight = (double)S;
  } else { /* Keras: sum(w l) / batch_size, and the metrics' weighted means */
    for (int64_t r = 0; r < S; r++) {
      int64_t c = 0;
      const float w = p->class_weight[k->y[r]];
      float *d = dy0 ? dy0 + r * C : NULL;
      loss += (double)w * L->fn(k->ops, k->loss->p, Z + r * C, k->y + r, 1, k->C, p->batch_n, d, &c);
      if (d)
        for (int64_t j = 0; j < C; j++) d[j] *= w;
      mt->correct += (double)w * (double)c, mt->weight += (double)w;
    }
  }
  if (p->top_k > 0)
    for (int64_t r = 0; r < S; r++)
      if (in_top_k(Z + r * C, C, k->y[r], p->top_k)) mt->top_k += p->class_weight ? (double)p->class_weight[k->y[r]] : 1.0;
  return loss;
}

/* Where each tensor and its gradient (grad NULL: none) are in this pass. */
static void place_tensors(rd_shard *k, const float *params, float *grad) {
  const rd_model *m = k->m;
  for (int t = 0; t < m->ntensors; t++) {
    const rd_tensor *T = &m->tensors[t];
    k->w[t] = params + T->offset;
    k->g[t] = grad && T->trainable ? grad + T->offset : NULL;
  }
}

/* The forward pass over S rows; returns the activity regularizers' sum. */
static double forward_rows(rd_shard *k, int64_t S, int train, uint64_t iteration, float *stats) {
  const rd_model *m = k->m;
  const int L = m->nlayers, fused = k->fused;
  rd_io io = {.rd = k->api, .rows = S, .training = train, .iteration = iteration, .sample = k->sample};
  const float *xs[RD_MAX_INPUTS];
  double act_penalty = 0.0;
  for (int l = 0; l < L; l++) {
    const rd_layer *ly = &m->layers[l];
    if (reshape(ly)) {
      k->act[l] = (float *)input_of(k, ly, 0);
      continue;
    }
    io.self = ly->self, io.in = &ly->in, io.out = &ly->out, io.seed = ly->seed, io.nin = ly->nin, io.ins = ly->ins;
    io.w = k->w + ly->t0, io.g = k->g + ly->t0, io.ws = k->ws[l];
    io.stats = train && ly->nstats ? stats + ly->stats_off : NULL;
    io.relu = rd_layer_takes_relu(ly);
    const double t0 = k->times ? now() : 0.0;
    rd_sig_crash_line = ly->crash[RD_CRASH_FORWARD];
    if (ly->type->forward_n) {
      for (int i = 0; i < ly->nin; i++) xs[i] = input_of(k, ly, i);
      ly->type->forward_n(&io, xs, k->act[l]);
    } else {
      ly->type->forward(&io, input_of(k, ly, 0), k->act[l]);
    }
    rd_sig_crash_line = NULL;
    /* A fused loss takes the logits: the activation (softmax, sigmoid) is its own. */
    if (!(fused && l == L - 1) && !io.relu) {
      int64_t rows, n;
      act_shape(ly, S, &rows, &n);
      rd_nn_act_forward(k->ops, ly->run_act, rows, n, k->act[l]);
    }
    /* activity_regularizer: a per-sample term of the loss (regularizer.h) */
    if (ly->act_l1 != 0.0 || ly->act_l2 != 0.0)
      act_penalty += rd_reg_sum(ly->act_l1, ly->act_l2, k->act[l], (size_t)(S * rd_shape_numel(&ly->out)));
    if (k->times) k->times[2 * l] += now() - t0;
  }
  return act_penalty;
}

/* The loss of S rows after their forward pass, and with p->grad the backward pass. */
static double loss_backward(rd_shard *k, int64_t S, const rd_pass *p, double act_penalty, rd_shard_metrics *mt) {
  const rd_model *m = k->m;
  const int L = m->nlayers, fused = k->fused, train = p->grad != NULL;
  rd_io io = {.rd = k->api, .rows = S, .training = train, .iteration = p->iteration, .sample = k->sample};
  const float *xs[RD_MAX_INPUTS];
  float *dxs[RD_MAX_INPUTS];
  float *dy0 = train ? k->buf[k->plan[L - 1].dy] : NULL;
  double loss = 0.0;
  if (k->loss) loss = loss_rows(k, p, S, dy0, mt);
  else memset(mt, 0, sizeof *mt);
  loss += act_penalty;
  if (!train) return loss;
  k->pass_loss = loss, k->pass_mt = *mt;
  if (k->on_ready) k->on_ready(k->on_ready_ctx, L);
  for (int l = L - 1; l >= 0; l--) {
    const rd_layer *ly = &m->layers[l];
    const rd_shard_step *st = &k->plan[l];
    if (st->dy < 0) continue; /* the input reshaped */
    float *dy = k->buf[st->dy];
    if (reshape(ly)) { /* dL/dx is dL/dy, reinterpreted: handed over, or added */
      if (st->add[0] >= 0) add_into(k->buf[st->add[0]], dy, (size_t)(S * rd_shape_numel(&ly->out)));
      continue;
    }
    const double t0 = k->times ? now() : 0.0;
    if (ly->act_l1 != 0.0 || ly->act_l2 != 0.0) /* dy is complete: every consumer came later in file order */
      rd_reg_add_grad(ly->act_l1, ly->act_l2, k->act[l], (size_t)(S * rd_shape_numel(&ly->out)), p->batch_n, dy);
    io.relu = rd_layer_takes_relu(ly);
    if (!(fused && l == L - 1) && !io.relu) { /* a fused loss wrote dL/dz already */
      int64_t rows, n;
      act_shape(ly, S, &rows, &n);
      rd_nn_act_backward(ly->run_act, k->act[l], rows, n, dy);
    }
    io.self = ly->self, io.in = &ly->in, io.out = &ly->out, io.seed = ly->seed, io.nin = ly->nin, io.ins = ly->ins;
    io.w = k->w + ly->t0, io.g = k->g + ly->t0, io.ws = k->ws[l], io.stats = NULL;
    for (int i = 0; i < ly->nin; i++) dxs[i] = st->dx[i] >= 0 ? k->buf[st->dx[i]] : NULL;
    rd_sig_crash_line = ly->crash[RD_CRASH_BACKWARD];
    if (ly->type->backward_n) {
      for (int i = 0; i < ly->nin; i++) xs[i] = input_of(k, ly, i);
      ly->type->backward_n(&io, xs, k->act[l], dy, dxs);
    } else {
      ly->type->backward(&io, input_of(k, ly, 0), k->act[l], dy, dxs[0]);
    }
    rd_sig_crash_line = NULL;
    for (int i = 0; i < ly->nin; i++)
      if (st->add[i] >= 0) add_into(k->buf[st->add[i]], dxs[i], (size_t)(S * rd_shape_numel(&ly->ins[i])));
    if (k->times) k->times[2 * l + 1] += now() - t0;
    if (k->on_ready) k->on_ready(k->on_ready_ctx, l);
  }
  return loss;
}

double rd_shard_pass(rd_shard *k, const float *params, int64_t S, const rd_pass *p, rd_shard_metrics *mt) {
  place_tensors(k, params, p->grad);
  const double act_penalty = forward_rows(k, S, p->grad != NULL, p->iteration, p->stats);
  return loss_backward(k, S, p, act_penalty, mt);
}

/* ---- forward groups (shard.h) ---------------------------------------------------- */

int rd_shard_groupable(const rd_model *m, rd_kern_mode mode) {
  extern const rd_layer_type rd_layer_dense, rd_layer_dropout, rd_layer_activation;
  if (!rd_model_api(mode)->gemm_chains || m->nstats) return 0;
  for (int l = 0; l < m->nlayers; l++) {
    const rd_layer *ly = &m->layers[l];
    const rd_layer_type *t = ly->type;
    if (ly->act_l1 != 0.0 || ly->act_l2 != 0.0) return 0;
    if (t != &rd_layer_dense && t != &rd_layer_dropout && t != &rd_layer_activation && !(t->flags & RD_LAYER_RESHAPE))
      return 0;
  }
  return 1;
}

void rd_shard_forward(rd_shard *k, const float *params, int64_t rows, int train, uint64_t iteration) {
  RD_ASSERT(rows <= k->G * k->S, "forward group of %lld rows, room for %lld", (long long)rows,
            (long long)(k->G * k->S));
  place_tensors(k, params, NULL);
  const double act_penalty = forward_rows(k, rows, train, iteration, NULL);
  RD_ASSERT(act_penalty == 0.0, "a forward group with an activity regularizer");
}

/* Moves the pass's row views by d rows (back with -d): the input, labels,
 * sample indices, every output and every workspace. A reshape's output is
 * its source's, as many floats per row. */
static void shift_rows(rd_shard *k, int64_t d) {
  const rd_model *m = k->m;
  k->x += d * rd_shape_numel(&m->input), k->y += d, k->sample += d;
  for (int l = 0; l < m->nlayers; l++) {
    k->act[l] += d * rd_shape_numel(&m->layers[l].out);
    if (k->ws[l]) k->ws[l] += d * k->ws_row[l];
  }
}

double rd_shard_finish(rd_shard *k, const float *params, int64_t r0, int64_t S, const rd_pass *p,
                       rd_shard_metrics *mt) {
  place_tensors(k, params, p->grad);
  shift_rows(k, r0);
  const double loss = loss_backward(k, S, p, 0.0, mt);
  shift_rows(k, -r0);
  return loss;
}

void rd_shard_apply_stats(rd_shard *k, float *params, const float *sums, int64_t shards, int64_t samples) {
  const rd_model *m = k->m;
  for (int t = 0; t < m->ntensors; t++) k->g[t] = params + m->tensors[t].offset; /* writable views, for this call */
  for (int l = 0; l < m->nlayers; l++) {
    const rd_layer *ly = &m->layers[l];
    if (ly->nstats)
      ly->type->stats_apply(k->api, ly->self, sums + ly->stats_off, shards, samples, k->g + ly->t0);
  }
}
