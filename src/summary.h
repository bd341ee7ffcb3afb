/* summary: the model as Keras' model.summary() prints it (`reprodist summary
 * CONFIG`): one row per layer in Keras' model.layers order, with its name and
 * Keras class, output shape (batch axis None), parameter count and, for a
 * graph (a Functional model), the layers it is connected to; then the totals.
 * Prints through rd_log0. No MPI, no files. */
#ifndef REPRODIST_SUMMARY_H
#define REPRODIST_SUMMARY_H

#include <stddef.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

void rd_summary_print(const rd_model *m);
/* Keras' class name of a layer type: "max_pooling2d" -> "MaxPooling2D". */
void rd_summary_class(const char *type, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
