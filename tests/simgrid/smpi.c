/* rd_smpi: reprodist's real core under SimGrid's SMPI (tests/simgrid/build.sh
 * builds it with smpicc from the same sources as reprodist: the config, model,
 * layers, shards, the canonical tree, comm and its exchange algorithms, the
 * optimizers, portable kernels). SMPI runs every rank's code for real, on a
 * simulated platform, in simulated time (MPI_Wtime), so the bits at 1,024 ranks
 * are computed, not assumed.
 *
 *   rd_smpi train CONFIG STEPS BATCH SHARD
 *       tests/portable/driver_train.c's loop, distributed: each rank computes
 *       its shards, the allreduce (AUTO, or RD_ALLREDUCE) sums them, rank 0
 *       prints every tensor's digest, as rd_portable does at one process, and
 *       the simulated seconds of the run (stderr).
 *   rd_smpi zero CONFIG STEPS BATCH SHARD
 *       train with sharded optimizer state (ZeRO-1, src/zero.h): the same
 *       digests must come out.
 *   rd_smpi reduce LEN SHARDS_PER_RANK REPS [ALGO,...]
 *       Simulated time of one reduction of LEN floats (K = SHARDS_PER_RANK * P),
 *       median of REPS, slowest rank, for each ALGO (default auto,alltoallv,halving)
 *       and for MPI_Allreduce on the same platform. Buffers are one copy for
 *       all ranks (SMPI_SHARED_MALLOC, or tests/simgrid/shim.c's blocks when it
 *       is preloaded): times are real, values are not.
 *   rd_smpi step LEN SHARDS_PER_RANK PASS_MS UPDATE_MS REPS
 *       A whole step's simulated time: each rank computes its shards for
 *       PASS_MS each (measured on this machine by rd_portable train, injected
 *       with smpi_execute), the AUTO allreduce of LEN floats on shared buffers,
 *       then the update (UPDATE_MS, every rank); and the same step with
 *       MPI_Allreduce. One JSON line per mode on rank 0. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <smpi/smpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "kern.h"
#include "reduce.h"
#include "driver_train.h"
#include "zero.h"

/* The k-th shared allocation of every rank is one block: ranks allocate in the
 * same order. The key is the allocation's ordinal, so blocks of different
 * sizes never share one. */
static int g_ordinal;
static void *(*g_shim)(int, size_t); /* tests/simgrid/shim.c's, when it is preloaded */
static void *shared_alloc(size_t bytes) {
  ++g_ordinal;
  return g_shim ? g_shim(g_ordinal, bytes) : smpi_shared_malloc(bytes, "rd_smpi", g_ordinal);
}
static void shared_free(void *p) {
  if (!g_shim) smpi_shared_free(p);
}

/* train's allreduce, made at the first step, when the vector's length is known. */
typedef struct {
  rd_allreduce *a;
  int64_t Kmax;
} dist;

static const float *dist_sum(void *ctx, rd_reduce *local, float *out) {
  dist *d = ctx;
  if (!d->a) {
    rd_err err = {0};
    d->a = rd_allreduce_create(rd_comm_world(), local->len, d->Kmax, RD_XCHG_AUTO, &err);
    RD_ASSERT(d->a != NULL, "%s", err.msg);
    if (rd_comm_rank() == 0) fprintf(stderr, "rd_smpi: the %s allreduce\n", rd_xchg_name(rd_allreduce_algo(d->a)));
  }
  return rd_allreduce_sum(d->a, local, out);
}

/* zero's hooks (driver_train.h): src/zero.h's sharded step. */
static rd_zero g_zero;
static void zero_shard(void *ctx, rd_optim *o, size_t len, int64_t max_shards) {
  rd_err err = {0};
  RD_ASSERT(rd_zero_init(&g_zero, o, len, max_shards, &err) == RD_OK, "%s", err.msg);
  if (rd_comm_rank() == 0)
    fprintf(stderr, "rd_smpi: the %s allreduce, sharded: rank 0 keeps [%zu, %zu) of %zu\n",
            rd_xchg_name(rd_allreduce_algo(g_zero.a)), o->lo, o->hi, o->n);
}
static float *zero_scatter(void *ctx, rd_reduce *local, float *out) { return rd_zero_scatter(&g_zero, local, out); }
static void zero_update(void *ctx, rd_optim *o, uint64_t it, float *params, float *g, float *state) {
  rd_zero_step(&g_zero, o, it, params, g, state);
  rd_zero_share(&g_zero, params);
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The slowest rank's time for one call of what runs between the barriers. */
static double slowest(double t) {
  double mx;
  MPI_Allreduce(&t, &mx, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return mx;
}

/* A reduction's input as a training step leaves it: this rank's shards pushed
 * into the tree (vectors in shared memory, no pool). */
typedef struct {
  rd_reduce r;
  int64_t K, lo, hi;
  float **vec;
} leaves;

static void leaves_init(leaves *l, size_t len, int64_t K) {
  const int P = rd_comm_size();
  rd_shard_range(K, P, rd_comm_rank(), &l->lo, &l->hi);
  l->K = K;
  rd_reduce_init(&l->r, 0, K);
  l->r.len = len;
  l->vec = malloc(sizeof(float *) * (size_t)(l->hi - l->lo + 1));
  for (int64_t s = l->lo; s < l->hi; s++) l->vec[s - l->lo] = shared_alloc(sizeof(float) * len);
}

static void leaves_push(leaves *l) {
  rd_reduce_begin(&l->r, l->K);
  for (int64_t s = l->lo; s < l->hi; s++) rd_reduce_push_ext(&l->r, 0, s, l->vec[s - l->lo]);
}

/* Median simulated seconds of one a (NULL: MPI_Allreduce of a rank's vector) over reps. */
static double time_reduce(rd_allreduce *a, leaves *l, float *out, size_t len, int reps, double pass, double update) {
  double *t = malloc(sizeof(double) * (size_t)reps);
  for (int r = reps > 1 ? -1 : 0; r < reps; r++) { /* rep -1 warms up (first touch of the buffers) */
    leaves_push(l);
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    if (pass > 0.0) smpi_execute(pass * (double)(l->hi - l->lo));
    if (a) rd_allreduce_sum(a, &l->r, out);
    else MPI_Allreduce(l->hi > l->lo ? l->vec[0] : out, out, (int)len, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    if (update > 0.0) smpi_execute(update);
    const double dt = slowest(MPI_Wtime() - t0);
    if (r >= 0) t[r] = dt;
  }
  qsort(t, (size_t)reps, sizeof(double), cmp_double);
  const double med = t[reps / 2];
  free(t);
  return med;
}

static int reduce_or_step(size_t len, int64_t spr, int reps, double pass_ms, double update_ms, const char *list) {
  const int step = list == NULL;
  if (len < 1 || spr < 1 || reps < 1) {
    if (rd_comm_rank() == 0) fprintf(stderr, "rd_smpi: LEN, SHARDS_PER_RANK and REPS must be at least 1\n");
    return 2;
  }
  const int P = rd_comm_size();
  g_shim = (void *(*)(int, size_t))dlsym(RTLD_DEFAULT, "rd_shim_shared");
  rd_comm_set_alloc(shared_alloc, shared_free);
  leaves l;
  leaves_init(&l, len, spr * P);
  float *out = shared_alloc(sizeof(float) * len);
  rd_xchg algos[8] = {RD_XCHG_AUTO};
  int nalgo = 1;
  char names[256];
  snprintf(names, sizeof names, "%s", step ? "auto" : list);
  for (char *t = strtok(names, ","); t && nalgo <= 8; t = strtok(NULL, ","))
    if (rd_xchg_parse(t, &algos[nalgo - 1]) == 0) nalgo++;
    else {
      if (rd_comm_rank() == 0) fprintf(stderr, "rd_smpi: %s names no algorithm\n", t);
      return 2;
    }
  nalgo--;
  double plain = time_reduce(NULL, &l, out, len, reps, pass_ms / 1e3, update_ms / 1e3);
  for (int i = 0; i < nalgo; i++) {
    rd_err err = {0};
    rd_allreduce *a = rd_allreduce_create(rd_comm_world(), len, l.K, algos[i], &err);
    if (!a) {
      if (rd_comm_rank() == 0) fprintf(stderr, "%s\n", err.msg);
      return 2;
    }
    const double t = time_reduce(a, &l, out, len, reps, pass_ms / 1e3, update_ms / 1e3);
    if (rd_comm_rank() == 0)
      printf("{\"mode\": \"%s\", \"np\": %d, \"len\": %zu, \"shards\": %lld, \"algo\": \"%s\", \"chosen\": \"%s\", "
             "\"ms\": %.6f, \"allreduce_ms\": %.6f, \"ratio\": %.4f}\n",
             step ? "step" : "reduce", P, len, (long long)l.K, rd_xchg_name(algos[i]),
             rd_xchg_name(rd_allreduce_algo(a)), 1e3 * t, 1e3 * plain, t / plain);
    rd_allreduce_destroy(a);
  }
  fflush(stdout);
  return 0;
}

static int train(const char *cfg, int64_t steps, int64_t B, int64_t S, int zero) {
  dist x = {NULL, (B + S - 1) / S};
  rd_driver_dist d = {rd_comm_size(), rd_comm_rank(), dist_sum, &x, NULL, NULL, NULL};
  if (zero) d.shard = zero_shard, d.scatter = zero_scatter, d.update = zero_update;
  const double t0 = MPI_Wtime();
  const int rc = rd_driver_train(cfg, steps, B, S, &d);
  if (rd_comm_rank() == 0 && rc == 0) fprintf(stderr, "rd_smpi: %.6f simulated seconds\n", MPI_Wtime() - t0);
  rd_allreduce_destroy(x.a);
  if (zero) rd_zero_free(&g_zero);
  return rc;
}

int main(int argc, char **argv) {
  rd_comm_init(&argc, &argv);
  char msg[256];
  int rc = 2;
  if (rd_kern_isa_select(getenv("RD_ISA"), msg, sizeof msg)) fprintf(stderr, "rd_smpi: %s\n", msg);
  else if (argc == 6 && (!strcmp(argv[1], "train") || !strcmp(argv[1], "zero")))
    rc = train(argv[2], strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10), strtoll(argv[5], NULL, 10),
               !strcmp(argv[1], "zero"));
  else if ((argc == 5 || argc == 6) && !strcmp(argv[1], "reduce"))
    rc = reduce_or_step(strtoull(argv[2], NULL, 10), strtoll(argv[3], NULL, 10), atoi(argv[4]), 0.0, 0.0,
                        argc == 6 ? argv[5] : "auto,alltoallv,halving");
  else if (argc == 7 && !strcmp(argv[1], "step"))
    rc = reduce_or_step(strtoull(argv[2], NULL, 10), strtoll(argv[3], NULL, 10), atoi(argv[6]), atof(argv[4]),
                        atof(argv[5]), NULL);
  else if (rd_comm_rank() == 0)
    fprintf(stderr, "usage: rd_smpi train|zero CONFIG STEPS BATCH SHARD | reduce LEN SHARDS_PER_RANK REPS [ALGO,...] | "
                    "step LEN SHARDS_PER_RANK PASS_MS UPDATE_MS REPS\n");
  rd_comm_finalize();
  return rc;
}
