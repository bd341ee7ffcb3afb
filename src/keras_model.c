/* keras_model: Keras 3 model configs of reprodist models (see keras_model.h). */
#include "keras_model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"
#include "kjson.h"
#include "loss.h"
#include "optim.h"
#include "schedule.h"

/* Each built-in layer type: its Keras class, whether Keras records a
 * build_config for it, and its arguments in the order Keras writes them, one
 * "name:kind[:a[:b]]" each, ';' between them. Kinds:
 *   i f b s    an int, float, bool or string key (a: the default as JSON)
 *   p          an int pair; "3" in the config is [3, 3] (a: the default)
 *   l          a list of ints; a single value is a list of one
 *   r          as written: a number, a list of numbers, true/false, none (a: the default)
 *   x          fixed: always the JSON a (what reprodist does not vary)
 *   init       the initializer of tensor a (b: its default name)
 *   reg        the regularizer of tensor a
 *   areg       the activity regularizer
 *   pad2       ZeroPadding2D's padding, as ((top, bottom), (left, right)) */
typedef rd_keras_class layer_class;

#define CONV_TAIL "data_format:x:\"channels_last\";dilation_rate:x:[1, 1];"
#define POOL "pool_size:p:2;padding:s:\"valid\";strides:p:@pool_size;data_format:x:\"channels_last\""
#define GPOOL "data_format:x:\"channels_last\";keepdims:x:false"
#define AUG "data_format:x:\"channels_last\";"
#define FILL "fill_mode:s:\"reflect\";interpolation:s:\"bilinear\";"

static const layer_class k_classes[] = {
    {"dense", "Dense", 1,
     "units:i;activation:s:\"linear\";use_bias:b:true;kernel_initializer:init:kernel:glorot_uniform;"
     "bias_initializer:init:bias:zeros;kernel_regularizer:reg:kernel;bias_regularizer:reg:bias;"
     "kernel_constraint:x:null;bias_constraint:x:null;quantization_config:x:null"},
    {"conv2d", "Conv2D", 1,
     "filters:i;kernel_size:p;strides:p:1;padding:s:\"valid\";" CONV_TAIL "groups:x:1;activation:s:\"linear\";"
     "use_bias:b:true;kernel_initializer:init:kernel:glorot_uniform;bias_initializer:init:bias:zeros;"
     "kernel_regularizer:reg:kernel;bias_regularizer:reg:bias;activity_regularizer:areg;kernel_constraint:x:null;"
     "bias_constraint:x:null"},
    {"depthwise_conv2d", "DepthwiseConv2D", 1,
     "depth_multiplier:i:1;kernel_size:p;strides:p:1;padding:s:\"valid\";" CONV_TAIL "activation:s:\"linear\";"
     "use_bias:b:true;depthwise_initializer:init:kernel:glorot_uniform;bias_initializer:init:bias:zeros;"
     "depthwise_regularizer:reg:kernel;bias_regularizer:reg:bias;activity_regularizer:areg;"
     "depthwise_constraint:x:null;bias_constraint:x:null"},
    {"separable_conv2d", "SeparableConv2D", 1,
     "depth_multiplier:i:1;filters:i;kernel_size:p;strides:p:1;padding:s:\"valid\";" CONV_TAIL
     "activation:s:\"linear\";use_bias:b:true;depthwise_initializer:init:depthwise_kernel:glorot_uniform;"
     "pointwise_initializer:init:pointwise_kernel:glorot_uniform;bias_initializer:init:bias:zeros;"
     "depthwise_regularizer:reg:depthwise_kernel;pointwise_regularizer:reg:pointwise_kernel;"
     "bias_regularizer:reg:bias;activity_regularizer:areg;depthwise_constraint:x:null;"
     "pointwise_constraint:x:null;bias_constraint:x:null"},
    {"max_pooling2d", "MaxPooling2D", 0, POOL},
    {"average_pooling2d", "AveragePooling2D", 0, POOL},
    {"global_average_pooling2d", "GlobalAveragePooling2D", 0, GPOOL},
    {"global_max_pooling2d", "GlobalMaxPooling2D", 0, GPOOL},
    {"flatten", "Flatten", 1, "data_format:x:\"channels_last\""},
    {"reshape", "Reshape", 0, "target_shape:l"},
    {"dropout", "Dropout", 0, "rate:f;seed:r:null;noise_shape:x:null"},
    {"activation", "Activation", 0, "activation:s:\"linear\""},
    {"batch_normalization", "BatchNormalization", 1,
     "axis:i:-1;momentum:f:0.99;epsilon:f:0.001;center:b:true;scale:b:true;beta_initializer:init:beta:zeros;"
     "gamma_initializer:init:gamma:ones;moving_mean_initializer:init:moving_mean:zeros;"
     "moving_variance_initializer:init:moving_variance:ones;beta_regularizer:reg:beta;gamma_regularizer:reg:gamma;"
     "beta_constraint:x:null;gamma_constraint:x:null;synchronized:x:false;renorm:x:false;renorm_clipping:x:null;"
     "renorm_momentum:x:0.99"},
    {"layer_normalization", "LayerNormalization", 1,
     "axis:l:[-1];epsilon:f:0.001;center:b:true;scale:b:true;rms_scaling:x:false;beta_initializer:init:beta:zeros;"
     "gamma_initializer:init:gamma:ones;beta_regularizer:reg:beta;gamma_regularizer:reg:gamma;"
     "beta_constraint:x:null;gamma_constraint:x:null"},
    {"zero_padding2d", "ZeroPadding2D", 1, "padding:pad2;data_format:x:\"channels_last\""},
    {"add", "Add", 1, ""},
    {"subtract", "Subtract", 1, ""},
    {"multiply", "Multiply", 1, ""},
    {"average", "Average", 1, ""},
    {"maximum", "Maximum", 1, ""},
    {"minimum", "Minimum", 1, ""},
    {"concatenate", "Concatenate", 1, "axis:i:-1"},
    {"random_flip", "RandomFlip", 1, AUG "seed:r:null;mode:s:\"horizontal_and_vertical\""},
    {"random_translation", "RandomTranslation", 1,
     AUG "height_factor:r;width_factor:r;" FILL "seed:r:null;fill_value:f:0.0"},
    {"random_rotation", "RandomRotation", 1,
     AUG "factor:r;fill_mode:s:\"reflect\";fill_value:f:0.0;interpolation:s:\"bilinear\";seed:r:null"},
    {"random_zoom", "RandomZoom", 1, AUG "height_factor:r;width_factor:r:null;" FILL "seed:r:null;fill_value:f:0.0"},
    {"random_crop", "RandomCrop", 1, AUG "height:i;width:i;seed:r:null"},
    {"random_contrast", "RandomContrast", 1, AUG "factor:r;value_range:r:[0, 255];seed:r:null"},
    {"random_erasing", "RandomErasing", 1,
     AUG "factor:r:[0, 1.0];scale:r:[0.02, 0.33];fill_value:r:null;value_range:r:[0, 255];seed:r:null"},
};

const rd_keras_class *rd_keras_class_of_type(const char *type) {
  for (size_t i = 0; i < sizeof k_classes / sizeof k_classes[0]; i++)
    if (!strcmp(k_classes[i].type, type)) return &k_classes[i];
  return NULL;
}

const rd_keras_class *rd_keras_class_of_keras(const char *keras) {
  for (size_t i = 0; i < sizeof k_classes / sizeof k_classes[0]; i++)
    if (!strcmp(k_classes[i].keras, keras)) return &k_classes[i];
  return NULL;
}

void rd_keras_arg_split(char *spec, rd_keras_arg *arg) {
  char *f[4] = {spec, NULL, NULL, NULL};
  for (int i = 1; i < 4; i++) { /* split at the first three ':' (a JSON default may hold none) */
    char *colon = f[i - 1] ? strchr(f[i - 1], ':') : NULL;
    if (!colon) break;
    *colon = 0;
    f[i] = colon + 1;
  }
  arg->name = f[0], arg->kind = f[1] ? f[1] : "", arg->a = f[2], arg->b = f[3];
  const char *us = strrchr(f[0], '_');
  snprintf(arg->prefix, sizeof arg->prefix, "%.*s", us ? (int)(us - f[0] + 1) : 0, f[0]);
}

const char *rd_keras_class_name(const rd_layer *L, char *buf, size_t n) {
  const layer_class *k = rd_keras_class_of_type(L->type->name);
  if (k) return k->keras;
  size_t o = 0; /* my_scale -> MyScale */
  for (const char *s = L->type->name; *s && o + 1 < n; s++) {
    if (*s == '_') continue;
    buf[o++] = (char)(s == L->type->name || s[-1] == '_' ? toupper((unsigned char)*s) : *s);
  }
  buf[o] = 0;
  return buf;
}

/* Keras' naming.to_snake_case of a class name: re.sub("(.)([A-Z][a-z]+)", r"\1_\2"),
 * then re.sub("([a-z])([A-Z])", r"\1_\2"), lowered ("RMSprop" -> "rm_sprop"). */
void rd_keras_snake(const char *cls, char *out, size_t n) {
  char a[128];
  size_t o = 0, len = strlen(cls);
  for (size_t i = 0; i < len && o + 3 < sizeof a;) {
    if (i + 2 < len && isupper((unsigned char)cls[i + 1]) && islower((unsigned char)cls[i + 2])) {
      a[o++] = cls[i], a[o++] = '_', a[o++] = cls[i + 1];
      for (i += 2; i < len && islower((unsigned char)cls[i]) && o + 1 < sizeof a; i++) a[o++] = cls[i];
    } else {
      a[o++] = cls[i++];
    }
  }
  a[o] = 0;
  size_t k = 0;
  for (size_t i = 0; a[i] && k + 3 < n; i++) {
    out[k++] = (char)tolower((unsigned char)a[i]);
    if (islower((unsigned char)a[i]) && isupper((unsigned char)a[i + 1])) out[k++] = '_';
  }
  out[k] = 0;
}

void rd_keras_group(const char *cls, int count, char *out) {
  char sn[RD_KERAS_GROUP_MAX];
  rd_keras_snake(cls, sn, sizeof sn);
  if (count)
    snprintf(out, RD_KERAS_GROUP_MAX, "layers/%.*s_%d", RD_KERAS_GROUP_MAX - 20, sn, count);
  else
    snprintf(out, RD_KERAS_GROUP_MAX, "layers/%.*s", RD_KERAS_GROUP_MAX - 20, sn);
}

void rd_keras_groups(const rd_model *m, char (*groups)[RD_KERAS_GROUP_MAX]) {
  for (int i = 0; i < m->nlayers; i++) {
    const int l = m->keras_order[i];
    char buf[RD_NAME_MAX], c2[RD_NAME_MAX];
    const char *cls = rd_keras_class_name(&m->layers[l], buf, sizeof buf);
    int count = 0; /* earlier layers of the same class in model.layers order */
    for (int j = 0; j < i; j++) count += !strcmp(rd_keras_class_name(&m->layers[m->keras_order[j]], c2, sizeof c2), cls);
    rd_keras_group(cls, count, groups[l]);
  }
}

/* ---- values -------------------------------------------------------------------- */

static json_t *literal(const char *text) {
  json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
  RD_ASSERT(v != NULL, "bad literal %s in the Keras class table", text);
  return v;
}

/* A config value as written: a number, true/false, none, a list of numbers, or a string. */
static json_t *raw(const char *s) {
  if (!strcmp(s, "true")) return json_true();
  if (!strcmp(s, "false")) return json_false();
  if (!strcmp(s, "none") || !strcmp(s, "null")) return json_null();
  int64_t i;
  double d;
  if (!strchr(s, ',')) {
    if (rd_parse_int(s, &i) == 0) return json_integer(i);
    if (rd_parse_double(s, &d) == 0) return json_real(d);
    return json_string(s);
  }
  json_t *a = json_array();
  char buf[512];
  snprintf(buf, sizeof buf, "%s", s);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    while (isspace((unsigned char)*t)) t++;
    size_t n = strlen(t);
    while (n && isspace((unsigned char)t[n - 1])) t[--n] = 0;
    json_array_append_new(a, raw(t));
  }
  return a;
}

static const rd_tensor *tensor_of(const rd_model *m, const rd_layer *L, const char *name) {
  for (int k = 0; k < L->nt; k++)
    if (!strcmp(m->tensors[L->t0 + k].name, name)) return &m->tensors[L->t0 + k];
  return NULL;
}

static const char *value_of(const rd_cfg *c, int sec, const char *key) {
  const rd_cfg_item *it = rd_cfg_item_of(c, sec, key);
  return it ? it->value : NULL;
}

static const char *const k_init_classes[RD_INIT_COUNT] = {
    "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal", "TruncatedNormal", "VarianceScaling",
    "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal"};

const char *rd_keras_init_class(int kind) { return kind >= 0 && kind < RD_INIT_COUNT ? k_init_classes[kind] : NULL; }

/* Keras' initializer object: seed first, then the parameters, as Keras 3.15 writes them. */
static json_t *initializer(const rd_cfg *c, int sec, const char *prefix, const rd_tensor *T, const char *dflt) {
  char key[96];
  rd_init_spec spec;
  if (T) {
    spec = T->init;
  } else { /* no tensor (use_bias = false): the config's choice, else the default */
    snprintf(key, sizeof key, "%sinitializer", prefix);
    const char *v = value_of(c, sec, key);
    int kind = rd_init_kind_from_name(v ? v : dflt);
    rd_init_defaults(kind < 0 ? RD_INIT_ZEROS : (rd_init_kind)kind, &spec);
    spec.kind = kind < 0 ? RD_INIT_ZEROS : (rd_init_kind)kind;
  }
  json_t *o = json_object();
  const unsigned ps = rd_init_params(spec.kind);
  if (rd_init_is_random(spec.kind)) {
    snprintf(key, sizeof key, "%sseed", prefix);
    const char *s = value_of(c, sec, key);
    rd_kjson_set(o, "seed", s ? raw(s) : json_null());
  }
  static const char *const modes[] = {"fan_in", "fan_out", "fan_avg"};
  static const char *const dists[] = {"truncated_normal", "untruncated_normal", "uniform"};
  if (ps & RD_IP_VALUE) rd_kjson_set(o, "value", json_real(spec.value));
  if (ps & RD_IP_MINVAL) rd_kjson_set(o, "minval", json_real(spec.minval));
  if (ps & RD_IP_MAXVAL) rd_kjson_set(o, "maxval", json_real(spec.maxval));
  if (ps & RD_IP_MEAN) rd_kjson_set(o, "mean", json_real(spec.mean));
  if (ps & RD_IP_STDDEV) rd_kjson_set(o, "stddev", json_real(spec.stddev));
  if (ps & RD_IP_SCALE) rd_kjson_set(o, "scale", json_real(spec.scale));
  if (ps & RD_IP_MODE) rd_kjson_set(o, "mode", json_string(modes[spec.mode]));
  if (ps & RD_IP_DISTRIBUTION) rd_kjson_set(o, "distribution", json_string(dists[spec.dist]));
  if (ps & RD_IP_GAIN) rd_kjson_set(o, "gain", json_real(spec.gain));
  if (spec.kind >= RD_INIT_VARIANCE_SCALING && spec.kind <= RD_INIT_LECUN_NORMAL) {
    rd_kjson_set(o, "input_axes", json_null());
    rd_kjson_set(o, "output_axes", json_null());
  }
  return rd_kjson_object("keras.initializers", k_init_classes[spec.kind], o);
}

/* Keras' L1, L2 or L1L2 from the config's choice and the factors the model holds. */
static json_t *regularizer(const rd_cfg *c, int sec, const char *prefix, double l1, double l2) {
  char key[96];
  snprintf(key, sizeof key, "%sregularizer", prefix);
  const char *v = value_of(c, sec, key);
  if (!v || !strcmp(v, "none")) return json_null();
  json_t *o = json_object();
  const char *cls = !strcmp(v, "l1") ? "L1" : !strcmp(v, "l2") ? "L2" : "L1L2";
  if (strcmp(cls, "L2")) rd_kjson_set(o, "l1", json_real(l1));
  if (strcmp(cls, "L1")) rd_kjson_set(o, "l2", json_real(l2));
  return rd_kjson_object("keras.regularizers", cls, o);
}

/* One "name:kind:a:b" argument of layer L into config o. */
static void argument(const rd_model *m, const rd_cfg *c, const rd_layer *L, char *spec, json_t *o) {
  rd_keras_arg arg;
  rd_keras_arg_split(spec, &arg);
  const char *name = arg.name, *kind = arg.kind, *a = arg.a, *b = arg.b, *prefix = arg.prefix;
  const char *v = value_of(c, L->sec, name);
  json_t *x = NULL;
  if (!strcmp(kind, "x")) {
    x = literal(a);
  } else if (!strcmp(kind, "init")) {
    x = initializer(c, L->sec, prefix, tensor_of(m, L, a), b);
  } else if (!strcmp(kind, "reg")) {
    const rd_tensor *T = tensor_of(m, L, a);
    x = regularizer(c, L->sec, prefix, T ? T->reg_l1 : 0, T ? T->reg_l2 : 0);
  } else if (!strcmp(kind, "areg")) {
    x = regularizer(c, L->sec, "activity_", L->act_l1, L->act_l2);
  } else if (!strcmp(kind, "pad2")) {
    json_t *p = v ? raw(v) : json_integer(1);
    int64_t q[4];
    size_t n = json_is_array(p) ? json_array_size(p) : 1;
    for (int i = 0; i < 4; i++) /* one int; (h, w) symmetric; (top, bottom, left, right) */
      q[i] = json_integer_value(json_is_array(p) ? json_array_get(p, n == 4 ? (size_t)i : n == 2 ? (size_t)(i / 2) : 0) : p);
    json_decref(p);
    x = json_array();
    json_array_append_new(x, rd_kjson_ints(q, 2));
    json_array_append_new(x, rd_kjson_ints(q + 2, 2));
  } else if (a && a[0] == '@' && !v) { /* the value of another key (a pool's strides default to its pool_size) */
    x = json_deep_copy(json_object_get(o, a + 1));
  }
  if (!x && (v || a)) {
    if (!v) { /* the default */
      x = literal(a);
    } else if (!strcmp(kind, "s")) {
      x = json_string(v);
    } else if (!strcmp(kind, "b")) {
      x = json_boolean(!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"));
    } else if (!strcmp(kind, "f")) {
      double d = 0;
      rd_parse_double(v, &d);
      x = json_real(d);
    } else {
      x = raw(v);
    }
    if (!strcmp(kind, "p") && !json_is_array(x)) { /* 3 -> [3, 3] */
      json_t *pair = json_array();
      json_array_append(pair, x);
      json_array_append(pair, x);
      json_decref(x);
      x = pair;
    } else if (!strcmp(kind, "l") && !json_is_array(x)) {
      json_t *one = json_array();
      json_array_append_new(one, x);
      x = one;
    }
  }
  rd_kjson_set(o, name, x ? x : json_null());
}

static json_t *dtype_policy(void) {
  json_t *c = json_object();
  rd_kjson_set(c, "name", json_string("float32"));
  json_t *p = rd_kjson_object("keras", "DTypePolicy", c);
  return p;
}

static json_t *shape_json(const rd_shape *s) { /* [null, d0, d1, ...] */
  json_t *a = json_array();
  json_array_append_new(a, json_null());
  for (int d = 0; d < s->ndim; d++) json_array_append_new(a, json_integer(s->dim[d]));
  return a;
}

/* A plugin layer's config: its section's keys as written (name and inputs aside). */
static void plugin_args(const rd_cfg *c, const rd_layer *L, json_t *o) {
  for (int i = 0; i < c->nitems; i++) {
    const rd_cfg_item *it = &c->items[i];
    if (it->sec == L->sec && strcmp(it->key, "name") && strcmp(it->key, "inputs"))
      rd_kjson_set(o, it->key, raw(it->value));
  }
}

static json_t *keras_tensor(const rd_model *m, int src, const rd_shape *shape) {
  json_t *c = json_object(), *h = json_array();
  rd_kjson_set(c, "shape", shape_json(shape));
  rd_kjson_set(c, "dtype", json_string("float32"));
  json_array_append_new(h, json_string(src < 0 ? RD_INPUT_LAYER_NAME : m->layers[src].name));
  json_array_append_new(h, json_integer(0));
  json_array_append_new(h, json_integer(0));
  rd_kjson_set(c, "keras_history", h);
  json_t *t = json_object();
  rd_kjson_set(t, "class_name", json_string("__keras_tensor__"));
  rd_kjson_set(t, "config", c);
  return t;
}

static json_t *layer_json(const rd_model *m, const rd_cfg *c, int l) {
  const rd_layer *L = &m->layers[l];
  const layer_class *k = rd_keras_class_of_type(L->type->name);
  char cls[RD_NAME_MAX];
  json_t *o = json_object();
  rd_kjson_set(o, "name", json_string(L->name));
  rd_kjson_set(o, "trainable", json_true());
  rd_kjson_set(o, "dtype", dtype_policy());
  if (k) {
    char *args = strdup(k->args);
    RD_ASSERT(args != NULL, "out of memory");
    for (char *save = NULL, *a = strtok_r(args, ";", &save); a; a = strtok_r(NULL, ";", &save))
      argument(m, c, L, a, o);
    free(args);
    if ((L->act_l1 != 0 || L->act_l2 != 0) && !json_object_get(o, "activity_regularizer"))
      rd_kjson_set(o, "activity_regularizer", regularizer(c, L->sec, "activity_", L->act_l1, L->act_l2));
  } else {
    plugin_args(c, L, o);
  }
  json_t *e = rd_kjson_object("keras.layers", rd_keras_class_name(L, cls, sizeof cls), o);
  if (!k) { /* a custom class, registered in Python as reprodist>Class (README) */
    char reg[RD_NAME_MAX + 16];
    snprintf(reg, sizeof reg, "reprodist>%s", cls);
    rd_kjson_set(e, "module", json_null());
    rd_kjson_set(e, "registered_name", json_string(reg));
  }
  if (!k || k->build) {
    json_t *b = json_object();
    if (L->nin > 1) {
      json_t *a = json_array();
      for (int i = 0; i < L->nin; i++) json_array_append_new(a, shape_json(&L->ins[i]));
      rd_kjson_set(b, "input_shape", a);
    } else {
      rd_kjson_set(b, "input_shape", shape_json(&L->in));
    }
    rd_kjson_set(e, "build_config", b);
  }
  if (m->graph) {
    rd_kjson_set(e, "name", json_string(L->name));
    json_t *args = json_array(), *node = json_object(), *nodes = json_array();
    if (L->nin > 1) {
      json_t *list = json_array();
      for (int i = 0; i < L->nin; i++) json_array_append_new(list, keras_tensor(m, L->src[i], &L->ins[i]));
      json_array_append_new(args, list);
    } else {
      json_array_append_new(args, keras_tensor(m, L->src[0], &L->in));
    }
    rd_kjson_set(node, "args", args);
    json_t *kw = json_object();
    if (!strcmp(L->type->name, "batch_normalization")) rd_kjson_set(kw, "mask", json_null()); /* its call's mask */
    rd_kjson_set(node, "kwargs", kw);
    json_array_append_new(nodes, node);
    rd_kjson_set(e, "inbound_nodes", nodes);
  }
  return e;
}

static json_t *input_layer(const rd_model *m) {
  json_t *c = json_object();
  rd_kjson_set(c, "batch_shape", shape_json(&m->input));
  rd_kjson_set(c, "dtype", json_string("float32"));
  rd_kjson_set(c, "sparse", json_false());
  rd_kjson_set(c, "ragged", json_false());
  rd_kjson_set(c, "name", json_string(RD_INPUT_LAYER_NAME));
  rd_kjson_set(c, "optional", json_false());
  json_t *e = rd_kjson_object("keras.layers", "InputLayer", c);
  if (m->graph) {
    rd_kjson_set(e, "name", json_string(RD_INPUT_LAYER_NAME));
    rd_kjson_set(e, "inbound_nodes", json_array());
  }
  return e;
}

/* ---- compile_config ------------------------------------------------------------- */

static json_t *or_null(double v) { return v != 0 ? json_real(v) : json_null(); }

static json_t *learning_rate(const rd_cfg *c, const rd_sched *s) {
  if (!s->type) return json_real(s->lr);
  const int sec = rd_cfg_section(c, s->type->name, 0);
  json_t *o = json_object(); /* the schedule's keys as written; Keras fills in its defaults */
  for (int i = 0; sec >= 0 && i < c->nitems; i++)
    if (c->items[i].sec == sec) rd_kjson_set(o, c->items[i].key, raw(c->items[i].value));
  rd_kjson_set(o, "name", json_string(s->type->keras));
  return rd_kjson_object("keras.optimizers.schedules", s->type->keras, o);
}

static json_t *optimizer(const rd_cfg *c, const rd_optim_spec *s) {
  const rd_optim_type *t = s->type;
  json_t *o = json_object();
  char name[64]; /* Keras' default name: the class in snake case (AdamW -> adam_w, RMSprop -> rm_sprop) */
  rd_keras_snake(t->keras, name, sizeof name);
  rd_kjson_set(o, "name", json_string(name));
  rd_kjson_set(o, "learning_rate", learning_rate(c, &s->lr));
  rd_kjson_set(o, "weight_decay", or_null(s->weight_decay));
  rd_kjson_set(o, "clipnorm", or_null(s->clipnorm));
  rd_kjson_set(o, "global_clipnorm", or_null(s->global_clipnorm));
  rd_kjson_set(o, "clipvalue", or_null(s->clipvalue));
  rd_kjson_set(o, "use_ema", json_boolean(s->use_ema));
  rd_kjson_set(o, "ema_momentum", json_real(s->ema_momentum));
  rd_kjson_set(o, "ema_overwrite_frequency",
               s->ema_overwrite_frequency ? json_integer(s->ema_overwrite_frequency) : json_null());
  rd_kjson_set(o, "loss_scale_factor", json_null());
  rd_kjson_set(o, "gradient_accumulation_steps", json_null());
  for (int i = 0; t->keys && t->keys[i]; i++) { /* keys[i] is p[i] (src/optim/) */
    const char *k = t->keys[i];
    const int flag = !strcmp(k, "nesterov") || !strcmp(k, "centered") || !strcmp(k, "amsgrad");
    rd_kjson_set(o, k, flag ? json_boolean(s->p[i] != 0) : json_real(s->p[i]));
  }
  if (!strcmp(t->name, "adam") || !strcmp(t->name, "adamw")) rd_kjson_set(o, "amsgrad", json_false());
  return rd_kjson_object("keras.optimizers", t->keras, o);
}

static json_t *compile_config(const rd_cfg *c, const rd_train_spec *t) {
  json_t *o = json_object();
  rd_kjson_set(o, "optimizer", optimizer(c, &t->opt));
  const rd_loss_type *lt = t->loss.type;
  if (lt->keys && lt->keys[0]) { /* a loss with arguments (label_smoothing): Keras' class with them */
    json_t *lc = json_object();
    rd_kjson_set(lc, "name", json_string(lt->name));
    rd_kjson_set(lc, "reduction", json_string("sum_over_batch_size"));
    for (int i = 0; lt->keys[i]; i++) rd_kjson_set(lc, lt->keys[i], json_real(t->loss.p[i]));
    rd_kjson_set(o, "loss", rd_kjson_object("keras.losses", lt->keras, lc));
  } else {
    rd_kjson_set(o, "loss", json_string(lt->name));
  }
  rd_kjson_set(o, "loss_weights", json_null());
  json_t *metrics = json_array();
  json_array_append_new(metrics, json_string("accuracy"));
  if (t->top_k) {
    json_t *k = json_object();
    rd_kjson_set(k, "name", json_string("top_k_categorical_accuracy"));
    rd_kjson_set(k, "dtype", json_string("float32"));
    rd_kjson_set(k, "k", json_integer(t->top_k));
    json_array_append_new(metrics, rd_kjson_object("keras.metrics", "SparseTopKCategoricalAccuracy", k));
  }
  rd_kjson_set(o, "metrics", metrics);
  rd_kjson_set(o, "weighted_metrics", json_null());
  rd_kjson_set(o, "run_eagerly", json_false());
  rd_kjson_set(o, "steps_per_execution", json_integer(1));
  rd_kjson_set(o, "jit_compile", json_string("auto"));
  return o;
}

/* ---- the model --------------------------------------------------------------------- */

json_t *rd_keras_model_json(const rd_model *m, const rd_cfg *c, const rd_train_spec *t) {
  json_t *cfg = json_object(), *layers = json_array();
  rd_kjson_set(cfg, "name", json_string(m->graph ? "functional" : "sequential"));
  rd_kjson_set(cfg, "trainable", json_true());
  if (!m->graph) rd_kjson_set(cfg, "dtype", dtype_policy());
  json_array_append_new(layers, input_layer(m));
  for (int i = 0; i < m->nlayers; i++) json_array_append_new(layers, layer_json(m, c, m->keras_order[i]));
  rd_kjson_set(cfg, "layers", layers);
  if (!m->graph) rd_kjson_set(cfg, "build_input_shape", shape_json(&m->input));
  if (m->graph) {
    json_t *in = json_array(), *out = json_array();
    json_array_append_new(in, json_string(RD_INPUT_LAYER_NAME));
    json_array_append_new(out, json_string(m->layers[m->nlayers - 1].name));
    for (int i = 0; i < 2; i++) json_array_append_new(in, json_integer(0)), json_array_append_new(out, json_integer(0));
    rd_kjson_set(cfg, "input_layers", in);
    rd_kjson_set(cfg, "output_layers", out);
  }
  json_t *model = rd_kjson_object(m->graph ? "keras.src.models.functional" : "keras", m->graph ? "Functional" : "Sequential",
                                  cfg);
  if (m->graph) rd_kjson_set(model, "registered_name", json_string("Functional"));
  json_t *b = json_object();
  rd_kjson_set(b, "input_shape", m->graph ? json_null() : shape_json(&m->input));
  rd_kjson_set(model, "build_config", b);
  if (t) rd_kjson_set(model, "compile_config", compile_config(c, t));
  return model;
}
