/* comm: MPI wrappers (see include/reprodist/comm.h). */
#include "reprodist/comm.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

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
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  g_inited = 1;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  RD_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &g_rank));
  RD_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &g_size));
  int n = 0;
  MPI_Get_processor_name(g_host, &n);
  g_host[n] = '\0';
  rd_log_set_rank(g_rank, g_size);
}

void rd_comm_finalize(void) {
  if (g_inited) MPI_Finalize();
  g_inited = 0;
}

int rd_comm_rank(void) { return g_rank; }
int rd_comm_size(void) { return g_size; }
const char *rd_comm_host(void) { return g_host; }

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
  int mine[2] = {(int)err->code, err->code != RD_OK ? g_rank : g_size};
  int all[2];
  /* Integer MAX/MIN: exact, order-free. */
  RD_MPI_CHECK(MPI_Allreduce(&mine[0], &all[0], 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
  RD_MPI_CHECK(MPI_Allreduce(&mine[1], &all[1], 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  if (all[0] == RD_OK) return RD_OK;
  RD_MPI_CHECK(MPI_Bcast(err->msg, RD_ERR_MSG_MAX, MPI_CHAR, all[1], MPI_COMM_WORLD));
  err->msg[RD_ERR_MSG_MAX - 1] = '\0';
  err->code = (rd_status)all[0];
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

int rd_comm_h5_fapl_mpio(int64_t fapl) {
  return H5Pset_fapl_mpio((hid_t)fapl, MPI_COMM_WORLD, MPI_INFO_NULL) < 0 ? -1 : 0;
}
