/* test_allreduce: rd_allreduce_finish across real MPI ranks gives, on every
 * rank, exactly the bits of the single-process canonical tree, for many shard
 * counts and vector lengths (including lengths smaller than the rank count),
 * with every canonical exchange algorithm and with AUTO's choice. The plain
 * peer must differ somewhere at np > 2 (else the leaves could not tell a tree
 * from a serial sum). Run at several np by CTest; the expected value is computed
 * in-process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "reduce.h"
#include "seed.h"

/* A cut rule for the sharded halves: starts at multiples of 7 below len - 5,
 * and the last 5 floats never split from what precedes them (as a trainer's
 * statistics and metrics stay with one rank). */
static size_t cut7(const void *ctx, size_t x) {
  const size_t len = *(const size_t *)ctx, tail = len > 5 ? len - 5 : 0;
  return x >= tail ? tail - tail % 7 : x - x % 7;
}

static void leaf(int64_t s, size_t len, float *v) {
  for (size_t i = 0; i < len; i++) {
    double u = rd_seed_uniform(rd_seed_word(7, (uint64_t)s, i));
    v[i] = (float)((u - 0.5) * (i % 3 ? 1e-4 : 1e5));
  }
}

/* ref: all K leaves summed on one process; loc: rank me of P's shards pushed,
 * in pool (rd_reduce_init_in, sized for this rank's share; NULL: its own). */
static void trees(int64_t K, size_t len, int P, int me, rd_reduce *ref, rd_reduce *loc, float *pool) {
  rd_reduce_init(ref, len, K), rd_reduce_begin(ref, K);
  for (int64_t s = 0; s < K; s++) leaf(s, len, rd_reduce_slot(ref)), rd_reduce_push(ref, 0, s);
  rd_reduce_init_in(loc, len, rd_reduce_local_shards(K, P), pool), rd_reduce_begin(loc, K);
  int64_t lo, hi;
  rd_shard_range(K, P, me, &lo, &hi);
  for (int64_t s = lo; s < hi; s++) leaf(s, len, rd_reduce_slot(loc)), rd_reduce_push(loc, 0, s);
}

int main(int argc, char **argv) {
  rd_comm_init(&argc, &argv);
  const int P = rd_comm_size(), me = rd_comm_rank();
  int passes = 0, fails = 0;
  const size_t lens[] = {1, 2, 3, 5, 64, 1001, 40000};
  const int64_t Ks[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31, 64};
  const rd_xchg algos[] = {RD_XCHG_AUTO, RD_XCHG_ALLTOALLV, RD_XCHG_HALVING, RD_XCHG_SHM, RD_XCHG_PLAIN, RD_XCHG_BUCKETED};
  int plain_differs = 0;
  for (size_t ai = 0; ai < sizeof algos / sizeof algos[0]; ai++)
  for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
    for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++) {
      const rd_xchg algo = algos[ai];
      const size_t len = lens[li];
      const int64_t K = Ks[ki];
      rd_reduce ref, loc;
      rd_reduce_init(&ref, len, K);
      rd_reduce_begin(&ref, K);
      for (int64_t s = 0; s < K; s++) {
        leaf(s, len, rd_reduce_slot(&ref));
        rd_reduce_push(&ref, 0, s);
      }
      rd_err err = {0};
      /* max_shards above K: buffers sized for the largest reduction serve smaller ones. */
      const int64_t Kc = K + (int64_t)(ki % 3);
      rd_allreduce *a = rd_allreduce_create(rd_comm_world(), len, Kc, algo, &err);
      if (!a) {
        printf("FAIL: %s\n", err.msg);
        return 1;
      }
      /* The local reduction in the algorithm's pool (shm: in its window, read
       * in place) on every other rank and case, else its own (shm: copied
       * there). shm offers one at np > 1, the others none. */
      float *pool = rd_allreduce_pool(a);
      const int in_pool = pool && (li + ki + (size_t)me) % 2;
      const int pool_ok = (pool != NULL) == (P > 1 && rd_allreduce_algo(a) == RD_XCHG_SHM);
      int ok = 1;
      const int64_t Lc = rd_reduce_local_shards(Kc, P); /* this rank's share, as the pool holds */
      rd_reduce_init_in(&loc, len, Lc, in_pool ? pool : NULL);
      float *out = malloc(sizeof(float) * len);
      int64_t lo, hi;
      rd_shard_range(K, P, me, &lo, &hi);
      for (int rep = 0; rep < 2; rep++) { /* twice: a step's sum leaves the window ready for the next */
        rd_reduce_begin(&loc, K);
        for (int64_t s = lo; s < hi; s++) {
          leaf(s, len, rd_reduce_slot(&loc));
          rd_reduce_push(&loc, 0, s);
        }
        /* Both entry points: finish (always into out) and sum (at np 1, no copy). */
        const float *sum = out;
        if (K % 2) rd_allreduce_finish(a, &loc, out);
        else sum = rd_allreduce_sum(a, &loc, out);
        ok &= memcmp(sum, rd_reduce_vec(&ref, 0), sizeof(float) * len) == 0;
        /* In place: rank 0, the first with shards when K >= P, sums into its
         * first node and returns it, in the pool. */
        if (in_pool && K % 2 == 0 && me == 0 && K >= P)
          ok &= sum >= pool && sum < pool + rd_reduce_floats(len, Lc);
      }
      if (algo == RD_XCHG_PLAIN) plain_differs |= !ok, ok = 1; /* its bits may differ: that is its point */
      ok &= pool_ok;
      /* Every rank must agree; gather the verdicts so rank 0 reports them. */
      int *all = malloc(sizeof(int) * (size_t)P);
      rd_comm_gather_bytes(&ok, sizeof ok, all);
      if (me == 0) {
        int good = 1;
        for (int r = 0; r < P; r++) good &= all[r];
        if (good) passes++;
        else {
          fails++;
          printf("FAIL: np=%d K=%lld len=%zu %s (%s): some rank's sum differs from the canonical tree\n", P, (long long)K,
                 len, rd_xchg_name(rd_allreduce_algo(a)), rd_xchg_name(algo));
        }
      }
      free(all);
      free(out);
      rd_reduce_free(&ref);
      rd_reduce_free(&loc);
      rd_allreduce_destroy(a); /* after loc, whose pool may be its */
    }
  /* The sharded halves (ZeRO-1 steps): the ranges partition [0, len), start
   * where the cut rule allows and hold about len / P each (halving too, at any P); scatter leaves each rank's range of the canonical
   * sum; gather of a buffer holding each rank's own range gives every rank the
   * whole of it, cut at any n. */
  for (int ai = RD_XCHG_ALLTOALLV; ai < RD_XCHG_COUNT; ai++)
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
      for (int64_t K = 1; K <= 13; K += 3) {
        if (ai == RD_XCHG_BUCKETED) continue; /* no halves: refused below */
        size_t len = lens[li];
        const rd_cut cut = {cut7, &len};
        rd_reduce ref, loc;
        rd_err err = {0};
        rd_allreduce *a = rd_allreduce_create_cut(rd_comm_world(), len, K, (rd_xchg)ai, &cut, &err);
        int ok = a != NULL;
        /* loc in the pool every other length (shm: read in place) */
        trees(K, len, P, me, &ref, &loc, a && li % 2 ? rd_allreduce_pool(a) : NULL);
        size_t covered = 0, tail_owners = 0, mlo = 0, mhi = 0;
        for (int q = 0; ok && q < P; q++) {
          size_t qlo, qhi;
          rd_allreduce_range(a, q, &qlo, &qhi);
          ok &= qlo <= qhi && qhi <= len && (qlo == qhi || qlo == cut7(&len, qlo) || qlo == 0);
          /* Balanced over the real ranks, within the cut rule's steps (halving: one per level). */
          if (ai != RD_XCHG_PLAIN) ok &= qhi - qlo <= len / (size_t)P + 64;
          for (int r = 0; r < q; r++) { /* disjoint */
            size_t rlo, rhi;
            rd_allreduce_range(a, r, &rlo, &rhi);
            ok &= qhi <= rlo || rhi <= qlo || qlo == qhi || rlo == rhi;
          }
          covered += qhi - qlo;
          tail_owners += qhi == len && qhi > qlo && (len < 5 || qlo <= len - 5);
          if (q == me) mlo = qlo, mhi = qhi;
        }
        ok &= covered == len && tail_owners == 1;
        float *out = malloc(sizeof(float) * len + 4), *buf = malloc(sizeof(float) * len + 4);
        if (ok) {
          const float *sum = rd_allreduce_scatter(a, &loc, out);
          ok &= mhi == mlo || memcmp(sum + mlo, rd_reduce_vec(&ref, 0) + mlo, sizeof(float) * (mhi - mlo)) == 0;
          if (ai == RD_XCHG_PLAIN) plain_differs |= !ok, ok = 1;
          const size_t n = len - len / 3; /* a cut gather */
          for (size_t i = 0; i < len; i++) buf[i] = i >= mlo && i < mhi ? (float)i : -1.0f;
          rd_allreduce_gather(a, buf, n);
          for (size_t i = 0; i < n; i++) ok &= buf[i] == (float)i;
          for (size_t i = n; i < len; i++) ok &= buf[i] == (i >= mlo && i < mhi ? (float)i : -1.0f);
        }
        int *all = malloc(sizeof(int) * (size_t)P), all_ok = ok;
        rd_comm_gather_bytes(&ok, sizeof ok, all);
        for (int r = 0; r < P && me == 0; r++) all_ok &= all[r];
        if (me == 0) {
          if (all_ok) passes++;
          else fails++, printf("FAIL: np=%d K=%lld len=%zu %s: sharded scatter/gather\n", P, (long long)K, len,
                               rd_xchg_name((rd_xchg)ai));
        }
        free(all), free(out), free(buf);
        rd_reduce_free(&ref), rd_reduce_free(&loc);
        rd_allreduce_destroy(a);
      }
  /* bucketed has no sharded halves: asked for them, it is refused by a message. */
  if (P > 1) {
    size_t len = 1001;
    const rd_cut cut = {cut7, &len};
    rd_err err = {0};
    rd_allreduce *a = rd_allreduce_create_cut(rd_comm_world(), len, 8, RD_XCHG_BUCKETED, &cut, &err);
    const int ok = a == NULL && err.code == RD_EINPUT && strstr(err.msg, "no sharded halves") != NULL;
    if (me == 0) {
      if (ok) passes++;
      else fails++, printf("FAIL: bucketed with a cut rule must be refused (%s)\n", err.msg);
    }
    rd_allreduce_destroy(a);
  }
  /* The overlapped form: the last shard pushed before its values exist
   * (rd_reduce_push_deferred), begin, then its slices written, merged and
   * reported ready in an order and with sizes that differ by rank, with
   * progress between them; some never reported (end takes them). Every
   * algorithm gives the canonical bits, and every rank's out holds them. */
  {
    const size_t olens[] = {1, 7, 1001, 5000, 40000};
    const int64_t oKs[] = {1, 2, 3, 5, 8, 13};
    const rd_xchg oalgos[] = {RD_XCHG_BUCKETED, RD_XCHG_ALLTOALLV, RD_XCHG_HALVING, RD_XCHG_SHM, RD_XCHG_AUTO};
    for (size_t ai = 0; ai < sizeof oalgos / sizeof oalgos[0]; ai++)
      for (size_t li = 0; li < sizeof olens / sizeof olens[0]; li++)
        for (size_t ki = 0; ki < sizeof oKs / sizeof oKs[0]; ki++) {
          const size_t len = olens[li];
          const int64_t K = oKs[ki];
          rd_reduce ref, loc;
          trees(K, len, P, me, &ref, &loc, NULL); /* ref only; loc is rebuilt below */
          rd_reduce_free(&loc);
          rd_reduce_init(&loc, len, K), rd_reduce_begin(&loc, K);
          int64_t lo, hi;
          rd_shard_range(K, P, me, &lo, &hi);
          rd_err err = {0};
          rd_allreduce *a = rd_allreduce_create(rd_comm_world(), len, K, oalgos[ai], &err);
          float *out = malloc(sizeof(float) * len), *leafv = malloc(sizeof(float) * len);
          int ok = a != NULL && (P == 1 || oalgos[ai] != RD_XCHG_BUCKETED || rd_allreduce_overlaps(a));
          if (ok) {
            rd_reduce_merges mg;
            for (int64_t s = lo; s + 1 < hi; s++) leaf(s, len, rd_reduce_slot(&loc)), rd_reduce_push(&loc, 0, s);
            float *slot = hi > lo ? rd_reduce_slot(&loc) : NULL;
            if (hi > lo) rd_reduce_push_deferred(&loc, 0, hi - 1, &mg);
            rd_allreduce_begin(a, &loc, out);
            if (hi > lo) {
              leaf(hi - 1, len, leafv);
              /* slices from the end, of sizes that depend on the rank; every third one held back */
              size_t top = len, step = 1 + (size_t)(me * 37 + 11) % (len / 3 + 1);
              for (int n = 0; top > 0; n++) {
                const size_t b = top > step ? top - step : 0;
                memcpy(slot + b, leafv + b, sizeof(float) * (top - b));
                rd_reduce_merges_apply(&mg, b, top);
                if (n % 3 != 2) rd_allreduce_ready(a, b, top);
                rd_allreduce_progress(a);
                top = b, step = step * 2 + 1;
              }
            }
            const float *sum = rd_allreduce_end(a);
            ok = memcmp(sum, rd_reduce_vec(&ref, 0), sizeof(float) * len) == 0;
          }
          int *all = malloc(sizeof(int) * (size_t)P), all_ok = ok;
          rd_comm_gather_bytes(&ok, sizeof ok, all);
          for (int r = 0; r < P && me == 0; r++) all_ok &= all[r];
          if (me == 0) {
            if (all_ok) passes++;
            else fails++, printf("FAIL: np=%d K=%lld len=%zu %s: the overlapped form differs from the canonical tree\n",
                                 P, (long long)K, len, rd_xchg_name(oalgos[ai]));
          }
          free(all), free(out), free(leafv);
          rd_allreduce_destroy(a);
          rd_reduce_free(&ref), rd_reduce_free(&loc);
        }
  }
  /* Many shards: buffers sized from the frontier bound instead of every K (no
   * start-up loop over hundreds of thousands of K); large K must still fit. */
  {
    const int64_t big[] = {300000, 299999, 65537};
    for (int ai = 1; ai < 4; ai++) /* alltoallv, halving, shm */
      for (int ki = 0; ki < 3; ki++) {
        const int64_t K = big[ki];
        const size_t len = 3;
        rd_reduce ref, loc;
        trees(K, len, P, me, &ref, &loc, NULL);
        rd_err err = {0};
        rd_allreduce *a = rd_allreduce_create(rd_comm_world(), len, 300000, algos[ai], &err);
        float out[3];
        rd_allreduce_finish(a, &loc, out);
        int ok = memcmp(out, rd_reduce_vec(&ref, 0), sizeof out) == 0, all_ok = ok;
        int *all = malloc(sizeof(int) * (size_t)P);
        rd_comm_gather_bytes(&ok, sizeof ok, all);
        for (int r = 0; r < P && me == 0; r++) all_ok &= all[r];
        if (me == 0) {
          if (all_ok) passes++;
          else fails++, printf("FAIL: np=%d K=%lld %s: differs from the canonical tree\n", P, (long long)K, rd_xchg_name(algos[ai]));
        }
        free(all);
        rd_allreduce_destroy(a);
        rd_reduce_free(&ref), rd_reduce_free(&loc);
      }
  }
  /* MPI counts are ints: past them alltoallv and plain are refused (by a message,
   * before anything is allocated) and AUTO takes halving, which sends in pieces.
   * shm, which sends nothing, is refused too: its window for 3G floats (over
   * 100 GB per rank) would take more than half of any /dev/shm. */
  if (P > 1) {
    const size_t huge = (size_t)3 << 30; /* 3G floats */
    const rd_xchg want = RD_XCHG_HALVING;
    rd_err err = {0};
    int ok = rd_allreduce_choose(rd_comm_world(), huge, 64, RD_XCHG_ALLTOALLV) == RD_XCHG_AUTO &&
             rd_allreduce_choose(rd_comm_world(), huge, 64, RD_XCHG_PLAIN) == RD_XCHG_AUTO &&
             rd_allreduce_choose(rd_comm_world(), huge, 64, RD_XCHG_SHM) == RD_XCHG_AUTO &&
             rd_allreduce_choose(rd_comm_world(), huge, 64, RD_XCHG_AUTO) == want &&
             rd_allreduce_create(rd_comm_world(), huge, 64, RD_XCHG_ALLTOALLV, &err) == NULL &&
             err.code == RD_EINPUT && strstr(err.msg, "past MPI's int") != NULL;
    if (me == 0) {
      if (ok) passes++;
      else fails++, printf("FAIL: 3G floats: alltoallv, plain and shm must be refused, AUTO must take %s (%s)\n", rd_xchg_name(want), err.msg);
    }
  }
  /* At np 1 every algorithm is the tree's root; from 3 ranks on, a serial sum of
   * three or more partial sums must show a different association somewhere. */
  if (P >= 3 && me == 0 && !plain_differs) {
    fails++;
    printf("FAIL: the plain MPI_Allreduce peer matched the tree everywhere: the leaves cannot tell orders apart\n");
  }
  if (me == 0) printf("%d passed, %d failed\n", passes, fails);
  int code = fails ? 1 : 0;
  rd_comm_finalize();
  return me == 0 ? code : 0;
}
