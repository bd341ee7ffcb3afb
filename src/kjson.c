/* kjson: Python-style JSON text over Jansson values (see kjson.h). */
#include "kjson.h"

#include <stdlib.h>
#include <string.h>

#include "pyfmt.h"

typedef struct {
  char *p;
  size_t n, cap;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n + 1) cap *= 2;
    b->p = realloc(b->p, cap);
    RD_ASSERT(b->p != NULL, "out of memory");
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

/* Python's ensure_ascii escaping of a UTF-8 string (Jansson checked it is valid UTF-8). */
static void put_string(sbuf *b, const char *s, size_t n) {
  put(b, "\"", 1);
  for (size_t i = 0; i < n;) {
    unsigned c = (unsigned char)s[i];
    char e[16];
    if (c == '"' || c == '\\') {
      e[0] = '\\', e[1] = (char)c;
      put(b, e, 2), i++;
      continue;
    }
    if (c >= 0x20 && c < 0x7f) {
      put(b, s + i, 1), i++;
      continue;
    }
    uint32_t cp = c;
    int len = 1;
    if (c >= 0xf0) cp = c & 0x07, len = 4;
    else if (c >= 0xe0) cp = c & 0x0f, len = 3;
    else if (c >= 0xc0) cp = c & 0x1f, len = 2;
    for (int k = 1; k < len && i + (size_t)k < n; k++) cp = (cp << 6) | ((unsigned char)s[i + (size_t)k] & 0x3f);
    i += (size_t)len;
    static const char *const named[] = {['\b'] = "\\b", ['\t'] = "\\t", ['\n'] = "\\n", ['\f'] = "\\f", ['\r'] = "\\r"};
    if (cp < 0x20 && cp < sizeof named / sizeof named[0] && named[cp]) {
      puts_(b, named[cp]);
    } else if (cp >= 0x10000) { /* a surrogate pair, as Python writes it */
      cp -= 0x10000;
      snprintf(e, sizeof e, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      puts_(b, e);
    } else {
      snprintf(e, sizeof e, "\\u%04x", cp);
      puts_(b, e);
    }
  }
  put(b, "\"", 1);
}

static void dump(sbuf *b, const json_t *v) {
  char num[64];
  switch (json_typeof(v)) {
  case JSON_OBJECT: {
    const char *k;
    json_t *x;
    int first = 1;
    put(b, "{", 1);
    json_object_foreach((json_t *)v, k, x) {
      if (!first) put(b, ", ", 2);
      first = 0;
      put_string(b, k, strlen(k));
      put(b, ": ", 2);
      dump(b, x);
    }
    put(b, "}", 1);
    break;
  }
  case JSON_ARRAY:
    put(b, "[", 1);
    for (size_t i = 0; i < json_array_size(v); i++) {
      if (i) put(b, ", ", 2);
      dump(b, json_array_get(v, i));
    }
    put(b, "]", 1);
    break;
  case JSON_STRING:
    put_string(b, json_string_value(v), json_string_length(v));
    break;
  case JSON_INTEGER:
    snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    puts_(b, num);
    break;
  case JSON_REAL: /* always finite: Jansson holds no NaN or infinity */
    rd_pyfmt_repr(json_real_value(v), num, sizeof num);
    puts_(b, num);
    break;
  case JSON_TRUE:
    puts_(b, "true");
    break;
  case JSON_FALSE:
    puts_(b, "false");
    break;
  case JSON_NULL:
    puts_(b, "null");
    break;
  }
}

char *rd_kjson_dumps(const json_t *v) {
  sbuf b = {0};
  dump(&b, v);
  return b.p;
}

rd_status rd_kjson_parse(const char *what, const char *text, size_t n, json_t **out, rd_err *err) {
  json_error_t je;
  /* Python writes NaN and Infinity for non-finite floats; Jansson refuses them (no model
   * reprodist can build has one in its config). */
  *out = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
  if (!*out)
    return rd_err_set(err, RD_EINPUT, "%s:%d:%d: not valid JSON: %s", what, je.line, je.column, je.text);
  return RD_OK;
}

void rd_kjson_set(json_t *o, const char *key, json_t *v) {
  RD_ASSERT(v != NULL && json_object_set_new(o, key, v) == 0, "out of memory");
}

json_t *rd_kjson_ints(const int64_t *v, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++) json_array_append_new(a, json_integer(v[i]));
  return a;
}

json_t *rd_kjson_object(const char *module, const char *cls, json_t *config) {
  json_t *o = json_object();
  rd_kjson_set(o, "module", json_string(module));
  rd_kjson_set(o, "class_name", json_string(cls));
  rd_kjson_set(o, "config", config);
  rd_kjson_set(o, "registered_name", json_null());
  return o;
}
