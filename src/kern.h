/* kern: the arithmetic kernels that reach the weights, in one of two modes
 * ([train] kernels, docs/PORTABLE.md):
 *
 *   openblas  OpenBLAS sgemm and libm's expf, logf, tanhf: the same
 *             bits on every rank that runs the same OpenBLAS core type.
 *   portable  (default since 0.2.0) reprodist's own GEMM and pmath.h's functions: the same bits on
 *             every IEEE-754 CPU (x86-64 with or without AVX2/AVX-512, aarch64),
 *             whichever SIMD path runs.
 *
 * The portable GEMM's contract, whatever the ISA, tiling or blocking: element
 * (i, j) of op(A) op(B) is one chain of fused multiply-adds over p = 0, 1, ...,
 * k-1 in increasing order, acc = fmaf(A[i][p], B[p][j], acc), starting from
 * +0.0f (beta 0) or from C[i][j] (beta 1). The SIMD paths compute many such
 * chains side by side, one per lane, so they cannot differ from the scalar one. */
#ifndef REPRODIST_KERN_H
#define REPRODIST_KERN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RD_KERN_OPENBLAS, RD_KERN_PORTABLE } rd_kern_mode;
/* "openblas", "portable"; the config's enum table. */
extern const char *const rd_kern_mode_names[];

/* The portable GEMM's instruction-set paths. */
typedef enum { RD_ISA_SCALAR, RD_ISA_AVX2, RD_ISA_AVX512, RD_ISA_NEON, RD_ISA_COUNT } rd_isa;
const char *rd_kern_isa_name(rd_isa isa);
/* Whether this CPU (and this build) can run the path. */
int rd_kern_isa_supported(rd_isa isa);

/* Chooses the portable GEMM's path for this process: `forced` (the RD_ISA
 * environment variable: scalar, avx2, avx512 or neon; NULL or "" for the best
 * this CPU runs). Returns 0, or -1 with a message in err (an unknown name, or
 * a path this CPU or build cannot run). */
int rd_kern_isa_select(const char *forced, char *err, size_t errn);
rd_isa rd_kern_isa(void);

/* One mode's kernels. gemm: C (m, n) = [C +] op(A) (m, k) . op(B) (k, n),
 * row-major, op transposes when trans_* is 1, beta 0 or 1. */
typedef struct {
  void (*gemm)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
               const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
  float (*exp)(float x);
  float (*log)(float x);
  float (*tanh)(float x);
  float (*sigmoid)(float x);
  /* gemm for a weight gradient's C, beta 0, that nothing reads or writes
   * again in the pass: it may be folded (below). */
  void (*gemm_grad)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                    const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
} rd_kern_ops;

const rd_kern_ops *rd_kern_ops_of(rd_kern_mode mode);

/* Folding a push into a weight gradient's store. A shard's gradient vector
 * (slot) is added into the canonical tree's waiting nodes when it is pushed:
 * t = dst[0] + slot, then t = dst[k] + t, t stored in dst[n - 1] (reduce.h's
 * merges, a chain). While a fold is set (rd_kern_fold_set), a portable
 * gemm_grad whose C lies in the slot does those additions on each tile as it
 * leaves the registers, stores t where the push would, and never writes C:
 * per element the same additions in the same order as the push. It records
 * the slot's ranges so folded (lo, hi: floats from slot), which the caller's
 * push then skips. Otherwise gemm_grad is gemm. */
#define RD_KERN_FOLD_MAX 64
typedef struct rd_kern_fold {
  const float *slot;
  size_t len;
  int n;
  float *dst[RD_KERN_FOLD_MAX];
  int nranges;
  size_t lo[RD_KERN_FOLD_MAX], hi[RD_KERN_FOLD_MAX];
} rd_kern_fold;
/* f: the push's merges (f->nranges 0), kept until the next call; NULL: none. */
void rd_kern_fold_set(rd_kern_fold *f);

/* The portable GEMM on a given path (tests; production calls go through
 * rd_kern_ops_of(RD_KERN_PORTABLE)->gemm, which uses rd_kern_isa()). Not
 * reentrant: its packing buffers are static (each rank computes on one thread). */
void rd_kern_gemm_isa(rd_isa isa, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a,
                      int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

#ifdef __cplusplus
}
#endif
#endif
