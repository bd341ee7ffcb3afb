/* MyCustomLayer: Keras' custom-layer example in C, as a reprodist plugin.
 *
 * The Keras original (seeded, so that its initial weights are reproducible):
 *
 *     class MyCustomLayer(keras.layers.Layer):
 *         def __init__(self, units, seed=None):
 *             super().__init__()
 *             self.units, self.seed = units, seed
 *         def build(self, input_shape):
 *             self.w = self.add_weight(shape=(input_shape[-1], self.units),
 *                                      initializer=keras.initializers.RandomUniform(seed=self.seed))
 *             self.b = self.add_weight(shape=(self.units,), initializer="zeros")
 *         def call(self, x):
 *             return x @ self.w + self.b
 *
 * Here the same layer is a config section:
 *
 *     [my_custom_layer]
 *     units = 64
 *     seed = 42          # optional: RandomUniform(seed=42); else seed(global seed, layer, "kernel")
 *
 * Build it against an installed reprodist (README.md, "Layers and custom layers"):
 *     cmake -S . -B build -DCMAKE_PREFIX_PATH=<reprodist's install prefix> && cmake --build build */
#include <reprodist/layer.h>

typedef struct {
  int64_t in, units;
} my_custom_layer;

/* Reads units and seed, checks the input, declares w (in, units) and b (units,).
 * Every key is read before build fails: a key left unread is reported as unknown. */
static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  my_custom_layer *p = self;
  const int got = rd->get_int(b, "units", 0, 1, 1000000000, &p->units);
  p->in = in->dim[in->ndim - 1];
  rd_shape w = {2, {p->in, got > 0 ? p->units : 1}}, v = {1, {got > 0 ? p->units : 1}};
  const int kernel = rd->tensor(b, "kernel", &w, NULL, "random_uniform", 1); /* RandomUniform(-0.05, 0.05) */
  const int bias = rd->tensor(b, "bias", &v, NULL, "zeros", 1);
  const int seeded = rd->seed(b, "seed", kernel); /* seed = S: RandomUniform(seed=S) */
  if (got < 0 || kernel < 0 || bias < 0 || seeded < 0) return 1; /* a bad value: reprodist says which */
  if (got == 0) return rd->fail(b, NULL, "[my_custom_layer] needs units = N");
  if (in->ndim != 1) return rd->fail(b, NULL, "[my_custom_layer] needs a flat input (add [flatten] before it)");
  *out = v;
  return 0;
}

/* y (rows, units) = x (rows, in) . w + b */
static void forward(const rd_io *io, const float *x, float *y) {
  const my_custom_layer *p = io->self;
  const float *w = io->w[0], *bias = io->w[1];
  io->rd->gemm(0, 0, io->rows, p->units, p->in, x, p->in, w, p->units, 0.0f, y, p->units);
  for (int64_t r = 0; r < io->rows; r++)
    for (int64_t k = 0; k < p->units; k++) y[r * p->units + k] += bias[k];
}

/* dw = x^T . dy;  db = the column sums of dy, row by row;  dx = dy . w^T */
static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) {
  const my_custom_layer *p = io->self;
  float *dw = io->g[0], *db = io->g[1];
  io->rd->gemm(1, 0, p->in, p->units, io->rows, x, p->in, dy, p->units, 0.0f, dw, p->units);
  for (int64_t k = 0; k < p->units; k++) db[k] = 0.0f;
  for (int64_t r = 0; r < io->rows; r++)
    for (int64_t k = 0; k < p->units; k++) db[k] += dy[r * p->units + k];
  if (dx) io->rd->gemm(0, 1, io->rows, p->in, p->units, dy, p->units, io->w[0], p->units, 0.0f, dx, p->in);
}

static const rd_layer_type my_custom_layer_type = {
    .name = "my_custom_layer",
    .self_size = sizeof(my_custom_layer),
    .build = build,
    .forward = forward,
    .backward = backward,
};

RD_PLUGIN("mylayer", &my_custom_layer_type)
