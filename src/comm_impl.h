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
  size_t (*plan)(const rd_comm *c, size_t len, int64_t max_shards, char *why, size_t n);
  void *(*create)(const rd_comm *c, size_t len, int64_t max_shards);
  void (*destroy)(void *st);
  /* Collective. local: this rank's pushed shards (its scratch afterwards).
   * Returns where the sum is: out, or a buffer of st or local's. */
  const float *(*sum)(void *st, rd_reduce *local, float *out);
} rd_xchg_type;

#define RD_XCHG(n) extern const rd_xchg_type rd_xchg_##n;
#include "xchg/list.h"
#undef RD_XCHG

/* The algorithms' large buffers (rd_comm_set_alloc); NULL only when out of memory. */
void *rd_comm_buf_alloc(size_t bytes);
void rd_comm_buf_free(void *p);

/* Bytes and counts: what an int MPI count can hold. */
#define RD_MPI_INT_MAX ((size_t)2147483647)

#endif
