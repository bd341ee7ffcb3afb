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
 * Returns 0 on success. (hid_t is passed as int64_t to keep HDF5 out of this header.) */
int rd_comm_h5_fapl_mpio(int64_t fapl);

/* A flag agreed by all ranks without stalling the step: begin sends this
 * rank's flag (non-blocking integer MAX), end returns 1 if any rank's was set. */
void rd_comm_flag_begin(int flag);
int rd_comm_flag_end(void);
/* 1 if every rank passed the same value (exact integer MIN/MAX). */
int rd_comm_same_u64(uint64_t v);

/* How many ranks of the job run on this node (share its memory). */
int rd_comm_local_size(void);

/* Host name of this process (for messages, never for results). */
const char *rd_comm_host(void);

/* ---- the canonical allreduce ------------------------------------------------------
 * Finishes a shard-tree reduction (reduce.h) across ranks, reduce-scatter style:
 * the vector is cut into np element chunks; rank c receives chunk c of every
 * rank's frontier nodes, finishes the same tree on it, and an allgather returns
 * the full sum to everyone. The tree, not np, fixes the order of every addition. */
typedef struct rd_allreduce rd_allreduce;

/* Buffers for vectors of len floats and up to max_shards shards, made once. */
rd_allreduce *rd_allreduce_create(size_t len, int64_t max_shards);
/* Floats of those buffers (for memory estimates). */
size_t rd_allreduce_floats(size_t len, int64_t max_shards);
void rd_allreduce_destroy(rd_allreduce *a);
/* Collective. local holds this rank's pushed shards of a K-shard reduction
 * (rd_reduce_begin(local, K) with the same K on every rank); out gets the sum.
 * local's vectors serve as scratch: rd_reduce_begin it before the next use. */
void rd_allreduce_finish(rd_allreduce *a, rd_reduce *local, float *out);
/* The same, returning where the sum is: out, or at np 1 local's root vector
 * itself (no copy; valid until local is begun again). */
const float *rd_allreduce_sum(rd_allreduce *a, rd_reduce *local, float *out);
#ifdef RD_BENCH_BUILD
/* Benchmark-only peer: plain MPI_Allreduce(MPI_SUM) of the rank's partial sums.
 * Its bits depend on np; only the benchmark build (RD_BUILD_BENCH) has it. */
void rd_allreduce_plain_sum(const float *in, float *out, size_t len);
#endif

#ifdef __cplusplus
}
#endif
#endif
