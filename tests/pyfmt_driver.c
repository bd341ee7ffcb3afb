/* pyfmt_driver: prints what src/pyfmt.c makes of many values, for
 * tests/pyfmt_check.py to compare with Python's own repr() and str.format():
 *   r HEX REPR            repr of the double HEX (C99 %a)
 *   f TEMPLATE|E|V|OUT    TEMPLATE.format(epoch=E, loss=V) */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pyfmt.h"
#include "seed.h"

typedef struct {
  double e, v;
} vals;

static int lookup(const void *ctx, const char *name, double *v, int *is_int) {
  const vals *x = ctx;
  if (!strcmp(name, "epoch")) return *v = x->e, *is_int = 1, 1;
  if (!strcmp(name, "loss")) return *v = x->v, *is_int = 0, 1;
  return 0;
}

int main(void) {
  char buf[256], err[200];
  static const double special[] = {0.0, -0.0, 1.0, 2.0, 0.1, 0.5, 100.0, 1e15, 1e16, 1.5e16, 123456789012345678.0,
                                   1e-4, 1e-5, 0.00012345, 3.0000001192092896, 1e300, 5e-324, -2.5, NAN, INFINITY,
                                   -INFINITY, 0.30000001192092896};
  for (size_t i = 0; i < sizeof special / sizeof *special; i++) {
    rd_pyfmt_repr(special[i], buf, sizeof buf);
    printf("r %a %s\n", special[i], buf);
  }
  for (uint64_t i = 0; i < 20000; i++) { /* float32 values of every magnitude, widened, as Keras' logs */
    const uint64_t w = rd_seed_word(0x7079666d74, i, 0);
    uint32_t bits = (uint32_t)w;
    float f;
    memcpy(&f, &bits, 4);
    if (!isfinite(f)) continue;
    double d = i % 3 ? (double)f : (double)(w >> 11) * 0x1p-53 * pow(10.0, (double)(i % 40) - 20.0);
    rd_pyfmt_repr(d, buf, sizeof buf);
    printf("r %a %s\n", d, buf);
  }
  static const char *const tmpl[] = {"w.{epoch:02d}-{loss:.2f}.h5", "{epoch}_{loss}", "{epoch:05}{loss:e}{loss:.3E}",
                                     "{{x}}{loss:g}{loss:.3g}{loss:G}", "{loss:010.4f};{loss:8.2f};{epoch:4d}",
                                     "{loss:.0f}{loss:12}{loss:012}"};
  static const double vs[] = {0.1234567, 2.5, 1234567.891, 1e-7, -3.75, 0.30000001192092896, 1e20, 0.0};
  for (size_t t = 0; t < sizeof tmpl / sizeof *tmpl; t++)
    for (size_t k = 0; k < sizeof vs / sizeof *vs; k++) {
      vals x = {(double)(k * 7 + 1), vs[k]};
      if (rd_pyfmt_format(tmpl[t], lookup, &x, buf, sizeof buf, err, sizeof err)) snprintf(buf, sizeof buf, "ERROR %s", err);
      printf("f %s|%.0f|%a|%s\n", tmpl[t], x.e, x.v, buf);
    }
  static const char *const bad[] = {"{nope}", "{loss:d}", "{epoch:.2d}", "{loss", "x}y", "{loss:q}"};
  for (size_t t = 0; t < sizeof bad / sizeof *bad; t++) {
    vals x = {1, 0.5};
    const int rc = rd_pyfmt_format(bad[t], lookup, &x, buf, sizeof buf, err, sizeof err);
    printf("e %s|%d|%s\n", bad[t], rc, rc ? err : buf);
  }
  return 0;
}
