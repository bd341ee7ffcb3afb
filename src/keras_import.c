/* keras_import: Keras model JSON into the config's layer sections (see keras_import.h). */
#include "keras_import.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"
#include "keras_file.h"
#include "keras_model.h"
#include "kjson.h"
#include "model.h"
#include "pyfmt.h"
#include "registry.h"

typedef struct {
  rd_cfg *c;
  const char *file;
  rd_err *err;
  int sec;             /* the section being made */
  char where[512];     /* "m.json: layer 'conv2d' (Conv2D)" */
} imp;

/* A JSON value as text for a message (one of four rotating buffers). */
static const char *js(const json_t *v) {
  static char buf[4][256];
  static int k;
  char *b = buf[k++ % 4], *t = v ? rd_kjson_dumps(v) : NULL;
  snprintf(b, sizeof buf[0], "%s", t ? t : "null");
  free(t);
  return b;
}

/* One error about the layer (or file) being read; supported: what reprodist takes, or NULL. */
static rd_status fail(imp *x, const char *supported, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static rd_status fail(imp *x, const char *supported, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return rd_err_set(x->err, RD_EINPUT, "%s: %s%s%s", x->where, msg, supported ? "; reprodist supports " : "",
                    supported ? supported : "");
}

/* A JSON scalar or list of scalars as a config value ("3", "0.5", "3,3", "same"); -1 for anything else. */
static int text_of(const json_t *v, char *out, size_t n) {
  if (json_is_array(v)) {
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
      char one[128];
      if (json_is_array(json_array_get(v, i)) || text_of(json_array_get(v, i), one, sizeof one)) return -1;
      o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s", i ? "," : "", one);
    }
    return o < n ? 0 : -1;
  }
  if (json_is_integer(v)) return snprintf(out, n, "%lld", (long long)json_integer_value(v)) < (int)n ? 0 : -1;
  if (json_is_real(v)) return rd_pyfmt_repr(json_real_value(v), out, n), 0;
  if (json_is_true(v) || json_is_false(v)) return snprintf(out, n, "%s", json_is_true(v) ? "true" : "false"), 0;
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    for (const char *p = s; *p; p++)
      if (!isalnum((unsigned char)*p) && !strchr("_-.+", *p)) return -1; /* no config syntax in a value */
    return snprintf(out, n, "%s", s) < (int)n ? 0 : -1;
  }
  return -1;
}

/* Equal as Keras values: numbers by value (1 == 1.0), lists element by element. */
static int same(const json_t *a, const json_t *b) {
  if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
  if (json_is_array(a) && json_is_array(b)) {
    if (json_array_size(a) != json_array_size(b)) return 0;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!same(json_array_get(a, i), json_array_get(b, i))) return 0;
    return 1;
  }
  return json_equal(a, b);
}

static void put(imp *x, const char *key, const char *value) { rd_cfg_add_item(x->c, x->sec, key, value); }

static rd_status put_json(imp *x, const char *key, const json_t *v) {
  char t[1024];
  if (text_of(v, t, sizeof t)) return fail(x, NULL, "%s = %s is not a value reprodist reads", key, js(v));
  put(x, key, t);
  return RD_OK;
}

static const char *const k_init_params[] = {"minval", "maxval", "mean", "stddev", "value", "scale", "mode",
                                            "distribution", "gain", NULL};
static const unsigned k_init_bits[] = {RD_IP_MINVAL, RD_IP_MAXVAL, RD_IP_MEAN,         RD_IP_STDDEV, RD_IP_VALUE,
                                       RD_IP_SCALE,  RD_IP_MODE,   RD_IP_DISTRIBUTION, RD_IP_GAIN};

/* An initializer: the class (or its snake-case string), its parameters that differ from Keras' defaults, its seed. */
static rd_status initializer(imp *x, const char *arg, const char *prefix, const json_t *v, const char *dflt) {
  const char *cls = json_is_string(v) ? json_string_value(v) : json_string_value(json_object_get(v, "class_name"));
  const json_t *cfg = json_object_get(v, "config");
  int kind = -1;
  for (int k = 0; k < RD_INIT_COUNT && cls; k++)
    if (!strcmp(cls, rd_keras_init_class(k)) || !strcmp(cls, rd_init_kind_name((rd_init_kind)k))) kind = k;
  if (kind < 0)
    return fail(x, "Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling, GlorotUniform, "
                "GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal",
                "%s = %s is not supported", arg, js(v));
  char key[96], val[128];
  snprintf(key, sizeof key, "%sinitializer", prefix);
  if (strcmp(rd_init_kind_name((rd_init_kind)kind), dflt)) put(x, key, rd_init_kind_name((rd_init_kind)kind));
  rd_init_spec d;
  rd_init_defaults((rd_init_kind)kind, &d);
  const double dv[] = {d.minval, d.maxval, d.mean, d.stddev, d.value, d.scale, 0, 0, d.gain};
  static const char *const modes[] = {"fan_in", "fan_out", "fan_avg"};
  static const char *const dists[] = {"truncated_normal", "untruncated_normal", "uniform"};
  const char *k;
  const json_t *p;
  json_object_foreach((json_t *)cfg, k, p) {
    int i = 0;
    while (k_init_params[i] && strcmp(k_init_params[i], k)) i++;
    snprintf(key, sizeof key, "%s%s", prefix, k);
    if (!strcmp(k, "seed")) {
      if (!json_is_null(p) && put_json(x, key, p)) return x->err->code;
    } else if (!strcmp(k, "input_axes") || !strcmp(k, "output_axes")) {
      if (!json_is_null(p)) return fail(x, "null (the fans of Keras' defaults)", "%s = %s is not supported", key, js(p));
    } else if (!k_init_params[i] || !(rd_init_params((rd_init_kind)kind) & k_init_bits[i])) {
      return fail(x, NULL, "%s: argument %s is not supported", arg, k);
    } else if (k_init_bits[i] == RD_IP_MODE || k_init_bits[i] == RD_IP_DISTRIBUTION) {
      const char *s = json_string_value(p);
      const char *def = k_init_bits[i] == RD_IP_MODE ? modes[d.mode] : dists[d.dist];
      if (!s) return fail(x, NULL, "%s = %s is not a string", key, js(p));
      if (strcmp(s, def) && (!strcmp(s, "normal") ? strcmp(def, "truncated_normal") : 1)) put(x, key, s);
    } else if (!json_is_number(p)) {
      return fail(x, NULL, "%s = %s is not a number", key, js(p));
    } else if (json_number_value(p) != dv[i]) {
      rd_pyfmt_repr(json_number_value(p), val, sizeof val);
      put(x, key, val);
    }
  }
  return RD_OK;
}

static rd_status regularizer(imp *x, const char *arg, const char *prefix, const json_t *v) {
  if (json_is_null(v)) return RD_OK;
  const char *cls = json_string_value(json_object_get(v, "class_name"));
  const char *name = !cls ? NULL : !strcmp(cls, "L1") ? "l1" : !strcmp(cls, "L2") ? "l2" : !strcmp(cls, "L1L2") ? "l1_l2" : NULL;
  if (!name) return fail(x, "L1, L2, L1L2 or null", "%s = %s is not supported", arg, js(v));
  char key[96];
  snprintf(key, sizeof key, "%sregularizer", prefix);
  put(x, key, name);
  const char *k;
  const json_t *p;
  json_object_foreach(json_object_get(v, "config"), k, p) {
    if (strcmp(k, "l1") && strcmp(k, "l2")) return fail(x, NULL, "%s: argument %s is not supported", arg, k);
    if (!json_is_number(p)) return fail(x, NULL, "%s: %s = %s is not a number", arg, k, js(p));
    /* Keras' defaults: L1(0.01), L2(0.01), L1L2(0, 0); a factor at its default is left out */
    const double dflt = strcmp(name, "l1_l2") ? 0.01 : 0.0;
    if ((float)json_number_value(p) == (float)dflt) continue;
    snprintf(key, sizeof key, "%s%s", prefix, k);
    if (put_json(x, key, p)) return x->err->code;
  }
  return RD_OK;
}

/* One argument of the class table (keras_model.c: "name:kind:a:b") from the layer's Keras config. */
static rd_status argument(imp *x, char *spec, const json_t *cfg, const json_t *skip_bias) {
  rd_keras_arg arg;
  rd_keras_arg_split(spec, &arg);
  const char *name = arg.name, *kind = arg.kind, *a = arg.a, *b = arg.b, *prefix = arg.prefix;
  const json_t *v = json_object_get(cfg, name);
  if (!v) return RD_OK; /* absent: Keras' default */
  if ((!strcmp(kind, "init") || !strcmp(kind, "reg")) && skip_bias && json_is_false(skip_bias) &&
      !strncmp(name, "bias_", 5))
    return RD_OK; /* use_bias = false: no bias, nothing to say of it */
  if (!strcmp(kind, "x")) {
    json_t *want = json_loads(a, JSON_DECODE_ANY, NULL);
    const int ok = same(v, want) || (json_is_null(v) && !strcmp(name, "data_format"));
    json_decref(want);
    return ok ? RD_OK : fail(x, a, "%s = %s is not supported", name, js(v));
  }
  if (!strcmp(kind, "init")) return initializer(x, name, prefix, v, b);
  if (!strcmp(kind, "reg")) return regularizer(x, name, prefix, v);
  if (!strcmp(kind, "areg")) return regularizer(x, name, "activity_", v);
  if (!strcmp(kind, "pad2")) { /* ((top, bottom), (left, right)), or an int, or (h, w) */
    int64_t q[4];
    const json_t *h = json_array_get(v, 0), *w = json_array_get(v, 1);
    if (json_is_integer(v)) {
      q[0] = q[1] = q[2] = q[3] = json_integer_value(v);
    } else if (json_is_integer(h) && json_is_integer(w) && json_array_size(v) == 2) {
      q[0] = q[1] = json_integer_value(h), q[2] = q[3] = json_integer_value(w);
    } else if (json_array_size(v) == 2 && json_array_size(h) == 2 && json_array_size(w) == 2) {
      for (int i = 0; i < 4; i++) q[i] = json_integer_value(json_array_get(i < 2 ? h : w, (size_t)(i % 2)));
    } else {
      return fail(x, "an int, (h, w) or ((top, bottom), (left, right))", "%s = %s is not a ZeroPadding2D padding", name,
                  js(v));
    }
    char t[128];
    if (q[0] == q[1] && q[1] == q[2] && q[2] == q[3]) {
      if (q[0] == 1) return RD_OK;
      snprintf(t, sizeof t, "%lld", (long long)q[0]);
    } else if (q[0] == q[1] && q[2] == q[3]) {
      snprintf(t, sizeof t, "%lld,%lld", (long long)q[0], (long long)q[2]);
    } else {
      snprintf(t, sizeof t, "%lld,%lld,%lld,%lld", (long long)q[0], (long long)q[1], (long long)q[2], (long long)q[3]);
    }
    put(x, name, t);
    return RD_OK;
  }
  json_t *d = NULL; /* the default, to leave out a value equal to it */
  if (a && a[0] == '@')
    d = json_incref(json_object_get(cfg, a + 1));
  else if (a)
    d = json_loads(a, JSON_DECODE_ANY, NULL);
  if (d && !strcmp(kind, "p") && !json_is_array(d)) { /* "1" -> [1, 1] */
    json_t *pair = json_array();
    json_array_append(pair, d), json_array_append(pair, d);
    json_decref(d);
    d = pair;
  }
  const int dflt = d && same(v, d);
  json_decref(d);
  if (dflt || json_is_null(v)) return RD_OK;
  if (!strcmp(kind, "p") && json_is_array(v) && json_array_size(v) == 2 &&
      same(json_array_get(v, 0), json_array_get(v, 1)))
    v = json_array_get(v, 0); /* [3, 3] -> 3 */
  return put_json(x, name, v);
}

/* A Keras dtype: the float32 policy, or the string float32. */
static int float32(const json_t *d) {
  const char *s = json_is_string(d) ? json_string_value(d)
                                    : json_string_value(json_object_get(json_object_get(d, "config"), "name"));
  return !d || (s && !strcmp(s, "float32"));
}

/* The registered plugin type whose CamelCase name is cls (my_scale: MyScale), or NULL. */
static const rd_layer_type *plugin_type(const char *cls) {
  for (int i = 0; i < rd_registry_count(); i++) {
    const rd_layer_type *t = rd_registry_type(i);
    rd_layer L = {.type = t};
    char buf[RD_NAME_MAX];
    if (!rd_keras_class_of_type(t->name) && !strcmp(rd_keras_class_name(&L, buf, sizeof buf), cls)) return t;
  }
  return NULL;
}

/* The names of a Functional layer's sources (its single inbound node's keras_history), into src. */
static rd_status sources(imp *x, const json_t *layer, char (*src)[RD_NAME_MAX], int *n) {
  const json_t *nodes = json_object_get(layer, "inbound_nodes");
  if (json_array_size(nodes) != 1)
    return fail(x, "a layer called once (no shared layers)", "it is called %zu times (inbound_nodes)",
                json_array_size(nodes));
  const json_t *args = json_object_get(json_array_get(nodes, 0), "args");
  const json_t *list = json_is_array(json_array_get(args, 0)) ? json_array_get(args, 0) : args;
  *n = 0;
  for (size_t i = 0; i < json_array_size(list) && *n < RD_MAX_INPUTS; i++) {
    const json_t *h = json_object_get(json_object_get(json_array_get(list, i), "config"), "keras_history");
    const char *s = json_string_value(json_array_get(h, 0));
    if (!s || json_integer_value(json_array_get(h, 1)) != 0 || json_integer_value(json_array_get(h, 2)) != 0)
      return fail(x, NULL, "an input is not a layer's output (keras_history %s)", js(h));
    snprintf(src[(*n)++], RD_NAME_MAX, "%s", s);
  }
  if (*n == 0) return fail(x, NULL, "it has no inputs");
  return RD_OK;
}

/* 1 if the class table's args (keras_model.c) has an argument called key. */
static int has_arg(const char *args, const char *key) {
  const size_t n = strlen(key);
  for (const char *p = args; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
    if (!strncmp(p, key, n) && p[n] == ':') return 1;
  return 0;
}

/* Layer e of the JSON as a section. types[0..nseen) are the earlier sections' types and unnamed[] whether
 * they were left to reprodist's automatic name; *type and *auto_named are this one's. */
static rd_status layer(imp *x, const json_t *e, int functional, const char *input_name, const char *prev,
                       const char *const *types, const int *unnamed, int nseen, const char **type_out,
                       int *auto_named) {
  const char *cls = json_string_value(json_object_get(e, "class_name"));
  const json_t *cfg = json_object_get(e, "config");
  const char *name = json_string_value(json_object_get(cfg, "name"));
  snprintf(x->where, sizeof x->where, "%s: layer '%s' (%s)", x->file, name ? name : "?", cls ? cls : "?");
  if (!cls || !json_is_object(cfg) || !name) return fail(x, NULL, "not a Keras layer entry (class_name, config.name)");
  const rd_keras_class *k = rd_keras_class_of_keras(cls);
  const rd_layer_type *plugin = k ? NULL : plugin_type(cls);
  if (!k && !plugin) {
    char names[2048] = "";
    size_t o = 0;
    for (int i = 0; i < rd_registry_count(); i++) {
      const rd_keras_class *kk = rd_keras_class_of_type(rd_registry_type(i)->name);
      if (kk) o += (size_t)snprintf(names + o, o < sizeof names ? sizeof names - o : 0, "%s%s", o ? ", " : "", kk->keras);
    }
    return fail(x, names, "class %s is not supported", cls);
  }
  const char *type = k ? k->type : plugin->name;
  *type_out = type;
  x->sec = rd_cfg_add_section(x->c, type, x->where);
  /* name: only when it is not the one reprodist would give (type, type_1, ...: its unnamed layers of the type) */
  int count = 0;
  for (int i = 0; i < nseen; i++) count += unnamed[i] && !strcmp(types[i], type);
  char auto_name[RD_NAME_MAX];
  if (count)
    snprintf(auto_name, sizeof auto_name, "%s_%d", type, count);
  else
    snprintf(auto_name, sizeof auto_name, "%s", type);
  *auto_named = !strcmp(auto_name, name);
  if (!*auto_named) put(x, "name", name);
  if (functional) {
    char src[RD_MAX_INPUTS][RD_NAME_MAX], list[RD_MAX_INPUTS * (RD_NAME_MAX + 2)] = "";
    int n = 0;
    if (sources(x, e, src, &n)) return x->err->code;
    size_t o = 0;
    for (int i = 0; i < n; i++)
      o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "",
                            !strcmp(src[i], input_name) ? "input" : src[i]);
    if (n > 1 || strcmp(src[0], prev)) put(x, "inputs", list);
  }
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)cfg, key, v) { /* what every layer has */
    if (!strcmp(key, "trainable") && !json_is_true(v)) return fail(x, "true", "trainable = %s is not supported", js(v));
    if (!strcmp(key, "dtype") && !float32(v)) return fail(x, "float32", "dtype = %s is not supported", js(v));
  }
  if (plugin) { /* a custom layer: its config's keys as they are */
    json_object_foreach((json_t *)cfg, key, v) {
      if (strcmp(key, "name") && strcmp(key, "trainable") && strcmp(key, "dtype") && !json_is_null(v) &&
          put_json(x, key, v))
        return x->err->code;
    }
    return RD_OK;
  }
  char *args = strdup(k->args);
  RD_ASSERT(args != NULL, "out of memory");
  json_object_foreach((json_t *)cfg, key, v) { /* an argument the table does not know */
    if (!strcmp(key, "name") || !strcmp(key, "trainable") || !strcmp(key, "dtype")) continue;
    if (!has_arg(k->args, key) && strcmp(key, "activity_regularizer")) {
      free(args);
      char names[1024] = "";
      size_t o = 0;
      for (const char *p = k->args; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL)
        o += (size_t)snprintf(names + o, o < sizeof names ? sizeof names - o : 0, "%s%.*s", o ? ", " : "",
                              (int)strcspn(p, ":"), p);
      return fail(x, NULL, "argument %s = %s is not supported (%s takes %s)", key, js(v), k->keras, names);
    }
  }
  const json_t *use_bias = json_object_get(cfg, "use_bias");
  for (char *save = NULL, *a = strtok_r(args, ";", &save); a && !x->err->code; a = strtok_r(NULL, ";", &save))
    argument(x, a, cfg, use_bias);
  free(args);
  if (!x->err->code && !has_arg(k->args, "activity_regularizer") && json_object_get(cfg, "activity_regularizer"))
    regularizer(x, "activity_regularizer", "activity_", json_object_get(cfg, "activity_regularizer"));
  return x->err->code;
}

/* The input layer's shape into [model] input. */
static rd_status input_shape(imp *x, const json_t *shape, int msec) {
  char t[256];
  json_t *dims = json_array();
  for (size_t i = 1; i < json_array_size(shape); i++) json_array_append(dims, json_array_get(shape, i));
  const int bad = json_array_size(shape) < 2 || !json_is_null(json_array_get(shape, 0)) || text_of(dims, t, sizeof t);
  json_decref(dims);
  if (bad) return fail(x, "a fixed per-sample shape", "input batch_shape %s is not (None, d, ...)", js(shape));
  rd_cfg_add_item(x->c, msec, "input", t);
  return RD_OK;
}

static rd_status import_model(imp *x, const json_t *model, int msec) {
  const char *cls = json_string_value(json_object_get(model, "class_name"));
  const json_t *cfg = json_object_get(model, "config"), *layers = json_object_get(cfg, "layers");
  snprintf(x->where, sizeof x->where, "%s", x->file);
  const int functional = cls && (!strcmp(cls, "Functional") || !strcmp(cls, "Model"));
  if (!cls || (!functional && strcmp(cls, "Sequential")) || !json_is_array(layers))
    return fail(x, NULL, "the model is %s, not a Keras Sequential or Functional model with config.layers",
                cls ? cls : "?");
  char input_name[RD_NAME_MAX] = RD_INPUT_LAYER_NAME, prev[RD_NAME_MAX] = "";
  size_t first = 0;
  const json_t *l0 = json_array_get(layers, 0);
  if (functional) {
    const json_t *in = json_object_get(cfg, "input_layers"), *out = json_object_get(cfg, "output_layers");
    if (json_is_array(json_array_get(in, 0))) in = json_array_size(in) == 1 ? json_array_get(in, 0) : NULL;
    if (json_is_array(json_array_get(out, 0))) out = json_array_size(out) == 1 ? json_array_get(out, 0) : NULL;
    if (!json_string_value(json_array_get(in, 0)) || !json_string_value(json_array_get(out, 0)))
      return fail(x, "one input and one output", "the model has several inputs or outputs");
    snprintf(input_name, sizeof input_name, "%s", json_string_value(json_array_get(in, 0)));
    const char *last = json_string_value(json_object_get(json_object_get(json_array_get(layers, json_array_size(layers) - 1), "config"), "name"));
    if (!last || strcmp(last, json_string_value(json_array_get(out, 0))))
      return fail(x, "the last layer as the output", "the output layer %s is not the last of config.layers",
                  js(json_array_get(out, 0)));
  }
  const char *c0 = json_string_value(json_object_get(l0, "class_name"));
  const json_t *shape = NULL;
  if (c0 && !strcmp(c0, "InputLayer")) {
    const json_t *ic = json_object_get(l0, "config");
    shape = json_object_get(ic, "batch_shape") ? json_object_get(ic, "batch_shape") : json_object_get(ic, "batch_input_shape");
    if (!float32(json_object_get(ic, "dtype"))) return fail(x, "float32", "input dtype %s is not supported", js(json_object_get(ic, "dtype")));
    snprintf(input_name, sizeof input_name, "%s", json_string_value(json_object_get(ic, "name")) ? json_string_value(json_object_get(ic, "name")) : RD_INPUT_LAYER_NAME);
    first = 1;
  } else if (!functional) {
    shape = json_object_get(cfg, "build_input_shape");
  }
  for (size_t i = first; i < json_array_size(layers); i++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(layers, i), "class_name")) ?: "", "InputLayer"))
      return fail(x, "one input", "the model has several input layers");
  if (!shape) return fail(x, NULL, "no input shape (an InputLayer or build_input_shape)");
  if (input_shape(x, shape, msec)) return x->err->code;
  snprintf(prev, sizeof prev, "%s", input_name);
  const size_t n = json_array_size(layers) - first;
  const char **types = calloc(n + 1, sizeof *types);
  int *unnamed = calloc(n + 1, sizeof *unnamed);
  RD_ASSERT(types && unnamed, "out of memory");
  for (size_t i = 0; i < n && !x->err->code; i++) {
    const json_t *e = json_array_get(layers, first + i);
    if (!layer(x, e, functional, input_name, prev, types, unnamed, (int)i, &types[i], &unnamed[i]))
      snprintf(prev, sizeof prev, "%s", json_string_value(json_object_get(json_object_get(e, "config"), "name")));
  }
  free(types);
  free(unnamed);
  return x->err->code;
}

rd_status rd_keras_import(rd_cfg *c, rd_err *err) {
  const int msec = rd_cfg_section(c, "model", 0);
  const char *path = NULL;
  if (msec < 0 || rd_cfg_str(c, msec, "keras", NULL, RD_CFG_NOCANON, &path) <= 0 || !path) return RD_OK;
  const rd_cfg_item *it = rd_cfg_item_of(c, msec, "keras");
  char where[512];
  rd_cfg_where(c, it, -1, where, sizeof where);
  for (int i = 0; i < c->nsecs; i++)
    if (!rd_cfg_is_fixed(c->secs[i].name))
      return rd_err_set(err, RD_EINPUT, "%s: [model] keras = %s gives the model's layers, and the config has layer "
                                        "sections too ([%s]): keep one of them", where, path, c->secs[i].name);
  if (rd_cfg_item_of(c, msec, "input"))
    return rd_err_set(err, RD_EINPUT, "%s: [model] keras = %s gives the input shape (its input layer); remove [model] input",
                      where, path);
  char *text = NULL, what[4200];
  size_t len = 0;
  json_t *model = NULL;
  snprintf(what, sizeof what, "%s%s", path, rd_keras_is_archive(path) ? ": config.json" : "");
  if (rd_keras_read_config(path, &text, &len, err) == RD_OK && rd_kjson_parse(what, text, len, &model, err) == RD_OK) {
    imp x = {c, path, err, -1, ""};
    import_model(&x, model, msec);
  }
  json_decref(model);
  free(text);
  return err->code;
}
