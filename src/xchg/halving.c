/* halving: the canonical allreduce in O(log P) messages per rank.
 *
 * P2 = the largest power of two <= P; E = P - P2. Ranks 2i and 2i+1 (i < E)
 * first pair up: the odd one sends its nodes to the even one, which merges them,
 * so P2 "virtual" ranks remain, each holding a contiguous block of shards.
 * Recursive halving: at step s, virtual rank v and v ^ 2^s hold neighbouring
 * blocks of shards for the same element range; each keeps one half of the
 * range (the lower half goes to the one with bit s clear), receives the
 * partner's nodes on it, and pushes both blocks' nodes in shard order into
 * reduce.h's tree, which adds only complete siblings: every element is summed
 * along the canonical tree. After log2 P2 steps each virtual rank holds the
 * root of its 1/P2 of the elements; recursive doubling, in reverse, gives every
 * rank all of them, and the odd ranks get theirs back from their partners.
 * Messages per rank: 2 log2 P2, +2 for the even ranks below 2E; the odd ones
 * send and receive once. Bytes: when every block is one tree node (P a power of
 * two and K = P times a power of two), 2(P-1)/P n, the bandwidth optimum;
 * otherwise a block of several nodes sends each of them (K = 3P: up to 2x).
 * Messages over 2^30 floats go in pieces, so no count overflows an int. */
#include <stdlib.h>
#include <string.h>

#include "comm_impl.h"

enum { TAG = 0x5244, MAXSTEPS = 40 };

typedef struct {
  const rd_comm *c;
  size_t len;
  rd_cut cut;  /* where halves may split */
  int sharded; /* made with a cut rule: ranges balanced over the real ranks (see halves) */
  int P2, E, vr, steps; /* vr: this rank's virtual rank, -1 for an odd rank below 2E */
  size_t roff[MAXSTEPS + 2]; /* recv region offsets: [0] the first pairing's, [s + 1] step s's */
  float *recv, *sendbuf;
  int64_t lo[MAXSTEPS + 1], hi[MAXSTEPS + 1]; /* scratch: ranges */
  rd_reduce g;                                /* merges the two blocks' nodes, in place */
  int n;                                      /* the current block's nodes */
  int level[RD_REDUCE_MAX_DEPTH];
  int64_t index[RD_REDUCE_MAX_DEPTH];
  float *vec[RD_REDUCE_MAX_DEPTH]; /* vec[i][0] is element a of the current range */
  int plv[RD_REDUCE_MAX_DEPTH];
  int64_t pix[RD_REDUCE_MAX_DEPTH];
} halving;

/* The real ranks of virtual rank v: the first, and the last (inclusive). */
static int first_real(const halving *h, int v) { return v < h->E ? 2 * v : v + h->E; }
static int last_real(const halving *h, int v) { return v < h->E ? 2 * v + 1 : v + h->E; }

/* The shards of virtual ranks [v0, v0 + count). */
static void block(const halving *h, int64_t K, int v0, int count, int64_t *lo, int64_t *hi) {
  int64_t x;
  rd_shard_range(K, h->c->size, first_real(h, v0), lo, &x);
  rd_shard_range(K, h->c->size, last_real(h, v0 + count - 1), &x, hi);
}

static void shape(halving *h, const rd_comm *c, size_t len, const rd_cut *cut) {
  memset(h, 0, sizeof *h);
  h->c = c;
  h->len = len;
  if (cut) h->cut = *cut, h->sharded = 1;
  h->P2 = 1;
  while (h->P2 * 2 <= c->size) h->P2 *= 2, h->steps++;
  h->E = c->size - h->P2;
  h->vr = c->rank < 2 * h->E ? (c->rank % 2 ? -1 : c->rank / 2) : c->rank - h->E;
}

/* Virtual ranks v < P2 with v % M == r that stand for two real ranks (v < E). */
static size_t pairs_in(const halving *h, size_t M, size_t r) { return (size_t)h->E / M + (r < (size_t)h->E % M); }

/* Step s's halves of [a, b): the one virtual rank vr keeps, and the one it gives.
 * Unsharded, the halves are equal. Sharded, each half is in proportion to the
 * real ranks its virtual ranks stand for, so that once the pairs split their
 * ranges (pair_split) every real rank has about len / P of the elements. */
static void halves(const halving *h, int vr, int s, size_t a, size_t b, size_t *ka, size_t *kb, size_t *ga,
                   size_t *gb) {
  size_t m = a + (b - a) / 2;
  if (h->sharded) {
    const size_t d = (size_t)1 << s, M = 2 * d, r = (size_t)vr & (d - 1), per = (size_t)h->P2 / M;
    const size_t wl = per + pairs_in(h, M, r), wu = per + pairs_in(h, M, r + d);
    m = a + (size_t)((unsigned __int128)(b - a) * wl / (wl + wu));
  }
  m = rd_cut_at(&h->cut, m);
  m = m < a ? a : m; /* a is itself an allowed start */
  const int lower = !(vr & (1 << s));
  *ka = lower ? a : m, *kb = lower ? m : b, *ga = lower ? m : a, *gb = lower ? b : m;
}

/* One reduction's needs: per recv region (need) and for the send buffer. With
 * exact, the nodes each block really has at this K; else their bound for a block
 * of as many shards as it has at K (ranges only grow with K). */
static void account(halving *h, int64_t K, int exact, size_t *need, size_t *sendcap) {
  const int me = h->c->rank;
  int64_t lo, hi;
#define NODES(lo, hi) (size_t)(exact ? rd_reduce_frontier_count(K, lo, hi) : rd_reduce_frontier_bound(hi - lo))
  if (h->vr < 0) { /* sends its nodes whole, receives the sum */
    rd_shard_range(K, h->c->size, me, &lo, &hi);
    const size_t n = NODES(lo, hi);
    if (n > 1 && n * h->len > *sendcap) *sendcap = n * h->len;
    return;
  }
  if (me < 2 * h->E) {
    rd_shard_range(K, h->c->size, me + 1, &lo, &hi);
    const size_t n = NODES(lo, hi) * h->len;
    need[0] = n > need[0] ? n : need[0];
  }
  size_t a = 0, b = h->len;
  for (int s = 0; s < h->steps; s++) {
    const int d = 1 << s;
    size_t ka, kb, ga, gb;
    halves(h, h->vr, s, a, b, &ka, &kb, &ga, &gb);
    block(h, K, h->vr & ~(d - 1), d, &lo, &hi);
    const size_t mine = NODES(lo, hi);
    block(h, K, (h->vr ^ d) & ~(d - 1), d, &lo, &hi);
    const size_t theirs = NODES(lo, hi) * (kb - ka);
    need[s + 1] = theirs > need[s + 1] ? theirs : need[s + 1];
    if (mine > 1 && mine * (gb - ga) > *sendcap) *sendcap = mine * (gb - ga);
    a = ka, b = kb;
  }
#undef NODES
}

/* Recv regions and the send buffer, for every K up to max_shards: exact when
 * that is cheap, else from the bound (a few more floats, no start-up time). */
static size_t layout(halving *h, int64_t max_shards, size_t *sendcap) {
  size_t need[MAXSTEPS + 1] = {0};
  *sendcap = 0;
  if ((double)max_shards * (h->steps + 2) <= (double)(1 << 20))
    for (int64_t K = 1; K <= max_shards; K++) account(h, K, 1, need, sendcap);
  else
    account(h, max_shards, 0, need, sendcap);
  h->roff[0] = 0;
  for (int s = 0; s <= h->steps; s++) h->roff[s + 1] = h->roff[s] + need[s];
  return h->roff[h->steps + 1] + *sendcap;
}

static size_t plan(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut, char *why, size_t n) {
  halving h;
  size_t sendcap;
  shape(&h, c, len, cut);
  return layout(&h, max_shards, &sendcap) + 1; /* never 0: every size fits */
}

static void *create(const rd_comm *c, size_t len, int64_t max_shards, const rd_cut *cut) {
  halving *h = malloc(sizeof *h);
  RD_ASSERT(h != NULL, "out of memory");
  size_t sendcap;
  shape(h, c, len, cut);
  RD_ASSERT(h->steps < MAXSTEPS, "too many ranks");
  layout(h, max_shards, &sendcap);
  h->recv = rd_comm_buf_alloc(sizeof(float) * (h->roff[h->steps + 1] + 1));
  h->sendbuf = rd_comm_buf_alloc(sizeof(float) * (sendcap + 1));
  RD_ASSERT(h->recv && h->sendbuf, "out of memory for allreduce buffers");
  rd_reduce_init(&h->g, 0, max_shards); /* no pool: merges sum where the nodes are */
  return h;
}

static void destroy(void *st) {
  halving *h = st;
  rd_reduce_free(&h->g);
  rd_comm_buf_free(h->recv), rd_comm_buf_free(h->sendbuf), free(h);
}

/* One exchange with peer; both sides loop the same number of times. */
static void xfer(const halving *h, const float *sb, size_t sn, float *rb, size_t rn, int peer) {
  const size_t piece = (size_t)1 << 30;
  do {
    const size_t s1 = sn < piece ? sn : piece, r1 = rn < piece ? rn : piece;
    RD_MPI_CHECK(MPI_Sendrecv(sb, (int)s1, MPI_FLOAT, peer, TAG, rb, (int)r1, MPI_FLOAT, peer, TAG, h->c->mpi,
                              MPI_STATUS_IGNORE));
    if (s1) sb += s1, sn -= s1; /* never NULL + 0 */
    if (r1) rb += r1, rn -= r1;
  } while (sn || rn);
}

/* The current nodes' elements [ga, gb) (the range starts at a), packed; one
 * node is sent where it is. */
static const float *pack(halving *h, size_t a, size_t ga, size_t gb) {
  if (h->n == 1) return h->vec[0] + (ga - a);
  for (int i = 0; i < h->n; i++) memcpy(h->sendbuf + (size_t)i * (gb - ga), h->vec[i] + (ga - a), (gb - ga) * sizeof(float));
  return h->sendbuf;
}

/* The block's nodes on [ka, kb) merged with the partner's np nodes (in theirs,
 * kb - ka floats each): the left block's first, as the shards run (mine_left: this
 * rank's block is the left one). */
static void merge(halving *h, int64_t K, int mine_left, size_t a, size_t ka, size_t kb, float *theirs, int np) {
  rd_reduce *g = &h->g;
  g->len = kb - ka;
  rd_reduce_begin(g, K);
  for (int side = 0; side < 2; side++) /* side 0 is the left block */
    if (side == mine_left)
      for (int i = 0; i < np; i++) rd_reduce_push_ext(g, h->plv[i], h->pix[i], theirs + (size_t)i * (kb - ka));
    else
      for (int i = 0; i < h->n; i++) rd_reduce_push_ext(g, h->level[i], h->index[i], h->vec[i] + (ka - a));
  h->n = g->depth;
  for (int i = 0; i < g->depth; i++) h->level[i] = g->level[i], h->index[i] = g->index[i], h->vec[i] = rd_reduce_vec(g, i);
}

/* The recursive halving: this rank's range of the sum into out (none for an
 * odd rank below 2E, which hands its nodes to its partner). */
static void halve(halving *h, rd_reduce *local, float *out) {
  const int64_t K = local->K;
  const int me = h->c->rank;
  const size_t len = h->len;
  int64_t lo, hi;
  rd_shard_range(K, h->c->size, me, &lo, &hi);
  RD_ASSERT(local->depth == rd_reduce_frontier_count(K, lo, hi), "frontier mismatch (%d nodes)", local->depth);
  h->n = local->depth;
  for (int i = 0; i < h->n; i++) h->level[i] = local->level[i], h->index[i] = local->index[i], h->vec[i] = rd_reduce_vec(local, i);
  if (h->vr < 0) { /* odd, below 2E: its nodes to me - 1 */
    xfer(h, h->n ? pack(h, 0, 0, len) : NULL, (size_t)h->n * len, NULL, 0, me - 1);
    return;
  }
  if (me < 2 * h->E) {
    rd_shard_range(K, h->c->size, me + 1, &lo, &hi);
    const int np = rd_reduce_frontier(K, lo, hi, h->plv, h->pix, RD_REDUCE_MAX_DEPTH);
    float *theirs = h->recv + h->roff[0];
    xfer(h, NULL, 0, theirs, (size_t)np * len, me + 1);
    merge(h, K, 1, 0, 0, len, theirs, np);
  }
  size_t a = 0, b = len;
  for (int s = 0; s < h->steps; s++) {
    const int d = 1 << s, vp = h->vr ^ d;
    size_t ka, kb, ga, gb;
    halves(h, h->vr, s, a, b, &ka, &kb, &ga, &gb);
    block(h, K, vp & ~(d - 1), d, &lo, &hi);
    const int np = rd_reduce_frontier(K, lo, hi, h->plv, h->pix, RD_REDUCE_MAX_DEPTH);
    float *theirs = h->recv + h->roff[s + 1];
    xfer(h, h->n ? pack(h, a, ga, gb) : NULL, (size_t)h->n * (gb - ga), theirs, (size_t)np * (kb - ka),
         first_real(h, vp));
    merge(h, K, !(h->vr & d), a, ka, kb, theirs, np);
    a = ka, b = kb;
  }
  RD_ASSERT(K == 0 || h->n == 1, "halving did not close the tree (%d nodes)", h->n);
  if (K == 0) memset(out + a, 0, (b - a) * sizeof(float));
  else if (b > a) memcpy(out + a, h->vec[0], (b - a) * sizeof(float));
}

/* Virtual rank v's range after the halving, and the ranges it held before
 * each step (ra, rb). */
static void vrange(const halving *h, int v, size_t *lo, size_t *hi, size_t *ra, size_t *rb) {
  size_t a = 0, b = h->len;
  for (int s = 0; s < h->steps; s++) {
    size_t ka, kb, ga, gb;
    halves(h, v, s, a, b, &ka, &kb, &ga, &gb);
    if (ra) ra[s] = a, rb[s] = b;
    a = ka, b = kb;
  }
  *lo = a, *hi = b;
}

static size_t clip(size_t x, size_t n) { return x < n ? x : n; }

/* The recursive doubling, cut at n floats: every virtual rank's range to every
 * rank (an odd rank below 2E gets everything from its partner). */
static void dbl(halving *h, float *buf, size_t n) {
  const int me = h->c->rank;
  if (h->vr < 0) {
    xfer(h, NULL, 0, buf, n, me - 1);
    return;
  }
  size_t a, b, ra[MAXSTEPS], rb[MAXSTEPS];
  vrange(h, h->vr, &a, &b, ra, rb);
  for (int s = h->steps - 1; s >= 0; s--) { /* the other half of step s's range */
    size_t ka, kb, ga, gb;
    halves(h, h->vr, s, ra[s], rb[s], &ka, &kb, &ga, &gb);
    ka = clip(ka, n), kb = clip(kb, n), ga = clip(ga, n), gb = clip(gb, n);
    xfer(h, buf + ka, kb - ka, buf + ga, gb - ga, first_real(h, h->vr ^ (1 << s)));
  }
  if (me < 2 * h->E) xfer(h, buf, n, NULL, 0, me + 1);
}

static const float *sum(void *st, rd_reduce *local, float *out) {
  halve(st, local, out);
  dbl(st, out, ((halving *)st)->len);
  return out;
}

/* Sharded steps: a pair (ranks 2i, 2i + 1 below 2E) splits its virtual rank's
 * range at *m: the even rank keeps [a, m), the odd one [m, b). */
static void pair_range(const halving *h, int q, size_t *a, size_t *m, size_t *b) {
  const int v = q < 2 * h->E ? q / 2 : q - h->E;
  vrange(h, v, a, b, NULL, NULL);
  *m = *b;
  if (q < 2 * h->E) {
    *m = rd_cut_at(&h->cut, *a + (*b - *a) / 2);
    *m = *m < *a ? *a : *m;
  }
}

static void range(const void *st, int q, size_t *lo, size_t *hi) {
  const halving *h = st;
  size_t a, m, b;
  pair_range(h, q, &a, &m, &b);
  if (q < 2 * h->E && q % 2) *lo = m, *hi = b;
  else *lo = a, *hi = m;
}

/* The halving, then the even rank of a pair hands its partner [m, b). */
static void scatter(void *st, rd_reduce *local, float *out) {
  halving *h = st;
  const int me = h->c->rank;
  halve(h, local, out);
  if (me >= 2 * h->E) return;
  size_t a, m, b;
  pair_range(h, me, &a, &m, &b);
  if (me % 2) xfer(h, NULL, 0, out + m, b - m, me - 1);
  else xfer(h, out + m, b - m, NULL, 0, me + 1);
}

/* The odd rank of a pair returns [m, b) to its partner, then the doubling. */
static void gather(void *st, float *buf, size_t n) {
  halving *h = st;
  const int me = h->c->rank;
  if (me < 2 * h->E) {
    size_t a, m, b;
    pair_range(h, me, &a, &m, &b);
    m = clip(m, n), b = clip(b, n);
    if (me % 2) xfer(h, buf + m, b - m, NULL, 0, me - 1);
    else xfer(h, NULL, 0, buf + m, b - m, me + 1);
  }
  dbl(h, buf, n);
}

const rd_xchg_type rd_xchg_halving = {.name = "halving", .canonical = 1, .plan = plan, .create = create, .destroy = destroy,
                                    .sum = sum, .range = range, .scatter = scatter, .gather = gather};
