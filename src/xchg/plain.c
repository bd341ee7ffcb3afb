/* plain: NOT canonical. This rank's nodes summed left to right, then
 * MPI_Allreduce(MPI_SUM): what every other framework does, so its bits depend
 * on np. The benchmark's peer (launch/bench, RD_ALLREDUCE=plain), never chosen
 * by AUTO. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm_impl.h"

typedef struct {
  const rd_comm *c;
  size_t len;
  float *zero; /* a rank with no shard contributes zeros */
  size_t *lo;  /* P + 1 chunk starts, for sharded steps */
  int *count, *displ;
} plain;

static size_t plan(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut, char *why, size_t n) {
  if (len > RD_MPI_INT_MAX) {
    snprintf(why, n, "MPI_Allreduce's count %zu is past MPI's int", len);
    return 0;
  }
  return len + 1;
}

static void *create(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut) {
  plain *p = calloc(1, sizeof *p);
  RD_ASSERT(p != NULL, "out of memory");
  const size_t P = (size_t)c->size;
  *p = (plain){c, len, calloc(len + 1, sizeof(float)), malloc(sizeof(size_t) * (P + 1)), malloc(sizeof(int) * 2 * P),
               NULL};
  RD_ASSERT(p->zero && p->lo && p->count, "out of memory");
  p->displ = p->count + P;
  rd_cut_chunks(cut, len, c->size, p->lo);
  return p;
}

static void destroy(void *st) {
  plain *p = st;
  free(p->zero), free(p->lo), free(p->count), free(p);
}

static const float *sum(void *st, rd_reduce *local, float *out) {
  plain *p = st;
  float *acc = local->depth ? rd_reduce_vec(local, 0) : p->zero;
  for (int i = 1; i < local->depth; i++) {
    const float *v = rd_reduce_vec(local, i);
    for (size_t q = 0; q < p->len; q++) acc[q] += v[q];
  }
  RD_MPI_CHECK(MPI_Allreduce(acc, out, (int)p->len, MPI_FLOAT, MPI_SUM, p->c->mpi));
  return out;
}

static void range(const void *st, int q, size_t *lo, size_t *hi) {
  const plain *p = st;
  *lo = p->lo[q], *hi = p->lo[q + 1];
}

static void scatter(void *st, rd_reduce *local, float *out) { sum(st, local, out); }

static void gather(void *st, float *buf, size_t n) {
  plain *p = st;
  rd_xchg_gather_chunks(p->c, p->lo, p->count, p->displ, buf, n);
}

const rd_xchg_type rd_xchg_plain = {.name = "plain", .canonical = 0, .plan = plan, .create = create, .destroy = destroy,
                                    .sum = sum, .range = range, .scatter = scatter, .gather = gather};
