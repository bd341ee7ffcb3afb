/* pyfmt: Python's float repr and format fields (see pyfmt.h). */
#include "pyfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rd_pyfmt_repr(double x, char *buf, size_t n) {
  if (isnan(x)) {
    snprintf(buf, n, "nan");
    return;
  }
  if (isinf(x)) {
    snprintf(buf, n, x < 0 ? "-inf" : "inf");
    return;
  }
  char e[40];
  int p = 1;
  for (; p < 17; p++) { /* the fewest significant digits that read back as x */
    snprintf(e, sizeof e, "%.*e", p - 1, x);
    if (strtod(e, NULL) == x) break;
  }
  snprintf(e, sizeof e, "%.*e", p - 1, x);
  char *ep = strchr(e, 'e');
  const int exp10 = atoi(ep + 1);
  *ep = '\0';
  char digits[24];
  size_t nd = 0;
  for (const char *c = e; *c; c++)
    if (*c >= '0' && *c <= '9') digits[nd++] = *c;
  digits[nd] = '\0';
  const char *sign = x < 0 || (x == 0 && signbit(x)) ? "-" : "";
  if (exp10 < -4 || exp10 >= 16) { /* d.ddde+XX, with at least two exponent digits */
    snprintf(buf, n, "%s%c%s%se%c%02d", sign, digits[0], nd > 1 ? "." : "", digits + 1, exp10 < 0 ? '-' : '+',
             abs(exp10));
    return;
  }
  char out[64];
  size_t o = 0;
  if (exp10 < 0) { /* 0.000ddd */
    o += (size_t)snprintf(out, sizeof out, "0.");
    for (int i = 0; i < -exp10 - 1; i++) out[o++] = '0';
    memcpy(out + o, digits, nd), o += nd;
  } else { /* ddd.ddd, at least one digit after the point */
    for (int i = 0; i <= exp10; i++) out[o++] = (size_t)i < nd ? digits[i] : '0';
    out[o++] = '.';
    if ((size_t)exp10 + 1 < nd) memcpy(out + o, digits + exp10 + 1, nd - (size_t)exp10 - 1), o += nd - (size_t)exp10 - 1;
    else out[o++] = '0';
  }
  out[o] = '\0';
  snprintf(buf, n, "%s%s", sign, out);
}

/* One field's text from its spec. */
static int field(const char *name, const char *spec, double v, int is_int, char *out, size_t n, char *err, size_t en) {
  const char *s = spec;
  int zero = 0, width = 0, prec = -1;
  char type = 0;
  if (*s == '0') zero = 1, s++;
  while (*s >= '0' && *s <= '9') width = width * 10 + (*s++ - '0');
  if (*s == '.') {
    s++;
    if (!(*s >= '0' && *s <= '9')) goto bad;
    prec = 0;
    while (*s >= '0' && *s <= '9') prec = prec * 10 + (*s++ - '0');
  }
  if (*s && strchr("dfeEgG", *s)) type = *s++;
  if (*s || width > 100 || prec > 50) goto bad;
  if (type == 'd' && !is_int) {
    snprintf(err, en, "{%s:%s}: format code 'd' is for integers, and %s is a float", name, spec, name);
    return -1;
  }
  if (type == 'd' || (!type && is_int)) {
    if (prec >= 0) goto bad; /* Python: "Precision not allowed in integer format specifier" */
    snprintf(out, n, zero ? "%0*lld" : "%*lld", width, (long long)v);
  } else if (!type) { /* a float as str(): repr, padded */
    char r[40];
    rd_pyfmt_repr(v, r, sizeof r);
    if (prec >= 0) snprintf(r, sizeof r, "%.*g", prec, v);
    const int pad = width - (int)strlen(r), neg = r[0] == '-';
    if (zero && pad > 0) /* '0' pads with zeros after the sign */
      snprintf(out, n, "%s%0*d%s", neg ? "-" : "", pad, 0, r + neg);
    else
      snprintf(out, n, "%*s", width, r);
  } else {
    char f[16];
    snprintf(f, sizeof f, "%%%s*.*%c", zero ? "0" : "", type);
    snprintf(out, n, f, width, prec < 0 ? 6 : prec, v);
  }
  return 0;
bad:
  snprintf(err, en, "{%s:%s}: the format spec is not one reprodist knows ([0][width][.precision][dfeEgG])", name, spec);
  return -1;
}

int rd_pyfmt_format(const char *tmpl, rd_pyfmt_lookup lookup, const void *ctx, char *out, size_t n, char *err,
                    size_t errn) {
  size_t o = 0;
  for (const char *p = tmpl; *p;) {
    if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
      if (o + 1 < n) out[o++] = *p;
      p += 2;
      continue;
    }
    if (*p == '}') {
      snprintf(err, errn, "a single '}' (write '}}' for one)");
      return -1;
    }
    if (*p != '{') {
      if (o + 1 < n) out[o++] = *p;
      p++;
      continue;
    }
    const char *close = strchr(p, '}');
    if (!close) {
      snprintf(err, errn, "a '{' without its '}' (write '{{' for one)");
      return -1;
    }
    char name[128] = "", spec[64] = "";
    const char *colon = memchr(p, ':', (size_t)(close - p));
    const char *ne = colon ? colon : close;
    if ((size_t)(ne - p - 1) >= sizeof name || (colon && (size_t)(close - colon - 1) >= sizeof spec)) {
      snprintf(err, errn, "a field longer than reprodist reads");
      return -1;
    }
    memcpy(name, p + 1, (size_t)(ne - p - 1));
    if (colon) memcpy(spec, colon + 1, (size_t)(close - colon - 1));
    double v = 0;
    int is_int = 0;
    if (!lookup(ctx, name, &v, &is_int)) {
      snprintf(err, errn, "{%s}: no such value (Keras formats the path with epoch and the epoch's logs)", name);
      return -1;
    }
    char f[160];
    if (field(name, spec, v, is_int, f, sizeof f, err, errn)) return -1;
    for (const char *c = f; *c && o + 1 < n; c++) out[o++] = *c;
    p = close + 1;
  }
  out[o < n ? o : n - 1] = '\0';
  return o + 1 < n ? 0 : (snprintf(err, errn, "the formatted path is too long"), -1);
}
