/* gradcheck: each layer of a model checked by finite differences, for layer
 * authors (`reprodist gradcheck CONFIG`). Layer by layer, through the layer
 * interface alone: random inputs x, the layer's tensors at their initial values
 * moved away from them (each w -> w (1 + 0.6 (u - 0.5)) + 0.2 (v - 0.5): a
 * forgotten factor whose initial value is 1 shows), a random r, and the scalar
 * L = sum(y * r) over the layer's output before its activation (activations are
 * reprodist's own). backward(dy = r) gives dL/dw and dL/dx; each is compared
 * with a central difference of L for a sample of elements. Training mode
 * (dropout's mask and batch statistics as in training). No MPI, no files. */
#ifndef REPRODIST_GRADCHECK_H
#define REPRODIST_GRADCHECK_H

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checks every layer with a forward (reshapes have none) and prints one line
 * per layer through rd_log0, then a verdict. Returns the number of layers that
 * failed (0: every analytic gradient agrees). */
int rd_gradcheck_model(const rd_model *m, rd_kern_mode mode);

#ifdef __cplusplus
}
#endif
#endif
