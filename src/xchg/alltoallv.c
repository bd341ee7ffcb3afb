/* alltoallv: the canonical allreduce in one round, reduce-scatter style. The
 * vector is cut into P element chunks; rank c receives chunk c of every rank's
 * frontier nodes (one MPI_Alltoallv), finishes the tree on it in shard order,
 * and one MPI_Allgatherv returns the whole sum to everyone. 2(P-1) messages per
 * rank; bytes (nodes per rank) * n (P-1)/P each way. The fastest at small P. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_impl.h"

typedef struct {
  const rd_comm *c;
  size_t len;
  int fcap;             /* frontier entries per rank */
  int *flevel;          /* P * fcap */
  int64_t *findex;
  int *nfront;          /* P */
  int *scount, *sdispl, *rcount, *rdispl; /* P each */
  float *sendbuf, *recvbuf;
  rd_reduce global;     /* finishes the tree on this rank's chunk, in recvbuf */
  size_t *lo;           /* P + 1 chunk starts (rd_cut_chunks) */
} a2a;

static size_t chunk_lo(const a2a *a, int c) { return a->lo[c]; }

/* Buffer floats, the same on every rank: the send buffer holds the most nodes
 * any rank ends with (when that is more than one) whole; the receive buffer a
 * chunk of every rank's nodes, for any K up to max_shards. */
static void sizes(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut, size_t *send, size_t *recv) {
  size_t most, total, chunk = 0;
  size_t *lo = malloc(sizeof(size_t) * ((size_t)c->size + 1));
  RD_ASSERT(lo != NULL, "out of memory");
  rd_cut_chunks(cut, len, c->size, lo);
  for (int q = 0; q < c->size; q++) chunk = lo[q + 1] - lo[q] > chunk ? lo[q + 1] - lo[q] : chunk;
  free(lo);
  rd_xchg_frontier_sizes(c->size, max_shards, &most, &total);
  *send = most > 1 ? most * len : 0;
  *recv = chunk * total;
}

static size_t plan(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut, char *why, size_t n) {
  size_t send, recv;
  sizes(c, len, max_shards, cut, &send, &recv);
  if ((send > recv ? send : recv) > RD_MPI_INT_MAX || len > RD_MPI_INT_MAX) {
    snprintf(why, n, "alltoallv's displacements reach %zu floats, past MPI's int", send > recv ? send : recv);
    return 0;
  }
  return send + recv + 1;
}

static void *create(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut) {
  a2a *a = calloc(1, sizeof *a);
  RD_ASSERT(a != NULL, "out of memory");
  a->c = c;
  a->len = len;
  a->fcap = rd_xchg_frontier_cap(max_shards);
  const size_t P = (size_t)c->size;
  a->flevel = malloc(sizeof(int) * P * (size_t)a->fcap);
  a->findex = malloc(sizeof(int64_t) * P * (size_t)a->fcap);
  a->nfront = malloc(sizeof(int) * P);
  a->scount = malloc(sizeof(int) * P * 4);
  a->lo = malloc(sizeof(size_t) * (P + 1));
  RD_ASSERT(a->flevel && a->findex && a->nfront && a->scount && a->lo, "out of memory");
  rd_cut_chunks(cut, len, c->size, a->lo);
  a->sdispl = a->scount + P;
  a->rcount = a->scount + 2 * P;
  a->rdispl = a->scount + 3 * P;
  /* sendbuf is only used when a rank ends with several local nodes; the
   * common case (one node) sends straight from the reduction's pool. */
  size_t send, recv;
  sizes(c, len, max_shards, cut, &send, &recv);
  a->sendbuf = rd_comm_buf_alloc(sizeof(float) * send + 64);
  a->recvbuf = rd_comm_buf_alloc(sizeof(float) * recv + 64);
  RD_ASSERT(a->sendbuf && a->recvbuf, "out of memory for allreduce buffers");
  rd_reduce_init(&a->global, 0, max_shards); /* no pool: the tree sums in recvbuf */
  return a;
}

static void destroy(void *st) {
  a2a *a = st;
  rd_reduce_free(&a->global);
  free(a->flevel), free(a->findex), free(a->nfront), free(a->scount), free(a->lo), rd_comm_buf_free(a->sendbuf), rd_comm_buf_free(a->recvbuf);
  free(a);
}

/* Reduce-scatter: chunk c of each of my nodes goes to rank c; my own chunk
 * stays where it is (local's vectors are scratch once the step is summed). */
static const float *pack(a2a *a, rd_reduce *local) {
  const int P = a->c->size, me = a->c->rank, mine = local->depth;
  if (mine == 1) { /* one node: its chunks are already in rank order */
    for (int c = 0; c < P; c++) {
      a->sdispl[c] = (int)chunk_lo(a, c);
      a->scount[c] = c == me ? 0 : (int)(chunk_lo(a, c + 1) - chunk_lo(a, c));
    }
    return rd_reduce_vec(local, 0);
  }
  size_t off = 0;
  for (int c = 0; c < P; c++) {
    const size_t lo = chunk_lo(a, c), n = c == me ? 0 : chunk_lo(a, c + 1) - lo;
    a->sdispl[c] = (int)off;
    a->scount[c] = (int)(n * (size_t)mine);
    for (int i = 0; i < mine; i++, off += n) memcpy(a->sendbuf + off, rd_reduce_vec(local, i) + lo, n * sizeof(float));
  }
  return a->sendbuf;
}

/* The reduce-scatter: my chunk of the sum to out[lo, hi). */
static void scatter(void *st, rd_reduce *local, float *out) {
  a2a *a = st;
  const int P = a->c->size, me = a->c->rank;
  const int64_t K = local->K;
  rd_xchg_fronts(P, K, a->fcap, a->flevel, a->findex, a->nfront);
  RD_ASSERT(a->nfront[me] == local->depth, "frontier mismatch (%d vs %d)", a->nfront[me], local->depth);
  const size_t mylo = chunk_lo(a, me), myn = chunk_lo(a, me + 1) - mylo;
  const float *send = pack(a, local);
  size_t off = 0;
  for (int q = 0; q < P; q++) {
    a->rdispl[q] = (int)off;
    a->rcount[q] = q == me ? 0 : (int)(myn * (size_t)a->nfront[q]);
    off += (size_t)a->rcount[q];
  }
  RD_MPI_CHECK(MPI_Alltoallv(send, a->scount, a->sdispl, MPI_FLOAT, a->recvbuf, a->rcount, a->rdispl, MPI_FLOAT,
                             a->c->mpi));
  /* Finish the tree on my chunk where the nodes are. */
  const float *mine = rd_xchg_finish_chunk(&a->global, K, P, me, a->nfront, a->flevel, a->findex, a->fcap, local,
                                           mylo, myn, a->recvbuf, a->rdispl);
  if (K == 0) memset(out + mylo, 0, myn * sizeof(float));
  else if (myn) memcpy(out + mylo, mine, myn * sizeof(float));
}

/* The allgather: every rank's chunk, cut at n floats. */
static void gather(void *st, float *buf, size_t n) {
  a2a *a = st;
  rd_xchg_gather_chunks(a->c, a->lo, a->rcount, a->rdispl, buf, n);
}

static const float *sum(void *st, rd_reduce *local, float *out) {
  a2a *a = st;
  scatter(a, local, out);
  gather(a, out, a->len);
  return out;
}

static void range(const void *st, int q, size_t *lo, size_t *hi) {
  const a2a *a = st;
  *lo = chunk_lo(a, q), *hi = chunk_lo(a, q + 1);
}

const rd_xchg_type rd_xchg_alltoallv = {.name = "alltoallv", .canonical = 1, .plan = plan, .create = create, .destroy = destroy,
                                    .sum = sum, .range = range, .scatter = scatter, .gather = gather};
