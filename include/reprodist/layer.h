/* reprodist/layer.h: the layer interface. Built-in layers and your own are
 * written against this header alone, in one C file each.
 *
 * A layer type is one const struct of function pointers (rd_layer_type). Its
 * name is a config section: a type named "my_custom_layer" is used as
 *
 *     [my_custom_layer]
 *     units = 10
 *     seed = 42
 *
 * and unnamed instances are called my_custom_layer, my_custom_layer_1, ... as
 * Keras names them. reprodist's own layers (src/layers/) register exactly as
 * yours do; yours come from a shared library named in the config:
 *
 *     [run]
 *     plugins = path/libmylayer.so
 *
 * ---- Example: Keras' custom layer, y = x @ w + b --------------------------
 *
 *     #include <reprodist/layer.h>
 *
 *     typedef struct { int64_t units; } mine;            // the layer's own settings
 *
 *     static int build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
 *       mine *p = self;
 *       int got = rd->get_int(b, "units", 0, 1, 1000000000, &p->units);
 *       rd_shape k = {2, {in->dim[0], got > 0 ? p->units : 1}}, v = {1, {k.dim[1]}};
 *       int kernel = rd->tensor(b, "kernel", &k, NULL, "random_uniform", 1);  // like RandomUniform(seed)
 *       int bias = rd->tensor(b, "bias", &v, NULL, "zeros", 1);
 *       int seeded = rd->seed(b, "seed", kernel);        // seed = 42 in the section: an explicit seed
 *       if (got < 0 || kernel < 0 || bias < 0 || seeded < 0) return 1;  // reprodist names the bad value
 *       if (got == 0) return rd->fail(b, NULL, "[my_custom_layer] needs units = N");
 *       if (in->ndim != 1) return rd->fail(b, NULL, "[my_custom_layer] needs a flat input");
 *       *out = v;
 *       return 0;
 *     }
 *     static void forward(const rd_io *io, const float *x, float *y) {
 *       const mine *p = io->self;                        // y (rows, units) = x (rows, in) . w + b
 *       io->rd->gemm(0, 0, io->rows, p->units, io->in->dim[0], x, io->in->dim[0], io->w[0], p->units, 0.0f, y, p->units);
 *       for (int64_t r = 0; r < io->rows; r++)
 *         for (int64_t k = 0; k < p->units; k++) y[r * p->units + k] += io->w[1][k];
 *     }
 *     static void backward(const rd_io *io, const float *x, const float *y, float *dy, float *dx) { ... }
 *
 *     static const rd_layer_type my_custom_layer = {
 *       .name = "my_custom_layer", .self_size = sizeof(mine),
 *       .build = build, .forward = forward, .backward = backward};
 *     RD_PLUGIN("mylayer", &my_custom_layer)
 *
 * examples/custom_layer/ is this example whole, with its CMake build and config.
 *
 * ---- Checking your gradients -------------------------------------------------
 *     reprodist gradcheck my.cfg --plugin libmylayer.so
 * checks every layer of my.cfg by finite differences, one line per layer, at
 * random inputs and with the tensors moved away from their initial values (a
 * factor that starts at 1 cannot hide a missing term): dL/dw for each
 * trainable tensor and dL/dx, for L = sum(y * r), r random. Exit 0 when all
 * agree, 1 when one does not (its line says FAIL and names the derivative).
 *
 * ---- Shapes ------------------------------------------------------------------
 * Shapes are per sample, channels last (NHWC without the N), as in Keras:
 * (features,) for flat data, (height, width, channels) for images. A shard of
 * `rows` samples is stored row-major: sample r occupies floats
 * [r * numel(shape), (r + 1) * numel(shape)). Tensor shapes are Keras' own:
 * a Dense kernel is (in, units), a Conv2D kernel (kh, kw, in, filters).
 *
 * ---- Who owns what -----------------------------------------------------------
 * Every buffer a layer sees belongs to reprodist, is 64-byte aligned, and stays
 * valid only for the call: x, y, dy, dx, the tensors w, the gradients g, the
 * workspace and the statistics slot. `self` (self_size bytes, zeroed before
 * build) belongs to the layer instance; build fills it, forward and backward
 * only read it. Nothing a layer returns is freed by reprodist.
 *
 * ---- What a layer may and may not do -------------------------------------------
 * - forward and backward allocate nothing (no malloc, no VLA of unbounded size):
 *   whatever they need beyond x, y, dy, dx is the workspace, whose size the
 *   layer states once (workspace). They print nothing and open no files.
 * - A layer never sees MPI, the rank or the rank count: the same shard gives the
 *   same call, with the same rows, on whichever rank computes it. Its results
 *   may depend only on its arguments.
 * - Floating point: the order of every sum is fixed by the code, never by the
 *   data or a thread count. Matrix products go through rd->gemm, whose result
 *   depends only on the shapes and the values; its shapes must depend only on
 *   rows and the layer's shapes.
 * - Every random draw is counter-based, keyed by global indices: rd->word(seed,
 *   i, j), with io->seed (the layer's seed), the iteration (io->iteration), the
 *   global sample index (io->sample[r]) and the element. Never a rank, a shard
 *   number, a thread or a call count. Initial values are not drawn by the layer
 *   at all: it declares its tensors with Keras initializers (rd->tensor), and
 *   reprodist fills them from seed(global seed, layer name, tensor name).
 *
 * ---- Activations ---------------------------------------------------------------
 * A layer with a Keras `activation` argument reads it with rd->activation. The
 * activation is then reprodist's part: forward writes the pre-activation output
 * into y and reprodist applies the activation in place; backward receives dy
 * already multiplied by the activation's derivative (a type may take a relu
 * into its own passes instead: RD_LAYER_TAKES_RELU). (So softmax followed by
 * crossentropy is computed from the logits, for every layer type.)
 *
 * ---- Building a plugin -----------------------------------------------------------
 *     find_package(reprodist REQUIRED)
 *     reprodist_add_layer(mylayer my_layer.c)    # -> libmylayer.so, with the
 *                                                # floating-point flags reprodist needs
 * or: cc -shared -fPIC $(pkg-config --cflags reprodist) my_layer.c -o libmylayer.so
 * A plugin links nothing of reprodist: everything it calls comes through the
 * rd_api table, so the same .so works with any reprodist of the same
 * RD_LAYER_ABI. Its bytes are part of a run's identity: every rank must load the
 * same file (the environment fingerprint compares the plugins' XXH64), and the
 * weights file and checkpoints record it. */
#ifndef REPRODIST_LAYER_H
#define REPRODIST_LAYER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The interface version. A plugin built against another version is refused,
 * except version 1 (one input per layer): such plugins load and run as before. */
#define RD_LAYER_ABI 2

/* Most inputs a layer may take (a merge such as [add] or [concatenate]). */
#define RD_MAX_INPUTS 16

#define RD_MAX_DIMS 4

/* A per-sample shape (no batch axis), channels last. ndim 1..3 for activations,
 * 1..4 for tensors. */
typedef struct rd_shape {
  int ndim;
  int64_t dim[RD_MAX_DIMS];
} rd_shape;

static inline int64_t rd_shape_numel(const rd_shape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->ndim; i++) n *= s->dim[i];
  return n;
}

/* The build context: the layer's config section and its model. Opaque. */
typedef struct rd_build rd_build;
typedef struct rd_api rd_api;

/* What forward and backward are told about the shard they run on. */
typedef struct rd_io {
  const rd_api *rd;          /* the functions a layer may call */
  const void *self;          /* the layer's own struct, as build left it */
  const rd_shape *in, *out;  /* per-sample shapes */
  int64_t rows;              /* samples in this shard (1 .. the shard size) */
  int training;              /* 1 in a training step, 0 in evaluation */
  uint64_t iteration;        /* training: the optimizer step this pass belongs to, from 0 */
  const uint32_t *sample;    /* global index (row of the dataset) of each row's sample */
  uint64_t seed;             /* the layer's draw seed: seed(global seed, layer name, "")
                                or the explicit one set with rd->seed(b, key, -1) */
  const float *const *w;     /* the layer's tensors, in the order build declared them */
  float *const *g;           /* backward: their gradients, NULL for non-trainable ones */
  float *ws;                 /* the workspace (workspace() floats); kept from forward to
                                the backward of the same shard, undefined at forward */
  float *stats;              /* training forward: the statistics slot (stats_size floats) */
  /* Since ABI 2. A layer with several inputs (build_n): their number and
   * shapes, in the order of its `inputs` key (in == &ins[0]). 1 and in for
   * every other layer. */
  int nin;
  const rd_shape *ins;
  /* Added after 0.2.0, still ABI 2 (it is 0 for every type without
   * RD_LAYER_TAKES_RELU). 1 when the layer applies the relu after it itself
   * (see that flag), in forward and backward. */
  int relu;
} rd_io;

typedef struct rd_layer_type {
  /* The config section, and Keras' automatic-name prefix: lower-case letters,
   * digits and '_', e.g. "dense", "max_pooling2d", "my_custom_layer". */
  const char *name;
  /* Bytes of the per-instance struct passed to every call as self (0: none). */
  size_t self_size;
  /* RD_LAYER_RESHAPE: the output is the input reinterpreted in another shape
   * (Keras' Flatten, Reshape): no forward, no backward, no buffers.
   * RD_LAYER_NO_Y: backward never reads y. An Activation layer that is the
   * only reader of such a layer's output (which has no activation of its
   * own) then runs in place on that output: the same values, one pass over
   * them and one buffer fewer, forward and backward.
   * RD_LAYER_TAKES_RELU: when the activation after the layer is relu (its
   * own, or an Activation layer fused into it), io->relu is 1 and the layer
   * applies it in its own passes: forward writes y > 0 ? y : 0 where it
   * writes y, and backward receives dy = dL/d(relu's output) and uses
   * y > 0 ? dy : 0 in its place, y being relu's output. The same operations,
   * so the bits of the separate pass, with one pass fewer each way. */
  unsigned flags;

  /* Reads the section's keys (each key read is marked; a key no layer reads is
   * an error naming its file and line), checks the input shape, declares the
   * tensors and sets *out. Returns 0, or nonzero after an error: a bad value
   * (the getters record it) or rd->fail(...). Read every key you know before
   * returning an error: a key left unread is reported as unknown, before the
   * error (a misspelt key is the likeliest cause of, say, a missing one).
   * Called once per layer, before anything else. */
  int (*build)(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out);

  /* Floats of workspace for a shard of up to max_rows samples (NULL: none). */
  size_t (*workspace)(const void *self, const rd_shape *in, const rd_shape *out, int64_t max_rows);

  /* y (rows, out) from x (rows, in). Must write every element of y. */
  void (*forward)(const rd_io *io, const float *x, float *y);

  /* Given x and y of this shard's forward and dy = dL/dy (rows, out), which it
   * may overwrite: writes every element of each trainable tensor's gradient
   * io->g[t] (overwriting, not adding: the gradient of this shard alone), and
   * dx = dL/dx (rows, in) unless dx is NULL (the first layer). */
  void (*backward)(const rd_io *io, const float *x, const float *y, float *dy, float *dx);

  /* ---- Batch statistics (optional; BatchNormalization's moving averages) ----
   * stats_size: floats each training shard contributes (NULL or 0: none).
   * Training forward writes them to io->stats. After every step, the slots of
   * all the batch's shards are summed along reprodist's canonical tree (the
   * same bits at any rank count) and stats_apply receives that sum, the number
   * of shards and of samples in the batch, and the layer's tensors, writable:
   * it updates its non-trainable ones. Called once per step on every rank. */
  size_t (*stats_size)(const void *self, const rd_shape *in, const rd_shape *out);
  void (*stats_apply)(const rd_api *rd, const void *self, const float *sum, int64_t shards, int64_t samples,
                      float *const *w);

  /* ---- Several inputs (since ABI 2; optional) ---------------------------------
   * A layer that takes several inputs (Keras' merge layers: Add, Concatenate)
   * sets these three instead of build, forward and backward. It receives nin
   * inputs, in the order the config's `inputs` key names them, one shape each:
   * build_n checks nin and the shapes (rd->fail names both shapes of a
   * mismatch) and sets *out; workspace and stats_size get ins[0].
   * forward_n reads x[i] (rows, ins[i]) for each i and writes y (rows, out).
   * backward_n writes every element of each dx[i] (rows, ins[i]) that is not
   * NULL (an input that needs no gradient: the model input), overwriting it.
   * The dx[i] never alias each other, x or y. When one output feeds several
   * layers, reprodist sums their dx (layer.h's rule below), never the layer. */
  int (*build_n)(const rd_api *rd, rd_build *b, void *self, int nin, const rd_shape *ins, rd_shape *out);
  void (*forward_n)(const rd_io *io, const float *const *x, float *y);
  void (*backward_n)(const rd_io *io, const float *const *x, const float *y, float *dy, float *const *dx);
} rd_layer_type;

#define RD_LAYER_RESHAPE 1u
#define RD_LAYER_NO_Y 2u
#define RD_LAYER_TAKES_RELU 4u

/* Flags of rd_api.get_float: the bounds lo / hi are excluded. */
#define RD_LO_OPEN 1u
#define RD_HI_OPEN 2u

struct rd_api {
  uint32_t abi; /* RD_LAYER_ABI */

  /* ---- build: the section's keys --------------------------------------------
   * Each reads `key` from the layer's section, marks it read and checks it.
   * Return 1 if the key is set (and *out holds it), 0 if absent (*out = dflt),
   * -1 if its value is bad: the error is recorded with the file and line, and
   * build should finish reading and return nonzero. Integers are in [lo, hi]. */
  int (*get_int)(rd_build *b, const char *key, int64_t dflt, int64_t lo, int64_t hi, int64_t *out);
  /* An int or a comma list of n ints ("3" or "3,3", as Keras' kernel_size=3 or
   * (3, 3)); a single value is repeated n times. dflt has n values. */
  int (*get_ints)(rd_build *b, const char *key, int n, const int64_t *dflt, int64_t lo, int64_t hi, int64_t *out);
  int (*get_u64)(rd_build *b, const char *key, uint64_t dflt, uint64_t *out);
  /* A finite decimal number in [lo, hi]; flags RD_LO_OPEN / RD_HI_OPEN exclude a bound. */
  int (*get_float)(rd_build *b, const char *key, double dflt, double lo, double hi, unsigned flags, double *out);
  int (*get_bool)(rd_build *b, const char *key, int dflt, int *out);
  /* One of names (NULL-terminated); *out is its index. dflt is an index. */
  int (*get_enum)(rd_build *b, const char *key, const char *const *names, int dflt, int *out);
  /* A per-sample shape: 1 to 3 integers >= 1 separated by commas ("28,28,1"). */
  int (*get_shape)(rd_build *b, const char *key, rd_shape *out);

  /* The Keras activation argument: reads key (linear, relu, tanh, sigmoid,
   * softmax; dflt if absent). See "Activations" above. */
  int (*activation)(rd_build *b, const char *key, const char *dflt);

  /* Declares a tensor; returns its index t (io->w[t]), counting from 0 in
   * declaration order, or -1 after an error. Trainable tensors come first, as
   * Keras orders a layer's weights. Its initial values come from a Keras
   * initializer: with keys = NULL, `init` (e.g. "zeros", "glorot_uniform")
   * with Keras' defaults; with keys = "kernel_", the keys kernel_initializer
   * (default `init`), its parameters (kernel_minval, kernel_stddev, ...) and
   * kernel_seed are read as for [dense]. Its seed is seed(global seed, layer
   * name, tensor name) unless an explicit one is set. With keys, a trainable
   * tensor also takes kernel_regularizer = l1 | l2 | l1_l2 with kernel_l1 and
   * kernel_l2 (Keras' kernel_regularizer; see regularize below). */
  int (*tensor)(rd_build *b, const char *name, const rd_shape *shape, const char *keys, const char *init,
                int trainable);
  /* Reads `key` as an explicit seed (an unsigned 64-bit integer, like Keras'
   * RandomUniform(seed=42)) for tensor t, or for the layer's draws (io->seed)
   * when t = -1. Returns 1 if set, 0 if not, -1 if bad. */
  int (*seed)(rd_build *b, const char *key, int t);

  /* Records the layer's error with the section's file and line (or key's, when
   * key is set and present) and returns nonzero, for build to return:
   *   return rd->fail(b, "pool_size", "pool_size %lld is larger than the input", ...); */
  int (*fail)(rd_build *b, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
  /* For a key the layer does not read in this configuration: if it is set, the
   * message says why instead of "unknown key" (e.g. "is set but use_bias = false"). */
  void (*not_applicable)(rd_build *b, const char *key, const char *why);

  /* ---- forward and backward: math -------------------------------------------
   * C (m, n) = beta * C + op(A) (m, k) . op(B) (k, n), row-major; op(X) = X, or
   * its transpose when trans_x is 1. beta is 0 or 1. The result depends only on
   * the shapes and the values (the same bits on every rank). With [train]
   * kernels = portable, element (i, j) is one fmaf chain over k in increasing
   * order from 0 (beta 0) or C (beta 1), on every CPU (docs/PORTABLE.md). */
  void (*gemm)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
               const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
  /* Counter-based draws (docs/SEEDS.md): word(seed, i, j) = XXH64(le64(i) ||
   * le64(j), seed); uniform(w) = (w >> 11) * 2^-53, in [0, 1). */
  uint64_t (*word)(uint64_t seed, uint64_t i, uint64_t j);
  double (*uniform)(uint64_t word);
  /* float exp, log and tanh: the ones reprodist's own layers use (libm's; with
   * kernels = portable, docs/PORTABLE.md's, the same bits on every CPU).
   * gemm, exp, log and tanh are for forward, backward and stats_apply: a build
   * always gets the openblas ones. */
  float (*exp)(float x);
  float (*log)(float x);
  float (*tanh)(float x);

  /* ---- since ABI 2 ------------------------------------------------------------
   * A comma list of nmin..nmax ints in [lo, hi] (Keras' padding = 1, (1, 2)
   * or ((1, 2), (3, 4)) as "1", "1,2" or "1,2,3,4"): *n values in out. Returns
   * as get_int; absent, out holds the ndflt values of dflt. */
  int (*get_int_list)(rd_build *b, const char *key, int nmin, int nmax, const int64_t *dflt, int ndflt, int64_t lo,
                      int64_t hi, int64_t *out, int *n);
  /* Puts Keras' L1L2(l1, l2) on the layer's trainable tensor t, as a custom
   * layer's add_weight(regularizer=keras.regularizers.L1L2(l1, l2)) does:
   * l1 sum |w| + l2 sum w^2 joins the loss and its gradient the tensor's. (A
   * tensor declared with keys, e.g. "kernel_", also takes kernel_regularizer,
   * kernel_l1 and kernel_l2 from the section; this call replaces them.)
   * Returns 0, or nonzero after recording an error (a non-trainable tensor, a
   * factor outside [0, 1e6]). Appended to ABI 2 in reprodist 0.23. */
  int (*regularize)(rd_build *b, int t, double l1, double l2);

  /* ---- appended to ABI 2 in reprodist 0.24 (the image augmentation layers) ----
   * A comma list of nmin..nmax finite numbers in [lo, hi] (flags as get_float),
   * e.g. Keras' factor = 0.2 or (-0.1, 0.3) as "0.2" or "-0.1,0.3": *n values
   * in out. Returns as get_int; absent, *n = 0 and out is untouched. */
  int (*get_floats)(rd_build *b, const char *key, int nmin, int nmax, double lo, double hi, unsigned flags,
                    double *out, int *n);
  /* sin and cos of a double in [-2^20, 2^20], from +, -, *, / alone: the same
   * bits on every CPU in both kernel modes (a geometry that must not depend on
   * the machine's libm; within 2e-15 of the true value). */
  double (*sin)(double x);
  double (*cos)(double x);
  /* A standard normal draw for element i of stream `seed` (docs/SEEDS.md, as
   * the normal initializers draw); *j is the element's next unused draw
   * index, from 0. */
  double (*normal)(uint64_t seed, uint64_t i, uint64_t *j);

  /* ---- appended to ABI 2 after 0.24 (the convolution's row blocks) ---------
   * 1 when gemm is portable mode's: each element's fmaf chain does not depend
   * on the shapes, so a layer may split a product along m (rows of C), or
   * along k with beta 1 for every part after the first, or pass an operand
   * stored in the other orientation, without changing a bit; and the
   * portable gemm reads an operand's rows wherever lda puts them, even
   * overlapping (lda less than the row). conv2d computes a shard's im2col in
   * cache-sized row blocks, its dcol from the kernel transposed once, and at
   * stride 1 reads the input in place, one kernel row at a time, with lda =
   * its channels, instead of building im2col. 0 with
   * kernels = openblas, whose bits depend on the shapes: keep them whole
   * (and in both modes under RD_UNFUSED=1, the diagnostic that runs every
   * pass as written). */
  int gemm_chains;

  /* ---- appended to ABI 2 after 0.2.0 (batched draws) -------------------------
   * out[k] = word(seed, i0 + k, j) for k in [0, n): the same words, about ten
   * times faster than n calls of word on an AVX-512 CPU (vectorized). Dropout
   * draws a row's mask through it. */
  void (*words)(uint64_t seed, uint64_t i0, int64_t n, uint64_t j, uint64_t *out);

  /* ---- appended to ABI 2 after 0.2.0 (folded weight gradients) ---------------
   * gemm, for a product with beta 0 whose C is one of the layer's gradients
   * (rows ldc = n apart within io->g[t]) that the layer neither reads nor
   * writes again in this backward pass. reprodist may then add the product
   * into the canonical sum as it leaves the registers, instead of storing it
   * (the same bits: the push's additions, in its order). Dense computes its
   * kernel's gradient through it. Anything else: gemm. */
  void (*gemm_grad)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                    const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
};

/* What a plugin exports: RD_PLUGIN("name", &type_a, &type_b, ...) defines it. */
typedef struct rd_plugin {
  uint32_t abi; /* RD_LAYER_ABI of the header the plugin was built with */
  const char *name;
  int ntypes;
  const rd_layer_type *const *types;
} rd_plugin;

#define RD_PLUGIN_SYMBOL "reprodist_plugin"

#define RD_PLUGIN(plugin_name, ...)                                                                 \
  static const rd_layer_type *const rd_plugin_types_[] = {__VA_ARGS__};                            \
  static const rd_plugin rd_plugin_info_ = {RD_LAYER_ABI, plugin_name,                             \
                                            (int)(sizeof rd_plugin_types_ / sizeof rd_plugin_types_[0]), \
                                            rd_plugin_types_};                                     \
  __attribute__((visibility("default"))) const rd_plugin *reprodist_plugin(void);                 \
  const rd_plugin *reprodist_plugin(void) { return &rd_plugin_info_; }

#ifdef __cplusplus
}
#endif
#endif
