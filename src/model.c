/* model: layers from the config, parameter arena (see include/reprodist/model.h). */
#include "reprodist/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reprodist/seed.h"

static const char *const k_act_names[] = {"linear", "relu", "tanh", "sigmoid", "softmax"};

const char *rd_act_name(rd_act a) { return k_act_names[a]; }

static rd_act act_from_name(const char *s) {
  for (int i = 0; i < 5; i++)
    if (strcmp(k_act_names[i], s) == 0) return (rd_act)i;
  return RD_ACT_LINEAR; /* validated by cfg already */
}

static int dense_section(const rd_cfg *c, int ord) {
  for (int i = 0; i < c->nsecs; i++)
    if (strcmp(c->secs[i].name, "dense") == 0 && c->secs[i].ordinal == ord) return i;
  return -1;
}

static const unsigned k_param_bits[] = {RD_IP_MINVAL, RD_IP_MAXVAL, RD_IP_MEAN, RD_IP_STDDEV, RD_IP_VALUE,
                                        RD_IP_SCALE, RD_IP_GAIN, RD_IP_MODE, RD_IP_DISTRIBUTION, RD_IP_SEED};

/* Reads "<prefix>initializer" and its parameters for dense section ord. */
static rd_status tensor_init(const rd_cfg *c, int ord, const char *prefix, const char *dflt, rd_tensor *t,
                             const char *layer, uint64_t global_seed, rd_err *err) {
  char key[64], where[512];
  const char *iname;
  snprintf(key, sizeof key, "%sinitializer", prefix);
  rd_cfg_get_str(c, "dense", ord, key, dflt, &iname);
  int kind = rd_init_kind_from_name(iname);
  RD_ASSERT(kind >= 0, "unvalidated initializer %s", iname);
  rd_init_defaults((rd_init_kind)kind, &t->init);
  unsigned takes = rd_init_params((rd_init_kind)kind);
  for (size_t b = 0; b < sizeof k_param_bits / sizeof k_param_bits[0]; b++) {
    unsigned bit = k_param_bits[b];
    snprintf(key, sizeof key, "%s%s", prefix, rd_init_param_name(bit));
    const rd_cfg_item *it = rd_cfg_find(c, "dense", ord, key);
    if (!it) continue;
    if (!(takes & bit))
      return rd_err_set(err, RD_EINPUT, "%s: %s does not apply to %sinitializer = %s", rd_cfg_where(c, it, -1, where, sizeof where),
                        key, prefix, iname);
  }
  rd_init_spec *s = &t->init;
  snprintf(key, sizeof key, "%sminval", prefix);
  rd_cfg_get_double(c, "dense", ord, key, s->minval, &s->minval);
  snprintf(key, sizeof key, "%smaxval", prefix);
  rd_cfg_get_double(c, "dense", ord, key, s->maxval, &s->maxval);
  if (s->kind == RD_INIT_RANDOM_UNIFORM && s->minval > s->maxval)
    return rd_err_set(err, RD_EINPUT, "%s: %sminval = %g is greater than %smaxval = %g",
                      rd_cfg_where(c, rd_cfg_find(c, "dense", ord, key), dense_section(c, ord), where, sizeof where),
                      prefix, s->minval, prefix, s->maxval);
  snprintf(key, sizeof key, "%smean", prefix);
  rd_cfg_get_double(c, "dense", ord, key, s->mean, &s->mean);
  snprintf(key, sizeof key, "%sstddev", prefix);
  rd_cfg_get_double(c, "dense", ord, key, s->stddev, &s->stddev);
  snprintf(key, sizeof key, "%svalue", prefix);
  rd_cfg_get_double(c, "dense", ord, key, s->value, &s->value);
  snprintf(key, sizeof key, "%sscale", prefix);
  rd_cfg_get_double(c, "dense", ord, key, s->scale, &s->scale);
  snprintf(key, sizeof key, "%sgain", prefix);
  rd_cfg_get_double(c, "dense", ord, key, s->gain, &s->gain);
  const char *v;
  snprintf(key, sizeof key, "%smode", prefix);
  if (rd_cfg_get_str(c, "dense", ord, key, NULL, &v))
    s->mode = strcmp(v, "fan_in") == 0 ? RD_FAN_IN : strcmp(v, "fan_out") == 0 ? RD_FAN_OUT : RD_FAN_AVG;
  snprintf(key, sizeof key, "%sdistribution", prefix);
  if (rd_cfg_get_str(c, "dense", ord, key, NULL, &v))
    s->dist = strcmp(v, "uniform") == 0              ? RD_DIST_UNIFORM
              : strcmp(v, "untruncated_normal") == 0 ? RD_DIST_UNTRUNCATED_NORMAL
                                                     : RD_DIST_TRUNCATED_NORMAL; /* "normal" too */
  uint64_t user_seed;
  snprintf(key, sizeof key, "%sseed", prefix);
  t->explicit_seed = rd_cfg_get_u64(c, "dense", ord, key, 0, &user_seed);
  t->seed = t->explicit_seed ? rd_seed_explicit(user_seed) : rd_seed_tensor(global_seed, layer, t->name);
  if (s->kind == RD_INIT_ORTHOGONAL && t->ndim != 2) {
    snprintf(key, sizeof key, "%sinitializer", prefix);
    return rd_err_set(err, RD_EINPUT, "%s: orthogonal needs a 2-D tensor; %s of layer '%s' is 1-D",
                      rd_cfg_where(c, rd_cfg_find(c, "dense", ord, key), -1, where, sizeof where), t->name, layer);
  }
  return RD_OK;
}

rd_status rd_model_from_cfg(rd_model *m, const rd_cfg *c, rd_err *err) {
  memset(m, 0, sizeof *m);
  char where[512];
  rd_cfg_get_u64(c, "run", 0, "seed", 0, &m->global_seed);
  if (!rd_cfg_get_int(c, "model", 0, "input", 0, &m->input)) {
    int sec = -1;
    for (int i = 0; i < c->nsecs; i++)
      if (!strcmp(c->secs[i].name, "model")) sec = i;
    return rd_err_set(err, RD_EINPUT, "%s: missing [model] input = N (the number of input features)",
                      rd_cfg_where(c, NULL, sec, where, sizeof where));
  }
  int n = rd_cfg_count(c, "dense");
  if (n == 0) return rd_err_set(err, RD_EINPUT, "%s: no [dense] layer: add at least one [dense] section", c->path);
  m->nlayers = n;
  m->layers = calloc((size_t)n, sizeof *m->layers);
  m->tensors = calloc((size_t)(2 * n), sizeof *m->tensors);
  RD_ASSERT(m->layers && m->tensors, "out of memory");
  int unnamed = 0;
  int64_t in = m->input;
  for (int i = 0; i < n; i++) {
    rd_layer *L = &m->layers[i];
    int sec = dense_section(c, i);
    const char *name;
    if (rd_cfg_get_str(c, "dense", i, "name", NULL, &name)) {
      snprintf(L->name, sizeof L->name, "%s", name);
    } else {
      /* Keras' automatic names: dense, dense_1, dense_2, ... counting unnamed layers. */
      if (unnamed == 0)
        snprintf(L->name, sizeof L->name, "dense");
      else
        snprintf(L->name, sizeof L->name, "dense_%d", unnamed);
      unnamed++;
    }
    for (int k = 0; k < i; k++)
      if (strcmp(m->layers[k].name, L->name) == 0)
        return rd_err_set(err, RD_EINPUT, "%s: layer name '%s' is used twice (also by [dense] number %d)",
                          rd_cfg_where(c, rd_cfg_find(c, "dense", i, "name"), sec, where, sizeof where), L->name, k);
    if (!rd_cfg_get_int(c, "dense", i, "units", 0, &L->units))
      return rd_err_set(err, RD_EINPUT, "%s: [dense] needs units = N", rd_cfg_where(c, NULL, sec, where, sizeof where));
    const char *act;
    rd_cfg_get_str(c, "dense", i, "activation", "linear", &act);
    L->act = act_from_name(act);
    rd_cfg_get_bool(c, "dense", i, "use_bias", 1, &L->use_bias);
    L->in = in;
    in = L->units;

    rd_tensor *K = &m->tensors[m->ntensors];
    L->kernel = m->ntensors++;
    snprintf(K->layer, sizeof K->layer, "%s", L->name);
    snprintf(K->name, sizeof K->name, "kernel");
    K->ndim = 2;
    K->shape[0] = L->in;
    K->shape[1] = L->units;
    K->numel = (size_t)(L->in * L->units);
    if (tensor_init(c, i, "kernel_", "glorot_uniform", K, L->name, m->global_seed, err)) return err->code;
    L->bias = -1;
    if (L->use_bias) {
      rd_tensor *B = &m->tensors[m->ntensors];
      L->bias = m->ntensors++;
      snprintf(B->layer, sizeof B->layer, "%s", L->name);
      snprintf(B->name, sizeof B->name, "bias");
      B->ndim = 1;
      B->shape[0] = L->units;
      B->numel = (size_t)L->units;
      if (tensor_init(c, i, "bias_", "zeros", B, L->name, m->global_seed, err)) return err->code;
    } else {
      static const char *const bias_keys[] = {"bias_initializer", "bias_seed", "bias_minval", "bias_maxval",
                                              "bias_mean", "bias_stddev", "bias_value", "bias_scale",
                                              "bias_gain", "bias_mode", "bias_distribution"};
      for (size_t k = 0; k < sizeof bias_keys / sizeof bias_keys[0]; k++) {
        const rd_cfg_item *it = rd_cfg_find(c, "dense", i, bias_keys[k]);
        if (it)
          return rd_err_set(err, RD_EINPUT, "%s: %s is set but use_bias = false", rd_cfg_where(c, it, -1, where, sizeof where),
                            bias_keys[k]);
      }
    }
  }
  /* Every rank holds parameters, gradients and optimizer state several times
   * over: refuse sizes no machine here can hold, as a config error. */
  const double limit = 1e9;
  double total = 0;
  for (int t = 0; t < m->ntensors; t++) total += (double)m->tensors[t].shape[0] * (m->tensors[t].ndim > 1 ? (double)m->tensors[t].shape[1] : 1.0);
  if (total > limit)
    return rd_err_set(err, RD_EINPUT, "%s: the model has %.0f parameters; reprodist accepts at most %.0f (check units)",
                      c->path, total, limit);
  size_t off = 0;
  for (int t = 0; t < m->ntensors; t++) {
    m->tensors[t].offset = off;
    off += m->tensors[t].numel;
  }
  m->nparams = off;
  return RD_OK;
}

void rd_model_free(rd_model *m) {
  free(m->layers);
  free(m->tensors);
  memset(m, 0, sizeof *m);
}

void rd_model_init_params(const rd_model *m, float *params) {
  for (int t = 0; t < m->ntensors; t++) {
    const rd_tensor *T = &m->tensors[t];
    int rc = rd_init_fill(&T->init, T->seed, T->shape, T->ndim, params + T->offset);
    RD_ASSERT(rc == 0, "initializer rejected shape of %s/%s after validation", T->layer, T->name);
  }
}

int64_t rd_model_max_width(const rd_model *m) {
  int64_t w = m->input;
  for (int i = 0; i < m->nlayers; i++)
    if (m->layers[i].units > w) w = m->layers[i].units;
  return w;
}
