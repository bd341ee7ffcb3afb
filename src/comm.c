/* comm: MPI wrappers (see comm.h). */
#include <stdlib.h>
#include <string.h>

#include "comm_impl.h"
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
static struct rd_comm g_world = {MPI_COMM_NULL, 0, 1, 1};
static char g_host[MPI_MAX_PROCESSOR_NAME + 1];

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
  g_world = (struct rd_comm){MPI_COMM_WORLD, g_rank, g_size, rd_comm_local_size() == g_size};
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
const rd_comm *rd_comm_world(void) { return &g_world; }

int rd_comm_one_node(void) {
#ifdef SMPI_H
  return 0;
#else
  return g_world.one_node;
#endif
}

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

void rd_comm_allgather_f64(const rd_comm *c, double *buf, const int *counts, const int *displs) {
  if (c->size > 1) RD_MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, buf, counts, displs, MPI_DOUBLE, c->mpi));
}

void rd_comm_bcast_f32(const rd_comm *c, float *buf, size_t n, int root) {
  for (size_t off = 0; c->size > 1 && off < n;) { /* int counts: in pieces */
    const size_t k = n - off < ((size_t)1 << 30) ? n - off : (size_t)1 << 30;
    RD_MPI_CHECK(MPI_Bcast(buf + off, (int)k, MPI_FLOAT, root, c->mpi));
    off += k;
  }
}
