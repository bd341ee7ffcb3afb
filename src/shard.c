/* shard: forward and backward of the model over one shard (see include/reprodist/shard.h). */
#include "shard.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "nn.h"
#include "sig.h"

static int reshape(const rd_layer *L) { return (L->type->flags & RD_LAYER_RESHAPE) != 0; }

void rd_shard_init(rd_shard *k, const rd_model *m, int64_t max_rows, int xent, rd_kern_mode mode) {
  memset(k, 0, sizeof *k);
  const int L = m->nlayers;
  k->m = m;
  k->xent = xent;
  k->ops = rd_kern_ops_of(mode);
  k->api = rd_model_api(mode);
  k->S = max_rows;
  k->C = rd_shape_numel(&m->layers[L - 1].out);
  size_t wmax = (size_t)rd_model_max_width(m);
  k->x = rd_mem_alloc_f32((size_t)(k->S * rd_shape_numel(&m->input)));
  k->y = malloc(sizeof(int32_t) * (size_t)k->S);
  k->sample = malloc(sizeof(uint32_t) * (size_t)k->S);
  k->act = calloc((size_t)L, sizeof(float *));
  k->ws = calloc((size_t)L, sizeof(float *));
  k->w = calloc((size_t)m->ntensors + 1, sizeof(float *));
  k->g = calloc((size_t)m->ntensors + 1, sizeof(float *));
  RD_ASSERT(k->x && k->y && k->sample && k->act && k->ws && k->w && k->g, "out of memory");
  for (int l = 0; l < L; l++) {
    const rd_layer *ly = &m->layers[l];
    if (!reshape(ly)) k->act[l] = rd_mem_alloc_f32((size_t)(k->S * rd_shape_numel(&ly->out)));
    size_t ws = ly->type->workspace ? ly->type->workspace(ly->self, &ly->in, &ly->out, k->S) : 0;
    if (ws) k->ws[l] = rd_mem_alloc_f32(ws);
  }
  k->d0 = rd_mem_alloc_f32((size_t)k->S * wmax);
  k->d1 = rd_mem_alloc_f32((size_t)k->S * wmax);
}

size_t rd_shard_layer_floats(const rd_model *m, int l, int64_t max_rows) {
  const rd_layer *ly = &m->layers[l];
  size_t n = reshape(ly) ? 0 : (size_t)(max_rows * rd_shape_numel(&ly->out));
  return n + (ly->type->workspace ? ly->type->workspace(ly->self, &ly->in, &ly->out, max_rows) : 0);
}

size_t rd_shard_base_floats(const rd_model *m, int64_t max_rows) {
  return (size_t)max_rows * ((size_t)rd_shape_numel(&m->input) + 2 * (size_t)rd_model_max_width(m));
}

void rd_shard_free(rd_shard *k) {
  for (int l = 0; l < k->m->nlayers; l++) {
    if (!reshape(&k->m->layers[l])) free(k->act[l]);
    free(k->ws[l]);
  }
  free(k->act), free(k->ws), free(k->w), free(k->g);
  free(k->x), free(k->y), free(k->sample);
  free(k->d0), free(k->d1);
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

double rd_shard_pass(rd_shard *k, const float *params, int64_t S, const rd_pass *p, int64_t *correct) {
  const rd_model *m = k->m;
  const int L = m->nlayers, xent = k->xent, train = p->grad != NULL;
  const rd_api *api = k->api;
  for (int t = 0; t < m->ntensors; t++) {
    const rd_tensor *T = &m->tensors[t];
    k->w[t] = params + T->offset;
    k->g[t] = train && T->trainable ? p->grad + T->offset : NULL;
  }
  rd_io io = {.rd = api, .rows = S, .training = train, .iteration = p->iteration, .sample = k->sample};
  const float *x = k->x;
  for (int l = 0; l < L; l++) {
    const rd_layer *ly = &m->layers[l];
    if (reshape(ly)) {
      k->act[l] = (float *)x;
      continue;
    }
    io.self = ly->self, io.in = &ly->in, io.out = &ly->out, io.seed = ly->seed;
    io.w = k->w + ly->t0, io.g = k->g + ly->t0, io.ws = k->ws[l];
    io.stats = train && ly->nstats ? p->stats + ly->stats_off : NULL;
    const double t0 = k->times ? now() : 0.0;
    rd_sig_crash_line = ly->crash[RD_CRASH_FORWARD];
    ly->type->forward(&io, x, k->act[l]);
    rd_sig_crash_line = NULL;
    /* Softmax before crossentropy stays logits: the loss takes them. */
    if (!(xent && l == L - 1)) {
      int64_t rows, n;
      act_shape(ly, S, &rows, &n);
      rd_nn_act_forward(k->ops, ly->act, rows, n, k->act[l]);
    }
    if (k->times) k->times[2 * l] += now() - t0;
    x = k->act[l];
  }
  float *dy = train ? k->d0 : NULL, *dx = k->d1;
  double loss = xent ? rd_nn_xent(k->ops, k->act[L - 1], k->y, S, k->C, p->batch_n, dy, correct)
                     : rd_nn_mse(k->act[L - 1], k->y, S, k->C, p->batch_n, dy, correct);
  if (!train) return loss;
  int first = 0; /* the first layer with a backward: it needs no dL/dx */
  while (first < L - 1 && reshape(&m->layers[first])) first++;
  for (int l = L - 1; l >= first; l--) {
    const rd_layer *ly = &m->layers[l];
    if (reshape(ly)) continue; /* dL/dx is dL/dy, reinterpreted */
    const double t0 = k->times ? now() : 0.0;
    if (!(xent && l == L - 1)) { /* the fused softmax-crossentropy gradient is already dL/dz */
      int64_t rows, n;
      act_shape(ly, S, &rows, &n);
      rd_nn_act_backward(ly->act, k->act[l], rows, n, dy);
    }
    const float *xl = l ? k->act[l - 1] : k->x;
    io.self = ly->self, io.in = &ly->in, io.out = &ly->out, io.seed = ly->seed;
    io.w = k->w + ly->t0, io.g = k->g + ly->t0, io.ws = k->ws[l], io.stats = NULL;
    rd_sig_crash_line = ly->crash[RD_CRASH_BACKWARD];
    ly->type->backward(&io, xl, k->act[l], dy, l > first ? dx : NULL);
    rd_sig_crash_line = NULL;
    if (k->times) k->times[2 * l + 1] += now() - t0;
    if (l > first) {
      float *tmp = dy;
      dy = dx;
      dx = tmp;
    }
  }
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
