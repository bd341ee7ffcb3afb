/* window: the geometry shared by the layers that slide a window over (height,
 * width): Conv2D and the pooling layers, with Keras' (TensorFlow's) rules.
 *
 *   valid: out = floor((in - k) / s) + 1, no padding (in >= k)
 *   same:  out = ceil(in / s); the padding, max((out - 1) s + k - in, 0), is
 *          split with the smaller half before: pad_before = total / 2
 *
 * Private to src/layers/; a header of functions small enough to inline. */
#ifndef REPRODIST_LAYERS_WINDOW_H
#define REPRODIST_LAYERS_WINDOW_H

#include <stdint.h>

#include "reprodist/layer.h"

typedef struct {
  int64_t k, s;      /* window size and stride along one axis */
  int64_t in, out;   /* input and output length */
  int64_t pad;       /* padding before the first element */
} rd_window;

static const char *const rd_window_paddings[] = {"valid", "same", NULL};

/* Fills w for one axis; returns 0, or -1 when a valid window does not fit. */
static inline int rd_window_axis(rd_window *w, int64_t in, int64_t k, int64_t s, int same) {
  w->k = k, w->s = s, w->in = in;
  if (same) {
    w->out = (in + s - 1) / s;
    int64_t total = (w->out - 1) * s + k - in;
    w->pad = total > 0 ? total / 2 : 0;
    return 0;
  }
  if (in < k) return -1;
  w->out = (in - k) / s + 1;
  w->pad = 0;
  return 0;
}

/* The pooling layers' keys: pool_size ("2" or "2,2"; default 2), strides
 * (default: pool_size, as Keras' strides=None), padding (valid). Reads them
 * all, then checks the input (h, w, c). Returns 0 or build's error value. */
static inline int rd_window_pool_build(const rd_api *rd, rd_build *b, const char *type, const rd_shape *in,
                                       rd_window *h, rd_window *w) {
  const int64_t two[2] = {2, 2};
  int64_t ps[2], st[2];
  int same = 0;
  int bad = rd->get_ints(b, "pool_size", 2, two, 1, 100000, ps) < 0;
  const int has_strides = rd->get_ints(b, "strides", 2, two, 1, 100000, st);
  bad |= has_strides < 0 || rd->get_enum(b, "padding", rd_window_paddings, 0, &same) < 0;
  if (bad) return 1;
  if (has_strides == 0) st[0] = ps[0], st[1] = ps[1];
  if (in->ndim != 3)
    return rd->fail(b, NULL, "[%s] needs an input of (height, width, channels), not %d-D", type, in->ndim);
  if (rd_window_axis(h, in->dim[0], ps[0], st[0], same) || rd_window_axis(w, in->dim[1], ps[1], st[1], same))
    return rd->fail(b, "pool_size", "pool %lldx%lld is larger than the input %lldx%lld (padding = valid)",
                    (long long)ps[0], (long long)ps[1], (long long)in->dim[0], (long long)in->dim[1]);
  return 0;
}

#endif
