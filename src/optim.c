/* optim: the optimizers' registry, what base_optimizer.py does around each
 * update (clipping, weight decay), and the step (see optim.h). */
#include "optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define RD_OPTIMIZER(n) extern const rd_optim_type rd_optim_##n;
#include "optim/list.h"
#undef RD_OPTIMIZER

static const rd_optim_type *const k_types[] = {
#define RD_OPTIMIZER(n) &rd_optim_##n,
#include "optim/list.h"
#undef RD_OPTIMIZER
};
enum { NTYPES = (int)(sizeof k_types / sizeof *k_types) };

int rd_optim_count(void) { return NTYPES; }
const rd_optim_type *rd_optim_type_at(int i) { return k_types[i]; }

const rd_optim_type *rd_optim_find(const char *name) {
  for (int i = 0; i < NTYPES; i++)
    if (!strcmp(k_types[i]->name, name)) return k_types[i];
  return NULL;
}

static int has_key(const rd_optim_type *t, const char *key) {
  for (const char *const *k = t->keys; k && *k; k++)
    if (!strcmp(*k, key)) return 1;
  return 0;
}

void rd_optim_from_cfg(rd_cfg *c, int tr, rd_optim_spec *s) {
  memset(s, 0, sizeof *s);
  const char *names[NTYPES + 1];
  int k = 0, dflt = 0;
  for (int i = 0; i < NTYPES; i++) {
    names[i] = k_types[i]->name;
    if (!strcmp(names[i], "adam")) dflt = i;
  }
  names[NTYPES] = NULL;
  rd_cfg_enum(c, tr, "optimizer", names, dflt, 0, &k);
  const rd_optim_type *t = s->type = k_types[k];
  for (int i = 0; i < NTYPES; i++) /* another optimizer's key is refused, naming both */
    for (const char *const *key = k_types[i]->keys; key && *key; key++)
      if (!has_key(t, *key)) rd_cfg_not_applicable(c, tr, *key, "does not apply to optimizer = %s", t->name);
  t->read(c, tr, s->p);
  rd_sched_from_cfg(c, tr, t->lr_default, &s->lr);
  rd_cfg_float(c, tr, "weight_decay", t->wd_default, 0, 1e6, 0, &s->weight_decay);
  if (s->weight_decay == 0.0)
    rd_cfg_not_applicable(c, tr, "exclude_from_weight_decay", "is set, but weight_decay is 0");
  else
    rd_cfg_names(c, tr, "exclude_from_weight_decay", RD_OPTIM_MAXEX, s->exclude, &s->nexclude);
  int set = 0;
  set += rd_cfg_float(c, tr, "clipnorm", 0.0, 0, RD_CFG_F32_MAX, RD_CFG_LO_OPEN, &s->clipnorm) > 0;
  set += rd_cfg_float(c, tr, "global_clipnorm", 0.0, 0, RD_CFG_F32_MAX, RD_CFG_LO_OPEN, &s->global_clipnorm) > 0;
  set += rd_cfg_float(c, tr, "clipvalue", 0.0, 0, RD_CFG_F32_MAX, RD_CFG_LO_OPEN, &s->clipvalue) > 0;
  if (set > 1)
    rd_cfg_fail(c, NULL, tr, "only one of clipnorm, global_clipnorm and clipvalue can be set (as in Keras)");
  rd_cfg_bool(c, tr, "use_ema", 0, 0, &s->use_ema);
  s->ema_momentum = 0.99;
  if (s->use_ema) {
    rd_cfg_float(c, tr, "ema_momentum", 0.99, 0, 1, 0, &s->ema_momentum);
    rd_cfg_int(c, tr, "ema_overwrite_frequency", 0, 1, 1e15, 0, &s->ema_overwrite_frequency);
  } else {
    rd_cfg_not_applicable(c, tr, "ema_momentum", "is set, but use_ema is false");
    rd_cfg_not_applicable(c, tr, "ema_overwrite_frequency", "is set, but use_ema is false");
  }
}

void rd_optim_spec_defaults(const rd_optim_type *t, rd_optim_spec *s) {
  rd_cfg c;
  memset(&c, 0, sizeof c);
  memset(s, 0, sizeof *s);
  s->type = t;
  t->read(&c, -1, s->p); /* section -1: every key absent, so every default */
  s->lr.lr = t->lr_default;
  s->weight_decay = t->wd_default;
}

int rd_optim_slots(const rd_optim_spec *s) { return s->type->slots(s->p) + (s->use_ema ? 1 : 0); }

double rd_optim_powi(double x, uint64_t n) {
  double r = 1.0;
  while (n) {
    if (n & 1) r *= x;
    x *= x;
    n >>= 1;
  }
  return r;
}

/* x[0..n)'s sum of squares in double, in sequence (one block). */
static double block_sumsq(const float *x, size_t n) {
  double v = 0.0;
  for (size_t i = 0; i < n; i++) v += (double)x[i] * (double)x[i];
  return v;
}

/* Blocks' sums added along a fixed tree: pushed in order into a binary
 * counter, then the stack added from the top. */
typedef struct {
  double stack[64];
  int top;
  uint64_t k;
} sum_acc;

static void acc_push(sum_acc *a, double v) {
  a->k++;
  for (uint64_t cnt = a->k; !(cnt & 1); cnt >>= 1) v = a->stack[--a->top] + v;
  a->stack[a->top++] = v;
}

static double acc_total(sum_acc *a) {
  double r = 0.0;
  while (a->top) r = a->stack[--a->top] + r;
  return r;
}

static double sum_tree(const double *v, size_t m) {
  sum_acc a = {{0}, 0, 0};
  for (size_t b = 0; b < m; b++) acc_push(&a, v[b]);
  return acc_total(&a);
}

double rd_optim_sumsq(const float *g, size_t n) {
  sum_acc a = {{0}, 0, 0};
  for (size_t b = 0; b < n; b += 256) acc_push(&a, block_sumsq(g + b, n - b < 256 ? n - b : 256));
  return acc_total(&a);
}

void rd_optim_init(rd_optim *o, const rd_optim_spec *s, const rd_model *m) {
  memset(o, 0, sizeof *o);
  o->s = s;
  o->n = m->ntrain;
  o->off = calloc((size_t)m->ntensors + 1, sizeof *o->off);
  o->len = calloc((size_t)m->ntensors + 1, sizeof *o->len);
  o->decay = calloc((size_t)m->ntensors + 1, 1);
  RD_ASSERT(o->off && o->len && o->decay, "out of memory");
  for (int i = 0; i < m->ntensors; i++) {
    const rd_tensor *T = &m->tensors[i];
    if (!T->trainable) continue;
    o->off[o->nt] = T->offset, o->len[o->nt] = T->numel;
    o->decay[o->nt] = s->weight_decay != 0.0;
    for (int e = 0; e < s->nexclude; e++) /* Keras: re.search(pattern, variable.name) */
      if (strstr(T->name, s->exclude[e])) o->decay[o->nt] = 0;
    o->nt++;
  }
  o->scalar = 1.0;
  o->lr = (float)rd_sched_rate(&s->lr, 0);
  o->lo = 0, o->hi = o->n;
  /* The norm's blocks: 256 floats from each tensor's start (clipnorm) or the arena's. */
  const int per_tensor = s->clipnorm > 0.0, global = !per_tensor && s->global_clipnorm > 0.0;
  if (per_tensor || global) {
    size_t nb = 0;
    if (global) nb = (o->n + 255) / 256;
    else
      for (int t = 0; t < o->nt; t++) nb += (o->len[t] + 255) / 256;
    o->blk = malloc(sizeof(size_t) * (nb + 1));
    o->tblk = malloc(sizeof(size_t) * ((size_t)o->nt + 1));
    o->sums = malloc(sizeof(double) * (nb + 1));
    RD_ASSERT(o->blk && o->tblk && o->sums, "out of memory");
    size_t b = 0;
    if (global)
      for (size_t x = 0; x < o->n; x += 256) o->blk[b++] = x;
    else
      for (int t = 0; t < o->nt; t++) {
        o->tblk[t] = b;
        for (size_t x = 0; x < o->len[t]; x += 256) o->blk[b++] = o->off[t] + x;
      }
    o->tblk[o->nt] = b;
    o->blk[b] = o->n;
    o->nblk = b;
    for (int t = 0; t < o->nt; t++)
      RD_ASSERT(o->off[t] == (t ? o->off[t - 1] + o->len[t - 1] : 0), "trainable tensors not contiguous from 0");
  }
}

void rd_optim_free(rd_optim *o) {
  free(o->off), free(o->len), free(o->decay), free(o->blk), free(o->tblk), free(o->sums);
  memset(o, 0, sizeof *o);
}

size_t rd_optim_block_at(const rd_optim *o, size_t x) {
  if (x >= o->n) return o->nblk;
  size_t a = 0, b = o->nblk; /* the first block starting at or after x */
  while (a < b) {
    const size_t m = a + (b - a) / 2;
    if (o->blk[m] < x) a = m + 1;
    else b = m;
  }
  return a;
}

size_t rd_optim_cut(const void *op, size_t x) {
  const rd_optim *o = op;
  if (x >= o->n) return o->n;
  if (!o->nblk) return x;
  const size_t b = rd_optim_block_at(o, x);
  return b < o->nblk && o->blk[b] == x ? x : o->blk[b - 1]; /* blk[0] = 0 <= x */
}

void rd_optim_shard(rd_optim *o, size_t lo, size_t hi) {
  o->lo = lo < o->n ? lo : o->n, o->hi = hi < o->n ? hi : o->n;
  o->sharded = 1;
  RD_ASSERT(o->lo <= o->hi, "empty range reversed");
  RD_ASSERT(!o->nblk || o->lo == o->hi || rd_optim_cut(o, o->lo) == o->lo, "a range starts inside a norm block");
}

/* Block b's end: the next block's start, or its tensor's end (clipnorm). */
static size_t block_end(const rd_optim *o, size_t b) {
  size_t e = o->blk[b + 1];
  return e - o->blk[b] > 256 ? o->blk[b] + 256 : e; /* a tensor gap never occurs: tensors are contiguous */
}

void rd_optim_block_sums(const rd_optim *o, const float *g, double *sums) {
  for (size_t b = rd_optim_block_at(o, o->lo), e = rd_optim_block_at(o, o->hi); b < e; b++)
    sums[b] = block_sumsq(g + o->blk[b], block_end(o, b) - o->blk[b]);
}

void rd_optim_state_init(const rd_optim *o, float *state) {
  const rd_optim_type *t = o->s->type;
  const int slots = t->slots(o->s->p);
  const size_t n = o->hi - o->lo;
  if (o->s->use_ema) memset(state + (size_t)slots * n, 0, sizeof(float) * n);
  for (int k = 0; k < slots; k++) {
    const float v = t->initial ? t->initial(o->s->p, k) : 0.0f;
    for (size_t i = 0; i < n; i++) state[(size_t)k * n + i] = v;
  }
}

void rd_optim_resume(rd_optim *o, uint64_t iteration) {
  o->scalar = 1.0;
  if (o->s->type->advance)
    for (uint64_t it = 0; it < iteration; it++) o->scalar = o->s->type->advance(o->s->p, it, o->scalar);
}

/* Tensor t's part of o's range, [*a, *e); 0 when it has none. */
static int overlap(const rd_optim *o, int t, size_t *a, size_t *e) {
  *a = o->off[t] > o->lo ? o->off[t] : o->lo;
  *e = o->off[t] + o->len[t] < o->hi ? o->off[t] + o->len[t] : o->hi;
  return *a < *e;
}

/* base_optimizer.py's _clip_gradients, in its float32 operations, on o's range;
 * sums: every norm block's sum of squares. */
static void clip(const rd_optim *o, float *restrict g, const double *sums) {
  const rd_optim_spec *s = o->s;
  const size_t lo = o->lo, hi = o->hi;
  if (s->clipnorm > 0.0) { /* each tensor: g * clipnorm / max(|g|, clipnorm) */
    const float cn = (float)s->clipnorm;
    for (int t = 0; t < o->nt; t++) {
      size_t a, e;
      if (!overlap(o, t, &a, &e)) continue;
      const float norm = (float)sqrt(sum_tree(sums + o->tblk[t], o->tblk[t + 1] - o->tblk[t]));
      const float d = norm > cn ? norm : cn;
      for (size_t i = a; i < e; i++) g[i] = g[i] * cn / d;
    }
  } else if (s->global_clipnorm > 0.0) { /* g * clip * min(1 / |g|, 1 / clip), NaN for a non-finite |g| */
    const float cn = (float)s->global_clipnorm, norm = (float)sqrt(sum_tree(sums, o->nblk));
    const float a = 1.0f / norm, b = 1.0f / cn, scale = cn * (a < b ? a : b) + (norm - norm);
    for (size_t i = lo; i < hi; i++) g[i] = g[i] * scale;
  } else if (s->clipvalue > 0.0) {
    const float v = (float)s->clipvalue;
    for (size_t i = lo; i < hi; i++) g[i] = g[i] < -v ? -v : g[i] > v ? v : g[i];
  }
}

void rd_optim_step(rd_optim *o, uint64_t iteration, float *w, float *g, float *state) {
  if (o->nblk) rd_optim_block_sums(o, g, o->sums);
  rd_optim_step_sums(o, iteration, w, g, state, o->sums);
}

void rd_optim_step_sums(rd_optim *o, uint64_t iteration, float *w, float *g, float *state, const double *sums) {
  const rd_optim_spec *s = o->s;
  const size_t lo = o->lo, hi = o->hi, n = hi - lo;
  const double lr = o->lr_set > 0 ? o->lr_set : rd_sched_rate(&s->lr, iteration);
  o->lr = (float)lr;
  clip(o, g, sums);
  if (s->weight_decay != 0.0) { /* var -= var * wd * lr, before the update */
    const float wd = (float)s->weight_decay, lrf = (float)lr;
    for (int t = 0; t < o->nt; t++) {
      size_t a, e;
      if (!o->decay[t] || !overlap(o, t, &a, &e)) continue;
      float *restrict x = w;
      for (size_t i = a; i < e; i++) x[i] = x[i] - x[i] * wd * lrf;
    }
  }
  if (s->type->advance) o->scalar = s->type->advance(s->p, iteration, o->scalar);
  const rd_optim_args a = {s->p, iteration, lr, o->scalar};
  if (n) s->type->update(&a, w + lo, g + lo, state, n, n);
  if (s->use_ema) { /* Keras: momentum = (iterations != 0) * ema_momentum; avg = momentum avg + (1 - momentum) w */
    float *restrict avg = state + (size_t)s->type->slots(s->p) * n;
    const float *restrict x = w + lo;
    const float mom = iteration != 0 ? (float)s->ema_momentum : 0.0f, c = 1.0f - mom;
    for (size_t i = 0; i < n; i++) avg[i] = mom * avg[i] + c * x[i];
    if (s->ema_overwrite_frequency && (iteration + 1) % (uint64_t)s->ema_overwrite_frequency == 0 && n)
      memcpy(w + lo, avg, sizeof(float) * n);
  }
}

void rd_optim_finalize(const rd_optim *o, float *w, const float *state) {
  const size_t n = o->hi - o->lo;
  if (o->s->use_ema && n) memcpy(w + o->lo, state + (size_t)o->s->type->slots(o->s->p) * n, sizeof(float) * n);
}

void rd_optim_pieces(const rd_optim *o, uint64_t *iterations, float *state, rd_pieces *ps) {
  const rd_optim_spec *s = o->s;
  const int slots = s->type->slots(s->p);
  char name[64];
  rd_pieces_add(ps, RD_PIECE_U64, iterations, 1, "optimizer/iterations");
  rd_pieces_add(ps, RD_PIECE_F64, (double *)&o->lr_set, 1, "optimizer/learning_rate");
  const size_t n = o->hi - o->lo; /* each slot: elements [lo, hi) of o->n, the whole with an unsharded optimizer */
  for (int k = 0; k <= slots; k++) {
    if (k == slots && !s->use_ema) break;
    if (k < slots) snprintf(name, sizeof name, "optimizer/%s", s->type->slot_name(s->p, k));
    else snprintf(name, sizeof name, "optimizer/average");
    if (o->sharded) rd_pieces_add_slab(ps, RD_PIECE_F32, state + (size_t)k * n, o->n, o->lo, n, name);
    else rd_pieces_add(ps, RD_PIECE_F32, state + (size_t)k * n, n, name);
  }
}
