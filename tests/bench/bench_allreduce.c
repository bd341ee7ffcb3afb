/* bench_allreduce: what determinism costs in the reduction alone.
 *
 * Times rd_allreduce_finish with the algorithm AUTO picks (RD_ALLREDUCE may name
 * another) against the plain peer (MPI_Allreduce MPI_SUM) on the same vectors.
 * Each of the K = shards_per_rank * np shards is filled and pushed by the rank
 * that owns it (rd_shard_range), as in a training step; the pushes are not
 * timed, only the cross-rank part both paths share the role of (the plain path
 * also sums a rank's nodes, one when shards_per_rank is a power of two). A rep's time is the slowest rank's; the median of
 * the reps is reported.
 *
 *   mpirun -np 2 rd_bench_allreduce [LEN...] [--shards-per-rank N] [--seconds S] [--min-reps N]
 *
 * One JSON object per size on stdout (rank 0). Used by launch/bench. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comm.h"
#include "mem.h"
#include "model.h"
#include "reduce.h"

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The slowest rank's time (rank 0 gets it; others get their own). */
static double slowest(double dt, double *all) {
  rd_comm_gather_bytes(&dt, sizeof dt, all);
  double mx = dt;
  if (rd_comm_rank() == 0)
    for (int q = 0; q < rd_comm_size(); q++) mx = all[q] > mx ? all[q] : mx;
  return mx;
}

int main(int argc, char **argv) {
  rd_comm_init(&argc, &argv);
  const int P = rd_comm_size(), rank = rd_comm_rank();
  size_t sizes[16];
  int nsizes = 0, per_rank = 2, min_reps = 5;
  double budget = 1.0; /* seconds per size and path, roughly */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--shards-per-rank") && i + 1 < argc) per_rank = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) budget = atof(argv[++i]);
    else if (!strcmp(argv[i], "--min-reps") && i + 1 < argc) min_reps = atoi(argv[++i]);
    else if (nsizes < 16) sizes[nsizes++] = (size_t)strtoull(argv[i], NULL, 10);
  }
  if (nsizes == 0) sizes[nsizes++] = 100000, sizes[nsizes++] = 1000000, sizes[nsizes++] = 16000000;
  double *all = malloc(sizeof(double) * (size_t)P);
  RD_ASSERT(all && per_rank >= 1 && min_reps >= 1, "bad arguments");

  for (int z = 0; z < nsizes; z++) {
    const size_t len = sizes[z];
    const int64_t K = (int64_t)per_rank * P;
    int64_t lo, hi;
    rd_shard_range(K, P, rank, &lo, &hi);
    float *out = rd_mem_alloc_f32(len);
    rd_err err = {0};
    rd_allreduce *ar = rd_allreduce_create(rd_comm_world(), len, K, RD_XCHG_AUTO, &err),
                 *pl = rd_allreduce_create(rd_comm_world(), len, K, RD_XCHG_PLAIN, &err);
    RD_ASSERT(ar && pl, "%s", err.msg);
    rd_reduce red; /* where the trainer's is: in the algorithm's pool, if it has one */
    rd_reduce_init_in(&red, len, rd_reduce_local_shards(K, P), rd_allreduce_pool(ar));
    rd_reduce_begin(&red, K);
    for (int64_t s = lo; s < hi; s++) {
      float *v = rd_reduce_slot(&red);
      for (size_t i = 0; i < len; i++) v[i] = (float)((i * 2654435761u + (size_t)s * 40503u) % 1000003u) * 1e-6f;
      rd_reduce_push(&red, 0, s);
    }
    /* Warm up both paths (first-touch of every buffer, MPI connections). */
    for (int w = 0; w < 2; w++) rd_allreduce_finish(ar, &red, out), rd_allreduce_finish(pl, &red, out);

    /* Reps: enough for the budget, estimated from one of each. */
    rd_comm_barrier();
    double t0 = now_sec();
    rd_allreduce_finish(ar, &red, out);
    rd_allreduce_finish(pl, &red, out);
    double one = slowest(now_sec() - t0, all);
    int reps = (int)(budget / (one > 1e-7 ? one : 1e-7));
    if (rank == 0) reps = reps < min_reps ? min_reps : reps > 2000 ? 2000 : reps;
    uint64_t r64 = (uint64_t)reps;
    rd_comm_bcast_u64(&r64, 0);
    reps = (int)r64;
    double *tdet = malloc(sizeof(double) * (size_t)reps), *tplain = malloc(sizeof(double) * (size_t)reps);
    RD_ASSERT(tdet && tplain, "out of memory");
    for (int r = 0; r < reps; r++) { /* interleaved, so both see the same machine state */
      rd_comm_barrier();
      t0 = now_sec();
      rd_allreduce_finish(ar, &red, out);
      tdet[r] = slowest(now_sec() - t0, all);
      rd_comm_barrier();
      t0 = now_sec();
      rd_allreduce_finish(pl, &red, out);
      tplain[r] = slowest(now_sec() - t0, all);
    }
    qsort(tdet, (size_t)reps, sizeof(double), cmp_double);
    qsort(tplain, (size_t)reps, sizeof(double), cmp_double);
    if (rank == 0) {
      double d = tdet[reps / 2], p = tplain[reps / 2];
      printf("{\"bench\": \"allreduce\", \"algo\": \"%s\", \"np\": %d, \"len\": %zu, \"shards\": %lld, \"reps\": %d, "
             "\"canonical_ms\": %.4f, \"plain_ms\": %.4f, \"ratio\": %.4f, \"canonical_min_ms\": %.4f, "
             "\"plain_min_ms\": %.4f}\n",
             rd_xchg_name(rd_allreduce_algo(ar)), P, len, (long long)K, reps, 1e3 * d, 1e3 * p, d / p, 1e3 * tdet[0], 1e3 * tplain[0]);
      fflush(stdout);
    }
    free(tdet), free(tplain), free(out);
    rd_reduce_free(&red);
    rd_allreduce_destroy(ar), rd_allreduce_destroy(pl);
  }
  free(all);
  rd_comm_finalize();
  return 0;
}
