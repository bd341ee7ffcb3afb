/* model: layers from the config, the build context, the arena (see model.h). */
#include "model.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "pmath.h"
#include "regularizer.h"
#include "seed.h"
#include "sig.h"

static const char *const k_act_names[] = {"linear", "relu", "tanh", "sigmoid", "softmax", NULL};

const char *rd_act_name(rd_act a) { return k_act_names[a]; }

const char *rd_shape_text(const rd_shape *s, char *buf, size_t n) {
  size_t o = (size_t)snprintf(buf, n, "(");
  for (int d = 0; d < s->ndim && o < n; d++)
    o += (size_t)snprintf(buf + o, n - o, "%s%" PRId64, d ? ", " : "", s->dim[d]);
  if (o < n) snprintf(buf + o, n - o, "%s)", s->ndim == 1 ? "," : "");
  return buf;
}

/* Every rank holds parameters, gradients and optimizer state several times
 * over, and a shard's activations: refuse sizes no machine here can hold, as a
 * config error. */
#define RD_MAX_PARAMS 1e9
#define RD_MAX_WIDTH 1e9

/* ---- the build context (layer.h's rd_build) ------------------------------------------ */

struct rd_build {
  rd_cfg *c;
  int sec;
  rd_model *m;
  rd_layer *L;
  int nontrainable_seen; /* a non-trainable tensor was declared: no trainable one may follow */
};

static int b_fail(rd_build *b, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int b_fail(rd_build *b, const char *key, const char *fmt, ...) {
  char msg[RD_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const rd_cfg_item *it = key ? rd_cfg_item_of(b->c, b->sec, key) : NULL;
  rd_cfg_fail(b->c, it, b->sec, "%s", msg);
  return 1;
}

static int b_get_int(rd_build *b, const char *key, int64_t dflt, int64_t lo, int64_t hi, int64_t *out) {
  return rd_cfg_int(b->c, b->sec, key, dflt, (double)lo, (double)hi, 0, out);
}

static int b_get_ints(rd_build *b, const char *key, int n, const int64_t *dflt, int64_t lo, int64_t hi, int64_t *out) {
  int got = 0;
  RD_ASSERT(n >= 1 && n <= 8, "get_ints of %d values", n);
  return rd_cfg_ints(b->c, b->sec, key, 1, n, dflt, n, (double)lo, (double)hi, RD_CFG_ONE_OR_ALL, out, &got);
}

static int b_get_int_list(rd_build *b, const char *key, int nmin, int nmax, const int64_t *dflt, int ndflt, int64_t lo,
                          int64_t hi, int64_t *out, int *n) {
  RD_ASSERT(nmin >= 1 && nmin <= nmax && nmax <= 16, "get_int_list of %d..%d values", nmin, nmax);
  return rd_cfg_ints(b->c, b->sec, key, nmin, nmax, dflt, ndflt, (double)lo, (double)hi, 0, out, n);
}

static int b_get_u64(rd_build *b, const char *key, uint64_t dflt, uint64_t *out) {
  return rd_cfg_u64(b->c, b->sec, key, dflt, 0, out);
}

static int b_get_float(rd_build *b, const char *key, double dflt, double lo, double hi, unsigned flags, double *out) {
  return rd_cfg_float(b->c, b->sec, key, dflt, lo, hi,
                      ((flags & RD_LO_OPEN) ? RD_CFG_LO_OPEN : 0) | ((flags & RD_HI_OPEN) ? RD_CFG_HI_OPEN : 0), out);
}

static int b_get_bool(rd_build *b, const char *key, int dflt, int *out) {
  return rd_cfg_bool(b->c, b->sec, key, dflt, 0, out);
}

static int b_get_enum(rd_build *b, const char *key, const char *const *names, int dflt, int *out) {
  return rd_cfg_enum(b->c, b->sec, key, names, dflt, 0, out);
}

static int b_get_shape(rd_build *b, const char *key, rd_shape *out) {
  int64_t d[3];
  int n = 0;
  int rc = rd_cfg_ints(b->c, b->sec, key, 1, 3, NULL, 0, 1, 1e9, 0, d, &n);
  out->ndim = rc > 0 ? n : 0;
  for (int i = 0; i < RD_MAX_DIMS; i++) out->dim[i] = rc > 0 && i < n ? d[i] : 0;
  return rc;
}

static int b_activation(rd_build *b, const char *key, const char *dflt) {
  int d = 0, a = 0;
  for (int i = 0; k_act_names[i]; i++)
    if (!strcmp(k_act_names[i], dflt)) d = i;
  int rc = rd_cfg_enum(b->c, b->sec, key, k_act_names, d, 0, &a);
  b->L->act = (rd_act)a;
  return rc;
}

static void b_not_applicable(rd_build *b, const char *key, const char *why) {
  size_t n = strlen(key);
  if (n && key[n - 1] == '*') { /* every key starting with the prefix */
    for (int i = 0; i < b->c->nitems; i++)
      if (b->c->items[i].sec == b->sec && !strncmp(b->c->items[i].key, key, n - 1))
        rd_cfg_not_applicable(b->c, b->sec, b->c->items[i].key, "%s", why);
    return;
  }
  rd_cfg_not_applicable(b->c, b->sec, key, "%s", why);
}

/* Initializer parameters end up in float32 tensors: keep them finite there. */
#define BIG RD_CFG_F32_MAX

static const char *const k_modes[] = {"fan_in", "fan_out", "fan_avg", NULL};
static const char *const k_dists[] = {"truncated_normal", "normal", "untruncated_normal", "uniform", NULL};

/* Reads "<p>initializer", its parameters and "<p>seed" into T (Keras' names
 * and defaults); keys the initializer does not take are marked as not applying. */
static int read_init(rd_build *b, const char *p, const char *dflt, rd_tensor *T) {
  rd_cfg *c = b->c;
  char key[96], k2[96];
  const char *names[RD_INIT_COUNT + 1];
  for (int i = 0; i < RD_INIT_COUNT; i++) names[i] = rd_init_kind_name((rd_init_kind)i);
  names[RD_INIT_COUNT] = NULL;
  int kind = rd_init_kind_from_name(dflt);
  RD_ASSERT(kind >= 0, "unknown default initializer %s", dflt);
  snprintf(key, sizeof key, "%sinitializer", p);
  int bad = rd_cfg_enum(c, b->sec, key, names, kind, 0, &kind) < 0;
  rd_init_defaults((rd_init_kind)kind, &T->init);
  rd_init_spec *s = &T->init;
  const unsigned takes = rd_init_params((rd_init_kind)kind);
  static const struct {
    unsigned bit;
    double lo;
    unsigned flags;
    size_t off;
  } num[] = {{RD_IP_MINVAL, -BIG, 0, offsetof(rd_init_spec, minval)}, {RD_IP_MAXVAL, -BIG, 0, offsetof(rd_init_spec, maxval)},
             {RD_IP_MEAN, -BIG, 0, offsetof(rd_init_spec, mean)},     {RD_IP_STDDEV, 0, 0, offsetof(rd_init_spec, stddev)},
             {RD_IP_VALUE, -BIG, 0, offsetof(rd_init_spec, value)},   {RD_IP_SCALE, 0, RD_CFG_LO_OPEN, offsetof(rd_init_spec, scale)},
             {RD_IP_GAIN, -BIG, 0, offsetof(rd_init_spec, gain)}};
  static const unsigned others[] = {RD_IP_MODE, RD_IP_DISTRIBUTION, RD_IP_SEED};
  for (size_t i = 0; i < sizeof num / sizeof num[0] + sizeof others / sizeof others[0]; i++) {
    unsigned bit = i < sizeof num / sizeof num[0] ? num[i].bit : others[i - sizeof num / sizeof num[0]];
    snprintf(key, sizeof key, "%s%s", p, rd_init_param_name(bit));
    if (!(takes & bit)) {
      rd_cfg_not_applicable(c, b->sec, key, "does not apply to %sinitializer = %s", p, names[kind]);
      continue;
    }
    if (i < sizeof num / sizeof num[0]) {
      double *f = (double *)((char *)s + num[i].off);
      bad |= rd_cfg_float(c, b->sec, key, *f, num[i].lo, BIG, num[i].flags, f) < 0;
    } else if (bit == RD_IP_MODE) {
      int v = (int)s->mode;
      bad |= rd_cfg_enum(c, b->sec, key, k_modes, v, 0, &v) < 0;
      s->mode = (rd_fan_mode)v;
    } else if (bit == RD_IP_DISTRIBUTION) {
      int v = 0;
      int set = rd_cfg_enum(c, b->sec, key, k_dists, 0, 0, &v);
      bad |= set < 0;
      if (set > 0) /* "normal" is Keras' old spelling of truncated_normal */
        s->dist = v == 3 ? RD_DIST_UNIFORM : v == 2 ? RD_DIST_UNTRUNCATED_NORMAL : RD_DIST_TRUNCATED_NORMAL;
    } else {
      uint64_t user;
      int set = rd_cfg_u64(c, b->sec, key, 0, 0, &user);
      bad |= set < 0;
      if (set > 0) T->explicit_seed = 1, T->seed = rd_seed_explicit(user);
    }
  }
  char why[160];
  snprintf(why, sizeof why, "does not apply to the non-trainable tensor %s", T->name);
  bad |= rd_reg_read(c, b->sec, p, T->trainable, why, &T->reg_l1, &T->reg_l2) < 0;
  if (bad) return -1;
  snprintf(key, sizeof key, "%sminval", p);
  snprintf(k2, sizeof k2, "%smaxval", p);
  if (s->kind == RD_INIT_RANDOM_UNIFORM && s->minval > s->maxval) {
    const rd_cfg_item *it = rd_cfg_item_of(c, b->sec, k2);
    rd_cfg_fail(c, it, b->sec, "%s = %g is greater than %s = %g", key, s->minval, k2, s->maxval);
    return -1;
  }
  if (s->kind == RD_INIT_ORTHOGONAL && T->shape.ndim < 2) {
    snprintf(key, sizeof key, "%sinitializer", p);
    rd_cfg_fail(c, rd_cfg_item_of(c, b->sec, key), b->sec, "orthogonal needs a 2-D tensor; %s of layer '%s' is %d-D",
                T->name, T->layer, T->shape.ndim);
    return -1;
  }
  return 0;
}

static int b_tensor(rd_build *b, const char *name, const rd_shape *shape, const char *keys, const char *init,
                    int trainable) {
  rd_model *m = b->m;
  rd_layer *L = b->L;
  if (!name || !*name || strlen(name) >= sizeof m->tensors[0].name || strchr(name, '/') || strchr(name, ':'))
    return b_fail(b, NULL, "layer '%s' declares a tensor with a bad name (1-31 characters, no '/' or ':')", L->name), -1;
  if (shape->ndim < 1 || shape->ndim > RD_MAX_DIMS)
    return b_fail(b, NULL, "tensor %s of layer '%s' has %d dimensions (1 to %d)", name, L->name, shape->ndim, RD_MAX_DIMS), -1;
  double numel = 1;
  for (int d = 0; d < shape->ndim; d++) {
    if (shape->dim[d] < 1) return b_fail(b, NULL, "tensor %s of layer '%s' has an empty dimension", name, L->name), -1;
    numel *= (double)shape->dim[d];
  }
  if (numel > RD_MAX_PARAMS)
    return b_fail(b, NULL, "tensor %s of layer '%s' has %.0f values; reprodist accepts at most %.0f parameters",
                  name, L->name, numel, RD_MAX_PARAMS), -1;
  if (trainable && b->nontrainable_seen)
    return b_fail(b, NULL, "layer '%s' declares trainable tensor %s after a non-trainable one (Keras order: "
                  "trainable first)", L->name, name), -1;
  for (int t = L->t0; t < m->ntensors; t++)
    if (!strcmp(m->tensors[t].name, name))
      return b_fail(b, NULL, "layer '%s' declares tensor %s twice", L->name, name), -1;
  m->tensors = realloc(m->tensors, sizeof *m->tensors * (size_t)(m->ntensors + 1));
  RD_ASSERT(m->tensors != NULL, "out of memory");
  rd_tensor *T = &m->tensors[m->ntensors];
  memset(T, 0, sizeof *T);
  snprintf(T->layer, sizeof T->layer, "%s", L->name);
  snprintf(T->name, sizeof T->name, "%s", name);
  T->shape = *shape;
  T->numel = (size_t)numel;
  T->trainable = trainable != 0;
  T->seed = rd_seed_tensor(m->global_seed, L->name, T->name);
  if (keys) {
    if (read_init(b, keys, init, T)) return -1;
  } else {
    int kind = rd_init_kind_from_name(init);
    if (kind < 0) return b_fail(b, NULL, "layer '%s': unknown initializer '%s' for tensor %s", L->name, init, name), -1;
    rd_init_defaults((rd_init_kind)kind, &T->init);
    if (kind == RD_INIT_ORTHOGONAL && shape->ndim < 2)
      return b_fail(b, NULL, "orthogonal needs a 2-D tensor; %s of layer '%s' is 1-D", name, L->name), -1;
  }
  b->nontrainable_seen |= !trainable;
  L->nt++;
  return m->ntensors++ - L->t0;
}

static int b_regularize(rd_build *b, int t, double l1, double l2) {
  if (t < 0 || t >= b->L->nt)
    return b_fail(b, NULL, "layer '%s' regularizes tensor %d, but has %d", b->L->name, t, b->L->nt);
  rd_tensor *T = &b->m->tensors[b->L->t0 + t];
  if (!T->trainable) return b_fail(b, NULL, "layer '%s' regularizes its non-trainable tensor %s", b->L->name, T->name);
  if (!(l1 >= 0.0 && l1 <= 1e6 && l2 >= 0.0 && l2 <= 1e6))
    return b_fail(b, NULL, "layer '%s' regularizes %s with l1 = %g, l2 = %g (each in [0, 1e6])", b->L->name, T->name, l1,
                  l2);
  T->reg_l1 = l1, T->reg_l2 = l2;
  return 0;
}

static int b_seed(rd_build *b, const char *key, int t) {
  uint64_t user;
  int rc = rd_cfg_u64(b->c, b->sec, key, 0, 0, &user);
  if (rc <= 0) return rc;
  if (t < 0) {
    b->L->seed = rd_seed_explicit(user);
    return 1;
  }
  RD_ASSERT(t < b->L->nt, "seed for tensor %d of %d", t, b->L->nt);
  rd_tensor *T = &b->m->tensors[b->L->t0 + t];
  T->explicit_seed = 1;
  T->seed = rd_seed_explicit(user);
  return 1;
}

static int b_get_floats(rd_build *b, const char *key, int nmin, int nmax, double lo, double hi, unsigned flags,
                        double *out, int *n) {
  RD_ASSERT(nmin >= 1 && nmin <= nmax && nmax <= 16, "get_floats of %d..%d values", nmin, nmax);
  return rd_cfg_floats(b->c, b->sec, key, nmin, nmax, lo, hi,
                       ((flags & RD_LO_OPEN) ? RD_CFG_LO_OPEN : 0) | ((flags & RD_HI_OPEN) ? RD_CFG_HI_OPEN : 0), out,
                       n);
}

static uint64_t api_word(uint64_t s, uint64_t i, uint64_t j) { return rd_seed_word(s, i, j); }
static double api_uniform(uint64_t w) { return rd_seed_uniform(w); }

/* The build-time part; rd_model_api fills in the arithmetic of a mode. */
static const rd_api k_api_base = {
    .abi = RD_LAYER_ABI,
    .get_int = b_get_int,
    .get_ints = b_get_ints,
    .get_u64 = b_get_u64,
    .get_float = b_get_float,
    .get_bool = b_get_bool,
    .get_enum = b_get_enum,
    .get_shape = b_get_shape,
    .activation = b_activation,
    .tensor = b_tensor,
    .seed = b_seed,
    .fail = b_fail,
    .not_applicable = b_not_applicable,
    .word = api_word,
    .words = rd_seed_words,
    .uniform = api_uniform,
    .get_int_list = b_get_int_list,
    .regularize = b_regularize,
    .get_floats = b_get_floats,
    .sin = rd_pmath_sin,
    .cos = rd_pmath_cos,
    .normal = rd_seed_normal,
};

/* Read once: rd_layer_takes_relu asks at every layer of every shard pass. */
int rd_model_unfused(void) {
  static int unfused = -1;
  if (unfused < 0) {
    const char *v = getenv("RD_UNFUSED");
    unfused = v && !strcmp(v, "1");
  }
  return unfused;
}

const rd_api *rd_model_api(rd_kern_mode mode) {
  static rd_api t[2];
  static int ready;
  if (!ready) {
    for (int i = 0; i < 2; i++) {
      const rd_kern_ops *o = rd_kern_ops_of((rd_kern_mode)i);
      t[i] = k_api_base;
      t[i].gemm = o->gemm, t[i].exp = o->exp, t[i].log = o->log, t[i].tanh = o->tanh;
      t[i].gemm_chains = i == RD_KERN_PORTABLE && !rd_model_unfused();
      t[i].gemm_grad = t[i].gemm_chains ? o->gemm_grad : o->gemm; /* RD_UNFUSED=1: nothing folded */
    }
    ready = 1;
  }
  return &t[mode == RD_KERN_PORTABLE];
}

/* ---- the model ------------------------------------------------------------------------ */

static int shape_ok(const rd_shape *s) {
  if (s->ndim < 1 || s->ndim > 3) return 0;
  double n = 1;
  for (int d = 0; d < s->ndim; d++) {
    if (s->dim[d] < 1) return 0;
    n *= (double)s->dim[d];
  }
  return n <= RD_MAX_WIDTH;
}

/* A plugin layer's lines for a crash (sig.h), composed now: a signal handler
 * can only write them. */
static void crash_lines(rd_layer *L, const char *plugin) {
  static const char *const phase[3] = {"build", "forward", "backward"};
  if (!plugin) return;
  rd_sig_crash_install();
  for (int k = 0; k < 3; k++) {
    size_t n = strlen(plugin) + strlen(L->name) + 256;
    L->crash[k] = malloc(n);
    RD_ASSERT(L->crash[k] != NULL, "out of memory");
    snprintf(L->crash[k], n, "[rank %d] reprodist: layer '%s' ([%s]) of plugin %s crashed in its %s; the bug is in the "
             "plugin\n", rd_log_rank(), L->name, L->type->name, plugin, phase[k]);
  }
}

/* Layer l of n (named, typed, with its sources' shapes in ins): its type's build. */
static rd_status build_layer(rd_model *m, rd_cfg *c, int l, int n) {
  rd_layer *L = &m->layers[l];
  const rd_layer_type *type = L->type;
  const int sec = L->sec;
  if (!type->build_n && L->nin != 1) /* before visiting: its keys are not reported as unknown */
    return rd_cfg_fail(c, rd_cfg_item_of(c, sec, "inputs"), sec, "[%s] takes one input; inputs names %d",
                       type->name, L->nin);
  rd_cfg_visit(c, sec);
  L->in = L->ins[0];
  L->t0 = m->ntensors;
  L->seed = rd_seed_tensor(m->global_seed, L->name, "");
  if (type->self_size) {
    L->self = calloc(1, type->self_size);
    RD_ASSERT(L->self != NULL, "out of memory");
  }
  m->nlayers++;
  crash_lines(L, rd_registry_origin(type));
  rd_build b = {c, sec, m, L, 0};
  char s1[96], s2[96];
  rd_sig_crash_line = L->crash[RD_CRASH_BUILD];
  const rd_api *api = rd_model_api(RD_KERN_OPENBLAS);
  const int rc = type->build_n ? type->build_n(api, &b, L->self, L->nin, L->ins, &L->out)
                               : type->build(api, &b, L->self, &L->in, &L->out);
  rd_sig_crash_line = NULL;
  if (rc != 0) {
    if (!c->first.code) rd_cfg_fail(c, NULL, sec, "[%s] could not be built (the layer gave no reason)", type->name);
    return RD_EINPUT;
  }
  if (!shape_ok(&L->out))
    return rd_cfg_fail(c, NULL, sec, "layer '%s' ([%s]) built an output shape %s that reprodist cannot hold", L->name,
                       type->name, rd_shape_text(&L->out, s1, sizeof s1));
  if ((type->flags & RD_LAYER_RESHAPE) &&
      (rd_shape_numel(&L->out) != rd_shape_numel(&L->in) || L->nt || L->act != RD_ACT_LINEAR))
    return rd_cfg_fail(c, NULL, sec, "layer '%s' ([%s]) reshapes %s to %s but is not a pure reshape", L->name,
                       type->name, rd_shape_text(&L->in, s1, sizeof s1), rd_shape_text(&L->out, s2, sizeof s2));
  if (type->stats_size) L->nstats = type->stats_size(L->self, &L->in, &L->out);
  /* Keras' activity_regularizer, which every layer takes: not on a reshape
   * (its output is its input) nor on the output layer (whose output the loss
   * takes: a penalty there is the loss's business). */
  const int last = l == n - 1, rs = (type->flags & RD_LAYER_RESHAPE) != 0;
  if (rd_reg_read(c, sec, "activity_", !last && !rs,
                  last ? "does not apply to the output layer (reprodist regularizes hidden layers' outputs)"
                       : "does not apply to a reshape layer (regularize the layer before it)",
                  &L->act_l1, &L->act_l2) < 0)
    return RD_EINPUT;
  return RD_OK;
}

/* ---- the graph ----------------------------------------------------------------------- */

/* The index of the layer named name among the n, or -1. */
static int find_layer(const rd_model *m, int n, const char *name) {
  for (int k = 0; k < n; k++)
    if (!strcmp(m->layers[k].name, name)) return k;
  return -1;
}

/* The sources of layer k as its section writes them, unchecked (for finding a
 * cycle through layers not built yet): names that resolve, else the layer before. */
static int raw_sources(const rd_model *m, const rd_cfg *c, int n, int k, int *out) {
  const rd_cfg_item *it = rd_cfg_item_of(c, m->layers[k].sec, "inputs");
  if (!it) return out[0] = k - 1, 1;
  int cnt = 0;
  for (const char *p = it->value; cnt < RD_MAX_INPUTS;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char name[RD_NAME_MAX] = "";
    while (len && (*p == ' ' || *p == '\t')) p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    if (len < sizeof name) memcpy(name, p, len), name[len] = '\0';
    int s = find_layer(m, n, name);
    if (s >= 0) out[cnt++] = s;
    if (!comma) break;
    p = comma + 1;
  }
  return cnt;
}

/* 1 if following sources from layer k (later than l) comes back to l. */
static int leads_to(const rd_model *m, const rd_cfg *c, int n, int k, int l, char *seen) {
  if (k == l) return 1;
  if (k < l || seen[k]) return 0; /* an earlier layer's sources are all earlier still */
  seen[k] = 1;
  int src[RD_MAX_INPUTS];
  const int ns = raw_sources(m, c, n, k, src);
  for (int i = 0; i < ns; i++)
    if (leads_to(m, c, n, src[i], l, seen)) return 1;
  return 0;
}

/* Reads layer l's `inputs` into its sources and their shapes. */
static rd_status read_sources(rd_model *m, rd_cfg *c, int n, int l) {
  rd_layer *L = &m->layers[l];
  char names[RD_MAX_INPUTS][RD_CFG_NAME_MAX];
  int k = 0;
  const int got = rd_cfg_names(c, L->sec, "inputs", RD_MAX_INPUTS, names, &k);
  if (got < 0) return RD_EINPUT;
  if (got == 0) {
    L->nin = 1, L->src[0] = l - 1;
  } else {
    const rd_cfg_item *it = rd_cfg_item_of(c, L->sec, "inputs");
    L->nin = k;
    for (int i = 0; i < k; i++) {
      if (!strcmp(names[i], "input")) {
        L->src[i] = -1;
        continue;
      }
      const int s = find_layer(m, n, names[i]);
      if (s < 0)
        return rd_cfg_fail(c, it, -1, "inputs: no layer is named '%s' (the model input is 'input')", names[i]);
      if (s == l) return rd_cfg_fail(c, it, -1, "inputs: layer '%s' cannot take its own output (a cycle)", names[i]);
      if (s > l) {
        char *seen = calloc((size_t)n, 1);
        RD_ASSERT(seen != NULL, "out of memory");
        const int cycle = leads_to(m, c, n, s, l, seen);
        free(seen);
        if (cycle)
          return rd_cfg_fail(c, it, -1, "inputs: layer '%s' (line %d) takes its input from this one: a cycle", names[i],
                             c->secs[m->layers[s].sec].line);
        return rd_cfg_fail(c, it, -1,
                           "inputs: layer '%s' is defined after this one (line %d); a layer's inputs come before it "
                           "in the file",
                           names[i], c->secs[m->layers[s].sec].line);
      }
      L->src[i] = s;
    }
  }
  for (int i = 0; i < L->nin; i++) L->ins[i] = L->src[i] < 0 ? m->input : m->layers[L->src[i]].out;
  return RD_OK;
}

/* Keras' model.layers order for the graph (keras/src/ops/function.py,
 * map_graph): a depth-first walk from the output, over each layer's inputs in
 * order, numbers the layers as it first meets them; a layer's depth is its
 * longest path to the output; layers are listed by decreasing depth, ties by
 * that number. For a stack, the file order. */
static void dfs(const rd_model *m, int l, int *num, int *next, int *post, int *np) {
  if (num[l] >= 0) return;
  num[l] = (*next)++;
  const rd_layer *L = &m->layers[l];
  for (int i = 0; i < L->nin; i++)
    if (L->src[i] >= 0) dfs(m, L->src[i], num, next, post, np);
  post[(*np)++] = l;
}

static const int *g_sort_depth, *g_sort_num;
static int by_depth(const void *a, const void *b) {
  const int x = *(const int *)a, y = *(const int *)b;
  if (g_sort_depth[x] != g_sort_depth[y]) return g_sort_depth[x] > g_sort_depth[y] ? -1 : 1;
  return g_sort_num[x] - g_sort_num[y];
}

static void keras_order(rd_model *m) {
  const int n = m->nlayers;
  int *num = malloc(sizeof(int) * (size_t)n), *post = malloc(sizeof(int) * (size_t)n),
      *depth = calloc((size_t)n, sizeof(int));
  m->keras_order = malloc(sizeof(int) * (size_t)n);
  RD_ASSERT(num && post && depth && m->keras_order, "out of memory");
  int next = 0, np = 0;
  for (int l = 0; l < n; l++) num[l] = -1;
  dfs(m, n - 1, num, &next, post, &np);
  RD_ASSERT(np == n, "%d of %d layers reach the output", np, n);
  for (int i = np - 1; i >= 0; i--) { /* outputs before inputs: depths grow along the walk */
    const rd_layer *L = &m->layers[post[i]];
    for (int k = 0; k < L->nin; k++)
      if (L->src[k] >= 0 && depth[L->src[k]] < depth[post[i]] + 1) depth[L->src[k]] = depth[post[i]] + 1;
  }
  for (int l = 0; l < n; l++) m->keras_order[l] = l;
  g_sort_depth = depth, g_sort_num = num;
  qsort(m->keras_order, (size_t)n, sizeof(int), by_depth);
  free(num), free(post), free(depth);
}

/* Every layer's output must reach the model's output (the last layer): Keras
 * would leave such a layer out of the model silently; here it is a mistake. */
static rd_status check_reach(rd_model *m, rd_cfg *c) {
  const int n = m->nlayers;
  char *reach = calloc((size_t)n, 1);
  RD_ASSERT(reach != NULL, "out of memory");
  reach[n - 1] = 1;
  for (int l = n - 1; l >= 0; l--)
    if (reach[l])
      for (int i = 0; i < m->layers[l].nin; i++)
        if (m->layers[l].src[i] >= 0) reach[m->layers[l].src[i]] = 1;
  int bad = -1;
  for (int l = 0; l < n && bad < 0; l++)
    if (!reach[l]) bad = l;
  free(reach);
  if (bad < 0) return RD_OK;
  return rd_cfg_fail(c, NULL, m->layers[bad].sec,
                     "the output of layer '%s' reaches no output (the model's output is its last layer, '%s'); "
                     "use it in a later layer's inputs, or remove it",
                     m->layers[bad].name, m->layers[n - 1].name);
}

/* The layer sections in order: type, section and name (`name`, or Keras'
 * automatic one: dense, dense_1, ... counting each type's unnamed layers). */
static rd_status name_layers(rd_model *m, rd_cfg *c, int n) {
  int unnamed[RD_REGISTRY_MAX_TYPES] = {0}; /* per registered type */
  int l = 0;
  for (int i = 0; i < c->nsecs; i++) {
    if (rd_cfg_is_fixed(c->secs[i].name)) continue;
    rd_layer *L = &m->layers[l++];
    L->type = rd_registry_find(c->secs[i].name);
    RD_ASSERT(L->type != NULL, "section [%s] not checked against the registry", c->secs[i].name);
    L->sec = i;
    if (rd_cfg_item_of(c, i, "inputs")) m->graph = 1;
    const char *name;
    const int got = rd_cfg_name(c, i, "name", NULL, 0, &name);
    if (got < 0) return RD_EINPUT;
    if (got > 0) {
      snprintf(L->name, sizeof L->name, "%s", name);
    } else {
      int ti = 0;
      while (rd_registry_type(ti) != L->type) ti++;
      if (unnamed[ti] == 0)
        snprintf(L->name, sizeof L->name, "%s", L->type->name);
      else
        snprintf(L->name, sizeof L->name, "%s_%d", L->type->name, unnamed[ti]);
      unnamed[ti]++;
    }
  }
  RD_ASSERT(l == n, "%d layer sections, %d counted", l, n);
  if (!m->graph) return RD_OK;
  for (l = 0; l < n; l++) /* names that mean the model input */
    if (!strcmp(m->layers[l].name, "input") || !strcmp(m->layers[l].name, RD_INPUT_LAYER_NAME))
      return rd_cfg_fail(c, rd_cfg_item_of(c, m->layers[l].sec, "name"), m->layers[l].sec,
                         "a layer of a graph cannot be named '%s': inputs = input means the model input, and its "
                         "Keras layer is %s",
                         m->layers[l].name, RD_INPUT_LAYER_NAME);
  return RD_OK;
}

/* An Activation layer joins its source when the source never reads its own
 * output in backward (RD_LAYER_NO_Y: Conv2D, Dense, BatchNormalization, Add,
 * ...), has no activation and no activity regularizer of its own, and feeds
 * nothing else; the Activation layer has no activity regularizer and is not
 * the output (a fused loss takes that one's logits). The shard pass then
 * applies the activation in place on the source's output (run_act) and
 * treats the Activation layer as a view of it: the same values, in the same
 * operations, without its copy forward and backward. Everything else (the
 * file, the summary, gradcheck) sees the layers as written. RD_UNFUSED=1
 * (a diagnostic: tests/fusion.sh compares the two) runs them as written. */
static void fuse_activations(rd_model *m) {
  extern const rd_layer_type rd_layer_activation;
  for (int l = 0; l < m->nlayers; l++) m->layers[l].run_act = m->layers[l].act;
  if (rd_model_unfused()) return;
  for (int l = 0; l < m->nlayers - 1; l++) {
    rd_layer *A = &m->layers[l];
    if (A->type != &rd_layer_activation || A->nin != 1 || A->src[0] < 0 || A->act_l1 != 0.0 || A->act_l2 != 0.0)
      continue;
    const int s = A->src[0];
    rd_layer *P = &m->layers[s];
    /* (a source that is itself fused is a view: an activation given to it would never run) */
    if (!(P->type->flags & RD_LAYER_NO_Y) || (P->type->flags & RD_LAYER_RESHAPE) || P->fused ||
        P->act != RD_ACT_LINEAR || P->act_l1 != 0.0 || P->act_l2 != 0.0)
      continue;
    int readers = 0;
    for (int k = 0; k < m->nlayers; k++)
      for (int i = 0; i < m->layers[k].nin; i++) readers += m->layers[k].src[i] == s;
    if (readers != 1) continue;
    P->run_act = A->act;
    A->run_act = RD_ACT_LINEAR;
    A->fused = 1;
  }
}

int rd_layer_takes_relu(const rd_layer *L) {
  return L->run_act == RD_ACT_RELU && (L->type->flags & RD_LAYER_TAKES_RELU) != 0 && !rd_model_unfused();
}

rd_status rd_model_from_cfg(rd_model *m, rd_cfg *c) {
  memset(m, 0, sizeof *m);
  rd_registry_init();
  const int run = rd_cfg_section(c, "run", 0), model = rd_cfg_section(c, "model", 0);
  rd_cfg_visit(c, model);
  rd_cfg_u64(c, run, "seed", 0, 0, &m->global_seed);
  int64_t dims[3];
  int nd = 0;
  const int got = rd_cfg_ints(c, model, "input", 1, 3, NULL, 0, 1, 1e9, 0, dims, &nd);
  if (got == 0)
    return rd_cfg_fail(c, NULL, model, "missing [model] input = N, or H,W,C for images (the shape of one sample)");
  if (got < 0) return RD_EINPUT;
  m->input.ndim = nd;
  for (int d = 0; d < nd; d++) m->input.dim[d] = dims[d];
  if (!shape_ok(&m->input))
    return rd_cfg_fail(c, rd_cfg_item_of(c, model, "input"), -1, "input has more than %.0f values per sample", RD_MAX_WIDTH);
  int n = 0;
  for (int i = 0; i < c->nsecs; i++) n += !rd_cfg_is_fixed(c->secs[i].name);
  if (n == 0) return rd_cfg_fail(c, NULL, -1, "the model has no layers: add a layer section, e.g. [dense]");
  m->layers = calloc((size_t)n, sizeof *m->layers);
  RD_ASSERT(m->layers != NULL, "out of memory");
  if (name_layers(m, c, n)) return RD_EINPUT;
  for (int l = 0; l < n; l++)
    if (read_sources(m, c, n, l) || build_layer(m, c, l, n)) return RD_EINPUT;
  for (int l = 1; l < m->nlayers; l++)
    for (int k = 0; k < l; k++)
      if (!strcmp(m->layers[k].name, m->layers[l].name)) {
        const rd_layer *L = &m->layers[l], *K = &m->layers[k];
        return rd_cfg_fail(c, rd_cfg_item_of(c, L->sec, "name"), L->sec,
                           "layer name '%s' is used twice (also by [%s] number %d)", L->name, K->type->name,
                           c->secs[K->sec].ordinal);
      }
  if (check_reach(m, c)) return RD_EINPUT;
  keras_order(m);
  fuse_activations(m);
  double total = 0;
  for (int t = 0; t < m->ntensors; t++) total += (double)m->tensors[t].numel;
  if (total > RD_MAX_PARAMS)
    return rd_cfg_fail(c, NULL, -1, "the model has %.0f parameters; reprodist accepts at most %.0f (check units)",
                       total, RD_MAX_PARAMS);
  /* The arena: trainable tensors first, then the rest, each in model order. */
  size_t off = 0;
  for (int pass = 1; pass >= 0; pass--)
    for (int t = 0; t < m->ntensors; t++)
      if (m->tensors[t].trainable == pass) {
        m->tensors[t].offset = off;
        off += m->tensors[t].numel;
        if (pass) m->ntrain = off;
      }
  m->nparams = off;
  for (int l = 0; l < m->nlayers; l++) {
    m->layers[l].stats_off = m->nstats;
    m->nstats += m->layers[l].nstats;
  }
  return RD_OK;
}

void rd_model_free(rd_model *m) {
  for (int l = 0; l < m->nlayers; l++) {
    free(m->layers[l].self);
    for (int k = 0; k < 3; k++) free(m->layers[l].crash[k]);
  }
  free(m->layers);
  free(m->tensors);
  free(m->keras_order);
  memset(m, 0, sizeof *m);
}

void rd_model_init_params(const rd_model *m, float *params) {
  for (int t = 0; t < m->ntensors; t++) {
    const rd_tensor *T = &m->tensors[t];
    int rc = rd_init_fill(&T->init, T->seed, T->shape.dim, T->shape.ndim, params + T->offset);
    RD_ASSERT(rc == 0, "initializer rejected shape of %s/%s after validation", T->layer, T->name);
  }
}

int64_t rd_model_max_width(const rd_model *m) {
  int64_t w = rd_shape_numel(&m->input);
  for (int i = 0; i < m->nlayers; i++)
    if (rd_shape_numel(&m->layers[i].out) > w) w = rd_shape_numel(&m->layers[i].out);
  return w;
}
