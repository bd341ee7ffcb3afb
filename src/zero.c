/* zero: sharded steps (see zero.h). */
#include "zero.h"

#include <stdlib.h>
#include <string.h>

rd_status rd_zero_init(rd_zero *z, rd_optim *o, size_t len, int64_t max_shards, rd_err *err) {
  memset(z, 0, sizeof *z);
  const int P = rd_comm_size(), me = rd_comm_rank();
  z->cut = (rd_cut){rd_optim_cut, o};
  z->G = o->n, z->len = len;
  z->a = rd_allreduce_create_cut(rd_comm_world(), len, max_shards, RD_XCHG_AUTO, &z->cut, err);
  if (rd_comm_agree(err)) {
    rd_allreduce_destroy(z->a);
    z->a = NULL;
    return err->code;
  }
  z->bcount = malloc(sizeof(int) * 2 * (size_t)P);
  RD_ASSERT(z->bcount != NULL, "out of memory");
  z->bdispl = z->bcount + P;
  for (int q = 0; q < P; q++) {
    size_t lo, hi;
    rd_allreduce_range(z->a, q, &lo, &hi);
    if (hi == len && hi > lo) z->tail = q; /* the cut rule keeps [G, len) in one range */
    const size_t b0 = rd_optim_block_at(o, lo), b1 = rd_optim_block_at(o, hi);
    z->bdispl[q] = (int)b0, z->bcount[q] = hi > lo ? (int)(b1 - b0) : 0;
    if (q == me) rd_optim_shard(o, lo, hi);
  }
  return RD_OK;
}

void rd_zero_free(rd_zero *z) {
  rd_allreduce_destroy(z->a);
  free(z->bcount);
  memset(z, 0, sizeof *z);
}

float *rd_zero_scatter(rd_zero *z, rd_reduce *local, float *out) {
  float *g = rd_allreduce_scatter(z->a, local, out);
  rd_comm_bcast_f32(rd_comm_world(), g + z->G, z->len - z->G, z->tail);
  return g;
}

void rd_zero_step(rd_zero *z, rd_optim *o, uint64_t iteration, float *params, float *g, float *state) {
  if (o->nblk) { /* every range's block sums, then the same tree on every rank */
    rd_optim_block_sums(o, g, o->sums);
    rd_comm_allgather_f64(rd_comm_world(), o->sums, z->bcount, z->bdispl);
  }
  rd_optim_step_sums(o, iteration, params, g, state, o->sums);
}

void rd_zero_share(rd_zero *z, float *params) { rd_allreduce_gather(z->a, params, z->G); }

void rd_zero_gather_slot(rd_zero *z, const rd_optim *o, const float *slab, float *buf) {
  if (o->hi > o->lo) memcpy(buf + o->lo, slab, sizeof(float) * (o->hi - o->lo));
  rd_allreduce_gather(z->a, buf, z->G);
}
