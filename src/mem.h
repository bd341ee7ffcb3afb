/* mem: aligned float buffers, the one allocator of the arenas and work buffers.
 *
 * Every buffer a GEMM reads or writes, and every arena (parameters, gradients,
 * optimizer state, the reduction's slots), comes from here, so all of them
 * start on the same 64-byte boundary on every rank. */
#ifndef REPRODIST_MEM_H
#define REPRODIST_MEM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* n floats (n may be 0), 64-byte aligned, from aligned_alloc, with the size
 * rounded up to a whole 64 bytes plus one spare line; the caller frees it with
 * free(). Aborts (RD_ASSERT) when out of memory. */
float *rd_mem_alloc_f32(size_t n);

/* Reads one byte of every 4 KB page of [p, p + n): a buffer another process
 * filled (an MPI broadcast's) is then as quick to read at random as one this
 * process wrote itself (measured in docs/PERFORMANCE.md, run 24). */
void rd_mem_touch(const void *p, size_t n);

/* Bytes this process can still expect to get: the kernel's MemAvailable,
 * capped by the cgroup's memory.max less its memory.current when one is set;
 * 0 when unknown. */
double rd_mem_available(void);

#ifdef __cplusplus
}
#endif
#endif
