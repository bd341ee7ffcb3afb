/* test_layers: every registered layer type, walked through the code training
 * runs (rd_shard_pass), as ggml's test-backend-ops walks every op.
 *
 * For each case (a small model; a case covers the layer types it uses):
 *  1. Gradient check: every trainable parameter's analytic gradient matches
 *     the central difference (L(w + h) - L(w - h)) / 2h of the mean loss, to a
 *     tolerance float32 rounding explains and a wrong derivative does not (the
 *     test shows it catches a deliberately wrong gradient). A layer's dL/dx is
 *     checked through the parameters of the layers before it.
 *  2. The same bits twice: two training passes whose buffers (gradients,
 *     activations, workspaces) were filled with different garbage before give
 *     the same loss and gradient, and every gradient element is written.
 *  3. Nothing allocated: rd_shard_pass, forward and backward of every layer,
 *     makes no malloc/calloc/realloc/aligned_alloc call (after one warm-up).
 *  4. Forward groups (shard.h), for the cases that have them: one forward pass
 *     over several shards, then each shard's loss and backward, give each
 *     shard the bits of its own rd_shard_pass, and allocate nothing.
 * Every registered type must be covered by a case, or the test fails; plugin
 * types come with their cases:
 *     test_layers [--plugin LIB.so]... [CASE.cfg]...
 * A case is a config; its [train] loss is the loss checked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "job.h"
#include "mem.h"
#include "model.h"
#include "registry.h"
#include "seed.h"
#include "shard.h"

static int passes, fails;

/* ---- counting allocations ------------------------------------------------------------ */

static volatile int g_counting;
static volatile long g_allocs;

#if !defined(__SANITIZE_ADDRESS__) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
/* ASan owns malloc; it calls these hooks on every allocation. */
/* From compiler-rt's sanitizer/allocator_interface.h (gcc installs no such header). */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void on_malloc(const volatile void *p, size_t n) {
  (void)p, (void)n;
  if (g_counting) g_allocs++;
}
static void on_free(const volatile void *p) { (void)p; }
static void count_init(void) { __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free); }
#else
/* glibc: this program's allocator functions stand in for libc's everywhere
 * (symbol interposition) and forward to it. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
void *malloc(size_t n) {
  if (g_counting) g_allocs++;
  return __libc_malloc(n);
}
void *calloc(size_t k, size_t n) {
  if (g_counting) g_allocs++;
  return __libc_calloc(k, n);
}
void *realloc(void *p, size_t n) {
  if (g_counting) g_allocs++;
  return __libc_realloc(p, n);
}
void *aligned_alloc(size_t a, size_t n) {
  if (g_counting) g_allocs++;
  return __libc_memalign(a, n);
}
int posix_memalign(void **p, size_t a, size_t n) {
  if (g_counting) g_allocs++;
  *p = __libc_memalign(a, n);
  return *p ? 0 : 12;
}
void free(void *p) { __libc_free(p); }
static void count_init(void) {}
#endif

/* ---- one case ----------------------------------------------------------------------------- */

typedef struct {
  rd_job j;
  rd_shard k;
  int64_t S;
  float *p, *g, *stats, *scratch;
} bench;

static double train_pass(bench *b, float *g) {
  rd_shard_metrics c;
  const rd_pass train = {b->S, g, b->stats, 3, NULL, 0};
  return rd_shard_pass(&b->k, b->p, b->S, &train, &c);
}

/* The mean loss of a training pass (dropout masks and batch statistics as in
 * the pass whose gradient is checked), with the gradient into scratch. */
static double mean_loss(bench *b) { return train_pass(b, b->scratch) / (double)b->S; }

/* Fills every buffer a pass writes with garbage derived from `salt`. */
static void scribble(bench *b, uint64_t salt) {
  const rd_model *m = &b->j.model;
  const int64_t S = b->S;
  for (int l = 0; l < m->nlayers; l++) {
    const rd_layer *ly = &m->layers[l];
    if ((ly->type->flags & RD_LAYER_RESHAPE) || ly->fused) continue; /* views: no buffers of their own */
    int64_t n = S * rd_shape_numel(&ly->out);
    for (int64_t i = 0; i < n; i++) b->k.act[l][i] = (float)rd_seed_uniform(rd_seed_word(salt, (uint64_t)i, l));
    size_t ws = ly->type->workspace ? ly->type->workspace(ly->self, &ly->in, &ly->out, S) : 0;
    for (size_t i = 0; i < ws; i++) b->k.ws[l][i] = (float)rd_seed_uniform(rd_seed_word(salt + 1, i, l));
  }
  for (int k = 0; k < b->k.nbuf; k++)
    for (int64_t i = 0; i < b->k.bufn[k]; i++)
      b->k.buf[k][i] = (float)rd_seed_uniform(rd_seed_word(salt + 2 + (uint64_t)k, (uint64_t)i, 0));
}

static int gradcheck(const char *name, const char *text, int corrupt) {
  bench b;
  memset(&b, 0, sizeof b);
  rd_err e = {0};
  if (rd_job_load(&b.j, name, text, strlen(text), NULL, 0, 0, &e)) {
    printf("  %s: config: %s\n", name, e.msg);
    rd_job_free(&b.j);
    return 1;
  }
  const rd_model *m = &b.j.model;
  const int64_t S = b.S = 5;
  rd_shard_init(&b.k, m, S, &b.j.train.loss, b.j.train.kernels);
  b.p = rd_mem_alloc_f32(m->nparams);
  b.g = rd_mem_alloc_f32(m->ntrain + 1);
  float *g2 = rd_mem_alloc_f32(m->ntrain + 1);
  b.stats = rd_mem_alloc_f32(m->nstats + 1);
  b.scratch = rd_mem_alloc_f32(m->ntrain + 1);
  rd_model_init_params(m, b.p);
  /* Non-zero biases so that bias paths and ReLU kinks are exercised. */
  for (size_t i = 0; i < m->nparams; i++) b.p[i] += (float)(0.1 * (rd_seed_uniform(rd_seed_word(5, i, 0)) - 0.5));
  for (int64_t i = 0; i < S * rd_shape_numel(&m->input); i++) b.k.x[i] = (float)rd_seed_uniform(rd_seed_word(3, (uint64_t)i, 0));
  for (int64_t i = 0; i < S; i++) {
    b.k.y[i] = (int32_t)rd_seed_below(rd_seed_word(4, (uint64_t)i, 0), (uint64_t)b.k.C);
    b.k.sample[i] = (uint32_t)(100 + 7 * i);
  }
  int bad = 0;
  /* 2 and 3: same bits twice from different garbage, every element written, no allocation. */
  for (size_t i = 0; i <= m->ntrain; i++) b.g[i] = NAN, g2[i] = 1e30f;
  scribble(&b, 11);
  train_pass(&b, g2); /* warm-up: OpenBLAS sets itself up on its first call */
  scribble(&b, 12);
  g_allocs = 0, g_counting = 1;
  const double l1 = train_pass(&b, b.g);
  g_counting = 0;
  const long allocs = g_allocs;
  for (size_t i = 0; i <= m->ntrain; i++) g2[i] = -NAN;
  scribble(&b, 13);
  const double l2 = train_pass(&b, g2);
  size_t unwritten = 0;
  for (size_t i = 0; i < m->ntrain; i++) unwritten += !isfinite(b.g[i]);
  if (l1 != l2 || memcmp(b.g, g2, sizeof(float) * m->ntrain)) {
    printf("  %s: two passes gave different bits (loss %.17g vs %.17g)\n", name, l1, l2);
    bad++;
  }
  if (unwritten) {
    printf("  %s: %zu gradient elements not written by backward\n", name, unwritten);
    bad++;
  }
  if (allocs) {
    printf("  %s: a training pass allocated memory %ld times\n", name, allocs);
    bad++;
  }
  if (corrupt) b.g[m->ntrain / 2] = -b.g[m->ntrain / 2] + 0.05f;
  /* 1. Finite differences. */
  int wrong = 0, kinks = 0;
  double worst = 0;
  const double l0 = mean_loss(&b);
  for (size_t i = 0; i < m->ntrain; i++) {
    const float h = 2e-3f, w0 = b.p[i];
    b.p[i] = w0 + h;
    double lp = mean_loss(&b);
    b.p[i] = w0 - h;
    double lm = mean_loss(&b);
    b.p[i] = w0;
    double num = (lp - lm) / (double)(2.0f * h), ana = b.g[i];
    /* A ReLU kink within h of a pre-activation makes the loss non-differentiable
     * there: the one-sided quotients then disagree. Such parameters are counted
     * and skipped; a smooth loss never shows this (curvature * h is tiny). */
    double dr = (lp - l0) / h, dl = (l0 - lm) / h;
    if (fabs(dr - dl) > 0.2 * (fabs(dr) + fabs(dl)) + 2e-3) {
      kinks++;
      continue;
    }
    double err = fabs(num - ana) / (1e-3 + fabs(num) + fabs(ana));
    if (err > worst) worst = err;
    if (err > 0.05 && fabs(num - ana) > 2e-3) {
      if (wrong < 3 && !corrupt) printf("  %s: param %zu analytic %.6g numeric %.6g\n", name, i, ana, num);
      wrong++;
    }
  }
  if (!corrupt)
    printf("%s: %zu parameters, worst relative error %.2e, %d skipped at ReLU kinks\n", name, m->ntrain, worst, kinks);
  /* Skipping must stay the exception, or the check proves nothing. */
  if (kinks * 10 > (int)m->ntrain) {
    printf("  %s: %d of %zu parameters sit at kinks: too many to trust the check\n", name, kinks, m->ntrain);
    wrong++;
  }
  free(b.p), free(b.g), free(g2), free(b.stats), free(b.scratch);
  rd_shard_free(&b.k);
  rd_job_free(&b.j);
  return bad + wrong;
}

/* 4. Forward groups (shard.h): for a model that has them, one forward pass
 * over three shards' rows (5, 5 and 3), then each shard's loss and backward
 * pass, give each shard the bits of rd_shard_pass over its rows alone: its
 * loss, metrics and gradient; and allocate nothing. Returns problems found
 * (0 for a model without groups, *checked 0). */
static int groups(const char *name, const char *text, int *checked) {
  rd_job j;
  rd_err e = {0};
  *checked = 0;
  if (rd_job_load(&j, name, text, strlen(text), NULL, 0, 0, &e)) return 0; /* gradcheck reported it */
  const rd_model *m = &j.model;
  if (!rd_shard_groupable(m, j.train.kernels)) {
    rd_job_free(&j);
    return 0;
  }
  *checked = 1;
  enum { S = 5, G = 3 };
  const int64_t rows[G] = {5, 5, 3}, in = rd_shape_numel(&m->input);
  rd_shard one, grp;
  rd_shard_init(&one, m, S, &j.train.loss, j.train.kernels);
  rd_shard_init_group(&grp, m, S, G, &j.train.loss, j.train.kernels);
  float *p = rd_mem_alloc_f32(m->nparams), *g1 = rd_mem_alloc_f32(m->ntrain + 1), *g2 = rd_mem_alloc_f32(m->ntrain + 1);
  rd_model_init_params(m, p);
  int64_t n = 0;
  for (int s = 0; s < G; s++) n += rows[s];
  for (int64_t i = 0; i < n * in; i++) grp.x[i] = (float)rd_seed_uniform(rd_seed_word(23, (uint64_t)i, 0)) - 0.5f;
  for (int64_t i = 0; i < n; i++) {
    grp.y[i] = (int32_t)rd_seed_below(rd_seed_word(24, (uint64_t)i, 0), (uint64_t)grp.C);
    grp.sample[i] = (uint32_t)(1000 + 13 * i);
  }
  int bad = 0;
  for (int round = 0; round < 2; round++) { /* the first warms up; the second counts allocations */
    g_allocs = 0, g_counting = round;
    rd_shard_forward(&grp, p, n, 1, 7);
    g_counting = 0;
    for (int s = 0, r0 = 0; s < G; r0 += (int)rows[s++]) {
      memcpy(one.x, grp.x + r0 * in, sizeof(float) * (size_t)(rows[s] * in));
      memcpy(one.y, grp.y + r0, sizeof(int32_t) * (size_t)rows[s]);
      memcpy(one.sample, grp.sample + r0, sizeof(uint32_t) * (size_t)rows[s]);
      const rd_pass pass1 = {n, g1, NULL, 7, NULL, 1}, pass2 = {n, g2, NULL, 7, NULL, 1};
      rd_shard_metrics c1, c2;
      for (size_t i = 0; i <= m->ntrain; i++) g1[i] = NAN, g2[i] = -NAN;
      const double l1 = rd_shard_pass(&one, p, rows[s], &pass1, &c1);
      g_counting = round;
      const double l2 = rd_shard_finish(&grp, p, r0, rows[s], &pass2, &c2);
      g_counting = 0;
      if (round && (l1 != l2 || c1.correct != c2.correct || c1.weight != c2.weight || c1.top_k != c2.top_k ||
                    memcmp(g1, g2, sizeof(float) * m->ntrain))) {
        printf("  %s: shard %d of a forward group: not the bits of its own pass (loss %.17g vs %.17g)\n", name, s, l2,
               l1);
        bad++;
      }
    }
    if (round && g_allocs) {
      printf("  %s: a forward group allocated memory %ld times\n", name, (long)g_allocs);
      bad++;
    }
  }
  free(p), free(g1), free(g2);
  rd_shard_free(&one);
  rd_shard_free(&grp);
  rd_job_free(&j);
  return bad;
}

/* ---- the cases ------------------------------------------------------------------------------- */

#define MLP(hidden_act, last_act, bias, loss)                                               \
  "[run]\nseed = 11\n[model]\ninput = 5\n[dense]\nunits = 4\nactivation = " hidden_act        \
  "\nuse_bias = " bias "\n[dense]\nunits = 3\nactivation = " hidden_act "\n[dense]\nunits = 4\n" \
  "activation = " last_act "\n[train]\nloss = " loss "\n"
#define XENT "sparse_categorical_crossentropy"
#define CONV(filters, kernel, strides, padding, act, bias)                                              \
  "[conv2d]\nfilters = " filters "\nkernel_size = " kernel "\nstrides = " strides "\npadding = " padding \
  "\nactivation = " act "\nuse_bias = " bias "\n"
/* Three tanh branches a, b, c of 4 units from the model input. */
#define BRANCHES                                                                                          \
  "[dense]\nname = a\nunits = 4\nactivation = tanh\n[dense]\nname = b\nunits = 4\nactivation = tanh\n" \
  "inputs = input\n[dense]\nname = c\nunits = 4\nactivation = tanh\ninputs = input\n"
#define HEAD "[dense]\nunits = 3\nactivation = softmax\n[run]\nseed = 9\n"

static const struct {
  const char *name, *text;
} k_cases[] = {
    {"linear+xent", MLP("linear", "softmax", "true", XENT)},
    {"relu+xent", MLP("relu", "softmax", "true", XENT)},
    {"tanh+xent", MLP("tanh", "softmax", "true", XENT)},
    {"sigmoid+xent", MLP("sigmoid", "softmax", "false", XENT)},
    {"softmax-hidden+xent", MLP("softmax", "softmax", "true", XENT)},
    {"tanh+mse-linear", MLP("tanh", "linear", "true", "mse")},
    {"relu+mse-sigmoid", MLP("relu", "sigmoid", "true", "mse")},
    {"sigmoid+mse-softmax", MLP("sigmoid", "softmax", "true", "mse")},
    {"linear+mse-tanh", MLP("linear", "tanh", "false", "mse")},
    {"relu+mse-relu", MLP("relu", "relu", "true", "mse")},
    /* Dense on a 3-D input acts on the last axis; softmax over the last axis too. */
    {"dense-3d+mse-softmax", "[model]\ninput = 2,3,4\n[dense]\nunits = 3\nactivation = tanh\n[dense]\nunits = 2\n"
                             "activation = softmax\n[train]\nloss = mse\n"},
    /* Convolutions: valid and same padding, strides, 1x1 (no im2col), a conv
     * before a conv (its dL/dx), no bias. */
    {"conv-valid-relu", "[model]\ninput = 5,5,2\n" CONV("3", "3", "1", "valid", "tanh", "true") CONV("2", "2", "1", "valid", "relu", "true")
                        "[flatten]\n" HEAD},
    {"conv-same-strided", "[model]\ninput = 6,5,3\n" CONV("4", "2,3", "2", "same", "tanh", "false")
                          CONV("2", "3", "1,2", "same", "sigmoid", "true") "[flatten]\n" HEAD},
    {"conv-1x1", "[model]\ninput = 12\n[reshape]\ntarget_shape = 2,2,3\n" CONV("3", "1", "1", "valid", "tanh", "true")
                 CONV("2", "1", "1", "same", "linear", "true") "[flatten]\n" HEAD},
    /* Pooling after a conv: max (valid; same with overlapping windows), average (both), global. */
    {"max-pool", "[model]\ninput = 6,6,2\n" CONV("3", "3", "1", "same", "tanh", "true")
                 "[max_pooling2d]\n[flatten]\n" HEAD},
    {"max-pool-same-overlap", "[model]\ninput = 5,5,2\n" CONV("2", "2", "1", "valid", "tanh", "true")
                              "[max_pooling2d]\npool_size = 3\nstrides = 1\npadding = same\n[flatten]\n" HEAD},
    {"avg-pool", "[model]\ninput = 6,5,2\n" CONV("3", "3", "1", "valid", "tanh", "true")
                 "[average_pooling2d]\npool_size = 2,3\nstrides = 1,2\n[flatten]\n" HEAD},
    {"avg-pool-same", "[model]\ninput = 5,5,2\n" CONV("2", "2", "1", "valid", "tanh", "true")
                      "[average_pooling2d]\npadding = same\n[flatten]\n" HEAD},
    {"global-avg-pool", "[model]\ninput = 4,4,2\n" CONV("3", "3", "1", "same", "tanh", "true")
                        "[global_average_pooling2d]\n" HEAD},
    /* Dropout (a training pass: the same masks in every pass of the check). */
    {"dropout", "[model]\ninput = 6\n[dense]\nunits = 8\nactivation = tanh\n[dropout]\nrate = 0.4\n" HEAD},
    /* BatchNormalization on channels and on features, with and without gamma/beta,
     * and an [activation] layer after it. */
    {"batch-norm-conv", "[model]\ninput = 4,4,2\n" CONV("3", "3", "1", "same", "linear", "false")
                        "[batch_normalization]\n[activation]\nactivation = relu\n[flatten]\n" HEAD},
    {"batch-norm-dense", "[model]\ninput = 5\n[dense]\nunits = 4\n[batch_normalization]\nmomentum = 0.5\n"
                         "[activation]\nactivation = tanh\n" HEAD},
    {"batch-norm-plain", "[model]\ninput = 5\n[dense]\nunits = 4\n[batch_normalization]\ncenter = false\n"
                         "scale = false\n" HEAD},
    /* Graphs: merges of three branches from the input, a branch used by two
     * layers (its gradient is a sum) and twice by one layer. */
    {"merge-add-subtract", "[model]\ninput = 5\n" BRANCHES "[add]\ninputs = a, b, c\n[subtract]\ninputs = add, a\n" HEAD},
    /* Add with the relu after it taken into its passes (RD_LAYER_TAKES_RELU):
     * two inputs (one fused pass) and three (passes as written). */
    {"add-relu", "[model]\ninput = 5\n" BRANCHES "[add]\nname = two\ninputs = a, b\n[activation]\nname = r2\n"
                 "activation = relu\n[add]\nname = three\ninputs = a, b, c\n[activation]\nname = r3\n"
                 "activation = relu\n[add]\ninputs = r2, r3\n" HEAD},
    {"merge-multiply-average", "[model]\ninput = 5\n" BRANCHES "[multiply]\ninputs = a, b, a\n"
                               "[average]\ninputs = multiply, c, b\n" HEAD},
    {"merge-maximum-minimum", "[model]\ninput = 5\n" BRANCHES "[maximum]\ninputs = a, b, c\n"
                              "[minimum]\ninputs = maximum, b\n" HEAD},
    {"concatenate-axes", "[model]\ninput = 4,4,2\n" CONV("3", "1", "1", "valid", "tanh", "true")
                         "[conv2d]\nfilters = 2\nkernel_size = 3\npadding = same\nactivation = tanh\ninputs = input\n"
                         "[concatenate]\nname = cat\ninputs = conv2d, conv2d_1, conv2d\n"
                         "[concatenate]\nname = wide\naxis = 2\ninputs = conv2d_1, conv2d_1\n"
                         "[flatten]\ninputs = cat\n[flatten]\ninputs = wide\n"
                         "[concatenate]\ninputs = flatten, flatten_1\n" HEAD},
    {"zero-padding-global-max", "[model]\ninput = 4,3,2\n[zero_padding2d]\npadding = 1,2,0,1\n"
                                CONV("3", "3", "1", "valid", "tanh", "true") "[global_max_pooling2d]\n" HEAD},
    {"layer-norm", "[model]\ninput = 3,2,5\n" CONV("4", "1", "1", "valid", "tanh", "true")
                   "[layer_normalization]\nepsilon = 0.01\n[flatten]\n[dense]\nunits = 5\nactivation = tanh\n"
                   "[layer_normalization]\ncenter = false\n" HEAD},
    {"depthwise-separable", "[model]\ninput = 5,6,2\n[depthwise_conv2d]\nkernel_size = 3\ndepth_multiplier = 2\n"
                            "padding = same\nactivation = tanh\nbias_initializer = random_uniform\n"
                            "[separable_conv2d]\nfilters = 3\nkernel_size = 2,3\nstrides = 2\nactivation = tanh\n"
                            "bias_initializer = random_uniform\n[depthwise_conv2d]\nkernel_size = 2\nuse_bias = false\n"
                            "[separable_conv2d]\nfilters = 2\nkernel_size = 1\ndepth_multiplier = 3\nuse_bias = false\n"
                            "[flatten]\n" HEAD},
    /* The augmentation layers after a conv, so that their dL/dx is checked through the conv's parameters:
     * each sample's draws are the same in both passes of a difference (the same iteration and sample). */
    {"augmentation", "[model]\ninput = 6,6,2\n" CONV("3", "3", "1", "same", "tanh", "true")
                     "[random_flip]\n[random_translation]\nheight_factor = 0.3\nwidth_factor = 0.3\n"
                     "[random_rotation]\nfactor = 0.1\nfill_mode = constant\nfill_value = 0.5\n"
                     "[random_zoom]\nheight_factor = 0.3\nfill_mode = wrap\n"
                     "[random_contrast]\nfactor = 0.5\nvalue_range = -9,9\n"
                     "[random_erasing]\nfactor = 1\nvalue_range = -9,9\n"
                     "[zero_padding2d]\n[random_crop]\nheight = 6\nwidth = 5\n"
                     "[flatten]\n" HEAD},
};

static int grouped; /* cases with forward groups */

static int run(const char *name, const char *text) {
  int checked;
  int bad = gradcheck(name, text, 0) + groups(name, text, &checked);
  grouped += checked;
  if (bad == 0) {
    passes++;
  } else {
    fails++;
    printf("FAIL: %s: %d problems\n", name, bad);
  }
  return bad;
}

/* The layer types a config uses: marks covered[i] for registry index i. */
static void cover(const char *text, int *covered) {
  rd_job j;
  rd_err e = {0};
  if (rd_job_load(&j, "case", text, strlen(text), NULL, 0, 0, &e) == RD_OK)
    for (int l = 0; l < j.model.nlayers; l++)
      for (int i = 0; i < rd_registry_count(); i++) covered[i] |= rd_registry_type(i) == j.model.layers[l].type;
  rd_job_free(&j);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *t = malloc((size_t)n + 1);
  if (t && fread(t, 1, (size_t)n, f) != (size_t)n) t[0] = '\0';
  if (t) t[n] = '\0';
  fclose(f);
  return t;
}

int main(int argc, char **argv) {
  count_init();
  rd_fp_pin_blas_threads(); /* one thread, like a reprodist rank */
  rd_registry_init();
  char *files[64];
  int nfiles = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--plugin") && i + 1 < argc) {
      rd_err e = {0};
      char id[128];
      if (rd_registry_load(argv[++i], "command line", id, sizeof id, &e)) {
        printf("FAIL: %s\n", e.msg);
        return 1;
      }
    } else if (nfiles < 64) {
      files[nfiles++] = argv[i];
    }
  }
  /* The allocation counter must see an allocation, or check 3 proves nothing. */
  g_allocs = 0, g_counting = 1;
  void *volatile probe = malloc(24);
  g_counting = 0;
  free(probe);
  if (g_allocs >= 1) {
    passes++;
  } else {
    fails++;
    printf("FAIL: the allocation counter missed a malloc\n");
  }
  int covered[256] = {0};
  for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
    run(k_cases[i].name, k_cases[i].text);
    cover(k_cases[i].text, covered);
  }
  for (int f = 0; f < nfiles; f++) {
    char *text = slurp(files[f]);
    if (!text) {
      printf("FAIL: cannot read %s\n", files[f]);
      fails++;
      continue;
    }
    run(files[f], text);
    cover(text, covered);
    free(text);
  }
  /* Forward groups were checked on some cases (the MLPs, Dropout, Reshape). */
  if (grouped >= 3) {
    passes++;
  } else {
    fails++;
    printf("FAIL: only %d cases have forward groups\n", grouped);
  }
  printf("forward groups: %d cases give each shard its own pass's bits\n", grouped);
  /* The check must reject a wrong gradient. */
  if (gradcheck("tanh+xent (corrupted)", k_cases[2].text, 1) > 0) {
    passes++;
  } else {
    fails++;
    printf("FAIL: a corrupted gradient passed the check\n");
  }
  for (int i = 0; i < rd_registry_count(); i++) {
    if (covered[i]) {
      passes++;
    } else {
      fails++;
      printf("FAIL: layer type '%s' has no gradient-check case\n", rd_registry_type(i)->name);
    }
  }
  printf("%d passed, %d failed\n", passes, fails);
  return fails != 0;
}
