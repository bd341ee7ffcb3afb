/* shm: alltoallv's chunks through memory the ranks of one node share, with no
 * message. Every rank maps one MPI-3 shared window (MPI_Win_allocate_shared)
 * holding, per rank, a copy of its frontier nodes and its chunk of the sum.
 *   1. each rank copies the other ranks' chunks of its nodes into its part;
 *   2. rank c finishes the tree on chunk c, in shard order, reading the other
 *      ranks' nodes where they lie (its own in its pool), and puts the sum in
 *      its part and in out;
 *   3. each rank copies the other ranks' chunks of the sum into out.
 * A barrier (with MPI_Win_sync) between the phases and after the last. The
 * additions are alltoallv's, element for element, so the bits are too. Each
 * chunk is copied once into the window and once out of it: memory copies by
 * the ranks themselves, where alltoallv's two collectives go through the MPI
 * library (on one node, kernel-assisted copies: a system call per message).
 * Only for ranks that share one node (rd_comm's one_node), never under
 * SimGrid's SMPI, whose simulated ranks share no memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_impl.h"

typedef struct {
  const rd_comm *c;
  size_t len, most, chunk; /* floats; node slots per rank; the largest chunk */
  int fcap;
  int *flevel;             /* P * fcap */
  int64_t *findex;
  int *nfront;             /* P */
  size_t *lo;              /* P + 1 chunk starts (rd_cut_chunks) */
  MPI_Win win;
  float **part;            /* P: rank q's part: most node slots of len floats, then its chunk of the sum */
  rd_reduce global;
  const rd_reduce *local;  /* this step's (phase 2) */
} shm;

/* Floats in each rank's part. */
static size_t part_floats(size_t len, size_t most, size_t chunk) { return most * len + chunk; }

static size_t max_chunk(const rd_comm *c, size_t len, const rd_cut *cut, size_t *lo) {
  rd_cut_chunks(cut, len, c->size, lo);
  size_t chunk = 0;
  for (int q = 0; q < c->size; q++) chunk = lo[q + 1] - lo[q] > chunk ? lo[q + 1] - lo[q] : chunk;
  return chunk;
}

static size_t plan(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut, char *why, size_t n) {
#ifdef SMPI_H
  snprintf(why, n, "shm needs memory the ranks share, which SimGrid's simulated ranks do not");
  return 0;
#endif
  if (!c->one_node) {
    snprintf(why, n, "shm needs every rank on one node");
    return 0;
  }
  size_t most, total;
  rd_xchg_frontier_sizes(c->size, max_shards, &most, &total);
  size_t *lo = malloc(sizeof(size_t) * ((size_t)c->size + 1));
  RD_ASSERT(lo != NULL, "out of memory");
  const size_t chunk = max_chunk(c, len, cut, lo);
  free(lo);
  return part_floats(len, most, chunk) + 1;
}

static void *create(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut) {
  shm *s = calloc(1, sizeof *s);
  RD_ASSERT(s != NULL, "out of memory");
  const size_t P = (size_t)c->size;
  s->c = c, s->len = len;
  s->fcap = rd_xchg_frontier_cap(max_shards);
  s->flevel = malloc(sizeof(int) * P * (size_t)s->fcap);
  s->findex = malloc(sizeof(int64_t) * P * (size_t)s->fcap);
  s->nfront = malloc(sizeof(int) * P);
  s->lo = malloc(sizeof(size_t) * (P + 1));
  s->part = malloc(sizeof(float *) * P);
  RD_ASSERT(s->flevel && s->findex && s->nfront && s->lo && s->part, "out of memory");
  size_t total;
  rd_xchg_frontier_sizes(c->size, max_shards, &s->most, &total);
  s->chunk = max_chunk(c, len, cut, s->lo);
  float *base;
  RD_MPI_CHECK(MPI_Win_allocate_shared((MPI_Aint)(sizeof(float) * part_floats(len, s->most, s->chunk) + 64),
                                       sizeof(float), MPI_INFO_NULL, c->mpi, &base, &s->win));
  for (int q = 0; q < c->size; q++) {
    MPI_Aint bytes;
    int unit;
    RD_MPI_CHECK(MPI_Win_shared_query(s->win, q, &bytes, &unit, &s->part[q]));
  }
  RD_MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, s->win));
  rd_reduce_init(&s->global, 0, max_shards); /* no pool: the tree sums where the nodes are */
  return s;
}

static void destroy(void *st) {
  shm *s = st;
  MPI_Win_unlock_all(s->win);
  MPI_Win_free(&s->win);
  rd_reduce_free(&s->global);
  free(s->flevel), free(s->findex), free(s->nfront), free(s->lo), free(s->part), free(s);
}

/* Every rank's writes to the window before it, visible to every rank after it. */
static void sync_all(shm *s) {
  RD_MPI_CHECK(MPI_Win_sync(s->win));
  RD_MPI_CHECK(MPI_Barrier(s->c->mpi));
  RD_MPI_CHECK(MPI_Win_sync(s->win));
}

static float *chunk_of_sum(const shm *s, int q) { return s->part[q] + s->most * s->len; }

/* Phase 2's nodes on chunk me: mine in my pool, the others' in their parts. */
static float *node_at(void *ctx, int q, int i) {
  const shm *s = ctx;
  const int me = s->c->rank;
  const float *v = q == me ? rd_reduce_vec(s->local, i) : s->part[q] + (size_t)i * s->len;
  return (float *)v + s->lo[me];
}

/* Phases 1 and 2: my chunk of the sum to out[lo, hi) and to my part. */
static void reduce_mine(shm *s, rd_reduce *local, float *out) {
  const int P = s->c->size, me = s->c->rank;
  const int64_t K = local->K;
  rd_xchg_fronts(P, K, s->fcap, s->flevel, s->findex, s->nfront);
  RD_ASSERT(s->nfront[me] == local->depth, "frontier mismatch (%d vs %d)", s->nfront[me], local->depth);
  RD_ASSERT((size_t)local->depth <= s->most, "%d nodes, room for %zu", local->depth, s->most);
  const size_t mylo = s->lo[me], myn = s->lo[me + 1] - mylo;
  for (int i = 0; i < local->depth; i++) { /* the others' chunks: before mine and after it */
    const float *v = rd_reduce_vec(local, i);
    float *d = s->part[me] + (size_t)i * s->len;
    memcpy(d, v, mylo * sizeof(float));
    memcpy(d + mylo + myn, v + mylo + myn, (s->len - mylo - myn) * sizeof(float));
  }
  sync_all(s);
  s->local = local;
  const float *mine = rd_xchg_finish_nodes(&s->global, K, P, s->nfront, s->flevel, s->findex, s->fcap, myn, node_at, s);
  s->local = NULL;
  if (K == 0) memset(out + mylo, 0, myn * sizeof(float));
  else if (myn) memcpy(out + mylo, mine, myn * sizeof(float));
  if (myn) memcpy(chunk_of_sum(s, me), out + mylo, myn * sizeof(float));
}

/* The reduce-scatter of a sharded step; the barrier after it keeps the next
 * phase 1 from overwriting nodes another rank is still summing. */
static void scatter(void *st, rd_reduce *local, float *out) {
  reduce_mine(st, local, out);
  sync_all(st);
}

/* Phase 3 on buf, every chunk cut at n: each rank's chunk is in its part. */
static void collect(shm *s, float *buf, size_t n) {
  sync_all(s);
  for (int q = 0; q < s->c->size; q++) {
    const size_t a = s->lo[q] < n ? s->lo[q] : n, b = s->lo[q + 1] < n ? s->lo[q + 1] : n;
    if (q != s->c->rank && b > a) memcpy(buf + a, chunk_of_sum(s, q), (b - a) * sizeof(float));
  }
  sync_all(s); /* nobody writes a part again before everyone has read it */
}

/* The allgather of a sharded step: my chunk of buf, cut at n, to every rank. */
static void gather(void *st, float *buf, size_t n) {
  shm *s = st;
  const int me = s->c->rank;
  const size_t a = s->lo[me] < n ? s->lo[me] : n, b = s->lo[me + 1] < n ? s->lo[me + 1] : n;
  if (b > a) memcpy(chunk_of_sum(s, me), buf + a, (b - a) * sizeof(float));
  collect(s, buf, n);
}

static const float *sum(void *st, rd_reduce *local, float *out) {
  shm *s = st;
  reduce_mine(s, local, out);
  collect(s, out, s->len);
  return out;
}

static void range(const void *st, int q, size_t *lo, size_t *hi) {
  const shm *s = st;
  *lo = s->lo[q], *hi = s->lo[q + 1];
}

const rd_xchg_type rd_xchg_shm = {.name = "shm", .canonical = 1, .plan = plan, .create = create, .destroy = destroy,
                                  .sum = sum, .range = range, .scatter = scatter, .gather = gather};
