/* comm_impl: what the files of the comm module share, and nothing outside it
 * includes: the communicator object behind rd_comm, the MPI error check, and
 * the exchange algorithms' table (src/xchg/, one file each, listed in
 * src/xchg/list.h). The comm module is comm.c, comm_h5.c, comm_allreduce.c and
 * src/xchg/; it is the only code that includes <mpi.h>. */
#ifndef REPRODIST_COMM_IMPL_H
#define REPRODIST_COMM_IMPL_H

#include <mpi.h>

#include "comm.h"

struct rd_comm {
  MPI_Comm mpi;
  int rank, size;
  int one_node; /* every rank shares this rank's node (MPI_COMM_TYPE_SHARED) */
};

#define RD_MPI_CHECK(call)                                                      \
  do {                                                                          \
    int rc_ = (call);                                                           \
    if (rc_ != MPI_SUCCESS) {                                                   \
      char s_[MPI_MAX_ERROR_STRING];                                            \
      int n_ = 0;                                                               \
      MPI_Error_string(rc_, s_, &n_);                                           \
      rd_bug(__FILE__, __LINE__, "MPI call failed: %s: %s", #call, s_);        \
    }                                                                           \
  } while (0)

/* One exchange algorithm: how a K-shard reduction's frontier nodes, spread over
 * the ranks of c, become the whole sum on every rank. Only np > 1 reaches it. */
typedef struct rd_xchg_type {
  const char *name;
  /* 1: every element is summed along reduce.h's canonical tree, so the bits are
   * those of one process. 0 only for the benchmark's plain MPI_Allreduce peer. */
  int canonical;
  /* Floats of the buffers create makes for vectors of len floats and up to
   * max_shards shards, or 0 with why filled when some MPI count or displacement
   * would not fit in an int. */
  size_t (*plan)(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut, char *why, size_t n);
  /* cut: where the ranks' element ranges may start (comm.h); NULL for anywhere. */
  void *(*create)(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut);
  void (*destroy)(void *st);
  /* Collective. local: this rank's pushed shards (its scratch afterwards).
   * Returns where the sum is: out, or a buffer of st or local's. */
  const float *(*sum)(void *st, rd_reduce *local, float *out);
  /* The two halves of sum, for sharded steps (comm.h's rd_allreduce_scatter):
   * rank q's element range; the reduce-scatter, which leaves this rank's range
   * of the sum in out; the allgather of every rank's range, cut at n floats. */
  void (*range)(const void *st, int q, size_t *lo, size_t *hi);
  void (*scatter)(void *st, rd_reduce *local, float *out);
  void (*gather)(void *st, float *buf, size_t n);
  /* Optional: the overlapped form (comm.h's rd_allreduce_begin). begin starts a
   * reduction whose local nodes are not final yet; ready says elements [lo, hi)
   * of them are; progress moves MPI along; end waits and returns where the sum
   * is. NULL: begin, ready and progress do nothing and end is sum. */
  void (*begin)(void *st, rd_reduce *local, float *out);
  void (*ready)(void *st, size_t lo, size_t hi);
  void (*progress)(void *st);
  const float *(*end)(void *st);
  /* Optional: memory for the caller's local reduction (comm.h's
   * rd_allreduce_pool), or NULL. plan does not count it: it stands in for
   * the pool the reduction would allocate. */
  float *(*pool)(void *st);
} rd_xchg_type;

/* The cut rule at x: the largest allowed start <= x (x itself without one). */
static inline size_t rd_cut_at(const rd_cut *cut, size_t x) { return cut && cut->at ? cut->at(cut->ctx, x) : x; }
/* Chunk starts lo[0..P] of len floats over P ranks, rank c's [lo[c], lo[c+1]):
 * even shares, moved down to the cut rule's starts. */
static inline void rd_cut_chunks(const rd_cut *cut, size_t len, int P, size_t *lo) {
  for (int c = 0; c < P; c++) lo[c] = rd_cut_at(cut, len * (size_t)c / (size_t)P);
  lo[P] = len;
}

#define RD_XCHG(n) extern const rd_xchg_type rd_xchg_##n;
#include "xchg/list.h"
#undef RD_XCHG

/* Every rank's chunk [lo[c], lo[c+1]) of buf, cut at n floats, to every rank
 * (MPI_Allgatherv in place; count and displ: P ints of scratch each). */
void rd_xchg_gather_chunks(const rd_comm *c, const size_t *lo, int *count, int *displ, float *buf, size_t n);

/* Every rank's frontier (reduce.h), shared by the algorithms that move whole
 * nodes (alltoallv, bucketed). No metadata travels: each rank's nodes follow
 * from (K, P) alone. fcap: entries per rank, enough for any K <= max_shards. */
int rd_xchg_frontier_cap(int64_t max_shards);
/* For any K <= max_shards: the most nodes one rank ends with, and the most all
 * ranks together do. Exact when that is cheap, else from the bound at
 * max_shards (ranges only grow with K). */
void rd_xchg_frontier_sizes(int P, int64_t max_shards, size_t *most, size_t *total);
/* Rank q's nodes for K shards: n[q] of them, at level/index + q * fcap. */
void rd_xchg_fronts(int P, int64_t K, int fcap, int *level, int64_t *index, int *n);
/* The tree finished on the cn elements at lo: rank me's nodes are local's
 * (their elements lo..), rank q's others at recv + displ[q] + i * cn. Sums in
 * place (local's and recv's vectors are scratch) and returns where the sum is;
 * g is a tree without a pool (rd_reduce_init(g, 0, max_shards)). */
const float *rd_xchg_finish_chunk(rd_reduce *g, int64_t K, int P, int me, const int *n, const int *level,
                                  const int64_t *index, int fcap, const rd_reduce *local, size_t lo, size_t cn,
                                  float *recv, const int *displ);
/* The same tree on any nodes: node(ctx, q, i) is where rank q's node i lies on
 * the cn elements (summed in place, scratch). */
const float *rd_xchg_finish_nodes(rd_reduce *g, int64_t K, int P, const int *n, const int *level,
                                  const int64_t *index, int fcap, size_t cn,
                                  float *(*node)(void *ctx, int q, int i), void *ctx);

/* The algorithms' large buffers (rd_comm_set_alloc); NULL only when out of memory. */
void *rd_comm_buf_alloc(size_t bytes);
void rd_comm_buf_free(void *p);

/* Bytes and counts: what an int MPI count can hold. */
#define RD_MPI_INT_MAX ((size_t)2147483647)

#endif
