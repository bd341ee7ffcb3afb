/* comm_allreduce: the canonical allreduce's interface (comm.h): which exchange
 * algorithm runs, and the one-process case every algorithm shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_impl.h"

static const rd_xchg_type *const g_types[RD_XCHG_COUNT] = {
#define RD_XCHG(n) &rd_xchg_##n,
#include "xchg/list.h"
#undef RD_XCHG
};

struct rd_allreduce {
  const rd_comm *comm;
  rd_xchg algo;
  size_t len;
  int64_t max_shards;
  void *st; /* the algorithm's buffers (NULL at np 1) */
  rd_reduce *local; /* the overlapped reduction under way (rd_allreduce_begin) */
  float *out;
};

static void *(*g_alloc)(size_t) = malloc;
static void (*g_release)(void *) = free;

void rd_comm_set_alloc(void *(*alloc)(size_t bytes), void (*release)(void *p)) {
  g_alloc = alloc ? alloc : malloc, g_release = release ? release : free;
}
void *rd_comm_buf_alloc(size_t bytes) { return g_alloc(bytes); }
void rd_comm_buf_free(void *p) { g_release(p); }

const char *rd_xchg_name(rd_xchg x) { return x == RD_XCHG_AUTO ? "auto" : g_types[x]->name; }

int rd_xchg_parse(const char *s, rd_xchg *x) {
  if (!strcmp(s, "auto")) return *x = RD_XCHG_AUTO, 0;
  for (int i = 0; i < RD_XCHG_COUNT; i++)
    if (!strcmp(s, g_types[i]->name)) return *x = (rd_xchg)i, 0;
  return -1;
}

/* The algorithm that runs for algo: AUTO becomes RD_ALLREDUCE's choice, else the
 * size rule among the canonical algorithms whose counts fit. RD_XCHG_AUTO with
 * why filled when nothing fits or RD_ALLREDUCE is not a name. */
static rd_xchg resolve(const rd_comm *c, size_t len, int64_t max_shards, rd_xchg algo, const rd_cut *cut, char *why,
                       size_t n) {
  why[0] = '\0';
  const char *env = getenv("RD_ALLREDUCE");
  if (algo == RD_XCHG_AUTO && env && env[0] && rd_xchg_parse(env, &algo)) {
    snprintf(why, n, "RD_ALLREDUCE=%s names no algorithm (auto, alltoallv, halving, plain, bucketed or shm)", env);
    return RD_XCHG_AUTO;
  }
  if (algo != RD_XCHG_AUTO) return g_types[algo]->plan(c, len, max_shards, cut, why, n) ? algo : RD_XCHG_AUTO;
  /* Below RD_XCHG_HALVING_FROM ranks: on one node shm, which moves the chunks
   * through shared memory with no message; across nodes bucketed, which can run
   * behind the backward pass; alltoallv where neither can serve (bucketed has
   * no sharded halves); from there halving. Each falls back on the next when
   * its counts do not fit. Bucketed's many small collectives cost more than
   * they hide where there is no link to hide (the convnet's step at np 2 on one
   * node: 1.10-1.15x plain's, run 14 of docs/PERFORMANCE.md). */
  static const rd_xchg node[] = {RD_XCHG_SHM, RD_XCHG_ALLTOALLV, RD_XCHG_HALVING};
  static const rd_xchg nodes[] = {RD_XCHG_BUCKETED, RD_XCHG_ALLTOALLV, RD_XCHG_HALVING};
  static const rd_xchg large[] = {RD_XCHG_HALVING, RD_XCHG_ALLTOALLV};
  const int few = c->size < RD_XCHG_HALVING_FROM;
  const rd_xchg *order = !few ? large : c->one_node ? node : nodes;
  for (int i = 0; i < (few ? 3 : 2); i++)
    if (g_types[order[i]]->plan(c, len, max_shards, cut, why, n)) return why[0] = '\0', order[i];
  return RD_XCHG_AUTO;
}

rd_xchg rd_allreduce_choose(const rd_comm *c, size_t len, int64_t max_shards, rd_xchg algo) {
  char why[512];
  return resolve(c, len, max_shards, algo, NULL, why, sizeof why);
}

/* A cut that allows any start: whether an algorithm has halves at all. */
static size_t cut_anywhere(const void *ctx, size_t x) {
  (void)ctx;
  return x;
}

int rd_allreduce_shardable(const rd_comm *c, size_t len, int64_t max_shards) {
  const rd_cut any = {cut_anywhere, NULL};
  char why[512];
  return resolve(c, len, max_shards, RD_XCHG_AUTO, &any, why, sizeof why) != RD_XCHG_AUTO;
}

size_t rd_allreduce_floats(const rd_comm *c, size_t len, int64_t max_shards, rd_xchg algo) {
  if (c->size == 1) return 0;
  char why[512];
  const rd_xchg x = resolve(c, len, max_shards, algo, NULL, why, sizeof why);
  return x == RD_XCHG_AUTO ? 0 : g_types[x]->plan(c, len, max_shards, NULL, why, sizeof why);
}

rd_allreduce *rd_allreduce_create(const rd_comm *c, size_t len, int64_t max_shards, rd_xchg algo, rd_err *err) {
  return rd_allreduce_create_cut(c, len, max_shards, algo, NULL, err);
}

rd_allreduce *rd_allreduce_create_cut(const rd_comm *c, size_t len, int64_t max_shards, rd_xchg algo,
                                      const rd_cut *cut, rd_err *err) {
  char why[512];
  const rd_xchg x = resolve(c, len, max_shards, algo, cut, why, sizeof why);
  if (x == RD_XCHG_AUTO) {
    rd_err_set(err, RD_EINPUT, "reprodist: cannot sum %zu floats over %lld shards at np %d: %s", len,
               (long long)max_shards, c->size, why);
    return NULL;
  }
  if (!g_types[x]->canonical && c->rank == 0) {
    static int warned;
    if (!warned++) rd_warn0("RD_ALLREDUCE=%s: benchmark mode, results depend on the rank count", g_types[x]->name);
  }
  rd_allreduce *a = calloc(1, sizeof *a);
  RD_ASSERT(a != NULL, "out of memory");
  *a = (rd_allreduce){c, x, len, max_shards, c->size > 1 ? g_types[x]->create(c, len, max_shards, cut) : NULL, NULL, NULL};
  return a;
}

rd_xchg rd_allreduce_algo(const rd_allreduce *a) { return a->algo; }

float *rd_allreduce_pool(const rd_allreduce *a) {
  return a->comm->size > 1 && g_types[a->algo]->pool ? g_types[a->algo]->pool(a->st) : NULL;
}

void rd_allreduce_destroy(rd_allreduce *a) {
  if (!a) return;
  if (a->st) g_types[a->algo]->destroy(a->st);
  free(a);
}

const float *rd_allreduce_sum(rd_allreduce *a, rd_reduce *local, float *out) {
  RD_ASSERT(local->len == a->len, "vector length mismatch");
  RD_ASSERT(local->K <= a->max_shards, "%lld shards, buffers for %lld", (long long)local->K, (long long)a->max_shards);
  if (a->comm->size == 1) {
    RD_ASSERT(local->depth == 1, "single rank ended with %d tree nodes", local->depth);
    return rd_reduce_vec(local, 0);
  }
  return g_types[a->algo]->sum(a->st, local, out);
}

void rd_allreduce_finish(rd_allreduce *a, rd_reduce *local, float *out) {
  const float *sum = rd_allreduce_sum(a, local, out);
  if (sum != out) memcpy(out, sum, sizeof(float) * a->len);
}

void rd_allreduce_begin(rd_allreduce *a, rd_reduce *local, float *out) {
  RD_ASSERT(local->len == a->len, "vector length mismatch");
  RD_ASSERT(local->K <= a->max_shards, "%lld shards, buffers for %lld", (long long)local->K, (long long)a->max_shards);
  a->local = local, a->out = out;
  if (a->comm->size > 1 && g_types[a->algo]->begin) g_types[a->algo]->begin(a->st, local, out);
}

int rd_allreduce_overlaps(const rd_allreduce *a) { return a->comm->size > 1 && g_types[a->algo]->ready != NULL; }

void rd_allreduce_ready(rd_allreduce *a, size_t lo, size_t hi) {
  if (a->comm->size > 1 && g_types[a->algo]->ready) g_types[a->algo]->ready(a->st, lo, hi);
}

void rd_allreduce_progress(rd_allreduce *a) {
  if (a->comm->size > 1 && g_types[a->algo]->progress) g_types[a->algo]->progress(a->st);
}

const float *rd_allreduce_end(rd_allreduce *a) {
  rd_reduce *local = a->local;
  RD_ASSERT(local != NULL, "rd_allreduce_end without rd_allreduce_begin");
  a->local = NULL;
  if (a->comm->size == 1) {
    RD_ASSERT(local->depth == 1, "single rank ended with %d tree nodes", local->depth);
    return rd_reduce_vec(local, 0);
  }
  const rd_xchg_type *t = g_types[a->algo];
  return t->end ? t->end(a->st) : t->sum(a->st, local, a->out);
}

void rd_allreduce_range(const rd_allreduce *a, int q, size_t *lo, size_t *hi) {
  if (a->comm->size == 1) *lo = 0, *hi = a->len;
  else {
    RD_ASSERT(g_types[a->algo]->range, "%s has no sharded halves", g_types[a->algo]->name);
    g_types[a->algo]->range(a->st, q, lo, hi);
  }
}

float *rd_allreduce_scatter(rd_allreduce *a, rd_reduce *local, float *out) {
  RD_ASSERT(local->len == a->len, "vector length mismatch");
  RD_ASSERT(local->K <= a->max_shards, "%lld shards, buffers for %lld", (long long)local->K, (long long)a->max_shards);
  if (a->comm->size == 1) {
    RD_ASSERT(local->depth == 1, "single rank ended with %d tree nodes", local->depth);
    return rd_reduce_vec(local, 0);
  }
  g_types[a->algo]->scatter(a->st, local, out);
  return out;
}

void rd_allreduce_gather(rd_allreduce *a, float *buf, size_t n) {
  RD_ASSERT(n <= a->len, "gather of %zu floats from a sum of %zu", n, a->len);
  if (a->comm->size > 1) g_types[a->algo]->gather(a->st, buf, n);
}

void rd_xchg_gather_chunks(const rd_comm *c, const size_t *lo, int *count, int *displ, float *buf, size_t n) {
  for (int q = 0; q < c->size; q++) {
    const size_t a = lo[q] < n ? lo[q] : n, b = lo[q + 1] < n ? lo[q + 1] : n;
    displ[q] = (int)a, count[q] = (int)(b - a);
  }
  RD_MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, buf, count, displ, MPI_FLOAT, c->mpi));
}

/* A range ends with at most one node more than it held before its last push,
 * which is under the slots its pushes use. */
int rd_xchg_frontier_cap(int64_t max_shards) { return rd_reduce_slots(max_shards); }

void rd_xchg_frontier_sizes(int P, int64_t max_shards, size_t *most, size_t *total) {
  *most = *total = 0;
  const int exact = (double)max_shards * P <= (double)(1 << 20);
  for (int64_t K = exact ? 1 : max_shards; K <= max_shards; K++) {
    size_t sum = 0;
    for (int q = 0; q < P; q++) {
      int64_t lo, hi;
      rd_shard_range(K, P, q, &lo, &hi);
      const size_t n = (size_t)(exact ? rd_reduce_frontier_count(K, lo, hi) : rd_reduce_frontier_bound(hi - lo));
      *most = n > *most ? n : *most, sum += n;
    }
    *total = sum > *total ? sum : *total;
  }
}

void rd_xchg_fronts(int P, int64_t K, int fcap, int *level, int64_t *index, int *n) {
  for (int q = 0; q < P; q++) {
    int64_t lo, hi;
    rd_shard_range(K, P, q, &lo, &hi);
    n[q] = rd_reduce_frontier(K, lo, hi, level + q * fcap, index + q * fcap, fcap);
  }
}

const float *rd_xchg_finish_nodes(rd_reduce *g, int64_t K, int P, const int *n, const int *level,
                                  const int64_t *index, int fcap, size_t cn,
                                  float *(*node)(void *ctx, int q, int i), void *ctx) {
  g->len = cn;
  rd_reduce_begin(g, K);
  for (int q = 0; q < P; q++) /* in shard order: rank 0's nodes first */
    for (int i = 0; i < n[q]; i++) rd_reduce_push_ext(g, level[q * fcap + i], index[q * fcap + i], node(ctx, q, i));
  RD_ASSERT(K == 0 || g->depth == 1, "global tree did not close (%d nodes)", g->depth);
  return K == 0 ? NULL : rd_reduce_vec(g, 0);
}

/* rd_xchg_finish_chunk's nodes: this rank's in local, the others' in recv. */
typedef struct {
  int me;
  const rd_reduce *local;
  size_t lo, cn;
  float *recv;
  const int *displ;
} chunk_nodes;

static float *chunk_node(void *ctx, int q, int i) {
  const chunk_nodes *c = ctx;
  return q == c->me ? rd_reduce_vec(c->local, i) + c->lo : c->recv + c->displ[q] + (size_t)i * c->cn;
}

const float *rd_xchg_finish_chunk(rd_reduce *g, int64_t K, int P, int me, const int *n, const int *level,
                                  const int64_t *index, int fcap, const rd_reduce *local, size_t lo, size_t cn,
                                  float *recv, const int *displ) {
  chunk_nodes c = {me, local, lo, cn, recv, displ};
  return rd_xchg_finish_nodes(g, K, P, n, level, index, fcap, cn, chunk_node, &c);
}
