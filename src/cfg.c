/* cfg: strict INI parser and key-by-key readers (see cfg.h). */
#include "cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

const char *const rd_cfg_fixed_sections[] = {"run", "model", "data", "train",
#define RD_SCHEDULE(name) #name,
#include "schedules/list.h"
#undef RD_SCHEDULE
#define RD_CALLBACK(name) #name,
#include "callbacks/list.h"
#undef RD_CALLBACK
                                             NULL};

int rd_cfg_is_fixed(const char *s) {
  for (int i = 0; rd_cfg_fixed_sections[i]; i++)
    if (strcmp(rd_cfg_fixed_sections[i], s) == 0) return 1;
  return 0;
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

static char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

static void trim(const char **b, const char **e) {
  while (*b < *e && isspace((unsigned char)**b)) (*b)++;
  while (*e > *b && isspace((unsigned char)(*e)[-1])) (*e)--;
}

static int add_section(rd_cfg *c, const char *name, size_t n, int line) {
  c->secs = realloc(c->secs, sizeof *c->secs * (size_t)(c->nsecs + 1));
  RD_ASSERT(c->secs != NULL, "out of memory");
  rd_cfg_sec *s = &c->secs[c->nsecs];
  memset(s, 0, sizeof *s);
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
  memset(it, 0, sizeof *it);
  it->sec = sec;
  it->key = xstrndup(k, kn);
  it->value = xstrndup(v, vn);
  it->line = line;
  it->origin = origin ? xstrdup(origin) : NULL;
}

rd_cfg_item *rd_cfg_item_of(const rd_cfg *c, int sec, const char *key) {
  if (sec < 0) return NULL;
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
  c->path = xstrdup(path);
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
      if (ne == nb || (size_t)(ne - nb) >= 64)
        return rd_err_set(err, RD_EINPUT, "%s:%d: malformed section header (expected [name])", path, lineno);
      char name[72];
      snprintf(name, sizeof name, "%.*s", (int)(ne - nb), nb);
      if (rd_cfg_is_fixed(name))
        for (int i = 0; i < c->nsecs; i++)
          if (strcmp(c->secs[i].name, name) == 0)
            return rd_err_set(err, RD_EINPUT, "%s:%d: duplicate section [%s] (first at line %d)", path, lineno,
                              name, c->secs[i].line);
      cur = add_section(c, nb, (size_t)(ne - nb), lineno);
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
    const rd_cfg_item *dup = rd_cfg_item_of(c, cur, key);
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
  if (!valid_key_chars(key, key + strlen(key)) || strlen(key) >= 64)
    return rd_err_set(err, RD_EINPUT, "--set %s: malformed key '%s' (lower-case letters, digits, _)", a, key);
  const int fixed = rd_cfg_is_fixed(sec), count = rd_cfg_count(c, sec);
  if (!fixed && count == 0)
    return rd_err_set(err, RD_EINPUT, "--set %s: %s has no [%s] section (--set changes the layers the file has)", a,
                      c->path, sec);
  int ord = 0;
  if (np == 3) {
    int64_t v;
    if (rd_parse_int(parts[1], &v) || v < 0 || v >= count)
      return rd_err_set(err, RD_EINPUT, "--set %s: there is no [%s] number %s (the file has %d, numbered from 0)",
                        a, sec, parts[1], count);
    ord = (int)v;
  } else if (!fixed && count != 1) {
    return rd_err_set(err, RD_EINPUT, "--set %s: the file has %d [%s] sections; say which: %s.N.%s", a, count,
                      sec, sec, key);
  }
  int si = rd_cfg_section(c, sec, ord);
  if (si < 0) si = add_section(c, sec, strlen(sec), 0);
  const char *vb = eq + 1, *ve = a + strlen(a);
  trim(&vb, &ve);
  rd_cfg_item *it = rd_cfg_item_of(c, si, key);
  if (it) {
    free(it->value);
    free(it->origin);
    it->value = xstrndup(vb, (size_t)(ve - vb));
    it->line = 0;
    it->origin = NULL;
  } else {
    add_item(c, si, key, strlen(key), vb, (size_t)(ve - vb), 0, NULL);
    it = &c->items[c->nitems - 1];
  }
  size_t on = strlen(a) + 8;
  it->origin = malloc(on);
  RD_ASSERT(it->origin != NULL, "out of memory");
  snprintf(it->origin, on, "--set %s", a);
  return RD_OK;
}

int rd_cfg_add_section(rd_cfg *c, const char *name, const char *origin) {
  const int s = add_section(c, name, strlen(name), 0);
  c->secs[s].origin = xstrdup(origin);
  return s;
}

void rd_cfg_add_item(rd_cfg *c, int sec, const char *key, const char *value) {
  add_item(c, sec, key, strlen(key), value, strlen(value), 0, c->secs[sec].origin);
}

void rd_cfg_put_default(rd_cfg *c, const char *section, const char *key, const char *value) {
  RD_ASSERT(rd_cfg_is_fixed(section), "rd_cfg_put_default: [%s] is not a fixed section", section);
  int s = rd_cfg_section(c, section, 0);
  if (s < 0) s = add_section(c, section, strlen(section), 0);
  if (rd_cfg_item_of(c, s, key)) return;
  add_item(c, s, key, strlen(key), value, strlen(value), 0, "(the default)");
}

const char *rd_cfg_where(const rd_cfg *c, const rd_cfg_item *it, int sec, char *buf, size_t n) {
  if (it && it->origin)
    snprintf(buf, n, "%s", it->origin);
  else if (it)
    snprintf(buf, n, "%s:%d", c->path, it->line);
  else if (sec >= 0 && c->secs[sec].origin)
    snprintf(buf, n, "%s", c->secs[sec].origin);
  else if (sec >= 0 && c->secs[sec].line > 0)
    snprintf(buf, n, "%s:%d", c->path, c->secs[sec].line);
  else
    snprintf(buf, n, "%s", c->path);
  return buf;
}

void rd_cfg_free(rd_cfg *c) {
  for (int i = 0; i < c->nsecs; i++) free(c->secs[i].name), free(c->secs[i].origin);
  for (int i = 0; i < c->nitems; i++) {
    rd_cfg_item *it = &c->items[i];
    free(it->key), free(it->value), free(it->origin), free(it->canon_value), free(it->bad), free(it->na);
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

int rd_cfg_section(const rd_cfg *c, const char *name, int ord) {
  for (int i = 0; i < c->nsecs; i++)
    if (strcmp(c->secs[i].name, name) == 0 && c->secs[i].ordinal == ord) return i;
  return -1;
}

const rd_cfg_item *rd_cfg_find(const rd_cfg *c, const char *section, int ord, const char *key) {
  return rd_cfg_item_of(c, rd_cfg_section(c, section, ord), key);
}

/* ---- readers ------------------------------------------------------------------------ */

/* Marks the item read as type; NULL when absent. */
static rd_cfg_item *take(rd_cfg *c, int sec, const char *key, rd_cfg_type type, unsigned flags) {
  rd_cfg_item *it = rd_cfg_item_of(c, sec, key);
  if (!it) return NULL;
  RD_ASSERT(it->type == RD_CFG_UNREAD || it->type == type, "key %s read as two types", key);
  it->type = type;
  it->canon = !(flags & RD_CFG_NOCANON);
  return it;
}

/* Records a bad value (the first for the item) and returns -1. */
static int bad(rd_cfg *c, rd_cfg_item *it, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(rd_cfg *c, rd_cfg_item *it, const char *fmt, ...) {
  if (it->bad) return -1;
  char where[512], msg[RD_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  size_t n = strlen(rd_cfg_where(c, it, -1, where, sizeof where)) + strlen(msg) + 3;
  it->bad = malloc(n);
  RD_ASSERT(it->bad != NULL, "out of memory");
  snprintf(it->bad, n, "%s: %s", where, msg);
  return -1;
}

static void range_text(double lo, double hi, unsigned flags, char *buf, size_t n) {
  if (hi >= 1e18) /* no real upper bound */
    snprintf(buf, n, "%s %.15g", (flags & RD_CFG_LO_OPEN) ? ">" : ">=", lo);
  else
    snprintf(buf, n, "in %s%.15g, %.15g%s", (flags & RD_CFG_LO_OPEN) ? "(" : "[", lo, hi,
             (flags & RD_CFG_HI_OPEN) ? ")" : "]");
}

static int empty(rd_cfg *c, rd_cfg_item *it) {
  return it->value[0] == '\0' ? bad(c, it, "%s has no value", it->key) : 0;
}

/* An integer item's value: 0, or -1 with the message recorded. */
static int int_value(rd_cfg *c, rd_cfg_item *it, const char *text, double lo, double hi, unsigned flags,
                     int64_t *x) {
  char r[64];
  range_text(lo, hi, flags, r, sizeof r);
  if (rd_parse_int(text, x)) {
    size_t k = (*text == '-' || *text == '+') ? 1 : 0;
    if (text[k] && strspn(text + k, "0123456789") == strlen(text + k)) /* digits only: too large */
      return bad(c, it, "%s = %s is out of range (must be %s)", it->key, text, r);
    return bad(c, it, "%s = '%s' is not an integer", it->key, text);
  }
  if ((double)*x < lo || (double)*x > hi)
    return bad(c, it, "%s = %s is out of range (must be %s)", it->key, text, r);
  return 0;
}

int rd_cfg_int(rd_cfg *c, int sec, const char *key, int64_t dflt, double lo, double hi, unsigned flags, int64_t *out) {
  *out = dflt;
  rd_cfg_item *it = take(c, sec, key, RD_CFG_INT, flags);
  if (!it) return 0;
  int64_t x = 0;
  if (empty(c, it) || int_value(c, it, it->value, lo, hi, flags, &x)) return -1;
  *out = x;
  return 1;
}

int rd_cfg_u64(rd_cfg *c, int sec, const char *key, uint64_t dflt, unsigned flags, uint64_t *out) {
  *out = dflt;
  rd_cfg_item *it = take(c, sec, key, RD_CFG_U64, flags);
  if (!it) return 0;
  uint64_t x;
  if (empty(c, it)) return -1;
  if (rd_parse_u64(it->value, &x)) return bad(c, it, "%s = '%s' is not an integer in [0, 2^64)", key, it->value);
  *out = x;
  return 1;
}

int rd_cfg_float(rd_cfg *c, int sec, const char *key, double dflt, double lo, double hi, unsigned flags,
                 double *out) {
  *out = dflt;
  rd_cfg_item *it = take(c, sec, key, RD_CFG_FLOAT, flags);
  if (!it) return 0;
  double x;
  if (empty(c, it)) return -1;
  if (rd_parse_double(it->value, &x)) return bad(c, it, "%s = '%s' is not a finite decimal number", key, it->value);
  if (x < lo || x > hi || ((flags & RD_CFG_LO_OPEN) && x == lo) || ((flags & RD_CFG_HI_OPEN) && x == hi)) {
    char r[64];
    range_text(lo, hi, flags, r, sizeof r);
    return bad(c, it, "%s = %s is out of range (must be %s)", key, it->value, r);
  }
  *out = x;
  return 1;
}

int rd_cfg_bool(rd_cfg *c, int sec, const char *key, int dflt, unsigned flags, int *out) {
  *out = dflt;
  rd_cfg_item *it = take(c, sec, key, RD_CFG_BOOL, flags);
  if (!it) return 0;
  if (empty(c, it)) return -1;
  if (strcmp(it->value, "true") && strcmp(it->value, "false"))
    return bad(c, it, "%s = '%s' must be true or false", key, it->value);
  *out = strcmp(it->value, "true") == 0;
  return 1;
}

int rd_cfg_enum(rd_cfg *c, int sec, const char *key, const char *const *names, int dflt, unsigned flags, int *out) {
  *out = dflt;
  rd_cfg_item *it = take(c, sec, key, RD_CFG_STR, flags);
  if (!it) return 0;
  if (empty(c, it)) return -1;
  char list[512] = "";
  for (int i = 0; names[i]; i++) {
    if (strcmp(names[i], it->value) == 0) {
      *out = i;
      return 1;
    }
    strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
    strncat(list, names[i], sizeof list - strlen(list) - 1);
  }
  return bad(c, it, "unknown %s '%s' (one of: %s)", key, it->value, list);
}

int rd_cfg_str(rd_cfg *c, int sec, const char *key, const char *dflt, unsigned flags, const char **out) {
  *out = dflt;
  rd_cfg_item *it = take(c, sec, key, RD_CFG_STR, flags);
  if (!it) return 0;
  if (!(flags & RD_CFG_EMPTY_OK) && empty(c, it)) return -1;
  *out = it->value;
  return 1;
}

static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-')) return 0;
  return 1;
}

int rd_cfg_name(rd_cfg *c, int sec, const char *key, const char *dflt, unsigned flags, const char **out) {
  *out = dflt;
  rd_cfg_item *it = take(c, sec, key, RD_CFG_STR, flags);
  if (!it) return 0;
  if (empty(c, it)) return -1;
  if (!valid_name(it->value))
    return bad(c, it, "%s = '%s' is not a valid name (a letter or _, then letters, digits, _ or -; at most 64)", key,
               it->value);
  *out = it->value;
  return 1;
}

int rd_cfg_names(rd_cfg *c, int sec, const char *key, int nmax, char (*out)[RD_CFG_NAME_MAX], int *n) {
  *n = 0;
  rd_cfg_item *it = take(c, sec, key, RD_CFG_STR, 0);
  if (!it) return 0;
  if (empty(c, it)) return -1;
  char canon[RD_CFG_NAME_MAX * 20] = "";
  size_t o = 0;
  for (const char *p = it->value;;) {
    const char *comma = strchr(p, ',');
    const char *b = p, *e = comma ? comma : p + strlen(p);
    trim(&b, &e);
    if (*n == nmax) return bad(c, it, "%s names more than %d layers", key, nmax);
    if (e - b >= RD_CFG_NAME_MAX || e == b) {
      if (e == b) return bad(c, it, "%s = '%s' has an empty name (names separated by commas)", key, it->value);
      return bad(c, it, "%s: a name of more than %d characters", key, RD_CFG_NAME_MAX - 1);
    }
    memcpy(out[*n], b, (size_t)(e - b));
    out[*n][e - b] = '\0';
    if (!valid_name(out[*n]))
      return bad(c, it, "%s: '%s' is not a valid name (a letter or _, then letters, digits, _ or -; at most 64)", key,
                 out[*n]);
    o += (size_t)snprintf(canon + o, sizeof canon - o, "%s%s", *n ? ", " : "", out[*n]);
    (*n)++;
    if (!comma) break;
    p = comma + 1;
  }
  rd_cfg_canon_value(c, it, canon);
  return 1;
}

int rd_cfg_ints(rd_cfg *c, int sec, const char *key, int nmin, int nmax, const int64_t *dflt, int ndflt, double lo,
                double hi, unsigned flags, int64_t *out, int *n) {
  *n = ndflt;
  for (int i = 0; i < ndflt; i++) out[i] = dflt[i];
  rd_cfg_item *it = take(c, sec, key, RD_CFG_INTS, flags);
  if (!it) return 0;
  if (empty(c, it)) return -1;
  int k = 0;
  int64_t v[16];
  for (const char *p = it->value;;) {
    const char *comma = strchr(p, ',');
    const char *b = p, *e = comma ? comma : p + strlen(p);
    trim(&b, &e);
    char part[64];
    if (k == nmax || b == e || (size_t)(e - b) >= sizeof part) {
      if (flags & RD_CFG_ONE_OR_ALL)
        return bad(c, it, "%s = '%s' must be one integer or %d separated by commas", key, it->value, nmax);
      if (nmin == nmax)
        return bad(c, it, "%s = '%s' must be %d integer%s separated by commas", key, it->value, nmax, nmax > 1 ? "s" : "");
      return bad(c, it, "%s = '%s' must be %d to %d integers separated by commas", key, it->value, nmin, nmax);
    }
    snprintf(part, sizeof part, "%.*s", (int)(e - b), b);
    if (int_value(c, it, part, lo, hi, flags, &v[k])) return -1;
    k++;
    if (!comma) break;
    p = comma + 1;
  }
  if (k < nmin)
    return bad(c, it, "%s = '%s' must be %d to %d integers separated by commas", key, it->value, nmin, nmax);
  if ((flags & RD_CFG_ONE_OR_ALL) && k != 1 && k != nmax)
    return bad(c, it, "%s = '%s' must be one integer or %d separated by commas", key, it->value, nmax);
  if ((flags & RD_CFG_ONE_OR_ALL) && k == 1)
    for (k = 1; k < nmax; k++) v[k] = v[0];
  for (int i = 0; i < k; i++) out[i] = v[i];
  *n = k;
  return 1;
}

int rd_cfg_floats(rd_cfg *c, int sec, const char *key, int nmin, int nmax, double lo, double hi, unsigned flags,
                  double *out, int *n) {
  *n = 0;
  rd_cfg_item *it = take(c, sec, key, RD_CFG_STR, flags);
  if (!it) return 0;
  if (empty(c, it)) return -1;
  char canon[2048] = "";
  int k = 0;
  for (const char *p = it->value;;) {
    const char *comma = strchr(p, ',');
    const char *b = p, *e = comma ? comma : p + strlen(p);
    trim(&b, &e);
    char part[64];
    double x;
    if (k == nmax || b == e || (size_t)(e - b) >= sizeof part)
      return bad(c, it, "%s = '%s' must be %d to %d numbers separated by commas", key, it->value, nmin, nmax);
    snprintf(part, sizeof part, "%.*s", (int)(e - b), b);
    if (rd_parse_double(part, &x)) return bad(c, it, "%s = '%s': '%s' is not a finite decimal number", key, it->value, part);
    if (x < lo || x > hi || ((flags & RD_CFG_LO_OPEN) && x == lo) || ((flags & RD_CFG_HI_OPEN) && x == hi)) {
      char r[64];
      range_text(lo, hi, flags, r, sizeof r);
      return bad(c, it, "%s = '%s': %s is out of range (each must be %s)", key, it->value, part, r);
    }
    out[k++] = x;
    snprintf(canon + strlen(canon), sizeof canon - strlen(canon), "%s%.17g", k > 1 ? "," : "", x);
    if (!comma) break;
    p = comma + 1;
  }
  if (k < nmin) return bad(c, it, "%s = '%s' must be %d to %d numbers separated by commas", key, it->value, nmin, nmax);
  rd_cfg_canon_value(c, it, canon);
  *n = k;
  return 1;
}

void rd_cfg_not_applicable(rd_cfg *c, int sec, const char *key, const char *fmt, ...) {
  rd_cfg_item *it = rd_cfg_item_of(c, sec, key);
  if (!it || it->type != RD_CFG_UNREAD || it->na) return;
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  it->na = xstrdup(why);
}

rd_status rd_cfg_fail(rd_cfg *c, const rd_cfg_item *item, int sec, const char *fmt, ...) {
  if (c->first.code) return RD_EINPUT;
  char where[512], msg[RD_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return rd_err_set(&c->first, RD_EINPUT, "%s: %s", rd_cfg_where(c, item, sec, where, sizeof where), msg);
}

void rd_cfg_canon_value(rd_cfg *c, rd_cfg_item *it, const char *value) {
  (void)c;
  free(it->canon_value);
  it->canon_value = xstrdup(value);
}

void rd_cfg_visit(rd_cfg *c, int sec) {
  if (sec >= 0) c->secs[sec].visited = 1;
}

static rd_status unread(const rd_cfg *c, int visited, rd_err *err) {
  for (int i = 0; i < c->nitems; i++) {
    const rd_cfg_item *it = &c->items[i];
    if (it->type != RD_CFG_UNREAD || c->secs[it->sec].visited != visited) continue;
    char w[512];
    rd_cfg_where(c, it, -1, w, sizeof w);
    if (it->na) return rd_err_set(err, RD_EINPUT, "%s: %s %s", w, it->key, it->na);
    return rd_err_set(err, RD_EINPUT, "%s: unknown key '%s' in [%s]", w, it->key, c->secs[it->sec].name);
  }
  return RD_OK;
}

/* Every section must be known before rd_cfg_finish: a key of an unknown
 * section is never read, but the section itself is reported first (job.c). */
rd_status rd_cfg_finish(const rd_cfg *c, rd_err *err) {
  for (int i = 0; i < c->nitems; i++)
    if (c->items[i].bad) {
      rd_err_clear(err);
      return rd_err_set(err, RD_EINPUT, "%s", c->items[i].bad);
    }
  rd_err e = {0};
  if (unread(c, 1, &e) || (e = c->first, e.code) || unread(c, 0, &e)) {
    rd_err_clear(err);
    return rd_err_set(err, e.code, "%s", e.msg);
  }
  return err->code;
}

/* ---- canonical form ----------------------------------------------------------------- */

static int cmp_items(const void *a, const void *b) {
  const rd_cfg_item *x = *(const rd_cfg_item *const *)a, *y = *(const rd_cfg_item *const *)b;
  return strcmp(x->key, y->key);
}

static void canon_value(const rd_cfg_item *it, char *val, size_t n) {
  if (it->canon_value) {
    snprintf(val, n, "%s", it->canon_value);
    return;
  }
  switch (it->type) {
    case RD_CFG_INT: {
      int64_t x = 0;
      rd_parse_int(it->value, &x);
      snprintf(val, n, "%lld", (long long)x);
      return;
    }
    case RD_CFG_U64: {
      uint64_t x = 0;
      rd_parse_u64(it->value, &x);
      snprintf(val, n, "%llu", (unsigned long long)x);
      return;
    }
    case RD_CFG_FLOAT: {
      double x = 0;
      rd_parse_double(it->value, &x);
      snprintf(val, n, "%.17g", x);
      return;
    }
    case RD_CFG_INTS: {
      size_t o = 0;
      val[0] = '\0';
      for (const char *p = it->value; p && o < n;) {
        long long x = strtoll(p, NULL, 10); /* validated: integers and commas */
        o += (size_t)snprintf(val + o, n - o, "%s%lld", o ? "," : "", x);
        p = strchr(p, ',');
        if (p) p++;
      }
      return;
    }
    default: snprintf(val, n, "%s", it->value); return;
  }
}

static void append(char **out, size_t *len, size_t *cap, const char *s) {
  size_t ln = strlen(s);
  while (*len + ln + 1 > *cap) {
    *cap *= 2;
    *out = realloc(*out, *cap);
    RD_ASSERT(*out != NULL, "out of memory");
  }
  memcpy(*out + *len, s, ln + 1);
  *len += ln;
}

/* skip_sec/skip_key (or NULL): one fixed section's key left out too. */
static char *canonical(const rd_cfg *c, int skip_epochs, const char *skip_sec, const char *skip_key) {
  size_t cap = 256, len = 0;
  char *out = malloc(cap);
  RD_ASSERT(out != NULL, "out of memory");
  out[0] = '\0';
  const rd_cfg_item **v = malloc(sizeof *v * (size_t)(c->nitems + 1));
  int *order = malloc(sizeof(int) * (size_t)(c->nsecs + 1)), no = 0;
  RD_ASSERT(v && order, "out of memory");
  /* [run] and [model], the layers in file order, then [data] and [train]: where
   * a fixed section is written, or whether --set created it, does not matter;
   * the layers' order is the model. */
  static const char *const head[] = {"run", "model"}, *const tail[] = {"data", "train"};
  for (int k = 0; k < 2; k++) {
    int s = rd_cfg_section(c, head[k], 0);
    if (s >= 0) order[no++] = s;
  }
  for (int i = 0; i < c->nsecs; i++)
    if (!rd_cfg_is_fixed(c->secs[i].name)) order[no++] = i;
  for (int k = 0; k < 2; k++) {
    int s = rd_cfg_section(c, tail[k], 0);
    if (s >= 0) order[no++] = s;
  }
  for (int k = 4; rd_cfg_fixed_sections[k]; k++) { /* the schedules and callbacks, after [train] */
    int s = rd_cfg_section(c, rd_cfg_fixed_sections[k], 0);
    if (s >= 0) order[no++] = s;
  }
  for (int oi = 0; oi < no; oi++) {
    const int s = order[oi];
    const int layer = !rd_cfg_is_fixed(c->secs[s].name);
    int n = 0;
    for (int i = 0; i < c->nitems; i++) {
      const rd_cfg_item *it = &c->items[i];
      if (it->sec != s) continue;
      RD_ASSERT(it->type != RD_CFG_UNREAD, "canonical text of a config with unread key %s", it->key);
      if (it->canon && !(skip_epochs && !strcmp(c->secs[s].name, "train") && !strcmp(it->key, "epochs")) &&
          !(skip_sec && !strcmp(c->secs[s].name, skip_sec) && !strcmp(it->key, skip_key)))
        v[n++] = it;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_items);
    if (n == 0 && !layer) continue; /* an empty layer section is still a layer */
    char line[1200];
    snprintf(line, sizeof line, "[%s]\n", c->secs[s].name);
    append(&out, &len, &cap, line);
    for (int i = 0; i < n; i++) {
      char val[1024];
      canon_value(v[i], val, sizeof val);
      snprintf(line, sizeof line, "%s = %s\n", v[i]->key, val);
      append(&out, &len, &cap, line);
    }
  }
  free(v);
  free(order);
  return out;
}

char *rd_cfg_canonical(const rd_cfg *c) { return canonical(c, 0, NULL, NULL); }

static uint64_t digest_of(char *t) {
  uint64_t h = XXH64(t, strlen(t), 0);
  free(t);
  return h;
}

uint64_t rd_cfg_digest(const rd_cfg *c) { return digest_of(canonical(c, 0, NULL, NULL)); }
uint64_t rd_cfg_digest_resumable(const rd_cfg *c) { return digest_of(canonical(c, 1, NULL, NULL)); }
char *rd_cfg_canonical_resumable(const rd_cfg *c) { return canonical(c, 1, NULL, NULL); }
uint64_t rd_cfg_digest_resumable_without(const rd_cfg *c, const char *sec, const char *key) {
  return digest_of(canonical(c, 1, sec, key));
}

/* ---- differences between two canonical texts ------------------------------------- */

/* One "key = value" line of a canonical text, with its section's name and
 * occurrence (the 2nd [dense] is occurrence 1). */
typedef struct {
  char sec[128], key[128];
  int occ;
  const char *val;
  int vlen;
} canon_line;

/* The lines of canonical text t, at most max; sections without keys give one
 * line with an empty key, so an added or removed layer is seen. */
static int canon_lines(const char *t, canon_line *out, int max) {
  int n = 0, occ = 0;
  char sec[128] = "";
  char seen[64][128];
  int nseen = 0, counts[64] = {0};
  for (const char *p = t; *p && n < max;) {
    const char *e = strchr(p, '\n');
    int len = e ? (int)(e - p) : (int)strlen(p);
    if (len > 2 && p[0] == '[') {
      snprintf(sec, sizeof sec, "%.*s", len - 2, p + 1);
      int k = 0;
      while (k < nseen && strcmp(seen[k], sec)) k++;
      if (k == nseen && nseen < 64) snprintf(seen[nseen++], sizeof seen[0], "%s", sec);
      occ = k < 64 ? counts[k]++ : 0;
      out[n] = (canon_line){.occ = occ, .val = "", .vlen = 0};
      snprintf(out[n].sec, sizeof out[n].sec, "%s", sec);
      n++;
    } else {
      const char *eq = memchr(p, '=', (size_t)len);
      if (eq && eq > p + 1) {
        out[n] = (canon_line){.occ = occ, .val = eq + 2 <= p + len ? eq + 2 : p + len};
        out[n].vlen = (int)(p + len - out[n].val);
        snprintf(out[n].sec, sizeof out[n].sec, "%s", sec);
        snprintf(out[n].key, sizeof out[n].key, "%.*s", (int)(eq - 1 - p), p);
        n++;
      }
    }
    p += len + (e ? 1 : 0);
  }
  return n;
}

static const canon_line *canon_find(const canon_line *v, int n, const canon_line *x) {
  for (int i = 0; i < n; i++)
    if (v[i].occ == x->occ && !strcmp(v[i].sec, x->sec) && !strcmp(v[i].key, x->key)) return &v[i];
  return NULL;
}

/* "[dense]" or "[dense] (the 2nd)". */
static void canon_sec_name(const canon_line *x, char *buf, size_t n) {
  static const char *const sfx[] = {"th", "st", "nd", "rd"};
  int k = x->occ + 1;
  if (x->occ == 0)
    snprintf(buf, n, "[%s]", x->sec);
  else
    snprintf(buf, n, "[%s] (the %d%s)", x->sec, k, (k % 100 >= 11 && k % 100 <= 13) || k % 10 > 3 ? "th" : sfx[k % 10]);
}

/* A canonical value as a user writes it: numbers with 15 significant digits
 * (the canonical text keeps 17: 0.80000000000000004 is shown as 0.8). */
static void show_value(const canon_line *x, char *buf, size_t n) {
  if (!x) {
    snprintf(buf, n, "not set");
    return;
  }
  snprintf(buf, n, "%.*s", x->vlen, x->val);
  char *end;
  double d = strtod(buf, &end);
  if (end != buf && !*end && strpbrk(buf, ".eE")) snprintf(buf, n, "%.15g", d);
}

void rd_cfg_text_diff(const char *was, const char *now, const char *in_was, char *buf, size_t n) {
  enum { MAXL = 4096 };
  canon_line *a = malloc(2 * MAXL * sizeof *a), *b = a + MAXL;
  RD_ASSERT(a != NULL, "out of memory");
  int na = canon_lines(was, a, MAXL), nb = canon_lines(now, b, MAXL), shown = 0, more = 0;
  size_t len = 0;
  buf[0] = '\0';
  for (int pass = 0; pass < 2; pass++) { /* was's lines (changed or gone), then now's new ones */
    const canon_line *v = pass ? b : a, *w = pass ? a : b;
    for (int i = 0; i < (pass ? nb : na); i++) {
      const canon_line *x = &v[i], *y = canon_find(w, pass ? na : nb, x);
      canon_line head = *x;
      head.key[0] = '\0';
      if (x->key[0] && !canon_find(w, pass ? na : nb, &head)) continue; /* its whole section is named */
      if (pass ? y != NULL : (y && y->vlen == x->vlen && !memcmp(y->val, x->val, (size_t)x->vlen))) continue;
      if (shown == 4) {
        more++;
        continue;
      }
      const canon_line *old = pass ? NULL : x, *cur = pass ? x : y;
      char sec[200], one[1200];
      canon_sec_name(x, sec, sizeof sec);
      if (!x->key[0])
        snprintf(one, sizeof one, old ? "%s: %s, not now" : "%s: not %s, only now", sec, in_was);
      else {
        char v0[256], v1[256];
        show_value(old, v0, sizeof v0), show_value(cur, v1, sizeof v1);
        snprintf(one, sizeof one, "%s %s: %s %s, %s now", sec, x->key, v0, in_was, v1);
      }
      if (len < n) len += (size_t)snprintf(buf + len, n - len, "%s%s", shown ? "; " : "", one);
      shown++;
    }
  }
  if (more && len < n) snprintf(buf + len, n - len, "; and %d more", more);
  free(a);
}
