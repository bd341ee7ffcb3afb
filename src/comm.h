/* comm: everything that talks MPI. This is the only module that includes <mpi.h>;
 * the rest of reprodist sees ranks as two integers and calls these functions.
 *
 * Every collective here returns at once when there is one process.
 * MPI errors are returned (MPI_ERRORS_RETURN) and turned into rd_bug, never ignored.
 * No function here sums floating-point values with MPI_SUM: the only reduction that
 * reaches the weights is the canonical allreduce below (rd_allreduce_finish), whose
 * order is fixed by shard index. */
#ifndef REPRODIST_COMM_H
#define REPRODIST_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "reduce.h"

#ifdef __cplusplus
extern "C" {
#endif

void rd_comm_init(int *argc, char ***argv);
void rd_comm_finalize(void);
int rd_comm_rank(void);
int rd_comm_size(void);
/* Aborts every rank of the job with the given exit code. Never returns. */
void rd_comm_abort(int code) __attribute__((noreturn));
void rd_comm_barrier(void);

/* Makes every rank agree on an error: afterwards each rank's err holds the highest
 * code seen on any rank and the message of the lowest-numbered failing rank.
 * Returns that code. Collective: every rank must call it at the same point. */
rd_status rd_comm_agree(rd_err *err);

/* Broadcasts a byte buffer whose length only the root knows. On non-root ranks
 * *buf is malloc'ed (caller frees); on the root it is left as it is. */
void rd_comm_bcast_bytes(void **buf, size_t *len, int root);
void rd_comm_bcast_u64(uint64_t *v, int root);

/* Gathers fixed-size records (len bytes each) from every rank to rank 0.
 * out (rank 0 only) holds size*len bytes. */
void rd_comm_gather_bytes(const void *rec, size_t len, void *out);

/* Gives a file-access property list the MPI-IO driver over the world communicator.
 * Returns 0 on success. (hid_t is passed as int64_t to keep HDF5 out of this header;
 * comm_h5.c, so that the rest of comm links without HDF5.) */
int rd_comm_h5_fapl_mpio(int64_t fapl);

/* A flag agreed by all ranks without stalling the step: begin sends this
 * rank's flag (non-blocking integer MAX), end returns 1 if any rank's was set. */
void rd_comm_flag_begin(int flag);
int rd_comm_flag_end(void);
/* 1 if every rank passed the same value (exact integer MIN/MAX). */
int rd_comm_same_u64(uint64_t v);

/* How many ranks of the job run on this node (share its memory). */
int rd_comm_local_size(void);
/* 1 when every rank of the job runs on this node and can share its memory;
 * never under SimGrid's SMPI, whose simulated ranks share none. */
int rd_comm_one_node(void);

/* Host name of this process (for messages, never for results). */
const char *rd_comm_host(void);

/* ---- communicators ------------------------------------------------------------
 * An opaque group of ranks. Today the world is the only one; the allreduce takes
 * it as an argument so that a node's or a group's communicator can follow. */
typedef struct rd_comm rd_comm;
const rd_comm *rd_comm_world(void);

/* ---- the canonical allreduce ------------------------------------------------------
 * Finishes a shard-tree reduction (reduce.h) across the ranks of a communicator.
 * Each rank holds the maximal complete tree nodes of its shard range; an exchange
 * algorithm moves them so that every element is summed along the same tree as on
 * one process, and every rank gets the whole sum. The tree, not np and not the
 * algorithm, fixes the order of every addition, so every canonical algorithm gives
 * the same bits. docs/SCALING.md has the algorithms and their costs:
 *   alltoallv  one MPI_Alltoallv of every node's chunks, the tree finished per
 *              chunk, one MPI_Allgatherv: 2(P-1) messages per rank, one round each
 *   halving    recursive halving along the tree (each pair of neighbouring rank
 *              blocks merges its nodes on half the elements), then recursive
 *              doubling: 2 log2 P messages per rank (+2 when P is not a power of 2)
 *   plain      NOT canonical: MPI_Allreduce(MPI_SUM) of the rank's local sum. Its
 *              bits depend on np; it is the benchmark's peer, chosen only by
 *              RD_ALLREDUCE=plain, with a warning.
 *   bucketed   alltoallv's exchange in buckets of a sixteenth of the vector, each
 *              started (non-blocking) once its elements are final: the step's
 *              sum runs behind the last local shard's backward pass
 *              (rd_allreduce_begin). 2(P-1) messages per rank per bucket. No
 *              sharded halves.
 *   shm        alltoallv's chunks through an MPI-3 shared window, when every
 *              rank is on one node: each rank's nodes are in the window (made
 *              there: rd_allreduce_pool; or copied), each rank finishes the
 *              tree on its chunk reading the others' in place, into the first
 *              node of the first rank with shards, and the others copy the sum
 *              out of it. No message; three barriers.
 * AUTO picks, up to RD_XCHG_HALVING_FROM - 1 ranks, shm when they share one
 * node and bucketed when they span more (alltoallv where neither serves:
 * bucketed has no sharded halves), and halving from there (measured under
 * SimGrid, on one node and on shaped links: docs/SCALING.md), among the
 * algorithms whose MPI counts fit in an int; the environment variable
 * RD_ALLREDUCE=alltoallv|halving|plain|bucketed|shm|auto overrides it.
 * Whichever runs, a canonical algorithm never changes a bit. */
typedef enum rd_xchg {
  RD_XCHG_AUTO = -1,
  RD_XCHG_ALLTOALLV = 0,
  RD_XCHG_HALVING,
  RD_XCHG_PLAIN,
  RD_XCHG_BUCKETED,
  RD_XCHG_SHM,
  RD_XCHG_COUNT
} rd_xchg;
#define RD_XCHG_HALVING_FROM 64

const char *rd_xchg_name(rd_xchg x);
/* "auto", "alltoallv", "halving", "plain", "bucketed" or "shm"; returns 0, or -1 for anything else. */
int rd_xchg_parse(const char *s, rd_xchg *x);

typedef struct rd_allreduce rd_allreduce;

/* Where the element ranges of a sharded sum (rd_allreduce_scatter) may start:
 * at(ctx, x) is the largest allowed start <= x. 0 must be allowed and at must
 * never decrease; it is the same function on every rank. A range rule changes
 * who sums which elements, never a bit of the sum. */
typedef struct rd_cut {
  size_t (*at)(const void *ctx, size_t x);
  const void *ctx;
} rd_cut;

/* Buffers for vectors of len floats and up to max_shards shards, made once.
 * NULL with err set (RD_EINPUT) when no algorithm's MPI counts fit in an int at
 * this size and rank count, or RD_ALLREDUCE names no algorithm. */
rd_allreduce *rd_allreduce_create(const rd_comm *c, size_t len, int64_t max_shards, rd_xchg algo, rd_err *err);
/* The same, for sharded steps: the ranks' element ranges start where cut allows
 * (cut NULL: anywhere; cut must outlive the allreduce). */
rd_allreduce *rd_allreduce_create_cut(const rd_comm *c, size_t len, int64_t max_shards, rd_xchg algo,
                                      const rd_cut *cut, rd_err *err);
/* The algorithm create would run (AUTO resolved), or RD_XCHG_AUTO if it would fail. Allocates nothing. */
rd_xchg rd_allreduce_choose(const rd_comm *c, size_t len, int64_t max_shards, rd_xchg algo);
/* 1 when a sharded step's exchange (rd_allreduce_create_cut, AUTO) has an
 * algorithm here: AUTO's choice, or RD_ALLREDUCE's, has the two halves (not
 * bucketed) and its counts fit. */
int rd_allreduce_shardable(const rd_comm *c, size_t len, int64_t max_shards);
/* Floats those buffers take (for memory estimates; 0 if create would fail). */
size_t rd_allreduce_floats(const rd_comm *c, size_t len, int64_t max_shards, rd_xchg algo);
/* Where the algorithms' large buffers come from: malloc and free unless set. The
 * SimGrid driver's timing runs share them between simulated ranks. Set it before
 * any rd_allreduce is created, and never while one exists. */
void rd_comm_set_alloc(void *(*alloc)(size_t bytes), void (*release)(void *p));
/* Memory for the pool of the local reduction the sums take (rd_reduce_init_in
 * with this rank's share of the shards, rd_reduce_local_shards(max_shards, P):
 * rd_reduce_floats(len, that share) floats, 64-byte aligned, valid until
 * rd_allreduce_destroy), where the algorithm reads the nodes in place instead
 * of copying them; NULL when it has none (then the reduction allocates its own).
 * shm's is in the window the ranks share. Any local reduction still works with
 * every algorithm: this one only saves a copy. */
float *rd_allreduce_pool(const rd_allreduce *a);
/* The algorithm it runs (what AUTO chose). */
rd_xchg rd_allreduce_algo(const rd_allreduce *a);
void rd_allreduce_destroy(rd_allreduce *a);
/* Collective. local holds this rank's pushed shards of a K-shard reduction
 * (rd_reduce_begin(local, K) with the same K on every rank); out gets the sum.
 * local's vectors serve as scratch: rd_reduce_begin it before the next use. */
void rd_allreduce_finish(rd_allreduce *a, rd_reduce *local, float *out);
/* The same, returning where the sum is: out, or another buffer of a's or local's
 * (at np 1, local's root vector itself: no copy). Valid until a or local is used again. */
const float *rd_allreduce_sum(rd_allreduce *a, rd_reduce *local, float *out);

/* ---- overlapped steps ---------------------------------------------------------
 * The sum started before local's nodes are final, so that it runs behind the
 * backward pass of the last local shard. begin: local holds the K-shard tree's
 * pushed nodes (the last push's additions may still be pending:
 * rd_reduce_push_deferred); ready: elements [lo, hi) of every node are final
 * (each element reported at most once); progress: lets MPI move (between
 * layers); end: everything not reported is final; waits, and returns where the
 * sum is, as rd_allreduce_sum does. All collective, begin and end on every rank
 * alike; ready and progress may be called differently on each rank. Only an
 * algorithm with an overlapped form (bucketed) sends before end; for the others
 * end is rd_allreduce_sum. The bits are the same either way. */
void rd_allreduce_begin(rd_allreduce *a, rd_reduce *local, float *out);
void rd_allreduce_ready(rd_allreduce *a, size_t lo, size_t hi);
void rd_allreduce_progress(rd_allreduce *a);
const float *rd_allreduce_end(rd_allreduce *a);
/* 1 if ready can start sending (np > 1 and the algorithm has an overlapped form). */
int rd_allreduce_overlaps(const rd_allreduce *a);

/* ---- sharded steps (ZeRO stage 1, [train] shard_optimizer) ------------------------
 * The allreduce in its two halves. Each algorithm gives every rank one range of
 * the elements (some ranks may have none; together they cover [0, len) once):
 * scatter leaves this rank's range of the canonical sum in its result, and
 * gather gives every rank every range of a buffer, so that each rank can update
 * its own range of the parameters and share it. The sum's bits are sum's. */
/* Rank q's element range [lo, hi). */
void rd_allreduce_range(const rd_allreduce *a, int q, size_t *lo, size_t *hi);
/* Collective. Returns a vector whose [lo, hi) of this rank's range holds the
 * sum: out (which must hold len floats), or at np 1 local's root. local as in rd_allreduce_sum. */
float *rd_allreduce_scatter(rd_allreduce *a, rd_reduce *local, float *out);
/* Collective. Every rank's range of buf, cut at n <= len floats, to every rank. */
void rd_allreduce_gather(rd_allreduce *a, float *buf, size_t n);
/* Collective. Each rank's counts[q] doubles at displs[q] of buf (its own in
 * place) to every rank: the exact values, no arithmetic. */
void rd_comm_allgather_f64(const rd_comm *c, double *buf, const int *counts, const int *displs);
/* Collective. n floats of buf from root to every rank of c. */
void rd_comm_bcast_f32(const rd_comm *c, float *buf, size_t n, int root);

#ifdef __cplusplus
}
#endif
#endif
