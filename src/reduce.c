/* reduce: canonical shard tree (see reduce.h). */
#include "reduce.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "simd.h"

void rd_shard_range(int64_t K, int P, int r, int64_t *lo, int64_t *hi) {
  *lo = K * r / P;
  *hi = K * (r + 1) / P;
}

/* Slots start on 64-byte boundaries, like every buffer a GEMM writes. */
static size_t stride(size_t len) { return (len + 15) & ~(size_t)15; }

static int ceil_log2(int64_t K) {
  int L = 0;
  while (((int64_t)1 << L) < K) L++;
  return L;
}

int64_t rd_reduce_local_shards(int64_t K, int P) { return K <= 0 ? 0 : (K + P - 1) / P; }

/* The fewest consecutive shards whose stack holds D nodes: they rise 1, 2, ...,
 * then fall ..., 2, 1 (aligned blocks, each waiting for a sibling outside the
 * range); D = 2m: 2 (2^m - 1); D = 2m + 1: the same around one block of 2^m. */
static int64_t fewest(int D) {
  const int m = D / 2;
  if (m >= 61) return INT64_MAX;
  return D % 2 ? 3 * ((int64_t)1 << m) - 2 : ((int64_t)1 << (m + 1)) - 2;
}

/* A push fills one slot while the nodes of the shards before it wait in
 * theirs: at most the most nodes max_shards - 1 shards leave, plus one. */
int rd_reduce_slots(int64_t max_shards) {
  int D = 0;
  while (max_shards > 1 && fewest(D + 1) <= max_shards - 1) D++;
  return D + 1;
}

void rd_reduce_init_in(rd_reduce *r, size_t len, int64_t max_shards, float *pool) {
  memset(r, 0, sizeof *r);
  r->len = len;
  r->cap = rd_reduce_slots(max_shards);
  RD_ASSERT(r->cap <= RD_REDUCE_MAX_DEPTH, "too many shards");
  if (len) {
    RD_ASSERT(((uintptr_t)pool & 63) == 0, "pool not 64-byte aligned");
    r->own = pool == NULL;
    r->pool = pool ? pool : rd_mem_alloc_f32(stride(len) * (size_t)r->cap);
  }
  rd_reduce_begin(r, 1);
}

void rd_reduce_init(rd_reduce *r, size_t len, int64_t max_shards) { rd_reduce_init_in(r, len, max_shards, NULL); }

size_t rd_reduce_floats(size_t len, int64_t max_shards) {
  return len ? stride(len) * (size_t)rd_reduce_slots(max_shards) : 0;
}

void rd_reduce_free(rd_reduce *r) {
  if (r->own) free(r->pool);
  memset(r, 0, sizeof *r);
}

void rd_reduce_begin(rd_reduce *r, int64_t K) {
  r->K = K;
  r->root_level = ceil_log2(K);
  r->depth = 0;
  r->nfree = r->cap;
  for (int i = 0; i < r->cap; i++) r->freelist[i] = r->cap - 1 - i;
}

float *rd_reduce_vec(const rd_reduce *r, int i) {
  if (r->buf[i] < 0) return r->ext[i];
  return r->len && r->pool ? r->pool + (size_t)r->buf[i] * stride(r->len) : NULL;
}

float *rd_reduce_slot(rd_reduce *r) {
  RD_ASSERT(r->nfree > 0, "reduction pool exhausted");
  return r->len ? r->pool + (size_t)r->freelist[r->nfree - 1] * stride(r->len) : NULL;
}

/* A node with no right sibling inside K stands for its parent unchanged. */
static int lone(const rd_reduce *r, int level, int64_t index) {
  return (index & 1) == 0 && ((index + 1) << level) >= r->K && level < r->root_level;
}

/* a += b; the two never overlap (restrict lets the loop vectorize). */
RD_SIMD_AVX2 static void add_into(float *restrict a, const float *restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] += b[i];
}

static void merge(rd_reduce *r, rd_reduce_merges *mg);

/* Pushes a node into the next pool slot; its merges done, or recorded in mg. */
static void push_slot(rd_reduce *r, int level, int64_t index, rd_reduce_merges *mg) {
  RD_ASSERT(r->depth < RD_REDUCE_MAX_DEPTH && r->nfree > 0, "reduction stack overflow");
  int d = r->depth++;
  r->level[d] = level;
  r->index[d] = index;
  r->buf[d] = r->freelist[--r->nfree];
  mg->n = 0;
  merge(r, mg);
}

void rd_reduce_push(rd_reduce *r, int level, int64_t index) {
  rd_reduce_merges mg;
  push_slot(r, level, index, &mg);
  rd_reduce_merges_apply(&mg, 0, r->len);
}

void rd_reduce_push_deferred(rd_reduce *r, int level, int64_t index, rd_reduce_merges *mg) {
  push_slot(r, level, index, mg);
}

/* A push's merges form a chain: each merge's result is the next one's right
 * node (src[k + 1] == dst[k]), and only the last result stays on the stack. So
 * one pass does them all, block by block in a buffer that stays in L1: per
 * element the same additions in the same order, t = dst[k] + t (a sum of two
 * floats does not depend on the operands' order), and one store, where merging
 * one pair at a time would read and write every level's node. */
#define CHAIN_BLOCK 1024
RD_SIMD_AVX2 static void chain_apply(const rd_reduce_merges *mg, size_t lo, size_t hi) {
  int n = mg->n;
  float t[CHAIN_BLOCK];
  for (size_t b = lo; b < hi; b += CHAIN_BLOCK) {
    size_t m = hi - b < CHAIN_BLOCK ? hi - b : CHAIN_BLOCK;
    const float *restrict s = mg->src[0] + b;
    const float *restrict d = mg->dst[0] + b;
    for (size_t i = 0; i < m; i++) t[i] = d[i] + s[i];
    for (int k = 1; k < n; k++) {
      const float *restrict dk = mg->dst[k] + b;
      for (size_t i = 0; i < m; i++) t[i] = dk[i] + t[i];
    }
    memcpy(mg->dst[n - 1] + b, t, m * sizeof *t);
  }
}

int rd_reduce_merges_chain(const rd_reduce_merges *mg) {
  int chain = 1;
  for (int k = 1; k < mg->n; k++) chain &= mg->src[k] == mg->dst[k - 1];
  return chain;
}

void rd_reduce_merges_apply(const rd_reduce_merges *mg, size_t lo, size_t hi) {
  if (hi <= lo || mg->n == 0) return;
  if (rd_reduce_merges_chain(mg)) chain_apply(mg, lo, hi);
  else
    for (int k = 0; k < mg->n; k++) add_into(mg->dst[k] + lo, mg->src[k] + lo, hi - lo);
}

void rd_reduce_push_ext(rd_reduce *r, int level, int64_t index, float *vec) {
  RD_ASSERT(r->depth < RD_REDUCE_MAX_DEPTH, "reduction stack overflow");
  int d = r->depth++;
  r->level[d] = level;
  r->index[d] = index;
  r->buf[d] = -1;
  r->ext[d] = vec;
  rd_reduce_merges mg = {0};
  merge(r, &mg);
  rd_reduce_merges_apply(&mg, 0, r->len);
}

/* Merges completed siblings at the top of the stack, recording the additions
 * in mg (done by rd_reduce_merges_apply). */
static void merge(rd_reduce *r, rd_reduce_merges *mg) {
  int d;
  for (;;) {
    d = r->depth - 1;
    if (lone(r, r->level[d], r->index[d])) {
      r->level[d]++;
      r->index[d] >>= 1;
      continue;
    }
    if (d >= 1 && r->level[d - 1] == r->level[d] && (r->index[d] & 1) == 1 &&
        r->index[d - 1] == r->index[d] - 1) {
      float *a = rd_reduce_vec(r, d - 1);
      const float *b = rd_reduce_vec(r, d);
      if (a && b) mg->dst[mg->n] = a, mg->src[mg->n++] = b;
      if (r->buf[d] >= 0) r->freelist[r->nfree++] = r->buf[d];
      r->depth--;
      r->level[d - 1]++;
      r->index[d - 1] >>= 1;
      continue;
    }
    break;
  }
}

int rd_reduce_frontier(int64_t K, int64_t lo, int64_t hi, int *level, int64_t *index, int max) {
  rd_reduce r;
  rd_reduce_init(&r, 0, K);
  rd_reduce_begin(&r, K);
  for (int64_t s = lo; s < hi; s++) rd_reduce_push(&r, 0, s);
  RD_ASSERT(r.depth <= max, "frontier larger than expected");
  for (int i = 0; i < r.depth; i++) level[i] = r.level[i], index[i] = r.index[i];
  return r.depth; /* len 0: nothing was allocated */
}

/* Aligned blocks of rising, then falling, sizes: at most two per level. */
int rd_reduce_frontier_bound(int64_t L) { return L <= 0 ? 0 : 2 * ceil_log2(L + 1) + 1; }

/* The frontier, greedily: from lo, the largest node starting there whose
 * shards (clipped to K) stay inside [lo, hi). A lone node's promotions cover
 * the same shards, so they count once, as the stack does. */
int rd_reduce_frontier_count(int64_t K, int64_t lo, int64_t hi) {
  const int top = ceil_log2(K);
  int n = 0;
  for (int64_t p = lo; p < hi; n++) {
    int k = 0;
    while (k < top && (p & (((int64_t)1 << (k + 1)) - 1)) == 0) {
      const int64_t end = p + ((int64_t)1 << (k + 1));
      if ((end < K ? end : K) > hi) break;
      k++;
    }
    const int64_t end = p + ((int64_t)1 << k);
    p = end < K ? end : K;
  }
  return n;
}
