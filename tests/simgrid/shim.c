/* A malloc shim for launch/simulate's timing runs (LD_PRELOAD), never for bits.
 * SMPI runs every simulated rank in one process, and its own MPI_Allreduce
 * allocates a scratch buffer of the whole vector per rank and call: 1,024 ranks
 * of 25M floats would need 100 GB. With RD_SHIM_SIZES=B1,B2,... every
 * allocation of exactly one of those byte sizes returns the same block, one
 * copy for every rank (every listed size the same block), as SMPI_SHARED_MALLOC
 * does for reprodist's own buffers: values are garbage, times are right. RD_SHIM_LOG=1 prints every allocation of
 * 1 MB or more (to find the sizes). Other allocations go to glibc.
 * rd_shim_shared(key, bytes) gives rd_smpi's own large buffers (rd_comm_set_alloc)
 * one block per key for the whole process: SMPI_SHARED_MALLOC maps 1 MB pieces per
 * rank, and 256 ranks of 25M floats pass the kernel's 65,530 mappings. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static size_t g_sizes[16];
static int g_n = -1, g_log;
static char *g_block;
static size_t g_most;

static void init(void) {
  g_n = 0;
  const char *s = getenv("RD_SHIM_SIZES"), *l = getenv("RD_SHIM_LOG");
  g_log = l && l[0] == '1';
  size_t most = 0;
  while (s && *s && g_n < 16) {
    char *end;
    g_sizes[g_n] = strtoull(s, &end, 10);
    most = g_sizes[g_n] > most ? g_sizes[g_n] : most;
    g_n++;
    s = *end == ',' ? end + 1 : end + strlen(end);
  }
  g_most = most;
  if (most) {
    g_block = mmap(NULL, most, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (g_block == MAP_FAILED) g_block = NULL, g_n = 0;
  }
}

static int shared(size_t n) {
  if (g_n < 0) init();
  if (g_log && n >= (1u << 20)) fprintf(stderr, "rd_shim: malloc %zu\n", n);
  for (int i = 0; i < g_n; i++)
    if (n == g_sizes[i]) return 1;
  return 0;
}

void *malloc(size_t n) { return shared(n) ? g_block : __libc_malloc(n); }
void *calloc(size_t a, size_t b) {
  if (b && a > (size_t)-1 / b) return NULL;
  return shared(a * b) ? memset(g_block, 0, a * b) : __libc_calloc(a, b);
}
void free(void *p) {
  if (p && p == g_block) return;
  __libc_free(p);
}
void *realloc(void *p, size_t n) {
  if (p && p == g_block) return shared(n) ? g_block : memcpy(__libc_malloc(n), p, n < g_most ? n : g_most);
  return __libc_realloc(p, n);
}

void *rd_shim_shared(int key, size_t bytes) {
  static struct {
    int key;
    size_t bytes;
    void *p;
  } t[256];
  static int n;
  for (int i = 0; i < n; i++)
    if (t[i].key == key && t[i].bytes >= bytes) return t[i].p;
  if (n == 256) return NULL;
  void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return NULL;
  t[n].key = key, t[n].bytes = bytes, t[n].p = p;
  return t[n++].p;
}
