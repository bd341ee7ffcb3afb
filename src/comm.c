/* comm: MPI wrappers (see comm.h). */
#include "comm.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
/* Sanitized builds do not leak-check what Open MPI allocates in MPI_Init and
 * MPI_Finalize (some through glibc, unnameable by a suppression): tests/lsan.supp. */
#ifdef RD_SANITIZE
#include <sanitizer/lsan_interface.h>
#define RD_LSAN_OFF() __lsan_disable()
#define RD_LSAN_ON() __lsan_enable()
#else
#define RD_LSAN_OFF() ((void)0)
#define RD_LSAN_ON() ((void)0)
#endif

static int g_rank = 0, g_size = 1, g_inited = 0;
static char g_host[MPI_MAX_PROCESSOR_NAME + 1];

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

void rd_comm_init(int *argc, char ***argv) {
  int provided = 0;
  RD_LSAN_OFF();
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  RD_LSAN_ON();
  g_inited = 1;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  RD_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &g_rank));
  RD_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &g_size));
  int n = 0;
  MPI_Get_processor_name(g_host, &n);
  g_host[n] = '\0';
  rd_log_set_rank(g_rank, g_size);
  rd_log_set_abort(rd_comm_abort);
}

void rd_comm_finalize(void) {
  RD_LSAN_OFF();
  if (g_inited) MPI_Finalize();
  RD_LSAN_ON();
  g_inited = 0;
}

int rd_comm_rank(void) { return g_rank; }
int rd_comm_size(void) { return g_size; }
const char *rd_comm_host(void) { return g_host; }

int rd_comm_local_size(void) {
  static int n;
  if (n) return n;
  n = 1;
  if (g_size == 1) return n;
  MPI_Comm local;
  RD_MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local));
  RD_MPI_CHECK(MPI_Comm_size(local, &n));
  MPI_Comm_free(&local);
  return n;
}

void rd_comm_abort(int code) {
  if (g_inited) MPI_Abort(MPI_COMM_WORLD, code);
  exit(code);
}

void rd_comm_barrier(void) {
  if (g_size == 1) return;
  RD_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
}

rd_status rd_comm_agree(rd_err *err) {
  if (g_size == 1) return err->code;
  const int failed = err->code != RD_OK;
  /* The lowest failing rank with a message of its own, else the lowest failing one. */
  int code = (int)err->code, top, who[2] = {failed && !err->weak ? g_rank : g_size, failed ? g_rank : g_size}, all[2];
  /* Integer MAX/MIN: exact, order-free. */
  RD_MPI_CHECK(MPI_Allreduce(&code, &top, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
  RD_MPI_CHECK(MPI_Allreduce(who, all, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (top == RD_OK) return RD_OK;
  const int root = all[0] < g_size ? all[0] : all[1];
  RD_MPI_CHECK(MPI_Bcast(err->msg, RD_ERR_MSG_MAX, MPI_CHAR, root, MPI_COMM_WORLD));
  err->msg[RD_ERR_MSG_MAX - 1] = '\0';
  err->code = (rd_status)top;
  err->weak = all[0] == g_size;
  return err->code;
}

void rd_comm_bcast_bytes(void **buf, size_t *len, int root) {
  if (g_size == 1) return;
  uint64_t n = *len;
  RD_MPI_CHECK(MPI_Bcast(&n, 1, MPI_UINT64_T, root, MPI_COMM_WORLD));
  if (g_rank != root) {
    *buf = malloc(n + 1);
    RD_ASSERT(*buf != NULL, "out of memory for %llu bytes", (unsigned long long)n);
    ((char *)*buf)[n] = '\0';
    *len = (size_t)n;
  }
  /* MPI counts are int: send large buffers in pieces. */
  for (uint64_t off = 0; off < n;) {
    uint64_t chunk = n - off > (1u << 30) ? (1u << 30) : n - off;
    RD_MPI_CHECK(MPI_Bcast((char *)*buf + off, (int)chunk, MPI_BYTE, root, MPI_COMM_WORLD));
    off += chunk;
  }
}

void rd_comm_bcast_u64(uint64_t *v, int root) {
  if (g_size == 1) return;
  RD_MPI_CHECK(MPI_Bcast(v, 1, MPI_UINT64_T, root, MPI_COMM_WORLD));
}

void rd_comm_gather_bytes(const void *rec, size_t len, void *out) {
  if (g_size == 1) {
    memcpy(out, rec, len);
    return;
  }
  RD_MPI_CHECK(MPI_Gather(rec, (int)len, MPI_BYTE, out, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD));
}

static MPI_Request g_flag_req = MPI_REQUEST_NULL;
static int g_flag_in, g_flag_out;

void rd_comm_flag_begin(int flag) {
  g_flag_in = flag != 0;
  g_flag_out = g_flag_in;
  if (g_size == 1) return;
  RD_MPI_CHECK(MPI_Iallreduce(&g_flag_in, &g_flag_out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &g_flag_req));
}

int rd_comm_flag_end(void) {
  if (g_size > 1) RD_MPI_CHECK(MPI_Wait(&g_flag_req, MPI_STATUS_IGNORE));
  return g_flag_out;
}

int rd_comm_same_u64(uint64_t v) {
  if (g_size == 1) return 1;
  uint64_t lo, hi;
  RD_MPI_CHECK(MPI_Allreduce(&v, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD));
  RD_MPI_CHECK(MPI_Allreduce(&v, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD));
  return lo == hi;
}

int rd_comm_h5_fapl_mpio(int64_t fapl) {
  return H5Pset_fapl_mpio((hid_t)fapl, MPI_COMM_WORLD, MPI_INFO_NULL) < 0 ? -1 : 0;
}

/* ---- canonical allreduce ------------------------------------------------------- */

struct rd_allreduce {
  size_t len;
  int64_t max_shards;
  int fcap;             /* frontier entries per rank */
  int *flevel;          /* P * fcap */
  int64_t *findex;
  int *nfront;          /* P */
  int *scount, *sdispl, *rcount, *rdispl; /* P each */
  float *sendbuf, *recvbuf;
  rd_reduce global;     /* finishes the tree on this rank's chunk, in recvbuf */
};

static size_t chunk_lo(size_t len, int c) { return len * (size_t)c / (size_t)g_size; }

size_t rd_allreduce_floats(size_t len, int64_t max_shards) {
  rd_reduce probe;
  rd_reduce_init(&probe, 0, max_shards);
  return (len + (len / (size_t)g_size + 1) * (size_t)g_size) * (size_t)probe.cap;
}

rd_allreduce *rd_allreduce_create(size_t len, int64_t max_shards) {
  rd_allreduce *a = calloc(1, sizeof *a);
  RD_ASSERT(a != NULL, "out of memory");
  a->len = len;
  a->max_shards = max_shards;
  rd_reduce probe;
  rd_reduce_init(&probe, 0, max_shards);
  a->fcap = probe.cap;
  size_t P = (size_t)g_size;
  a->flevel = malloc(sizeof(int) * P * (size_t)a->fcap);
  a->findex = malloc(sizeof(int64_t) * P * (size_t)a->fcap);
  a->nfront = malloc(sizeof(int) * P);
  a->scount = malloc(sizeof(int) * P * 4);
  RD_ASSERT(a->flevel && a->findex && a->nfront && a->scount, "out of memory");
  a->sdispl = a->scount + P;
  a->rcount = a->scount + 2 * P;
  a->rdispl = a->scount + 3 * P;
  size_t maxchunk = len / P + 1;
  /* sendbuf is only used when a rank ends with several local nodes; the
   * common case (one node) sends straight from the reduction's pool. */
  a->sendbuf = malloc(sizeof(float) * len * (size_t)a->fcap + 64);
  a->recvbuf = malloc(sizeof(float) * maxchunk * P * (size_t)a->fcap + 64);
  RD_ASSERT(a->sendbuf && a->recvbuf, "out of memory for allreduce buffers");
  rd_reduce_init(&a->global, 0, max_shards); /* no pool: the tree sums in recvbuf */
  return a;
}

void rd_allreduce_destroy(rd_allreduce *a) {
  if (!a) return;
  rd_reduce_free(&a->global);
  free(a->flevel);
  free(a->findex);
  free(a->nfront);
  free(a->scount);
  free(a->sendbuf);
  free(a->recvbuf);
  free(a);
}

void rd_allreduce_finish(rd_allreduce *a, rd_reduce *local, float *out) {
  const float *sum = rd_allreduce_sum(a, local, out);
  if (sum != out) memcpy(out, sum, sizeof(float) * a->len);
}

const float *rd_allreduce_sum(rd_allreduce *a, rd_reduce *local, float *out) {
  const size_t len = a->len;
  RD_ASSERT(local->len == len, "vector length mismatch");
  if (g_size == 1) {
    RD_ASSERT(local->depth == 1, "single rank ended with %d tree nodes", local->depth);
    return rd_reduce_vec(local, 0);
  }
  const int64_t K = local->K;
  /* Every rank's frontier follows from (K, P) alone: no metadata travels. */
  for (int q = 0; q < g_size; q++) {
    int64_t lo, hi;
    rd_shard_range(K, g_size, q, &lo, &hi);
    a->nfront[q] = rd_reduce_frontier(K, lo, hi, a->flevel + q * a->fcap, a->findex + q * a->fcap, a->fcap);
  }
  RD_ASSERT(a->nfront[g_rank] == local->depth, "frontier mismatch (%d vs %d)", a->nfront[g_rank], local->depth);
  /* Reduce-scatter: chunk c of each of my nodes goes to rank c; my own chunk
   * stays where it is (local's vectors are scratch once the step is summed). */
  const int mine = local->depth;
  const size_t mylo = chunk_lo(len, g_rank), myn = chunk_lo(len, g_rank + 1) - mylo;
  const float *send = a->sendbuf;
  if (mine == 1) { /* one node: its chunks are already in rank order */
    send = rd_reduce_vec(local, 0);
    for (int c = 0; c < g_size; c++) {
      a->sdispl[c] = (int)chunk_lo(len, c);
      a->scount[c] = c == g_rank ? 0 : (int)(chunk_lo(len, c + 1) - chunk_lo(len, c));
    }
  } else {
    size_t off = 0;
    for (int c = 0; c < g_size; c++) {
      size_t lo = chunk_lo(len, c), n = c == g_rank ? 0 : chunk_lo(len, c + 1) - lo;
      a->sdispl[c] = (int)off;
      a->scount[c] = (int)(n * (size_t)mine);
      for (int i = 0; i < mine; i++, off += n)
        memcpy(a->sendbuf + off, rd_reduce_vec(local, i) + lo, n * sizeof(float));
    }
  }
  size_t off = 0;
  for (int q = 0; q < g_size; q++) {
    a->rdispl[q] = (int)off;
    a->rcount[q] = q == g_rank ? 0 : (int)(myn * (size_t)a->nfront[q]);
    off += (size_t)a->rcount[q];
  }
  RD_MPI_CHECK(MPI_Alltoallv(send, a->scount, a->sdispl, MPI_FLOAT, a->recvbuf, a->rcount, a->rdispl, MPI_FLOAT,
                             MPI_COMM_WORLD));
  /* Finish the tree on my chunk where the nodes are, in shard order (rank 0's first). */
  rd_reduce *g = &a->global;
  g->len = myn;
  rd_reduce_begin(g, K);
  for (int q = 0; q < g_size; q++)
    for (int i = 0; i < a->nfront[q]; i++) {
      float *node = q == g_rank ? rd_reduce_vec(local, i) + mylo : a->recvbuf + a->rdispl[q] + (size_t)i * myn;
      rd_reduce_push_ext(g, a->flevel[q * a->fcap + i], a->findex[q * a->fcap + i], node);
    }
  RD_ASSERT(K == 0 || g->depth == 1, "global tree did not close (%d nodes)", g->depth);
  for (int c = 0; c < g_size; c++) {
    a->rdispl[c] = (int)chunk_lo(len, c);
    a->rcount[c] = (int)(chunk_lo(len, c + 1) - chunk_lo(len, c));
  }
  if (K == 0) memset(out + mylo, 0, myn * sizeof(float));
  else if (myn) memcpy(out + mylo, rd_reduce_vec(g, 0), myn * sizeof(float));
  RD_MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, out, a->rcount, a->rdispl, MPI_FLOAT, MPI_COMM_WORLD));
  return out;
}

#ifdef RD_BENCH_BUILD
void rd_allreduce_plain_sum(const float *in, float *out, size_t len) {
  if (g_size == 1) {
    memcpy(out, in, len * sizeof(float));
    return;
  }
  RD_MPI_CHECK(MPI_Allreduce(in, out, (int)len, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD));
}
#endif
