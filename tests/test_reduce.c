/* test_reduce: the canonical shard tree, without MPI.
 * For every K (shards) up to 70 and every P (ranks) up to K + 3, the sum that
 * the distributed scheme computes (each rank folds its contiguous shards, then
 * the frontiers are finished in shard order) must have exactly the bits of an
 * independent recursive implementation of the tree as reduce.h defines it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reduce.h"
#include "seed.h"

#include "check.h"

enum { LEN = 7 };

/* Shard s's vector: values of mixed magnitude, so that association order shows. */
static void leaf_n(int64_t s, float *v, int len) {
  for (int i = 0; i < len; i++) {
    double u = rd_seed_uniform(rd_seed_word(99, (uint64_t)s, (uint64_t)i));
    v[i] = (float)((u - 0.5) * (i % 2 ? 1e-3 : 1e4) * (1 + s % 5));
  }
}
static void leaf(int64_t s, float *v) { leaf_n(s, v, LEN); }

/* The definition: node (k, j) = left + right, or left alone if the right
 * child starts at or past K. Written independently of reduce.c. */
static void tree_n(int k, int64_t j, int64_t K, float *out, int len) {
  if (k == 0) {
    leaf_n(j, out, len);
    return;
  }
  tree_n(k - 1, 2 * j, K, out, len);
  if (((2 * j + 1) << (k - 1)) < K) {
    float *r = malloc(sizeof(float) * (size_t)len);
    tree_n(k - 1, 2 * j + 1, K, r, len);
    for (int i = 0; i < len; i++) out[i] = out[i] + r[i];
    free(r);
  }
}
static void tree(int k, int64_t j, int64_t K, float *out) { tree_n(k, j, K, out, LEN); }

static int levels(int64_t K) {
  int L = 0;
  while (((int64_t)1 << L) < K) L++;
  return L;
}

/* Long vectors: a push's merges are done in one pass, block by block (reduce.c's
 * chain), whole (rd_reduce_push) or slice by slice (rd_reduce_push_deferred, as
 * the overlapped step applies them). Lengths around the block, slices that cut
 * blocks anywhere: the bits of the definition. */
static void check_long(void) {
  const int lens[] = {1023, 1024, 1025, 2500};
  for (int li = 0; li < 4; li++) {
    const int len = lens[li];
    float *want = malloc(sizeof(float) * (size_t)len);
    for (int64_t K = 1; K <= 19; K++) {
      tree_n(levels(K), 0, K, want, len);
      for (int deferred = 0; deferred < 2; deferred++) {
        rd_reduce r;
        rd_reduce_init(&r, (size_t)len, K);
        rd_reduce_begin(&r, K);
        for (int64_t s = 0; s < K; s++) {
          float *slot = rd_reduce_slot(&r);
          if (!deferred) {
            leaf_n(s, slot, len);
            rd_reduce_push(&r, 0, s);
            continue;
          }
          rd_reduce_merges mg;
          rd_reduce_push_deferred(&r, 0, s, &mg); /* before the slot is written, as the trainer */
          leaf_n(s, slot, len);
          for (size_t lo = 0, step = 1 + (size_t)(s * 331 % 700); lo < (size_t)len; lo += step)
            rd_reduce_merges_apply(&mg, lo, lo + step < (size_t)len ? lo + step : (size_t)len);
        }
        CHECK(r.depth == 1 && memcmp(rd_reduce_vec(&r, 0), want, sizeof(float) * (size_t)len) == 0,
              "len=%d K=%lld %s: bits differ from the recursive definition", len, (long long)K,
              deferred ? "deferred, in slices" : "pushed");
        rd_reduce_free(&r);
      }
    }
    free(want);
  }
}

int main(void) {
  check_long();
  int differs_from_serial = 0;
  for (int64_t K = 1; K <= 70; K++) {
    float want[LEN];
    tree(levels(K), 0, K, want);
    /* A plain left-to-right sum, to show the test can tell orders apart. */
    float serial[LEN] = {0}, v[LEN];
    for (int64_t s = 0; s < K; s++) {
      leaf(s, v);
      for (int i = 0; i < LEN; i++) serial[i] += v[i];
    }
    differs_from_serial |= memcmp(serial, want, sizeof want) != 0;
    for (int P = 1; P <= K + 3; P++) {
      rd_reduce global, ext; /* ext: the same tree over caller-owned vectors (rd_reduce_push_ext) */
      rd_reduce_init(&global, LEN, K);
      rd_reduce_begin(&global, K);
      rd_reduce_init(&ext, 0, K);
      ext.len = LEN;
      rd_reduce_begin(&ext, K);
      float *own = malloc(sizeof(float) * LEN * (size_t)(K + 1) * 2);
      int nown = 0;
      int bad_frontier = 0, bad_pool = 0;
      for (int r = 0; r < P; r++) {
        int64_t lo, hi;
        rd_shard_range(K, P, r, &lo, &hi);
        rd_reduce local; /* odd ranks: in a pool of the caller's (rd_reduce_init_in), which keeps it */
        /* sized for a rank's share, as the trainer's (any rank of any K' <= K) */
        const size_t pf = rd_reduce_floats(LEN, rd_reduce_local_shards(K, P));
        float *pool = r % 2 ? aligned_alloc(64, (sizeof(float) * pf + 63) & ~(size_t)63) : NULL;
        rd_reduce_init_in(&local, LEN, rd_reduce_local_shards(K, P), pool);
        rd_reduce_begin(&local, K);
        for (int64_t s = lo; s < hi; s++) {
          float *slot = rd_reduce_slot(&local);
          bad_pool |= pool && (slot < pool || slot + LEN > pool + pf);
          leaf(s, slot);
          rd_reduce_push(&local, 0, s);
        }
        int lv[64];
        int64_t ix[64];
        int nf = rd_reduce_frontier(K, lo, hi, lv, ix, 64);
        bad_frontier |= nf != local.depth;
        for (int i = 0; i < local.depth; i++) {
          bad_frontier |= lv[i] != local.level[i] || ix[i] != local.index[i];
          memcpy(rd_reduce_slot(&global), rd_reduce_vec(&local, i), sizeof(float) * LEN);
          rd_reduce_push(&global, local.level[i], local.index[i]);
          float *mine = own + (size_t)LEN * (size_t)nown++;
          memcpy(mine, rd_reduce_vec(&local, i), sizeof(float) * LEN);
          rd_reduce_push_ext(&ext, local.level[i], local.index[i], mine);
        }
        rd_reduce_free(&local);
        free(pool); /* still the caller's: rd_reduce_free left it */
      }
      CHECK(!bad_pool, "K=%lld P=%d: a slot outside the caller's pool", (long long)K, P);
      CHECK(!bad_frontier, "K=%lld P=%d: rd_reduce_frontier disagrees with the data path", (long long)K, P);
      CHECK(global.depth == 1 && global.level[0] == levels(K) && global.index[0] == 0,
            "K=%lld P=%d: tree did not close at the root (depth %d)", (long long)K, P, global.depth);
      CHECK(memcmp(rd_reduce_vec(&global, 0), want, sizeof want) == 0,
            "K=%lld P=%d: bits differ from the recursive definition", (long long)K, P);
      CHECK(ext.depth == 1 && memcmp(rd_reduce_vec(&ext, 0), want, sizeof want) == 0,
            "K=%lld P=%d: rd_reduce_push_ext (in place, no pool) differs from the definition", (long long)K, P);
      rd_reduce_free(&global);
      rd_reduce_free(&ext);
      free(own);
    }
  }
  CHECK(differs_from_serial, "the leaves never distinguish tree order from serial order: test is too weak");
  /* Shard ranges: contiguous, covering, in rank order. */
  for (int64_t K = 0; K <= 40; K++)
    for (int P = 1; P <= 12; P++) {
      int64_t prev = 0, lo, hi;
      int ok = 1;
      for (int r = 0; r < P; r++) {
        rd_shard_range(K, P, r, &lo, &hi);
        ok &= lo == prev && hi >= lo;
        prev = hi;
      }
      CHECK(ok && prev == K, "shard ranges for K=%lld P=%d do not tile [0, K)", (long long)K, P);
    }
  /* The frontier's node count, computed greedily, against the stack's, and its bound. */
  for (int64_t K = 0; K <= 90; K++) {
    int ok = 1;
    for (int64_t lo = 0; lo <= K; lo++)
      for (int64_t hi = lo; hi <= K; hi++) {
        int lv[64];
        int64_t ix[64];
        const int n = rd_reduce_frontier(K, lo, hi, lv, ix, 64);
        ok &= rd_reduce_frontier_count(K, lo, hi) == n && n <= rd_reduce_frontier_bound(hi - lo);
      }
    CHECK(ok, "K=%lld: rd_reduce_frontier_count disagrees with rd_reduce_frontier, or passes the bound", (long long)K);
  }
  /* rd_reduce_slots(L): the most slots L consecutive pushes ever hold at once
   * (the nodes waiting, plus the one being filled), anywhere in any tree. Each
   * range [lo, lo + L) is pushed into a reduction with slots to spare, once
   * with the tree ending right after it (its last node promoted) and once
   * with the tree going on, and the slots in use counted before each push. */
  for (int64_t L = 1; L <= 40; L++) {
    int most = 0, over = 0;
    for (int64_t lo = 0; lo < 256; lo++)
      for (int open = 0; open < 2; open++) {
        const int64_t K = lo + L + (open ? 1000 : 0);
        rd_reduce r;
        rd_reduce_init(&r, 0, 4096);
        rd_reduce_begin(&r, K);
        for (int64_t s = lo; s < lo + L; s++) {
          const int used = r.depth + 1;
          most = used > most ? used : most;
          over |= used > rd_reduce_slots(L);
          rd_reduce_push(&r, 0, s);
        }
        rd_reduce_free(&r);
      }
    CHECK(!over && most == rd_reduce_slots(L), "L=%lld: ranges use up to %d slots, rd_reduce_slots says %d",
          (long long)L, most, rd_reduce_slots(L));
  }
  CHECK(rd_reduce_slots(8) == 5 && rd_reduce_slots(4) == 3 && rd_reduce_slots(1) == 1,
        "slots for 8, 4 and 1 shards: %d %d %d (worked out by hand: 5, 3, 1)", rd_reduce_slots(8),
        rd_reduce_slots(4), rd_reduce_slots(1));
  for (int64_t K = 1; K <= 70; K++)
    for (int P = 1; P <= 12; P++) {
      int64_t lo, hi, most = 0;
      for (int r = 0; r < P; r++) rd_shard_range(K, P, r, &lo, &hi), most = hi - lo > most ? hi - lo : most;
      CHECK(most == rd_reduce_local_shards(K, P),
            "K=%lld P=%d: a rank holds %lld shards, rd_reduce_local_shards says %lld", (long long)K, P,
            (long long)most, (long long)rd_reduce_local_shards(K, P));
    }
  printf("%d passed, %d failed\n", passes, fails);
  return fails != 0;
}
