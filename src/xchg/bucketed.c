/* bucketed: alltoallv's exchange, cut into buckets of elements that can start
 * while the last local shard's backward pass is still running.
 *
 * The vector is cut into nb buckets of bs floats, counted from its end (the
 * backward pass writes the last layers' gradient first). Bucket j is sent as
 * soon as all its elements are final (rd_allreduce_ready): one MPI_Ialltoallv
 * gives rank c chunk c of the bucket from every rank's frontier nodes; rank c
 * finishes the canonical tree on it, and one MPI_Iallgatherv returns the
 * bucket's chunks to everyone. Every element is still summed along reduce.h's
 * tree, by whichever rank owns it, so the bits are alltoallv's. MPI is
 * progressed by ready and by the caller's rd_allreduce_progress between layers.
 *
 * Collectives on one communicator must start in the same order on every rank,
 * whatever each rank's timing: the buckets start strictly in bucket order, the
 * reduce-scatters on one duplicate of the communicator and the allgathers on
 * another. Messages per rank: 2(P-1) nb; bytes as alltoallv's. No sharded
 * halves: a rank's elements are a chunk of every bucket, not one range. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_impl.h"

typedef struct {
  size_t lo, hi;    /* its elements */
  size_t *clo;      /* P + 1 chunk starts (absolute) */
  int *scount, *sdispl, *rcount, *rdispl, *gcount, *gdispl; /* P each */
  size_t ready;     /* of its floats, those reported final in this reduction */
  float *recv;      /* where its chunk of every other rank's nodes arrives */
  MPI_Request a2a, ag;
} bucket;

typedef struct {
  const rd_comm *c;
  MPI_Comm scat, gath;
  size_t len, bs;
  int nb;
  bucket *b;
  size_t *clo;
  int *ints;
  int fcap;
  int *flevel;
  int64_t *findex;
  int *nfront;
  float *sendbuf, *recvbuf;
  rd_reduce global;
  /* the reduction under way */
  rd_reduce *local;
  float *out;
  int64_t K;
  size_t soff, roff;             /* next free floats of sendbuf and recvbuf */
  int launched, reduced;         /* buckets whose reduce-scatter, and whose allgather, started */
} bk;

/* Bucket floats: a sixteenth of the vector, within [1,024, 2^20]. */
static size_t bucket_size(size_t len) {
  size_t bs = (len + 15) / 16;
  return bs < 1024 ? 1024 : bs > ((size_t)1 << 20) ? (size_t)1 << 20 : bs;
}

static int buckets(size_t len) { return len ? (int)((len + bucket_size(len) - 1) / bucket_size(len)) : 1; }

/* Bucket j: [len - (j + 1) bs, len - j bs), clipped at 0. */
static void bucket_range(size_t len, int j, size_t *lo, size_t *hi) {
  const size_t bs = bucket_size(len), top = len - (size_t)j * bs;
  *hi = top, *lo = top > bs ? top - bs : 0;
}

/* Floats of the buffers: packed sends when a rank has several nodes (at most
 * most * len), and each bucket's chunk of every other rank's nodes. */
static void sizes(const rd_comm *c, size_t len, int64_t max_shards, size_t *send, size_t *recv) {
  size_t most, total, mine = 0;
  rd_xchg_frontier_sizes(c->size, max_shards, &most, &total);
  size_t *lo = malloc(sizeof(size_t) * ((size_t)c->size + 1));
  size_t *per = calloc((size_t)c->size, sizeof(size_t));
  RD_ASSERT(lo && per, "out of memory");
  for (int j = 0; j < buckets(len); j++) {
    size_t a, b;
    bucket_range(len, j, &a, &b);
    rd_cut_chunks(NULL, b - a, c->size, lo);
    for (int q = 0; q < c->size; q++) per[q] += lo[q + 1] - lo[q];
  }
  for (int q = 0; q < c->size; q++) mine = per[q] > mine ? per[q] : mine;
  free(lo), free(per);
  *send = most > 1 ? most * len : 0;
  *recv = mine * total;
}

static size_t plan(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut, char *why, size_t n) {
  if (cut) {
    snprintf(why, n, "bucketed has no sharded halves (each rank's elements are a chunk of every bucket)");
    return 0;
  }
  size_t send, recv;
  sizes(c, len, max_shards, &send, &recv);
  if ((send > recv ? send : recv) > RD_MPI_INT_MAX || len > RD_MPI_INT_MAX) {
    snprintf(why, n, "bucketed's displacements reach %zu floats, past MPI's int", send > recv ? send : recv);
    return 0;
  }
  return send + recv + 1;
}

static void *create(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut) {
  (void)cut;
  bk *s = calloc(1, sizeof *s);
  RD_ASSERT(s != NULL, "out of memory");
  const size_t P = (size_t)c->size;
  s->c = c, s->len = len, s->bs = bucket_size(len), s->nb = buckets(len);
  s->fcap = rd_xchg_frontier_cap(max_shards);
  s->b = calloc((size_t)s->nb, sizeof *s->b);
  s->clo = malloc(sizeof(size_t) * (P + 1) * (size_t)s->nb);
  s->ints = malloc(sizeof(int) * 6 * P * (size_t)s->nb);
  s->flevel = malloc(sizeof(int) * P * (size_t)s->fcap);
  s->findex = malloc(sizeof(int64_t) * P * (size_t)s->fcap);
  s->nfront = malloc(sizeof(int) * P);
  RD_ASSERT(s->b && s->clo && s->ints && s->flevel && s->findex && s->nfront, "out of memory");
  for (int j = 0; j < s->nb; j++) {
    bucket *b = &s->b[j];
    bucket_range(len, j, &b->lo, &b->hi);
    b->clo = s->clo + (P + 1) * (size_t)j;
    rd_cut_chunks(NULL, b->hi - b->lo, c->size, b->clo);
    for (size_t q = 0; q <= P; q++) b->clo[q] += b->lo;
    int *x = s->ints + 6 * P * (size_t)j;
    b->scount = x, b->sdispl = x + P, b->rcount = x + 2 * P, b->rdispl = x + 3 * P, b->gcount = x + 4 * P,
    b->gdispl = x + 5 * P;
    for (size_t q = 0; q < P; q++) b->gdispl[q] = (int)b->clo[q], b->gcount[q] = (int)(b->clo[q + 1] - b->clo[q]);
    b->a2a = b->ag = MPI_REQUEST_NULL;
  }
  size_t send, recv;
  sizes(c, len, max_shards, &send, &recv);
  s->sendbuf = rd_comm_buf_alloc(sizeof(float) * send + 64);
  s->recvbuf = rd_comm_buf_alloc(sizeof(float) * recv + 64);
  RD_ASSERT(s->sendbuf && s->recvbuf, "out of memory for allreduce buffers");
  RD_MPI_CHECK(MPI_Comm_dup(c->mpi, &s->scat));
  RD_MPI_CHECK(MPI_Comm_dup(c->mpi, &s->gath));
  rd_reduce_init(&s->global, 0, max_shards);
  s->launched = s->reduced = s->nb; /* nothing under way */
  return s;
}

static void destroy(void *st) {
  bk *s = st;
  MPI_Comm_free(&s->scat), MPI_Comm_free(&s->gath);
  rd_reduce_free(&s->global);
  free(s->b), free(s->clo), free(s->ints), free(s->flevel), free(s->findex), free(s->nfront);
  rd_comm_buf_free(s->sendbuf), rd_comm_buf_free(s->recvbuf);
  free(s);
}

/* Bucket j's reduce-scatter: chunk q of each of my nodes to rank q. */
static void launch(bk *s, int j) {
  bucket *b = &s->b[j];
  const int P = s->c->size, me = s->c->rank, mine = s->local->depth;
  const size_t myn = b->clo[me + 1] - b->clo[me];
  const float *send = s->sendbuf;
  if (mine == 1) { /* one node: its chunks are in rank order where they are */
    send = rd_reduce_vec(s->local, 0);
    for (int q = 0; q < P; q++)
      b->sdispl[q] = (int)b->clo[q], b->scount[q] = q == me ? 0 : (int)(b->clo[q + 1] - b->clo[q]);
  } else {
    for (int q = 0; q < P; q++) {
      const size_t n = q == me ? 0 : b->clo[q + 1] - b->clo[q];
      b->sdispl[q] = (int)s->soff, b->scount[q] = (int)(n * (size_t)mine);
      for (int i = 0; i < mine; i++, s->soff += n)
        memcpy(s->sendbuf + s->soff, rd_reduce_vec(s->local, i) + b->clo[q], n * sizeof(float));
    }
  }
  size_t off = 0;
  for (int q = 0; q < P; q++) {
    b->rdispl[q] = (int)off;
    b->rcount[q] = q == me ? 0 : (int)(myn * (size_t)s->nfront[q]);
    off += (size_t)b->rcount[q];
  }
  b->recv = s->recvbuf + s->roff;
  s->roff += off;
  RD_MPI_CHECK(MPI_Ialltoallv(send, b->scount, b->sdispl, MPI_FLOAT, b->recv, b->rcount, b->rdispl, MPI_FLOAT,
                              s->scat, &b->a2a));
}

/* Bucket j's reduce-scatter has arrived: its tree on my chunk, then its allgather. */
static void reduce_and_share(bk *s, int j) {
  bucket *b = &s->b[j];
  const int P = s->c->size, me = s->c->rank;
  const size_t mylo = b->clo[me], myn = b->clo[me + 1] - mylo;
  const float *sum = rd_xchg_finish_chunk(&s->global, s->K, P, me, s->nfront, s->flevel, s->findex, s->fcap, s->local,
                                          mylo, myn, b->recv, b->rdispl);
  if (myn) memcpy(s->out + mylo, sum, myn * sizeof(float));
  RD_MPI_CHECK(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, s->out, b->gcount, b->gdispl, MPI_FLOAT, s->gath, &b->ag));
}

/* Waits for r, yielding the core between polls: a rank that waits here gives
 * its core to a rank still computing where ranks share cores, and costs a
 * system call per poll where they do not. (Under SimGrid's SMPI every
 * MPI_Test costs simulated time: there it is MPI_Wait.) */
static void wait_yield(MPI_Request *r) {
#ifdef SMPI_H
  RD_MPI_CHECK(MPI_Wait(r, MPI_STATUS_IGNORE));
#else
  for (int done = 0; !done;) {
    RD_MPI_CHECK(MPI_Test(r, &done, MPI_STATUS_IGNORE));
    if (!done) sched_yield();
  }
#endif
}

/* Starts what can start, in bucket order, and moves MPI along; with wait,
 * until every bucket's reduce-scatter is done and its allgather started. */
static void pump(bk *s, int wait) {
  while (s->launched < s->nb && s->b[s->launched].ready == s->b[s->launched].hi - s->b[s->launched].lo)
    launch(s, s->launched++);
  while (s->reduced < s->launched) {
    int done = 1;
    if (wait) wait_yield(&s->b[s->reduced].a2a);
    else RD_MPI_CHECK(MPI_Test(&s->b[s->reduced].a2a, &done, MPI_STATUS_IGNORE));
    if (!done) return;
    reduce_and_share(s, s->reduced++);
  }
  if (!wait && s->reduced > 0) { /* the allgathers under way progress too */
    int done;
    RD_MPI_CHECK(MPI_Test(&s->b[s->reduced - 1].ag, &done, MPI_STATUS_IGNORE));
  }
}

static void begin(void *st, rd_reduce *local, float *out) {
  bk *s = st;
  RD_ASSERT(s->launched == s->nb && s->reduced == s->nb, "a reduction is already under way");
  s->local = local, s->out = out, s->K = local->K;
  s->soff = s->roff = 0;
  for (int j = 0; j < s->nb; j++) s->b[j].ready = 0;
  if (s->K == 0) { /* every rank knows: nothing to send */
    memset(out, 0, sizeof(float) * s->len);
    return;
  }
  rd_xchg_fronts(s->c->size, s->K, s->fcap, s->flevel, s->findex, s->nfront);
  s->launched = s->reduced = 0;
}

static void ready(void *st, size_t lo, size_t hi) {
  bk *s = st;
  if (s->launched == s->nb) return; /* K == 0, or everything already sent */
  RD_ASSERT(lo <= hi && hi <= s->len, "ready range [%zu, %zu) outside %zu floats", lo, hi, s->len);
  if (lo == hi) return;
  for (int j = (int)((s->len - hi) / s->bs); j < s->nb; j++) {
    bucket *b = &s->b[j];
    if (b->hi <= lo) break;
    const size_t a = lo > b->lo ? lo : b->lo, z = hi < b->hi ? hi : b->hi;
    if (z > a) b->ready += z - a;
    RD_ASSERT(b->ready <= b->hi - b->lo, "bucket %d reported ready twice", j);
  }
  pump(s, 0);
}

static void progress(void *st) {
  bk *s = st;
  if (s->reduced < s->nb || s->launched < s->nb) pump(s, 0);
}

static const float *end(void *st) {
  bk *s = st;
  if (s->K == 0) return s->out;
  for (int j = s->launched; j < s->nb; j++) s->b[j].ready = s->b[j].hi - s->b[j].lo;
  pump(s, 1);
  for (int j = 0; j < s->nb; j++) wait_yield(&s->b[j].ag);
  return s->out;
}

static const float *sum(void *st, rd_reduce *local, float *out) {
  begin(st, local, out);
  return end(st);
}

const rd_xchg_type rd_xchg_bucketed = {.name = "bucketed", .canonical = 1, .plan = plan, .create = create,
                                       .destroy = destroy, .sum = sum, .begin = begin, .ready = ready,
                                       .progress = progress, .end = end};
