/* fingerprint: everything about a process that can change the bits of a result:
 * reprodist version and build flags, compiler, OpenBLAS version/core/threads,
 * libc (libm), HDF5 version (file bytes), the floating-point environment
 * (rounding mode, flush-to-zero, denormals-are-zero), endianness, type sizes,
 * and the XXH64 of every loaded layer plugin (in portable mode, fewer: see rd_fp_text).
 * Before training, rank 0 compares every rank's fingerprint; ranks that differ
 * would compute different bits, so the job stops unless --allow-mixed. */
#ifndef REPRODIST_FINGERPRINT_H
#define REPRODIST_FINGERPRINT_H

#include <stddef.h>

#include "kern.h"
#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RD_FP_MAX 4096

const char *rd_fp_version(void);
const char *rd_fp_build_flags(void);
/* OpenBLAS' kernel family in use, e.g. "Haswell" (set OPENBLAS_CORETYPE to choose). */
const char *rd_fp_openblas_core(void);
const char *rd_fp_openblas_config(void);
int rd_fp_openblas_threads(void);
/* Runs OpenBLAS on one thread in this process and returns the thread count it
 * would otherwise have used. Measured here: a threaded sgemm splits rows among
 * threads, and the edge kernels round differently, so (784 x 8) . (8 x 128)
 * gave other bits with 2 threads than with 1. Parallelism comes from ranks. */
int rd_fp_pin_blas_threads(void);

/* This process's fingerprint as "key=value" lines (no host name). In portable
 * mode (kern.h) only what can still change the result: the reprodist version,
 * kernels=portable, the HDF5 version (file bytes), the floating-point
 * environment, endianness, type sizes and the plugins. */
void rd_fp_text(char *buf, size_t n, rd_kern_mode mode);

/* Collective. Compares all ranks' fingerprints with rank 0's. On a difference,
 * sets err (RD_EINPUT) naming the key, the ranks, their hosts and values; with
 * allow_mixed it only warns. */
rd_status rd_fp_check_ranks(rd_kern_mode mode, int allow_mixed, rd_err *err);

#ifdef __cplusplus
}
#endif
#endif
