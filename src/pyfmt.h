/* pyfmt: numbers printed as Python prints them, for the files a Keras user
 * compares with Keras' own (csv_logger's rows, model_checkpoint's file names):
 * repr(float) and str.format's "{name:spec}" placeholders. */
#ifndef REPRODIST_PYFMT_H
#define REPRODIST_PYFMT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* repr(x) of a Python float: the shortest digits that read back as x, in
 * fixed notation for exponents -4..15 ("0.0001", "2.0", "1234.5") and
 * scientific outside them ("1e-05", "1.5e+16"); "nan", "inf", "-inf". */
void rd_pyfmt_repr(double x, char *buf, size_t n);

/* Python's str.format over a template with {name} and {name:spec} fields and
 * {{ }} escapes. lookup(ctx, name, &value, &is_int) gives a field's value (an
 * int or a float) or returns 0 for an unknown name. A spec is
 * [0][width][.precision][type] with type d (ints only), f, e, E, g, G, or
 * none (an int as itself, a float as repr). Returns 0, or -1 with why (a
 * sentence naming the field) in err. */
typedef int (*rd_pyfmt_lookup)(const void *ctx, const char *name, double *value, int *is_int);
int rd_pyfmt_format(const char *tmpl, rd_pyfmt_lookup lookup, const void *ctx, char *out, size_t n, char *err,
                    size_t errn);

#ifdef __cplusplus
}
#endif
#endif
