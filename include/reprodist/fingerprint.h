/* fingerprint: what about this process can change the bits of a result
 * (reprodist version and build flags, OpenBLAS version/core/threads, compiler). */
#ifndef REPRODIST_FINGERPRINT_H
#define REPRODIST_FINGERPRINT_H

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif
#endif
