/* kern_ukr: the per-ISA GEMM micro-kernels (private to kern.c).
 *
 * A micro-kernel updates one MR x NR tile of C, row stride ldc, over kc steps:
 * for each step p, for each (i, j), c[i][j] = fma(A(i, p), B(p, j), c[i][j]),
 * from c's values (load 1) or from +0.0f (load 0), where A(i, p) = a[i rsa +
 * p csa] (a packed panel: rsa 1, csa MR; or A itself, either orientation) and
 * B(p, j) = b[p rsb + j] (a packed panel: rsb NR; or B's rows themselves).
 * Each path has a wide tile (two vectors per row) and a narrow one (one
 * vector per row, twice the rows) for products at most one vector wide, and
 * the wide tile on fewer rows for a product's last rows. */
#ifndef REPRODIST_KERN_UKR_H
#define REPRODIST_KERN_UKR_H

#include <stdint.h>

typedef void (*rd_kern_ukr_fn)(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb,
                               float *c, int64_t ldc, int load);

/* The same on a tile's first cols columns only (0 < cols < its width, past
 * its other vectors: more than nr / 2 on a wide tile): the last vector's
 * lanes past cols read nothing of B or C and store nothing, so B's rows and
 * C are read and written in place (a Dense layer's 10 outputs). */
typedef void (*rd_kern_ukr_mfn)(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb,
                                float *c, int64_t ldc, int load, int cols);

/* A tile: mr x nr, its micro-kernel, and for a wide tile its row edges:
 * edge[r] (0 < r < mr) is the same micro-kernel on r rows (NULL: none; the
 * driver then runs fn on a zero-padded copy of the rows); and its half, with
 * row edges half_edge[r]: the same rows, one vector (nr / 2 columns), for a
 * product's last columns when at most half a tile of them is left (NULL:
 * none); and where the path has masked vectors (x86), the masked form of
 * each: mfn, medge, mhalf, mhalf_edge (NULL: none). */
typedef struct {
  int mr, nr;
  rd_kern_ukr_fn fn;
  const rd_kern_ukr_fn *edge;
  rd_kern_ukr_fn half;
  const rd_kern_ukr_fn *half_edge;
  rd_kern_ukr_mfn mfn;
  const rd_kern_ukr_mfn *medge;
  rd_kern_ukr_mfn mhalf;
  const rd_kern_ukr_mfn *mhalf_edge;
} rd_kern_ukr;

#define RD_KERN_MR_MAX 16
#define RD_KERN_NR_MAX 32

#if defined(__x86_64__)
extern const rd_kern_ukr rd_kern_ukr_avx2, rd_kern_ukr_avx512, rd_kern_ukr_avx2_narrow, rd_kern_ukr_avx512_narrow;
#endif
#if defined(__aarch64__)
extern const rd_kern_ukr rd_kern_ukr_neon, rd_kern_ukr_neon_narrow;
#endif

#endif
