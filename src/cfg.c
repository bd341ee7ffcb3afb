/* cfg: strict INI parser and schema (see include/reprodist/cfg.h). */
#include "reprodist/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- schema ------------------------------------------------------------------ */

typedef enum { T_INT, T_U64, T_FLOAT, T_BOOL, T_STR, T_NAME, T_ENUM } vtype;

typedef struct {
  const char *sec, *key;
  vtype type;
  double lo, hi;     /* inclusive unless the *_open flag is set */
  int lo_open, hi_open;
  const char *const *enums; /* NULL-terminated, for T_ENUM */
  int canon;         /* 1: can change the result, so it enters the config digest */
} keydef;

static const char *const k_acts[] = {"linear", "relu", "tanh", "sigmoid", "softmax", NULL};
static const char *const k_inits[] = {
    "zeros", "ones", "constant", "random_uniform", "random_normal", "truncated_normal",
    "variance_scaling", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "lecun_uniform", "lecun_normal", "orthogonal", NULL};
static const char *const k_modes[] = {"fan_in", "fan_out", "fan_avg", NULL};
static const char *const k_dists[] = {"truncated_normal", "normal", "untruncated_normal", "uniform", NULL};
static const char *const k_sources[] = {"idx", "hdf5", "synthetic", NULL};
static const char *const k_opts[] = {"sgd", "adam", NULL};
static const char *const k_losses[] = {"sparse_categorical_crossentropy", "mse", NULL};

/* Initializer parameters end up in float32 tensors: keep them finite there. */
#define BIG 3.4028234663852886e38
#define I64MAX 9.2233720368547758e18
/* Initializer parameters, once for "kernel_" and once for "bias_". */
#define INIT_KEYS(p)                                                         \
  {"dense", p "initializer", T_ENUM, 0, 0, 0, 0, k_inits, 1},               \
  {"dense", p "seed", T_U64, 0, 0, 0, 0, NULL, 1},                          \
  {"dense", p "minval", T_FLOAT, -BIG, BIG, 0, 0, NULL, 1},                 \
  {"dense", p "maxval", T_FLOAT, -BIG, BIG, 0, 0, NULL, 1},                 \
  {"dense", p "mean", T_FLOAT, -BIG, BIG, 0, 0, NULL, 1},                   \
  {"dense", p "stddev", T_FLOAT, 0, BIG, 0, 0, NULL, 1},                    \
  {"dense", p "value", T_FLOAT, -BIG, BIG, 0, 0, NULL, 1},                  \
  {"dense", p "scale", T_FLOAT, 0, BIG, 1, 0, NULL, 1},                     \
  {"dense", p "gain", T_FLOAT, -BIG, BIG, 0, 0, NULL, 1},                   \
  {"dense", p "mode", T_ENUM, 0, 0, 0, 0, k_modes, 1},                      \
  {"dense", p "distribution", T_ENUM, 0, 0, 0, 0, k_dists, 1}

static const keydef k_schema[] = {
    {"run", "seed", T_U64, 0, 0, 0, 0, NULL, 1},
    {"run", "output", T_STR, 0, 0, 0, 0, NULL, 0},
    {"run", "metrics", T_STR, 0, 0, 0, 0, NULL, 0},
    {"run", "checkpoint_dir", T_STR, 0, 0, 0, 0, NULL, 0},
    {"run", "checkpoint_every", T_STR, 0, 0, 0, 0, NULL, 0},
    {"run", "keep", T_INT, 1, 1e6, 0, 0, NULL, 0},
    {"model", "input", T_INT, 1, 1e9, 0, 0, NULL, 1},
    {"dense", "name", T_NAME, 0, 0, 0, 0, NULL, 1},
    {"dense", "units", T_INT, 1, 1e9, 0, 0, NULL, 1},
    {"dense", "activation", T_ENUM, 0, 0, 0, 0, k_acts, 1},
    {"dense", "use_bias", T_BOOL, 0, 0, 0, 0, NULL, 1},
    INIT_KEYS("kernel_"),
    INIT_KEYS("bias_"),
    {"data", "source", T_ENUM, 0, 0, 0, 0, k_sources, 1},
    {"data", "train_x", T_STR, 0, 0, 0, 0, NULL, 0},
    {"data", "train_y", T_STR, 0, 0, 0, 0, NULL, 0},
    {"data", "test_x", T_STR, 0, 0, 0, 0, NULL, 0},
    {"data", "test_y", T_STR, 0, 0, 0, 0, NULL, 0},
    {"data", "limit", T_INT, 1, I64MAX, 0, 0, NULL, 1},
    {"data", "test_limit", T_INT, 1, I64MAX, 0, 0, NULL, 1},
    {"data", "scale", T_FLOAT, -BIG, BIG, 0, 0, NULL, 1},
    {"data", "samples", T_INT, 1, 1e9, 0, 0, NULL, 1},
    {"data", "test_samples", T_INT, 1, 1e9, 0, 0, NULL, 1},
    {"train", "epochs", T_INT, 0, 1e9, 0, 0, NULL, 1},
    {"train", "steps_per_epoch", T_INT, 1, 1e9, 0, 0, NULL, 1},
    {"train", "batch_size", T_INT, 1, 1e9, 0, 0, NULL, 1},
    {"train", "shard_size", T_INT, 1, 1e9, 0, 0, NULL, 1},
    {"train", "optimizer", T_ENUM, 0, 0, 0, 0, k_opts, 1},
    {"train", "learning_rate", T_FLOAT, 0, BIG, 1, 0, NULL, 1},
    {"train", "loss", T_ENUM, 0, 0, 0, 0, k_losses, 1},
    {"train", "shuffle", T_BOOL, 0, 0, 0, 0, NULL, 1},
    {"train", "drop_remainder", T_BOOL, 0, 0, 0, 0, NULL, 1},
    {"train", "momentum", T_FLOAT, 0, BIG, 0, 0, NULL, 1},
    {"train", "nesterov", T_BOOL, 0, 0, 0, 0, NULL, 1},
    {"train", "beta_1", T_FLOAT, 0, 1, 0, 1, NULL, 1},
    {"train", "beta_2", T_FLOAT, 0, 1, 0, 1, NULL, 1},
    {"train", "epsilon", T_FLOAT, 0, BIG, 1, 0, NULL, 1},
    {"train", "check_every", T_INT, 0, 1e9, 0, 0, NULL, 0},
};
#define NSCHEMA ((int)(sizeof k_schema / sizeof k_schema[0]))

static const char *const k_sections[] = {"run", "model", "dense", "data", "train", NULL};
static int section_repeats(const char *s) { return strcmp(s, "dense") == 0; }

static int known_section(const char *s) {
  for (int i = 0; k_sections[i]; i++)
    if (strcmp(k_sections[i], s) == 0) return 1;
  return 0;
}

static const keydef *find_key(const char *sec, const char *key) {
  for (int i = 0; i < NSCHEMA; i++)
    if (strcmp(k_schema[i].sec, sec) == 0 && strcmp(k_schema[i].key, key) == 0) return &k_schema[i];
  return NULL;
}

/* ---- strict numbers -------------------------------------------------------------- */

int rd_parse_int(const char *s, int64_t *out) {
  if (!s || !*s || isspace((unsigned char)*s)) return -1;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno == ERANGE || *end != '\0' || end == s) return -1;
  *out = v;
  return 0;
}

int rd_parse_u64(const char *s, uint64_t *out) {
  if (s && *s == '+') s++;
  if (!s || !*s || !isdigit((unsigned char)*s)) return -1; /* no '-', no space */
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno == ERANGE || *end != '\0') return -1;
  *out = v;
  return 0;
}

int rd_parse_double(const char *s, double *out) {
  if (!s || !*s || isspace((unsigned char)*s)) return -1;
  /* strtod also accepts "nan", "inf" and hex floats; a config number is decimal. */
  for (const char *p = s; *p; p++)
    if (!strchr("0123456789+-.eE", *p)) return -1;
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (*end != '\0' || end == s || !isfinite(v)) return -1;
  if (errno == ERANGE && fabs(v) > 1.0) return -1; /* overflow; tiny underflow is fine */
  *out = v;
  return 0;
}

/* ---- parsing ------------------------------------------------------------------------- */

static char *xstrndup(const char *s, size_t n) {
  char *d = malloc(n + 1);
  RD_ASSERT(d != NULL, "out of memory");
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

static void trim(const char **b, const char **e) {
  while (*b < *e && isspace((unsigned char)**b)) (*b)++;
  while (*e > *b && isspace((unsigned char)(*e)[-1])) (*e)--;
}

static int add_section(rd_cfg *c, const char *name, size_t n, int line) {
  c->secs = realloc(c->secs, sizeof *c->secs * (size_t)(c->nsecs + 1));
  RD_ASSERT(c->secs != NULL, "out of memory");
  rd_cfg_section *s = &c->secs[c->nsecs];
  s->name = xstrndup(name, n);
  s->line = line;
  s->ordinal = 0;
  for (int i = 0; i < c->nsecs; i++)
    if (strcmp(c->secs[i].name, s->name) == 0) s->ordinal++;
  return c->nsecs++;
}

static void add_item(rd_cfg *c, int sec, const char *k, size_t kn, const char *v, size_t vn, int line,
                     const char *origin) {
  c->items = realloc(c->items, sizeof *c->items * (size_t)(c->nitems + 1));
  RD_ASSERT(c->items != NULL, "out of memory");
  rd_cfg_item *it = &c->items[c->nitems++];
  it->sec = sec;
  it->key = xstrndup(k, kn);
  it->value = xstrndup(v, vn);
  it->line = line;
  it->origin = origin ? xstrndup(origin, strlen(origin)) : NULL;
}

static rd_cfg_item *find_item(const rd_cfg *c, int sec, const char *key) {
  for (int i = 0; i < c->nitems; i++)
    if (c->items[i].sec == sec && strcmp(c->items[i].key, key) == 0) return &c->items[i];
  return NULL;
}

static int valid_key_chars(const char *b, const char *e) {
  if (b == e) return 0;
  for (const char *p = b; p < e; p++)
    if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')) return 0;
  return 1;
}

rd_status rd_cfg_parse(rd_cfg *c, const char *path, const char *text, size_t len, rd_err *err) {
  memset(c, 0, sizeof *c);
  c->path = xstrndup(path, strlen(path));
  if (memchr(text, '\0', len))
    return rd_err_set(err, RD_EINPUT, "%s: not a text file (contains NUL bytes)", path);
  int cur = -1, lineno = 0;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    lineno++;
    const char *b = p, *e = le;
    p = nl ? nl + 1 : end;
    /* A '#' at the start of a line or after white space begins a comment. */
    for (const char *q = b; q < e; q++)
      if (*q == '#' && (q == b || isspace((unsigned char)q[-1]))) {
        e = q;
        break;
      }
    trim(&b, &e);
    if (b == e) continue;
    if (*b == '[') {
      if (e[-1] != ']')
        return rd_err_set(err, RD_EINPUT, "%s:%d: malformed section header (expected [name])", path, lineno);
      const char *nb = b + 1, *ne = e - 1;
      trim(&nb, &ne);
      char name[64];
      size_t n = (size_t)(ne - nb);
      if (n == 0 || n >= sizeof name)
        return rd_err_set(err, RD_EINPUT, "%s:%d: malformed section header (expected [name])", path, lineno);
      memcpy(name, nb, n);
      name[n] = '\0';
      if (!known_section(name))
        return rd_err_set(err, RD_EINPUT,
                          "%s:%d: unknown section [%s] (known: [run] [model] [dense] [data] [train])", path,
                          lineno, name);
      if (!section_repeats(name))
        for (int i = 0; i < c->nsecs; i++)
          if (strcmp(c->secs[i].name, name) == 0)
            return rd_err_set(err, RD_EINPUT, "%s:%d: duplicate section [%s] (first at line %d)", path, lineno,
                              name, c->secs[i].line);
      cur = add_section(c, nb, n, lineno);
      continue;
    }
    const char *eq = memchr(b, '=', (size_t)(e - b));
    if (!eq)
      return rd_err_set(err, RD_EINPUT, "%s:%d: expected 'key = value' or '[section]', found no '='", path,
                        lineno);
    const char *kb = b, *ke = eq, *vb = eq + 1, *ve = e;
    trim(&kb, &ke);
    trim(&vb, &ve);
    char key[64];
    if (kb == ke) return rd_err_set(err, RD_EINPUT, "%s:%d: missing key before '='", path, lineno);
    if (!valid_key_chars(kb, ke) || (size_t)(ke - kb) >= sizeof key)
      return rd_err_set(err, RD_EINPUT, "%s:%d: malformed key '%.*s' (lower-case letters, digits, _)", path,
                        lineno, (int)(ke - kb), kb);
    memcpy(key, kb, (size_t)(ke - kb));
    key[ke - kb] = '\0';
    if (cur < 0)
      return rd_err_set(err, RD_EINPUT, "%s:%d: key '%s' outside any section (add a [section] above it)", path,
                        lineno, key);
    if (!find_key(c->secs[cur].name, key))
      return rd_err_set(err, RD_EINPUT, "%s:%d: unknown key '%s' in [%s]", path, lineno, key, c->secs[cur].name);
    const rd_cfg_item *dup = find_item(c, cur, key);
    if (dup)
      return rd_err_set(err, RD_EINPUT, "%s:%d: duplicate key '%s' in [%s] (first set at line %d)", path, lineno,
                        key, c->secs[cur].name, dup->line);
    add_item(c, cur, kb, (size_t)(ke - kb), vb, (size_t)(ve - vb), lineno, NULL);
  }
  return RD_OK;
}

rd_status rd_cfg_set(rd_cfg *c, const char *a, rd_err *err) {
  const char *eq = strchr(a, '=');
  if (!eq) return rd_err_set(err, RD_EINPUT, "--set %s: expected SECTION.KEY=VALUE", a);
  char lhs[128];
  size_t n = (size_t)(eq - a);
  if (n >= sizeof lhs) return rd_err_set(err, RD_EINPUT, "--set %s: key too long", a);
  memcpy(lhs, a, n);
  lhs[n] = '\0';
  char *parts[4] = {0};
  int np = 0;
  for (char *p = lhs;; p++) { /* split at '.', trim each part, refuse empty ones */
    char *dot = strchr(p, '.');
    if (dot) *dot = '\0';
    const char *b = p, *e = p + strlen(p);
    trim(&b, &e);
    ((char *)e)[0] = '\0';
    if (np < 4) parts[np] = (char *)b;
    np++;
    if (b == e) return rd_err_set(err, RD_EINPUT, "--set %s: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE", a);
    if (!dot) break;
    p = dot;
  }
  if (np < 2 || np > 3) return rd_err_set(err, RD_EINPUT, "--set %s: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE", a);
  const char *sec = parts[0], *key = parts[np - 1];
  if (!known_section(sec)) return rd_err_set(err, RD_EINPUT, "--set %s: unknown section [%s]", a, sec);
  if (!find_key(sec, key)) return rd_err_set(err, RD_EINPUT, "--set %s: unknown key '%s' in [%s]", a, key, sec);
  int count = rd_cfg_count(c, sec), ord = 0;
  if (np == 3) {
    int64_t v;
    if (rd_parse_int(parts[1], &v) || v < 0 || v >= count)
      return rd_err_set(err, RD_EINPUT, "--set %s: there is no [%s] number %s (the file has %d, numbered from 0)",
                        a, sec, parts[1], count);
    ord = (int)v;
  } else if (section_repeats(sec) && count != 1) {
    return rd_err_set(err, RD_EINPUT, "--set %s: the file has %d [%s] sections; say which: %s.N.%s", a, count,
                      sec, sec, key);
  }
  int si = -1;
  for (int i = 0; i < c->nsecs; i++)
    if (strcmp(c->secs[i].name, sec) == 0 && c->secs[i].ordinal == ord) si = i;
  if (si < 0) si = add_section(c, sec, strlen(sec), 0);
  const char *vb = eq + 1, *ve = a + strlen(a);
  trim(&vb, &ve);
  rd_cfg_item *it = find_item(c, si, key);
  if (it) {
    free(it->value);
    free(it->origin);
    it->value = xstrndup(vb, (size_t)(ve - vb));
    it->line = 0;
    it->origin = xstrndup(a, strlen(a));
  } else {
    add_item(c, si, key, strlen(key), vb, (size_t)(ve - vb), 0, a);
  }
  return RD_OK;
}

const char *rd_cfg_where(const rd_cfg *c, const rd_cfg_item *it, int sec, char *buf, size_t n) {
  if (it && it->origin)
    snprintf(buf, n, "--set %s", it->origin);
  else if (it)
    snprintf(buf, n, "%s:%d", c->path, it->line);
  else if (sec >= 0 && c->secs[sec].line > 0)
    snprintf(buf, n, "%s:%d", c->path, c->secs[sec].line);
  else
    snprintf(buf, n, "%s", c->path);
  return buf;
}

static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-')) return 0;
  return 1;
}

static void range_text(const keydef *d, char *buf, size_t n) {
  if (d->hi >= 1e18) /* no real upper bound */
    snprintf(buf, n, "%s %.15g", d->lo_open ? ">" : ">=", d->lo);
  else
    snprintf(buf, n, "in %s%.15g, %.15g%s", d->lo_open ? "(" : "[", d->lo, d->hi, d->hi_open ? ")" : "]");
}

static rd_status check_item(const rd_cfg *c, const rd_cfg_item *it, rd_err *err) {
  const char *sec = c->secs[it->sec].name;
  const keydef *d = find_key(sec, it->key);
  char w[512];
  rd_cfg_where(c, it, -1, w, sizeof w);
  if (!d) return rd_err_set(err, RD_EINPUT, "%s: unknown key '%s' in [%s]", w, it->key, sec);
  const char *v = it->value;
  if (*v == '\0') return rd_err_set(err, RD_EINPUT, "%s: %s has no value", w, it->key);
  switch (d->type) {
    case T_INT: {
      int64_t x;
      if (rd_parse_int(v, &x)) {
        size_t k = (*v == '-' || *v == '+') ? 1 : 0;
        if (v[k] && strspn(v + k, "0123456789") == strlen(v + k)) { /* digits only: too large */
          char r[64];
          range_text(d, r, sizeof r);
          return rd_err_set(err, RD_EINPUT, "%s: %s = %s is out of range (must be %s)", w, it->key, v, r);
        }
        return rd_err_set(err, RD_EINPUT, "%s: %s = '%s' is not an integer", w, it->key, v);
      }
      if ((double)x < d->lo || (double)x > d->hi) {
        char r[64];
        range_text(d, r, sizeof r);
        return rd_err_set(err, RD_EINPUT, "%s: %s = %s is out of range (must be %s)", w, it->key, v, r);
      }
      break;
    }
    case T_U64: {
      uint64_t x;
      if (rd_parse_u64(v, &x))
        return rd_err_set(err, RD_EINPUT, "%s: %s = '%s' is not an integer in [0, 2^64)", w, it->key, v);
      break;
    }
    case T_FLOAT: {
      double x;
      if (rd_parse_double(v, &x))
        return rd_err_set(err, RD_EINPUT, "%s: %s = '%s' is not a finite decimal number", w, it->key, v);
      if (x < d->lo || x > d->hi || (d->lo_open && x == d->lo) || (d->hi_open && x == d->hi)) {
        char r[64];
        range_text(d, r, sizeof r);
        return rd_err_set(err, RD_EINPUT, "%s: %s = %s is out of range (must be %s)", w, it->key, v, r);
      }
      break;
    }
    case T_BOOL:
      if (strcmp(v, "true") && strcmp(v, "false"))
        return rd_err_set(err, RD_EINPUT, "%s: %s = '%s' must be true or false", w, it->key, v);
      break;
    case T_NAME:
      if (!valid_name(v))
        return rd_err_set(err, RD_EINPUT,
                          "%s: %s = '%s' is not a valid name (a letter or _, then letters, digits, _ or -; at most 64)",
                          w, it->key, v);
      break;
    case T_ENUM: {
      int ok = 0;
      char list[512] = "";
      for (int i = 0; d->enums[i]; i++) {
        if (strcmp(d->enums[i], v) == 0) ok = 1;
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, d->enums[i], sizeof list - strlen(list) - 1);
      }
      if (!ok) return rd_err_set(err, RD_EINPUT, "%s: unknown %s '%s' (one of: %s)", w, it->key, v, list);
      break;
    }
    case T_STR:
      break;
  }
  return RD_OK;
}

rd_status rd_cfg_validate(const rd_cfg *c, rd_err *err) {
  /* Report in file order, so the first message names the first bad line. */
  for (int i = 0; i < c->nitems; i++)
    if (check_item(c, &c->items[i], err)) return err->code;
  return RD_OK;
}

void rd_cfg_free(rd_cfg *c) {
  for (int i = 0; i < c->nsecs; i++) free(c->secs[i].name);
  for (int i = 0; i < c->nitems; i++) {
    free(c->items[i].key);
    free(c->items[i].value);
    free(c->items[i].origin);
  }
  free(c->secs);
  free(c->items);
  free(c->path);
  memset(c, 0, sizeof *c);
}

int rd_cfg_count(const rd_cfg *c, const char *section) {
  int n = 0;
  for (int i = 0; i < c->nsecs; i++) n += strcmp(c->secs[i].name, section) == 0;
  return n;
}

const rd_cfg_item *rd_cfg_find(const rd_cfg *c, const char *section, int ord, const char *key) {
  for (int i = 0; i < c->nsecs; i++)
    if (strcmp(c->secs[i].name, section) == 0 && c->secs[i].ordinal == ord) return find_item(c, i, key);
  return NULL;
}

int rd_cfg_get_int(const rd_cfg *c, const char *s, int o, const char *k, int64_t dflt, int64_t *out) {
  const rd_cfg_item *it = rd_cfg_find(c, s, o, k);
  *out = dflt;
  if (!it) return 0;
  RD_ASSERT(rd_parse_int(it->value, out) == 0, "unvalidated int %s.%s", s, k);
  return 1;
}

int rd_cfg_get_u64(const rd_cfg *c, const char *s, int o, const char *k, uint64_t dflt, uint64_t *out) {
  const rd_cfg_item *it = rd_cfg_find(c, s, o, k);
  *out = dflt;
  if (!it) return 0;
  RD_ASSERT(rd_parse_u64(it->value, out) == 0, "unvalidated u64 %s.%s", s, k);
  return 1;
}

int rd_cfg_get_double(const rd_cfg *c, const char *s, int o, const char *k, double dflt, double *out) {
  const rd_cfg_item *it = rd_cfg_find(c, s, o, k);
  *out = dflt;
  if (!it) return 0;
  RD_ASSERT(rd_parse_double(it->value, out) == 0, "unvalidated float %s.%s", s, k);
  return 1;
}

int rd_cfg_get_bool(const rd_cfg *c, const char *s, int o, const char *k, int dflt, int *out) {
  const rd_cfg_item *it = rd_cfg_find(c, s, o, k);
  *out = dflt;
  if (!it) return 0;
  *out = strcmp(it->value, "true") == 0;
  return 1;
}

int rd_cfg_get_str(const rd_cfg *c, const char *s, int o, const char *k, const char *dflt, const char **out) {
  const rd_cfg_item *it = rd_cfg_find(c, s, o, k);
  *out = it ? it->value : dflt;
  return it != NULL;
}

/* ---- canonical form ----------------------------------------------------------------- */

static int cmp_items(const void *a, const void *b) {
  const rd_cfg_item *x = *(const rd_cfg_item *const *)a, *y = *(const rd_cfg_item *const *)b;
  return strcmp(x->key, y->key);
}

static char *canonical(const rd_cfg *c, int skip_epochs) {
  size_t cap = 256, len = 0;
  char *out = malloc(cap);
  RD_ASSERT(out != NULL, "out of memory");
  out[0] = '\0';
  const rd_cfg_item **v = malloc(sizeof *v * (size_t)(c->nitems + 1));
  RD_ASSERT(v != NULL, "out of memory");
  /* Sections in a fixed order ([dense] in file order among themselves), so where
   * a section is written, or whether --set created it, does not matter. */
  int *order = malloc(sizeof(int) * (size_t)(c->nsecs + 1)), no = 0;
  RD_ASSERT(order != NULL, "out of memory");
  for (int k = 0; k_sections[k]; k++)
    for (int i = 0; i < c->nsecs; i++)
      if (!strcmp(c->secs[i].name, k_sections[k])) order[no++] = i;
  for (int oi = 0; oi < no; oi++) {
    const int s = order[oi];
    int n = 0;
    for (int i = 0; i < c->nitems; i++)
      if (c->items[i].sec == s && find_key(c->secs[s].name, c->items[i].key)->canon &&
          !(skip_epochs && !strcmp(c->secs[s].name, "train") && !strcmp(c->items[i].key, "epochs")))
        v[n++] = &c->items[i];
    qsort(v, (size_t)n, sizeof *v, cmp_items);
    if (n == 0 && strcmp(c->secs[s].name, "dense")) continue; /* an empty [dense] is still a layer */
    for (int i = -1; i < n; i++) {
      char line[1200];
      if (i < 0) {
        snprintf(line, sizeof line, "[%s]\n", c->secs[s].name);
      } else {
        const keydef *d = find_key(c->secs[s].name, v[i]->key);
        char val[1024];
        if (d->type == T_INT) {
          int64_t x = 0;
          rd_parse_int(v[i]->value, &x);
          snprintf(val, sizeof val, "%lld", (long long)x);
        } else if (d->type == T_U64) {
          uint64_t x = 0;
          rd_parse_u64(v[i]->value, &x);
          snprintf(val, sizeof val, "%llu", (unsigned long long)x);
        } else if (d->type == T_FLOAT) {
          double x = 0;
          rd_parse_double(v[i]->value, &x);
          snprintf(val, sizeof val, "%.17g", x);
        } else {
          snprintf(val, sizeof val, "%s", v[i]->value);
        }
        snprintf(line, sizeof line, "%s = %s\n", v[i]->key, val);
      }
      size_t ln = strlen(line);
      while (len + ln + 1 > cap) {
        cap *= 2;
        out = realloc(out, cap);
        RD_ASSERT(out != NULL, "out of memory");
      }
      memcpy(out + len, line, ln + 1);
      len += ln;
    }
  }
  free(v);
  free(order);
  return out;
}

char *rd_cfg_canonical(const rd_cfg *c) { return canonical(c, 0); }

static uint64_t digest_of(char *t) {
  uint64_t h = XXH64(t, strlen(t), 0);
  free(t);
  return h;
}

uint64_t rd_cfg_digest(const rd_cfg *c) { return digest_of(canonical(c, 0)); }
uint64_t rd_cfg_digest_resumable(const rd_cfg *c) { return digest_of(canonical(c, 1)); }
