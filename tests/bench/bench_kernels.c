/* bench_kernels: single-rank compute rates, to put a training step in context.
 *
 *   rd_bench_kernels gemm N [SECONDS]
 *       one (N, N) x (N, N) sgemm on one thread: the OpenBLAS peak here.
 *   rd_bench_kernels step IN,H1,...,C SHARD BATCH [SECONDS [openblas|portable]]
 *       the parts of one global step of BATCH rows on one rank, in the given
 *       kernels (default portable, reprodist's default), timed alone:
 *       fetch (uint8 rows to float, as the idx source does), the shards' GEMMs
 *       alone (the shapes and transposes of nn.c), the whole shard pass
 *       (rd_shard_pass: GEMMs + bias, activations, loss), the local tree fold
 *       (the pushes alone, each after its pass wrote the slot), and
 *       Adam over every parameter (rd_optim_step), the latter also with 1 in
 *       16 first moments denormal: Adam's m decays by
 *       beta_1 each step a weight's gradient is zero (dead units, rare
 *       pixels) and sticks at a denormal of 1 to 4 units of 2^-149; a
 *       checkpoint of the Fashion-MNIST MLP has 6% of m denormal after one
 *       epoch (83% of them stuck), 8.8% after four (97% stuck).
 *   rd_bench_kernels shapes CONFIG SHARD [SECONDS [GROUP]]
 *       every distinct GEMM one training pass of CONFIG's model over SHARD
 *       rows runs in portable mode (the default kernels; noted as the layers
 *       call rd->gemm and rd->gemm_grad), each timed alone in OpenBLAS and in
 *       each portable path this CPU runs: microseconds per call (the fastest
 *       of three means over SECONDS / 3, the kernels in turn; seven, the last
 *       four twice as long, where the AVX2 path came out behind), and calls
 *       per pass. With GROUP > 1 and a model with forward groups (shard.h),
 *       the pass is training's over GROUP local shards: one forward pass over
 *       their rows, then each shard's loss and backward pass; "group" says
 *       how many shards the calls are for (1 for a model without groups).
 *   rd_bench_kernels shape TA TB M N K LDA LDB LDC BETA [SECONDS]
 *       one of those GEMMs timed again (launch/bench re-times the shapes
 *       the AVX2 path came out behind on, minutes later): its JSON object.
 *   rd_bench_kernels peak [SECONDS]
 *       the core's FMA throughput, GFLOP/s: independent multiply-adds on
 *       256-bit vectors (what OpenBLAS's Haswell core and the AVX2 path
 *       issue) and on 512-bit ones (x86 only; null elsewhere). No GEMM on
 *       those vectors can run faster: the ceiling of section 11's ratios.
 *
 * Times are this thread's CPU time. One JSON object on stdout. No MPI: it runs
 * as a plain process. Used by launch/bench; OPENBLAS_CORETYPE is honoured like
 * in reprodist. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data.h"
#include "job.h"
#include "kern.h"
#include "fingerprint.h"
#include "mem.h"
#include "model.h"
#include "optim.h"
#include "reduce.h"
#include "shard.h"

/* CPU time of this thread: on a shared machine it leaves out the time other
 * processes held the core, which wall time would count. */
static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { /* xorshift64*: fills buffers, nothing more */
  g_rng ^= g_rng >> 12, g_rng ^= g_rng << 25, g_rng ^= g_rng >> 27;
  return (uint32_t)((g_rng * 2685821657736338717ull) >> 32);
}
static float rndf(void) { return (float)(rnd() >> 8) * (1.0f / 16777216.0f); }

typedef void (*work_fn)(void *ctx);

/* Mean CPU seconds per call over about `budget` seconds, after one warm-up call. */
static double time_it(work_fn f, void *ctx, double budget) {
  f(ctx);
  /* Calls in batches, the clock read once per batch: here (a VM) reading it
   * costs about a microsecond, as much as a Conv2D's per-row GEMM. */
  long n = 0, batch = 1;
  double t0 = now_sec(), t;
  do {
    for (long i = 0; i < batch; i++) f(ctx);
    n += batch;
    t = now_sec() - t0;
    if (t < budget / 8) batch *= 2;
  } while (t < budget || n < 3);
  return t / (double)n;
}

/* ---- peak ---------------------------------------------------------------------------- */

#if defined(__x86_64__)
#include <immintrin.h>
/* 12 (24) independent chains, more than the FMA latency times the units: the
 * loop is bound by FMA throughput alone. The result is kept live. */
__attribute__((target("avx2,fma"))) static double fma256(long n) {
  __m256 a[12];
  const __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
  for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
  const double t0 = now_sec();
  for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
  }
  const double t = now_sec() - t0;
  volatile float sink = 0.0f;
  for (int i = 0; i < 12; i++) sink += _mm256_cvtss_f32(a[i]);
  return 12.0 * 8 * 2 * (double)n / t * 1e-9;
}
__attribute__((target("avx512f"))) static double fma512(long n) {
  __m512 a[24];
  const __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
  for (int i = 0; i < 24; i++) a[i] = _mm512_set1_ps((float)i);
  const double t0 = now_sec();
  for (long k = 0; k < n; k++) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
  }
  const double t = now_sec() - t0;
  volatile float sink = 0.0f;
  for (int i = 0; i < 24; i++) sink += _mm512_cvtss_f32(a[i]);
  return 24.0 * 16 * 2 * (double)n / t * 1e-9;
}
#endif

/* The best of three runs of about SECONDS / 3 each, per width. */
static int bench_peak(double budget) {
  double p256 = 0.0, p512 = 0.0;
#if defined(__x86_64__)
  const long n = (long)(budget / 3 * 3e8); /* steps of 12 FMAs: about 3e8 a second at 4 GHz */
  for (int r = 0; r < 3; r++) {
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      const double g = fma256(n);
      p256 = g > p256 ? g : p256;
    }
    if (__builtin_cpu_supports("avx512f")) {
      const double g = fma512(n / 2);
      p512 = g > p512 ? g : p512;
    }
  }
#endif
  char a[32] = "null", b[32] = "null";
  if (p256 > 0) snprintf(a, sizeof a, "%.1f", p256);
  if (p512 > 0) snprintf(b, sizeof b, "%.1f", p512);
  printf("{\"bench\": \"peak\", \"fma256_gflops\": %s, \"fma512_gflops\": %s}\n", a, b);
  return 0;
}

/* ---- gemm ---------------------------------------------------------------------------- */

typedef struct {
  int n;
  float *a, *b, *c;
  const rd_kern_ops *ops;
} gemm_ctx;

static void do_gemm(void *p) {
  gemm_ctx *g = p;
  g->ops->gemm(0, 0, g->n, g->n, g->n, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n);
}

/* One n^3 GEMM of the mode's kernels (openblas: cblas_sgemm; portable:
 * reprodist's own, on the path rd_kern_isa() picks). */
static int bench_gemm(int n, double budget, rd_kern_mode mode) {
  char err[256];
  if (mode == RD_KERN_PORTABLE && rd_kern_isa_select(getenv("RD_ISA"), err, sizeof err)) {
    fprintf(stderr, "rd_bench_kernels: %s\n", err);
    return 2;
  }
  gemm_ctx g = {n, rd_mem_alloc_f32((size_t)n * n), rd_mem_alloc_f32((size_t)n * n), rd_mem_alloc_f32((size_t)n * n),
                rd_kern_ops_of(mode)};
  for (size_t i = 0; i < (size_t)n * n; i++) g.a[i] = rndf() - 0.5f, g.b[i] = rndf() - 0.5f;
  double t = time_it(do_gemm, &g, budget);
  printf("{\"bench\": \"sgemm\", \"n\": %d, \"ms\": %.4f, \"gflops\": %.3f, \"core\": \"%s\", \"threads\": %d}\n", n,
         1e3 * t, 2.0 * n * (double)n * n / t * 1e-9,
         mode == RD_KERN_PORTABLE ? rd_kern_isa_name(rd_kern_isa()) : rd_fp_openblas_core(), rd_fp_openblas_threads());
  free(g.a), free(g.b), free(g.c);
  return 0;
}

/* ---- the parts of a step ---------------------------------------------------------------- */

typedef struct {
  const rd_model *m;
  rd_shard k;
  rd_dataset ds;
  uint32_t *rows;   /* (K, S) random sample indices */
  float *params, *grad, *state;
  rd_reduce red;
  rd_optim_spec opt;
  rd_optim o;
  int64_t S, B, K;
  uint64_t it;
  const rd_kern_ops *ops; /* the step's kernels */
  double fold_sec;        /* do_pass_fold: its pushes' time, over fold_calls calls */
  long fold_calls;
} step_ctx;

static void do_fetch(void *p) {
  step_ctx *c = p;
  rd_err e = {0};
  for (int64_t s = 0; s < c->K; s++) rd_data_fetch(&c->ds, c->rows + s * c->S, c->S, c->k.x, c->k.y, &e);
}

/* The GEMMs of rd_shard_pass, nothing else: forward, then dW and dA per layer. */
static void do_gemms(void *p) {
  step_ctx *c = p;
  const rd_model *m = c->m;
  const int S = (int)c->S;
  for (int64_t s = 0; s < c->K; s++) {
    const float *A = c->k.x;
    for (int l = 0; l < m->nlayers; l++) {
      const rd_layer *ly = &m->layers[l];
      const int in = (int)ly->in.dim[0], out = (int)ly->out.dim[0];
      c->ops->gemm(0, 0, S, out, in, A, in, c->params + m->tensors[ly->t0].offset, out, 0.0f, c->k.act[l], out);
      A = c->k.act[l];
    }
    for (int l = m->nlayers - 1; l >= 0; l--) {
      const rd_layer *ly = &m->layers[l];
      const int in = (int)ly->in.dim[0], out = (int)ly->out.dim[0];
      const float *A = l ? c->k.act[l - 1] : c->k.x;
      c->ops->gemm(1, 0, in, out, S, A, in, c->k.buf[0], out, 0.0f, c->grad + m->tensors[ly->t0].offset, out);
      if (l)
        c->ops->gemm(0, 1, S, in, out, c->k.buf[0], out, c->params + m->tensors[ly->t0].offset, out, 0.0f,
                     c->k.buf[1], in);
    }
  }
}

static void do_pass(void *p) {
  step_ctx *c = p;
  rd_shard_metrics mt;
  const rd_pass pass = {.batch_n = c->B, .grad = c->grad};
  for (int64_t s = 0; s < c->K; s++) rd_shard_pass(&c->k, c->params, c->S, &pass, &mt);
}

/* The shard passes as train.c runs them: each writes its gradient into the
 * reduction's next slot, which is then pushed (folded); the pushes alone are
 * timed. Timed apart from the passes, over slots nothing wrote, the fold would
 * miss the cache the pass leaves, or read pages never touched. */
static void do_pass_fold(void *p) {
  step_ctx *c = p;
  rd_shard_metrics mt;
  rd_reduce_begin(&c->red, c->K);
  for (int64_t s = 0; s < c->K; s++) {
    const rd_pass pass = {.batch_n = c->B, .grad = rd_reduce_slot(&c->red)};
    rd_shard_pass(&c->k, c->params, c->S, &pass, &mt);
    const double t0 = now_sec();
    rd_reduce_push(&c->red, 0, s);
    c->fold_sec += now_sec() - t0;
  }
  c->fold_calls++;
}

static void do_optim(void *p) {
  step_ctx *c = p;
  rd_optim_step(&c->o, c->it++ % 1000, c->params, c->grad, c->state);
}

static int bench_step(const char *dims, int64_t S, int64_t B, double budget, rd_kern_mode mode) {
  char err[256];
  if (mode == RD_KERN_PORTABLE && rd_kern_isa_select(getenv("RD_ISA"), err, sizeof err)) {
    fprintf(stderr, "rd_bench_kernels: %s\n", err);
    return 2;
  }
  /* The model, through the same config path as reprodist. */
  char text[4096], *t = text, *end = text + sizeof text;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", dims);
  char *tok = strtok(buf, ",");
  t += snprintf(t, (size_t)(end - t), "[model]\ninput = %s\n", tok);
  char *next = strtok(NULL, ",");
  while (next) {
    tok = next;
    next = strtok(NULL, ",");
    t += snprintf(t, (size_t)(end - t), "[dense]\nunits = %s\nactivation = %s\n", tok, next ? "relu" : "softmax");
  }
  t += snprintf(t, (size_t)(end - t), "[data]\nsource = synthetic\n");
  rd_job job;
  rd_err e = {0};
  if (rd_job_load(&job, "bench", text, strlen(text), NULL, 0, RD_JOB_NO_PLUGINS, &e)) {
    fprintf(stderr, "rd_bench_kernels: %s\n", e.msg);
    rd_job_free(&job);
    return 2;
  }
  const rd_model m = job.model;
  const int64_t D = rd_shape_numel(&m.input);
  step_ctx c;
  memset(&c, 0, sizeof c);
  c.m = &m;
  c.S = S;
  c.B = B;
  c.K = (B + S - 1) / S;
  RD_ASSERT(B % S == 0, "BATCH must be a multiple of SHARD");
  const size_t G = m.nparams;
  static rd_loss_spec xent;
  rd_loss_spec_defaults(rd_loss_find("sparse_categorical_crossentropy"), &xent);
  c.ops = rd_kern_ops_of(mode);
  rd_shard_init(&c.k, &m, S, &xent, mode);
  c.params = rd_mem_alloc_f32(G);
  c.grad = rd_mem_alloc_f32(G + 3);
  c.state = rd_mem_alloc_f32(2 * G);
  rd_model_init_params(&m, c.params);
  /* A Fashion-MNIST-sized uint8 set (60000 rows), random pixels. */
  const int64_t N = 60000;
  c.ds.source = RD_DATA_IDX;
  c.ds.n = N;
  c.ds.dim = D;
  c.ds.classes = m.layers[m.nlayers - 1].out.dim[0];
  c.ds.scale = 1.0 / 255.0;
  c.ds.u8 = malloc((size_t)(N * D));
  c.ds.labels = malloc(sizeof(int32_t) * (size_t)N);
  c.rows = malloc(sizeof(uint32_t) * (size_t)(c.K * S));
  RD_ASSERT(c.ds.u8 && c.ds.labels && c.rows, "out of memory");
  for (int64_t i = 0; i < N * D; i++) c.ds.u8[i] = (uint8_t)(rnd() & 255);
  for (int64_t i = 0; i < N; i++) c.ds.labels[i] = (int32_t)(rnd() % (uint32_t)c.ds.classes);
  for (int64_t i = 0; i < c.K * S; i++) c.rows[i] = rnd() % (uint32_t)N;
  do_fetch(&c); /* real rows in the shard buffer for the passes */
  rd_reduce_init(&c.red, G + 3, c.K);
  rd_optim_spec_defaults(rd_optim_find("adam"), &c.opt);
  rd_optim_init(&c.o, &c.opt, c.m);

  do_pass(&c); /* real gradients in d0/d1 for the GEMM-only timing */
  const double t_fetch = time_it(do_fetch, &c, budget);
  const double t_gemm = time_it(do_gemms, &c, budget);
  const double t_pass = time_it(do_pass, &c, budget);
  time_it(do_pass_fold, &c, budget);
  const double t_fold = c.fold_sec / (double)c.fold_calls;
  for (size_t i = 0; i < G; i++) c.grad[i] = 1e-3f * (rndf() - 0.5f), c.state[i] = 1e-4f, c.state[G + i] = 1e-7f;
  const double t_optim = time_it(do_optim, &c, budget);
  /* One first moment in 16 stuck at a denormal (1 to 4 units of 2^-149, either sign) with a zero gradient:
   * about what a reprodist checkpoint of the Fashion-MNIST MLP holds after one epoch (6% of m denormal, 83%
   * of them stuck there; after four epochs 8.8%, 97%). */
  for (size_t i = 0; i < G; i += 16) c.state[i] = (i / 16 % 2 ? -1.0f : 1.0f) * (float)(1 + i / 32 % 4) * 0x1p-149f;
  for (size_t i = 0; i < G; i += 16) c.grad[i] = 0.0f;
  const double t_optim_dn = time_it(do_optim, &c, budget);

  double flops = 0.0; /* exact GEMM flops per sample: forward, dW, and dA below the first layer */
  for (int l = 0; l < m.nlayers; l++)
    flops += 2.0 * (double)m.layers[l].in.dim[0] * (double)m.layers[l].out.dim[0] * (l ? 3 : 2);
  printf("{\"bench\": \"step\", \"dims\": \"%s\", \"shard\": %lld, \"batch\": %lld, \"params\": %zu, "
         "\"gemm_flops_per_sample\": %.0f, \"core\": \"%s\", \"us\": {\"fetch\": %.2f, \"gemm\": %.2f, "
         "\"pass\": %.2f, \"fold\": %.2f, \"adam\": %.2f, \"adam_denormal\": %.2f}, \"gemm_gflops\": %.3f}\n",
         dims, (long long)S, (long long)B, G, flops,
         mode == RD_KERN_PORTABLE ? rd_kern_isa_name(rd_kern_isa()) : rd_fp_openblas_core(), 1e6 * t_fetch, 1e6 * t_gemm,
         1e6 * t_pass, 1e6 * t_fold, 1e6 * t_optim, 1e6 * t_optim_dn, flops * (double)B / t_gemm * 1e-9);
  free(c.ds.u8), free(c.ds.labels), free(c.rows);
  free(c.params), free(c.grad), free(c.state);
  rd_reduce_free(&c.red);
  rd_shard_free(&c.k);
  rd_optim_free(&c.o);
  rd_job_free(&job);
  return 0;
}

/* ---- shapes: every GEMM of one shard pass, timed alone in each kernel -------------------- */

/* One distinct GEMM of the pass: its arguments but the pointers, and how often it ran. */
typedef struct {
  int ta, tb, keep;
  int64_t m, n, k, lda, ldb, ldc;
  int calls;
} gemm_shape;

enum { SHAPES_MAX = 256 };
static gemm_shape g_shapes[SHAPES_MAX];
static int g_nshapes;
static void (*g_gemm_real)(int, int, int64_t, int64_t, int64_t, const float *, int64_t, const float *, int64_t, float,
                           float *, int64_t);

/* The layers' rd->gemm during the recorded pass: notes the shape, then computes. */
static void gemm_record(int ta, int tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
                        int64_t ldb, float beta, float *c, int64_t ldc) {
  const gemm_shape s = {ta, tb, beta != 0.0f, m, n, k, lda, ldb, ldc, 1};
  int i = 0;
  for (; i < g_nshapes; i++) {
    const gemm_shape *t = &g_shapes[i];
    if (t->ta == s.ta && t->tb == s.tb && t->keep == s.keep && t->m == s.m && t->n == s.n && t->k == s.k &&
        t->lda == s.lda && t->ldb == s.ldb && t->ldc == s.ldc)
      break;
  }
  RD_ASSERT(i < SHAPES_MAX, "more than %d distinct GEMMs in one pass", SHAPES_MAX);
  if (i < g_nshapes) g_shapes[i].calls++;
  else g_shapes[g_nshapes++] = s;
  g_gemm_real(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

typedef struct {
  const gemm_shape *s;
  int kernel; /* 0: OpenBLAS (cblas_sgemm), else 1 + rd_isa of the portable path */
  float *a, *b, *c;
  float *a_ob;    /* for OpenBLAS, A with rows that do not overlap (see lda_ob) */
  int64_t lda_ob; /* s->lda, or A's row length where the pass read overlapping rows */
} shape_ctx;

static void do_shape(void *p) {
  const shape_ctx *x = p;
  const gemm_shape *s = x->s;
  const float beta = s->keep ? 1.0f : 0.0f;
  if (x->kernel == 0)
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, (int)s->m,
                (int)s->n, (int)s->k, 1.0f, x->a_ob, (int)x->lda_ob, x->b, (int)s->ldb, beta, x->c, (int)s->ldc);
  else
    rd_kern_gemm_isa((rd_isa)(x->kernel - 1), s->ta, s->tb, s->m, s->n, s->k, x->a, s->lda, x->b, s->ldb, beta, x->c,
                     s->ldc);
}

/* Floats a stored operand spans: rows x ld, the last row only as far as it is read. */
static size_t span(int64_t rows, int64_t cols, int64_t ld) { return (size_t)((rows - 1) * ld + cols); }

/* One shape timed in OpenBLAS and each portable path this CPU runs, its
 * JSON object printed (prefix before it): microseconds per call, the fastest
 * of three means over SECONDS / 3 with the kernels in turn (a burst of other
 * load on the host then slows every kernel of a round, not three timings of
 * one), and four more rounds of twice the time where the AVX2 path came out
 * behind OpenBLAS (issue 26's verdict on each shape). */
static void time_shape(const gemm_shape *s, double budget, const char *prefix) {
  const size_t na = s->ta ? span(s->k, s->m, s->lda) : span(s->m, s->k, s->lda);
  const size_t nb = s->tb ? span(s->n, s->k, s->ldb) : span(s->k, s->n, s->ldb);
  /* Conv2D's implicit GEMMs read A's rows overlapping (lda = the input's
   * channels, less than a row): the portable GEMM reads them in place,
   * cblas_sgemm refuses lda below the row length. OpenBLAS then times the
   * same product on a copy with rows apart ("overlap": 1 in the JSON). */
  const int64_t row = s->ta ? s->m : s->k, rows = s->ta ? s->k : s->m;
  const int overlap = s->lda < row;
  shape_ctx x = {s, 0, rd_mem_alloc_f32(na), rd_mem_alloc_f32(nb), rd_mem_alloc_f32(span(s->m, s->n, s->ldc)),
                 NULL, overlap ? row : s->lda};
  x.a_ob = overlap ? rd_mem_alloc_f32((size_t)(rows * row)) : x.a;
  for (size_t j = 0; j < na; j++) x.a[j] = rndf() - 0.5f;
  if (overlap)
    for (int64_t r = 0; r < rows; r++) memcpy(x.a_ob + r * row, x.a + r * s->lda, sizeof(float) * (size_t)row);
  for (size_t j = 0; j < nb; j++) x.b[j] = rndf() - 0.5f;
  memset(x.c, 0, sizeof(float) * span(s->m, s->n, s->ldc));
  printf("%s{\"ta\": %d, \"tb\": %d, \"beta\": %d, \"m\": %lld, \"n\": %lld, \"k\": %lld, \"lda\": %lld, "
         "\"ldb\": %lld, \"ldc\": %lld, \"overlap\": %d, \"calls\": %d, \"us\": {",
         prefix, s->ta, s->tb, s->keep, (long long)s->m, (long long)s->n, (long long)s->k, (long long)s->lda,
         (long long)s->ldb, (long long)s->ldc, overlap, s->calls);
  double best[RD_ISA_COUNT + 1];
  int kerns[RD_ISA_COUNT + 1], nk = 0;
  for (int kern = 0; kern <= RD_ISA_COUNT; kern++)
    if (kern == 0 || (kern - 1 != RD_ISA_SCALAR && rd_kern_isa_supported((rd_isa)(kern - 1))))
      best[nk] = 1e30, kerns[nk++] = kern;
  const int avx2 = rd_kern_isa_supported(RD_ISA_AVX2) ? 1 : -1; /* its index among kerns: openblas, then avx2 */
  for (int r = 0, rounds = 3; r < rounds; r++) {
    for (int j = 0; j < nk; j++) {
      x.kernel = kerns[j];
      const double t = time_it(do_shape, &x, (r < 3 ? 1.0 : 2.0) * budget / 3);
      best[j] = t < best[j] ? t : best[j];
    }
    if (r == 2 && avx2 > 0 && best[avx2] > best[0]) rounds = 7;
  }
  for (int j = 0; j < nk; j++)
    printf("%s\"%s\": %.3f", j ? ", " : "", kerns[j] ? rd_kern_isa_name((rd_isa)(kerns[j] - 1)) : "openblas",
           1e6 * best[j]);
  printf("}}");
  if (overlap) free(x.a_ob);
  free(x.a), free(x.b), free(x.c);
}

static int bench_shapes(const char *path, int64_t S, double budget, int64_t G) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "rd_bench_kernels: cannot open %s\n", path);
    return 2;
  }
  static char text[1 << 20];
  const size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  rd_job job;
  rd_err e = {0};
  if (rd_job_load(&job, path, text, len, NULL, 0, RD_JOB_NO_PLUGINS, &e)) {
    fprintf(stderr, "rd_bench_kernels: %s\n", e.msg);
    rd_job_free(&job);
    return 2;
  }
  const rd_model *m = &job.model;
  rd_shard k;
  static rd_loss_spec xent;
  rd_loss_spec_defaults(rd_loss_find("sparse_categorical_crossentropy"), &xent);
  if (G < 1 || !rd_shard_groupable(m, RD_KERN_PORTABLE)) G = 1;
  rd_shard_init_group(&k, m, S, G, &xent, RD_KERN_PORTABLE);
  float *params = rd_mem_alloc_f32(m->nparams), *grad = rd_mem_alloc_f32(m->nparams + 3);
  float *stats = rd_mem_alloc_f32(m->nstats + 1);
  rd_model_init_params(m, params);
  const int64_t D = rd_shape_numel(&m->input);
  for (int64_t i = 0; i < G * S * D; i++) k.x[i] = rndf();
  for (int64_t i = 0; i < G * S; i++) k.y[i] = (int32_t)(rnd() % (uint32_t)k.C), k.sample[i] = (uint32_t)i;
  /* The pass the default kernels run, with every rd->gemm noted on the way. */
  static rd_api rec;
  rec = *k.api;
  g_gemm_real = rec.gemm;
  rec.gemm = rec.gemm_grad = gemm_record; /* a weight gradient's too (no fold is set here) */
  k.api = &rec;
  rd_shard_metrics mt;
  const rd_pass pass = {.batch_n = G * S, .grad = grad, .stats = stats};
  if (G == 1) {
    rd_shard_pass(&k, params, S, &pass, &mt);
  } else { /* the trainer's step over G local shards (train.c, my_shards) */
    rd_shard_forward(&k, params, G * S, 1, 0);
    for (int64_t g = 0; g < G; g++) rd_shard_finish(&k, params, g * S, S, &pass, &mt);
  }
  printf("{\"bench\": \"shapes\", \"config\": \"%s\", \"shard\": %lld, \"group\": %lld, \"core\": \"%s\", "
         "\"shapes\": [", path, (long long)S, (long long)G, rd_fp_openblas_core());
  for (int i = 0; i < g_nshapes; i++) time_shape(&g_shapes[i], budget, i ? "," : "");
  printf("]}\n");
  free(params), free(grad), free(stats);
  rd_shard_free(&k);
  rd_job_free(&job);
  return 0;
}

int main(int argc, char **argv) {
  rd_fp_pin_blas_threads(); /* one thread, like a reprodist rank */
  if (argc >= 3 && argc <= 5 && !strcmp(argv[1], "gemm")) {
    const char *mode = argc > 4 ? argv[4] : "openblas";
    if (!strcmp(mode, "openblas") || !strcmp(mode, "portable"))
      return bench_gemm(atoi(argv[2]), argc > 3 ? atof(argv[3]) : 1.0,
                        !strcmp(mode, "portable") ? RD_KERN_PORTABLE : RD_KERN_OPENBLAS);
  }
  if (argc >= 5 && argc <= 7 && !strcmp(argv[1], "step")) {
    const char *mode = argc > 6 ? argv[6] : "portable";
    if (!strcmp(mode, "openblas") || !strcmp(mode, "portable"))
      return bench_step(argv[2], atoll(argv[3]), atoll(argv[4]), argc > 5 ? atof(argv[5]) : 0.5,
                        !strcmp(mode, "portable") ? RD_KERN_PORTABLE : RD_KERN_OPENBLAS);
  }
  if (argc >= 11 && argc <= 12 && !strcmp(argv[1], "shape")) {
    const gemm_shape s = {atoi(argv[2]), atoi(argv[3]), atoi(argv[10]) != 0, atoll(argv[4]), atoll(argv[5]),
                          atoll(argv[6]), atoll(argv[7]), atoll(argv[8]), atoll(argv[9]), 1};
    if (s.m < 1 || s.n < 1 || s.k < 1 || s.lda < 1 || s.ldb < 1 || s.ldc < s.n) {
      fprintf(stderr, "rd_bench_kernels shape: bad sizes\n");
      return 2;
    }
    time_shape(&s, argc > 11 ? atof(argv[11]) : 0.2, "");
    printf("\n");
    return 0;
  }
  if (argc >= 2 && argc <= 3 && !strcmp(argv[1], "peak")) return bench_peak(argc > 2 ? atof(argv[2]) : 1.0);
  if (argc >= 4 && argc <= 6 && !strcmp(argv[1], "shapes"))
    return bench_shapes(argv[2], atoll(argv[3]), argc > 4 ? atof(argv[4]) : 0.05, argc > 5 ? atoll(argv[5]) : 1);
  fprintf(stderr,
          "usage: rd_bench_kernels gemm N [SECONDS [openblas|portable]]\n"
          "       rd_bench_kernels step IN,H1,...,C SHARD BATCH [SECONDS [openblas|portable]]\n"
          "       rd_bench_kernels shapes CONFIG SHARD [SECONDS [GROUP]]\n"
          "       rd_bench_kernels shape TA TB M N K LDA LDB LDC BETA [SECONDS]\n"
          "       rd_bench_kernels peak [SECONDS]\n");
  return 2;
}
