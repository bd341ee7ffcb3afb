/* shm: alltoallv's chunks through memory the ranks of one node share, with no
 * message. Every rank maps one MPI-3 shared window (MPI_Win_allocate_shared)
 * holding, per rank, where its frontier nodes are, a chunk area (for the
 * sharded allgather), the pool of its local reduction (rd_allreduce_pool: the
 * trainer's nodes are made there) and room for copies of nodes made elsewhere.
 *   1. each rank publishes where its nodes are in its part: in the pool, or
 *      else copied (the other ranks' chunks of them) into the copy room;
 *   2. rank c finishes the tree on chunk c, in shard order, reading the other
 *      ranks' nodes where they lie (its own in its local reduction), summing
 *      in place: the whole sum ends in the tree's first node, node 0 of the
 *      first rank with shards (r0);
 *   3. r0 returns that node; every other rank copies it into out.
 * A barrier (with MPI_Win_sync) between the phases and after the last. The
 * additions are alltoallv's, element for element, so the bits are too. The
 * nodes are not copied at all when they are in the pool, and the sum once, out
 * of the window: memory copies by the ranks themselves, where alltoallv's two
 * collectives go through the MPI library (on one node, kernel-assisted copies:
 * a system call per message).
 * Only for ranks that share one node (rd_comm's one_node), never under
 * SimGrid's SMPI, whose simulated ranks share no memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "comm_impl.h"

typedef struct {
  const rd_comm *c;
  size_t len, most, chunk; /* floats; node slots per rank; the largest chunk */
  int fcap;
  int *flevel;             /* P * fcap */
  int64_t *findex;
  int *nfront;             /* P */
  size_t *lo;              /* P + 1 chunk starts (rd_cut_chunks) */
  size_t pool, copy, end;  /* offsets in a part (floats): the pool, the copy room (most slots of len), the end */
  MPI_Win win;
  float **part;            /* P: rank q's part, 64-byte aligned: where its nodes are (fcap int64
                              offsets), its chunk area, its pool, its copy room */
  rd_reduce global;
  const rd_reduce *local;  /* this step's (phase 2) */
} shm;

static size_t up16(size_t n) { return (n + 15) & ~(size_t)15; }

/* A part's sizes and layout (floats): node slots per rank, the largest chunk,
 * the offsets of the pool, the copy room and the end. */
typedef struct {
  size_t most, chunk, pool, copy, end;
} shape;

/* The layout for vectors of len floats and up to max_shards shards; the chunk starts into lo (P + 1). */
static shape layout(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut, size_t *lo) {
  shape h = {0};
  size_t total;
  rd_xchg_frontier_sizes(c->size, max_shards, &h.most, &total);
  rd_cut_chunks(cut, len, c->size, lo);
  for (int q = 0; q < c->size; q++) h.chunk = lo[q + 1] - lo[q] > h.chunk ? lo[q + 1] - lo[q] : h.chunk;
  h.pool = up16(2 * (size_t)rd_xchg_frontier_cap(max_shards)) + up16(h.chunk);
  h.copy = h.pool + rd_reduce_floats(len, rd_reduce_local_shards(max_shards, c->size)); /* one rank's share */
  h.end = h.copy + h.most * len;
  return h;
}

/* Open MPI makes the window a file in osc_sm_backing_directory (/dev/shm
 * unless OMPI_MCA_osc_sm_backing_directory says otherwise; its session
 * directory, under TMPDIR or /tmp, when that is not writable) and fails the
 * allocation, aborting the run, when the file does not fit there (Docker's
 * /dev/shm is 64 MB). shm takes at most half that filesystem's size: the same
 * verdict on every rank of the node, where its free space could differ. At np
 * 1 there is no window. */
static int fits(const rd_comm *c, size_t part, char *why, size_t n) {
  if (c->size == 1) return 1;
  const char *dir = getenv("OMPI_MCA_osc_sm_backing_directory");
  if (!dir || !dir[0]) dir = "/dev/shm";
  if (access(dir, W_OK) != 0) dir = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
  const double need = (double)c->size * (double)(sizeof(float) * part + 64);
  struct statvfs v;
  if (statvfs(dir, &v) != 0) {
    snprintf(why, n, "shm's window goes in %s, which cannot be read (%s)", dir, strerror(errno));
    return 0;
  }
  const double size = (double)v.f_blocks * (double)v.f_frsize;
  if (need > size / 2) {
    snprintf(why, n,
             "shm's window (%.1f MB on this node) would take more than half of %s (%.1f MB): unset RD_ALLREDUCE for "
             "alltoallv, or point OMPI_MCA_osc_sm_backing_directory to a larger directory",
             need / 1e6, dir, size / 1e6);
    return 0;
  }
  return 1;
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
  size_t *lo = malloc(sizeof(size_t) * ((size_t)c->size + 1));
  RD_ASSERT(lo != NULL, "out of memory");
  const shape h = layout(c, len, max_shards, cut, lo);
  free(lo);
  if (!fits(c, h.end, why, n)) return 0;
  return h.end - (h.copy - h.pool) + 16; /* not the pool, which the local reduction's own would be */
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
  const shape h = layout(c, len, max_shards, cut, s->lo);
  s->most = h.most, s->chunk = h.chunk, s->pool = h.pool, s->copy = h.copy, s->end = h.end;
  float *base;
  RD_MPI_CHECK(MPI_Win_allocate_shared((MPI_Aint)(sizeof(float) * s->end + 64), sizeof(float), MPI_INFO_NULL, c->mpi,
                                       &base, &s->win));
  for (int q = 0; q < c->size; q++) { /* the segment is mapped page-aligned: the same padding in every process */
    MPI_Aint bytes;
    int unit;
    float *p;
    RD_MPI_CHECK(MPI_Win_shared_query(s->win, q, &bytes, &unit, &p));
    s->part[q] = (float *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
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

static int64_t *where(const shm *s, int q) { return (int64_t *)s->part[q]; }
static float *chunk_of_sum(const shm *s, int q) { return s->part[q] + up16(2 * (size_t)s->fcap); }

/* Phase 2's nodes on chunk me: mine in my pool, the others' in their parts. */
static float *node_at(void *ctx, int q, int i) {
  const shm *s = ctx;
  const int me = s->c->rank;
  const float *v = q == me ? rd_reduce_vec(s->local, i) : s->part[q] + where(s, q)[i];
  return (float *)v + s->lo[me];
}

/* Phases 1 and 2 (K > 0): returns where my chunk of the sum is. The tree sums
 * in place into its first node, node 0 of the first rank with shards (r0): for
 * chunk c != r0 in r0's part, for chunk r0 in r0's local node. */
static const float *reduce_mine(shm *s, rd_reduce *local) {
  const int P = s->c->size, me = s->c->rank;
  const int64_t K = local->K;
  rd_xchg_fronts(P, K, s->fcap, s->flevel, s->findex, s->nfront);
  RD_ASSERT(s->nfront[me] == local->depth, "frontier mismatch (%d vs %d)", s->nfront[me], local->depth);
  RD_ASSERT((size_t)local->depth <= s->most, "%d nodes, room for %zu", local->depth, s->most);
  const size_t mylo = s->lo[me], myn = s->lo[me + 1] - mylo;
  const uintptr_t pool = (uintptr_t)(s->part[me] + s->pool), copy = (uintptr_t)(s->part[me] + s->copy);
  for (int i = 0; i < local->depth; i++) {
    const float *v = rd_reduce_vec(local, i);
    if ((uintptr_t)v >= pool && (uintptr_t)v < copy) { /* in the pool: read where it is */
      where(s, me)[i] = (int64_t)(v - s->part[me]);
      continue;
    }
    RD_ASSERT((uintptr_t)v >= (uintptr_t)(s->part[me] + s->end) || (uintptr_t)(v + s->len) <= (uintptr_t)s->part[me],
              "node %d lies in the window outside the pool (a local reduction larger than the pool)", i);
    float *d = s->part[me] + s->copy + (size_t)i * s->len; /* the others' chunks: before mine and after it */
    memcpy(d, v, mylo * sizeof(float));
    memcpy(d + mylo + myn, v + mylo + myn, (s->len - mylo - myn) * sizeof(float));
    where(s, me)[i] = (int64_t)(d - s->part[me]);
  }
  sync_all(s);
  s->local = local;
  const float *mine = rd_xchg_finish_nodes(&s->global, K, P, s->nfront, s->flevel, s->findex, s->fcap, myn, node_at, s);
  s->local = NULL;
  return mine;
}

/* The reduce-scatter of a sharded step; the barrier after it keeps the next
 * step from overwriting nodes another rank is still summing. */
static void scatter(void *st, rd_reduce *local, float *out) {
  shm *s = st;
  const size_t mylo = s->lo[s->c->rank], myn = s->lo[s->c->rank + 1] - mylo;
  if (local->K == 0) { /* K is every rank's: none sums, none waits */
    memset(out + mylo, 0, myn * sizeof(float));
    return;
  }
  const float *mine = reduce_mine(s, local);
  if (myn) memcpy(out + mylo, mine, myn * sizeof(float));
  sync_all(s);
}

/* The allgather of a sharded step: my chunk of buf, cut at n, to every rank
 * through my part's chunk area. */
static void gather(void *st, float *buf, size_t n) {
  shm *s = st;
  const int me = s->c->rank;
  const size_t a = s->lo[me] < n ? s->lo[me] : n, b = s->lo[me + 1] < n ? s->lo[me + 1] : n;
  if (b > a) memcpy(chunk_of_sum(s, me), buf + a, (b - a) * sizeof(float));
  sync_all(s);
  for (int q = 0; q < s->c->size; q++) {
    const size_t qa = s->lo[q] < n ? s->lo[q] : n, qb = s->lo[q + 1] < n ? s->lo[q + 1] : n;
    if (q != me && qb > qa) memcpy(buf + qa, chunk_of_sum(s, q), (qb - qa) * sizeof(float));
  }
  sync_all(s); /* nobody writes a part again before everyone has read it */
}

/* After phase 2 the whole sum is r0's first node: r0 returns it (its own
 * buffer, as at np 1), the others copy it out (phase 3). */
static const float *sum(void *st, rd_reduce *local, float *out) {
  shm *s = st;
  const int me = s->c->rank;
  if (local->K == 0) {
    memset(out, 0, s->len * sizeof(float));
    return out;
  }
  const float *mine = reduce_mine(s, local);
  int r0 = 0;
  while (s->nfront[r0] == 0) r0++;
  float *root = s->part[r0] + where(s, r0)[0];
  const size_t mylo = s->lo[me], myn = s->lo[me + 1] - mylo;
  if (myn && mine != root + mylo) memcpy(root + mylo, mine, myn * sizeof(float)); /* r0's node was a copy */
  sync_all(s);
  if (me != r0) memcpy(out, root, s->len * sizeof(float));
  sync_all(s); /* r0 changes nothing in its node before everyone has read it */
  return me == r0 ? root : out;
}

static float *pool(void *st) {
  shm *s = st;
  return s->part[s->c->rank] + s->pool;
}

static void range(const void *st, int q, size_t *lo, size_t *hi) {
  const shm *s = st;
  *lo = s->lo[q], *hi = s->lo[q + 1];
}

const rd_xchg_type rd_xchg_shm = {.name = "shm", .canonical = 1, .plan = plan, .create = create, .destroy = destroy,
                                  .sum = sum, .range = range, .scatter = scatter, .gather = gather, .pool = pool};
