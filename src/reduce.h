/* reduce: the canonical summation tree over shards, and which shards are whose.
 *
 * A reduction over K shards (K = shards in this batch) sums the shards' vectors
 * along one fixed binary tree: node (level k, index j) covers shards
 * [j*2^k, (j+1)*2^k) clipped to K; its value is left child + right child, or the
 * left child alone when the right one would start at or past K. The root is
 * (ceil(log2 K), 0). The tree depends on K only, never on the rank count, so
 * the sum has the same bits for every np.
 *
 * Ranks hold contiguous shard ranges (rd_shard_range). Each rank folds its
 * shards into the maximal complete nodes inside its range (rd_reduce_push);
 * comm exchanges those nodes and finishes the same tree. Pure code: no MPI. */
#ifndef REPRODIST_REDUCE_H
#define REPRODIST_REDUCE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Shards [*lo, *hi) of K belong to rank r of P: [K*r/P, K*(r+1)/P). */
void rd_shard_range(int64_t K, int P, int r, int64_t *lo, int64_t *hi);

#define RD_REDUCE_MAX_DEPTH 130

/* A stack of complete tree nodes; vectors live in a pool of `cap` buffers of
 * `len` floats each, allocated once (the step loop allocates nothing). */
typedef struct rd_reduce {
  int64_t K;          /* shards in the current reduction */
  int root_level;
  size_t len;         /* floats per vector (0: track nodes only, no data) */
  int depth;
  int level[RD_REDUCE_MAX_DEPTH];
  int64_t index[RD_REDUCE_MAX_DEPTH];
  int buf[RD_REDUCE_MAX_DEPTH]; /* pool slot of each stack entry (-1: ext) */
  float *ext[RD_REDUCE_MAX_DEPTH]; /* caller-owned vector of an entry pushed by rd_reduce_push_ext */
  int cap, nfree;
  int freelist[RD_REDUCE_MAX_DEPTH];
  float *pool;
  int own;            /* 1: rd_reduce_free frees pool */
} rd_reduce;

/* The most shards one rank of P pushes into a reduction over at most K shards
 * (rd_shard_range, for any K' <= K): ceil(K / P). */
int64_t rd_reduce_local_shards(int64_t K, int P);
/* Pool slots a reduction needs when at most max_shards shards are pushed into
 * it (consecutive ones, any K): at most two nodes per level are waiting for
 * a sibling, plus the slot being filled; exactly the most it can use. */
int rd_reduce_slots(int64_t max_shards);
/* Pool for reductions into which at most max_shards leaves are pushed (a
 * rank's share: rd_reduce_local_shards), holding vectors of len floats. */
void rd_reduce_init(rd_reduce *r, size_t len, int64_t max_shards);
/* The same, with the pool at `pool` (rd_reduce_floats(len, max_shards) floats,
 * 64-byte aligned; the caller's, kept until rd_reduce_free), or allocated when
 * pool is NULL. An exchange that reads the nodes where they lie offers it
 * (comm.h's rd_allreduce_pool). */
void rd_reduce_init_in(rd_reduce *r, size_t len, int64_t max_shards, float *pool);
void rd_reduce_free(rd_reduce *r);
/* Floats rd_reduce_init(len, max_shards) allocates (for memory estimates). */
size_t rd_reduce_floats(size_t len, int64_t max_shards);
/* Starts a new reduction over K shards; empties the stack. */
void rd_reduce_begin(rd_reduce *r, int64_t K);
/* A free buffer to fill with the next node's vector (len floats). */
float *rd_reduce_slot(rd_reduce *r);
/* Pushes node (level, index) whose vector is in the slot just returned by
 * rd_reduce_slot (ignored when len == 0), merging completed siblings. Nodes must
 * be pushed in increasing position order. */
void rd_reduce_push(rd_reduce *r, int level, int64_t index);
/* Like rd_reduce_push, for a vector the caller owns and lets the tree modify
 * in place (len floats; a merge adds the right node into the left one). For a
 * reduction without a pool (rd_reduce_init with len 0, then r->len set to the
 * vectors' length): it sums buffers where they are, with no copy. */
void rd_reduce_push_ext(rd_reduce *r, int level, int64_t index, float *vec);
/* The additions a push makes, recorded instead of done (rd_reduce_push_deferred):
 * dst[k] += src[k] over the vectors' elements, k in order. An overlapped step
 * pushes its last shard before the shard's backward pass has written it, then
 * applies the merges slice by slice as the gradient's slices become final. Per
 * element they are the same additions in the same order as rd_reduce_push. */
typedef struct rd_reduce_merges {
  int n;
  float *dst[RD_REDUCE_MAX_DEPTH];
  const float *src[RD_REDUCE_MAX_DEPTH];
} rd_reduce_merges;
/* rd_reduce_push, with the merges' additions left to rd_reduce_merges_apply. The
 * pushed slot stays valid (not handed out again) until the next rd_reduce_slot. */
void rd_reduce_push_deferred(rd_reduce *r, int level, int64_t index, rd_reduce_merges *mg);
/* The recorded additions on elements [lo, hi) of the vectors. */
void rd_reduce_merges_apply(const rd_reduce_merges *mg, size_t lo, size_t hi);
/* 1 when they form a chain: each merge's result is the next one's right node
 * (src[k + 1] == dst[k]), so one pass does them all, t = dst[k] + t. */
int rd_reduce_merges_chain(const rd_reduce_merges *mg);
/* Vector of stack entry i (0 = bottom). */
float *rd_reduce_vec(const rd_reduce *r, int i);

/* The maximal complete nodes a rank holding shards [lo, hi) of K ends with,
 * written to level[]/index[] (up to max); returns how many. */
int rd_reduce_frontier(int64_t K, int64_t lo, int64_t hi, int *level, int64_t *index, int max);
/* How many nodes that is, in O(log^2 K) steps instead of hi - lo pushes. */
int rd_reduce_frontier_count(int64_t K, int64_t lo, int64_t hi);
/* At most how many nodes the frontier of any range of L shards has, for any K. */
int rd_reduce_frontier_bound(int64_t L);

#ifdef __cplusplus
}
#endif
#endif
