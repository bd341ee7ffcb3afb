/* kern: openblas and portable kernels, and the portable GEMM's driver (see
 * kern.h and docs/PORTABLE.md).
 *
 * The driver is BLIS's loops around a micro-kernel: columns of C in blocks of
 * NC, k in blocks of KC (B's block packed, or read in place), rows in blocks
 * of MC, then MR x NR tiles. A is mostly read where it is. k-blocks run in
 * increasing order and each one continues the tile's chains from the values
 * the previous one stored, so blocking changes no bits. A product's last
 * rows run the tile on fewer rows; its last columns run on the tile's half
 * (one vector) when that is wide enough, on a masked tile in place where the
 * path has masks (x86), else on a zero-padded copy. */
#include "kern.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern_ukr.h"
#include "log.h"
#include "pmath.h"
#include "simd.h"
#ifndef RD_KERN_NO_OPENBLAS
#include <cblas.h>
#endif

const char *const rd_kern_mode_names[] = {"openblas", "portable", NULL};

static const char *const k_isa_names[RD_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};

const char *rd_kern_isa_name(rd_isa isa) { return isa < RD_ISA_COUNT ? k_isa_names[isa] : "?"; }

/* ---- the scalar path: fmaf, 4 x 4 -------------------------------------------- */
static void ukr_scalar(int64_t kc, const float *a, int64_t rsa, int64_t csa, const float *b, int64_t rsb, float *c,
                       int64_t ldc, int load) {
  float t[4][4];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) t[i][j] = load ? c[i * ldc + j] : 0.0f;
  for (int64_t p = 0; p < kc; p++, b += rsb)
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) t[i][j] = fmaf(a[i * rsa + p * csa], b[j], t[i][j]);
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) c[i * ldc + j] = t[i][j];
}
static const rd_kern_ukr k_ukr_scalar = {4, 4, ukr_scalar, 0, 0, 0, 0, 0, 0, 0};

/* The wide tile of a path, or with narrow its narrow one (kern_ukr.h). */
static const rd_kern_ukr *ukr_of(rd_isa isa, int narrow) {
  switch (isa) {
#if defined(__x86_64__)
    case RD_ISA_AVX2: return narrow ? &rd_kern_ukr_avx2_narrow : &rd_kern_ukr_avx2;
    case RD_ISA_AVX512: return narrow ? &rd_kern_ukr_avx512_narrow : &rd_kern_ukr_avx512;
#endif
#if defined(__aarch64__)
    case RD_ISA_NEON: return narrow ? &rd_kern_ukr_neon_narrow : &rd_kern_ukr_neon;
#endif
    default: return &k_ukr_scalar;
  }
}

/* The tile for a run of m rows and n columns whose A rows are read rsa
 * floats apart: the narrow one when n fits one of its panels (a
 * convolution's 16 filters on the 32-wide AVX-512 tile would leave half of
 * every tile idle), unless the rows would leave much of its last tile idle
 * (it has no row edges: the first conv's weight gradient, 9 rows of 16, ran
 * at 0.2 of the GEMM's peak on the 16-row AVX-512 tile), or its rows are a
 * multiple of 256 floats apart (16 such streams overflow an L1 set: Dense
 * 1024-1024's dL/dx, computed as C^T, ran at half speed); else the wide one,
 * with its half and row edges. Any gives the same chains. */
static const rd_kern_ukr *ukr_for(rd_isa isa, int64_t m, int64_t n, int64_t rsa) {
  const rd_kern_ukr *narrow = ukr_of(isa, 1), *wide = ukr_of(isa, 0);
  const int rows_fit = m % narrow->mr == 0 || m >= 4 * narrow->mr;
  const int sets_fit = rsa % 256 != 0;
  return n <= narrow->nr && ((rows_fit && sets_fit) || !wide->half) ? narrow : wide;
}

int rd_kern_isa_supported(rd_isa isa) {
  switch (isa) {
    case RD_ISA_SCALAR: return 1;
#if defined(__x86_64__)
    case RD_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case RD_ISA_AVX512: return __builtin_cpu_supports("avx512f");
#endif
#if defined(__aarch64__)
    case RD_ISA_NEON: return 1;
#endif
    default: return 0;
  }
}

static rd_isa g_isa = RD_ISA_SCALAR;
static int g_isa_chosen = 0;

static rd_isa best_isa(void) {
  static const rd_isa order[] = {RD_ISA_AVX512, RD_ISA_AVX2, RD_ISA_NEON};
  for (size_t i = 0; i < sizeof order / sizeof *order; i++)
    if (rd_kern_isa_supported(order[i])) return order[i];
  return RD_ISA_SCALAR;
}

int rd_kern_isa_select(const char *forced, char *err, size_t errn) {
  if (!forced || !*forced) {
    g_isa = best_isa();
    g_isa_chosen = 1;
    return 0;
  }
  for (int i = 0; i < RD_ISA_COUNT; i++) {
    if (strcmp(forced, k_isa_names[i])) continue;
    if (!rd_kern_isa_supported((rd_isa)i)) {
      snprintf(err, errn, "RD_ISA=%s: this CPU or build cannot run the %s path (it can run: %s%s%s%s)", forced,
               forced, "scalar", rd_kern_isa_supported(RD_ISA_AVX2) ? ", avx2" : "",
               rd_kern_isa_supported(RD_ISA_AVX512) ? ", avx512" : "",
               rd_kern_isa_supported(RD_ISA_NEON) ? ", neon" : "");
      return -1;
    }
    g_isa = (rd_isa)i;
    g_isa_chosen = 1;
    return 0;
  }
  snprintf(err, errn, "RD_ISA=%s: unknown path (expected scalar, avx2, avx512 or neon)", forced);
  return -1;
}

rd_isa rd_kern_isa(void) {
  if (!g_isa_chosen) {
    g_isa = best_isa();
    g_isa_chosen = 1;
  }
  return g_isa;
}

/* ---- the driver -------------------------------------------------------------- */
/* MC is a multiple of every MR (4, 6, 8, 12, 16), NC of every NR (4, 8, 16, 32). */
enum { KC = 256, MC = 240, NC = 2048, KT_MAX = 4096 };
/* Packed panels, of B and of A, lie SKEW floats further apart than their
 * kc * w: the row-wise copy writes one line into each panel per step, and
 * panels a power of two apart would all fall into one L1 set (A's 8-row
 * AVX-512 panels, 8 KB apart: a MobileNet weight gradient, 256 x 256 x 784,
 * ran at 160 GFLOP/s, 203 with the skew). */
enum { SKEW = 16, PANELS_MAX = NC / 4 + 1 };
static float k_apack[MC * KC + SKEW * (MC / 4 + 1)] __attribute__((aligned(64)));
static float k_bpack[KC * NC + SKEW * PANELS_MAX] __attribute__((aligned(64)));
static float k_aedge[RD_KERN_MR_MAX * KT_MAX] __attribute__((aligned(64)));

/* w floats, with fixed-size moves for the panel widths. */
static inline void copy_w(float *d, const float *s, int w) {
  switch (w) {
    case 32: memcpy(d, s, 32 * sizeof(float)); break;
    case 16: memcpy(d, s, 16 * sizeof(float)); break;
    case 12: memcpy(d, s, 12 * sizeof(float)); break;
    case 8: memcpy(d, s, 8 * sizeof(float)); break;
    case 6: memcpy(d, s, 6 * sizeof(float)); break;
    case 4: memcpy(d, s, 4 * sizeof(float)); break;
    default: memcpy(d, s, (size_t)w * sizeof(float));
  }
}

/* Four values of four rows into four rows of d, w floats apart: d[i w + r] = s_r[i].
 * In registers where the compiler has __builtin_shufflevector (GCC 12, clang);
 * else one value at a time. A copy either way. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define RD_HAVE_SHUFFLEVECTOR 1
#endif
#endif
#ifdef RD_HAVE_SHUFFLEVECTOR
typedef float v4f __attribute__((vector_size(16)));
static inline void transpose4(float *d, int w, const float *s0, const float *s1, const float *s2, const float *s3) {
  v4f r0, r1, r2, r3;
  memcpy(&r0, s0, 16), memcpy(&r1, s1, 16), memcpy(&r2, s2, 16), memcpy(&r3, s3, 16);
  const v4f t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
  const v4f t2 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
  const v4f o0 = __builtin_shufflevector(t0, t1, 0, 1, 4, 5), o1 = __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
  const v4f o2 = __builtin_shufflevector(t2, t3, 0, 1, 4, 5), o3 = __builtin_shufflevector(t2, t3, 2, 3, 6, 7);
  memcpy(d, &o0, 16), memcpy(d + w, &o1, 16), memcpy(d + 2 * w, &o2, 16), memcpy(d + 3 * w, &o3, 16);
}
#else
static inline void transpose4(float *d, int w, const float *s0, const float *s1, const float *s2, const float *s3) {
  for (int i = 0; i < 4; i++) d[i * w] = s0[i], d[i * w + 1] = s1[i], d[i * w + 2] = s2[i], d[i * w + 3] = s3[i];
}
#endif

/* Steps [p0, p0 + kc) x columns [j0, j0 + nc) of op(B), in panels of w
 * columns, ps floats apart: panel q holds, for each step, its w values (zero
 * past the last column). The loops read the stored matrix along its rows,
 * untransposed one step (a row) at a time across every panel. Rows of op(A)
 * are columns of op(A)^T, so A packs with pack(!trans_a, a, lda, p0, kc, i0,
 * mc, mr, kc * mr, dst). */
static void pack(int trans, const float *b, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int w,
                 int64_t ps, float *dst) {
  if (trans) {
    for (int64_t q = 0; q < nc; q += w, dst += ps) {
      const int cols = (int)(nc - q < w ? nc - q : w);
      int j = 0;
      /* Four columns at a time, four steps at a time: a 4x4 transpose in
       * registers, four 16-byte stores. A scalar store per value took as
       * long as the product itself at k = 10 (Dense's dL/dx before the
       * softmax, 16x1024x10 on the AVX2 path: 8.0 us, 5.3 with this;
       * OpenBLAS 5.7). A copy: no bit changes. */
      for (; j + 4 <= cols; j += 4) {
        const float *s0 = b + (j0 + q + j) * ldb + p0, *s1 = s0 + ldb, *s2 = s1 + ldb, *s3 = s2 + ldb;
        float *d = dst + j;
        int64_t p = 0;
        for (; p + 4 <= kc; p += 4, d += 4 * w) transpose4(d, w, s0 + p, s1 + p, s2 + p, s3 + p);
        for (; p < kc; p++, d += w) d[0] = s0[p], d[1] = s1[p], d[2] = s2[p], d[3] = s3[p];
      }
      for (; j < w; j++) {
        const float *s = b + (j0 + q + j) * ldb + p0;
        if (j >= cols)
          for (int64_t p = 0; p < kc; p++) dst[p * w + j] = 0.0f;
        else
          for (int64_t p = 0; p < kc; p++) dst[p * w + j] = s[p];
      }
    }
    return;
  }
  const int64_t full = nc - nc % w;
  for (int64_t p = 0; p < kc; p++) {
    const float *s = b + (p0 + p) * ldb + j0;
    float *d = dst + p * w;
    for (int64_t q = 0; q < full; q += w, s += w, d += ps) copy_w(d, s, w);
    if (full == nc) continue;
    /* The last, partial panel: a whole panel's width copied, then its
     * padding zeroed: a fixed-size copy, not a loop. The w - cols floats
     * read past the row's last column lie in B when the block's later rows
     * (kc - 1 - p of them, ldb apart, each with this panel's columns)
     * reach that far. */
    const int cols = (int)(nc - full);
    if (w - cols <= (kc - 1 - p) * ldb) copy_w(d, s, w);
    else
      for (int j = 0; j < cols; j++) d[j] = s[j];
    for (int j = cols; j < w; j++) d[j] = 0.0f;
  }
}

/* The loops, for C (m, n) or, with tc, for its transpose: element (i, j) of
 * op(A) op(B) is stored at c[j ldc + i]. k in blocks of kcmax (KC, or up to
 * KT_MAX when the caller knows B's panels and A's edge panel still fit). */
/* A tile of rows x cols results, edge (row stride w), that C at c would have
 * held: folded into the waiting nodes (rd_kern_fold), d_k = c + (dst[k] - slot). */
RD_SIMD_AVX2 static void fold_tile(const rd_kern_fold *f, const float *c, int64_t ldc, int rows, int cols,
                                   const float *edge, int w) {
  const ptrdiff_t at = c - f->slot;
  const int n = f->n;
  for (int i = 0; i < rows; i++) {
    const ptrdiff_t o = at + i * ldc;
    /* The tile two to the right in these rows (the next to be folded but
     * one): its nodes' lines are asked for now, so that their reads are
     * under way while two tiles compute. */
    for (int q = 0; q < n; q++)
      for (int j = 0; j < cols; j += 16) __builtin_prefetch(f->dst[q] + o + 2 * w + j, 0, 3);
    const float *e = edge + i * w, *d0 = f->dst[0] + o;
    float *out = f->dst[n - 1] + o; /* the last node's own floats: each read before it is written */
    if (n == 1) {
      for (int j = 0; j < cols; j++) out[j] = d0[j] + e[j];
    } else if (n == 2) {
      for (int j = 0; j < cols; j++) out[j] = out[j] + (d0[j] + e[j]);
    } else if (n == 3) {
      const float *d1 = f->dst[1] + o;
      for (int j = 0; j < cols; j++) out[j] = out[j] + (d1[j] + (d0[j] + e[j]));
    } else {
      float t[RD_KERN_NR_MAX];
      for (int j = 0; j < cols; j++) t[j] = d0[j] + e[j];
      for (int q = 1; q < n; q++) {
        const float *dq = f->dst[q] + o;
        for (int j = 0; j < cols; j++) t[j] = dq[j] + t[j];
      }
      for (int j = 0; j < cols; j++) out[j] = t[j];
    }
  }
}

static void gemm_run(const rd_kern_ukr *u, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a,
                     int64_t lda, const float *b, int64_t ldb, int keep, float *c, int64_t ldc, int tc, int64_t kcmax,
                     const rd_kern_fold *fd) {
  const int mr = u->mr, nr = u->nr;
  /* Packing buys locality for an operand that is reused, and costs a copy.
   * The micro-kernel reads A where it is, in either orientation: its MR rows
   * are MR streams the prefetchers follow, and a block of them stays in L2
   * while the column tiles reuse it (packing A, a transposing copy, took
   * 20% of a convolution's GEMM on the AVX2 path and bought nothing on
   * either x86 path, measured on AMD EPYC; the NEON path is untimed). B's
   * rows are contiguous unless B is transposed; they are read where they are
   * when few row tiles reuse them (m <= 8 MR) or they lie close together (at
   * most 256 floats apart). A tile's last columns always run on
   * zero-padded panels of B.
   *
   * Rows a multiple of 256 floats apart fill a few L1 sets (1024 apart: one
   * set), and a tile that reads one such row per step evicts its own lines.
   * So a transposed A (one row of A per step) is packed, a row-wise copy,
   * when more than one column tile reads it (Dense 1024-1024's weight
   * gradient: 0.86x OpenBLAS in place, 1.2x packed), and B is packed, row by
   * row, when at least three row tiles reuse it (Dense 784-1024's forward
   * pass over 32 rows: 0.66x in place, 0.89x packed). (Packing B rows 128
   * or 256 floats apart too gained 10% on MobileNet weight gradients timed
   * alone, and lost up to 10% in rd_bench_kernels' pass.) The chains are the
   * same either way. */
  const int direct_a = !(trans_a && lda % 256 == 0 && n > nr);
  const int direct_b = !trans_b && (m <= 8 * mr || ldb <= 256) && !(ldb % 256 == 0 && ldb > 256 && m > 2 * mr);
  const int64_t rsa = trans_a ? 1 : lda, csa = trans_a ? lda : 1;
  const int64_t m_full = m - m % mr; /* rows in full tiles */
  const int mask_direct = direct_b && !tc && u->mfn && (u->medge || m_full == m);
  float edge[RD_KERN_MR_MAX * RD_KERN_NR_MAX];
  for (int64_t jc = 0; jc < n; jc += NC) {
    const int64_t nc = n - jc < NC ? n - jc : NC;
    const int64_t nc_full = nc - nc % nr;
    for (int64_t pc = 0; pc < k; pc += kcmax) {
      const int64_t kc = k - pc < kcmax ? k - pc : kcmax;
      const int load = keep || pc > 0;
      /* Direct B packs only its last, partial panel; packed B all of them. */
      const int64_t ps = kc * nr + SKEW; /* B's panel stride */
      const int64_t aps = kc * mr + SKEW; /* A's, when packed */
      /* A last panel of exactly half a tile runs the half tile, which reads
       * direct B's rows where they are too; so do the masked tiles, for any
       * other partial panel (when every row block runs a tile of mr rows or
       * a row edge, so that no tile needs a padded copy of B). */
      const int half_direct = direct_b && u->half && 2 * (nc - nc_full) == nr;
      if (direct_b) {
        if (nc_full < nc && !half_direct && !mask_direct)
          pack(0, b, ldb, pc, kc, jc + nc_full, nc - nc_full, nr, ps, k_bpack + nc_full / nr * ps);
      } else {
        pack(trans_b, b, ldb, pc, kc, jc, nc, nr, ps, k_bpack);
      }
      if (direct_a && !u->edge && m_full < m) pack(!trans_a, a, lda, pc, kc, m_full, m - m_full, mr, kc * mr, k_aedge);
      for (int64_t ic = 0; ic < m; ic += MC) {
        const int64_t mc = m - ic < MC ? m - ic : MC;
        if (!direct_a) pack(!trans_a, a, lda, pc, kc, ic, mc, mr, aps, k_apack);
        /* Column panels, then the row tiles that reuse each; folding, row
         * tiles, then the panels across them: the waiting nodes' rows are
         * then read front to back, as streams the prefetchers follow (down
         * the columns, a tile's rows of Dense 1024-1024's kernel gradient
         * lie 4 KB apart: the fold ran slower than the push it replaced). */
        const int64_t n1 = fd ? mc : nc, n2 = fd ? nc : mc;
        for (int64_t o1 = 0, s1 = 1; o1 < n1; o1 += s1) {
          for (int64_t o2 = 0, s2; o2 < n2; o2 += s2) {
            const int64_t jr = fd ? o2 : o1, ir = fd ? o1 : o2;
            const int cols = (int)(nc - jr < nr ? nc - jr : nr);
            /* At most half a tile of columns left: the tile's half (one vector). */
            const int half = u->half && 2 * cols <= nr;
            const int whole = cols == nr || (half && 2 * cols == nr); /* no padding columns */
            const int masked = !whole && mask_direct;
            const int b_direct = direct_b && (whole || masked);
            const float *bp = b_direct ? b + pc * ldb + jc + jr : k_bpack + jr / nr * ps;
            const int64_t rsb = b_direct ? ldb : nr;
            const int64_t i0 = ic + ir, j0 = jc + jr;
            int64_t rows = mc - ir < mr ? mc - ir : mr;
            /* A block's last mr + r rows, r < mr / 2, run as two row edges
             * of about half each, not the tile and an r-row edge: a tile of
             * few rows loads B's vectors for few FMAs (32 rows on the 6-row
             * AVX2 tile: 6,6,6,6,4,4, not 6,6,6,6,6,2; 2-4% faster). A read
             * where it is, so a tile may start on any row. */
            if (direct_a && u->edge && mc - ir > mr && mc - ir < mr + mr / 2) rows = (mc - ir + 1) / 2;
            if (fd) s1 = rows, s2 = nr;
            else s1 = nr, s2 = rows;
            /* The last rows run the tile's row edge where the path has one,
             * else the whole tile on zero-padded rows. */
            const int row_edge = rows < mr && u->edge;
            const rd_kern_ukr_fn fn = half ? (row_edge ? u->half_edge[rows] : u->half) : row_edge ? u->edge[rows] : u->fn;
            const float *ap;
            int64_t ra = 1, ca = mr;
            if (!direct_a) ap = k_apack + ir / mr * aps;
            else if (rows < mr && !row_edge) ap = k_aedge;
            else ap = a + (trans_a ? pc * lda + i0 : i0 * lda + pc), ra = rsa, ca = csa;
            if (fd) { /* k in one block (load 0): the tile's results go to the fold, never to C */
              if (masked) {
                const rd_kern_ukr_mfn mf = half ? (row_edge ? u->mhalf_edge[rows] : u->mhalf)
                                                : row_edge ? u->medge[rows] : u->mfn;
                mf(kc, ap, ra, ca, bp, rsb, edge, nr, 0, cols);
              } else {
                fn(kc, ap, ra, ca, bp, rsb, edge, nr, 0);
              }
              fold_tile(fd, c + i0 * ldc + j0, ldc, (int)rows, cols, edge, nr);
              continue;
            }
            if (!tc && (rows == mr || row_edge) && whole) {
              fn(kc, ap, ra, ca, bp, rsb, c + i0 * ldc + j0, ldc, load);
              continue;
            }
            if (masked) { /* rows == mr or a row edge (mask_direct) */
              const rd_kern_ukr_mfn mf = half ? (row_edge ? u->mhalf_edge[rows] : u->mhalf)
                                              : row_edge ? u->medge[rows] : u->mfn;
              mf(kc, ap, ra, ca, bp, rsb, c + i0 * ldc + j0, ldc, load, cols);
              continue;
            }
            /* Through a tile: a column edge (its padding lanes start from 0,
             * no garbage: denormals are slow), or the transposed store. */
            if (load) {
              memset(edge, 0, sizeof(float) * (size_t)(mr * nr));
              if (tc)
                for (int j = 0; j < cols; j++)
                  for (int i = 0; i < rows; i++) edge[i * nr + j] = c[(j0 + j) * ldc + i0 + i];
              else
                for (int i = 0; i < rows; i++)
                  for (int j = 0; j < cols; j++) edge[i * nr + j] = c[(i0 + i) * ldc + j0 + j];
            }
            fn(kc, ap, ra, ca, bp, rsb, edge, nr, load);
            /* The transposed store row by row of C: a tile's column of C^T is
             * a run of C's row. Column by column of C, each store went to
             * another of cols rows ldc apart, which share an L1 set when ldc
             * is a multiple of 256 floats (Dense 1024-1024's dL/dx: 4% of the
             * 784-1024-1024-10 MLP's step in these two loops). */
            if (tc)
              for (int j = 0; j < cols; j++)
                for (int i = 0; i < rows; i++) c[(j0 + j) * ldc + i0 + i] = edge[i * nr + j];
            else
              for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) c[(i0 + i) * ldc + j0 + j] = edge[i * nr + j];
          }
        }
      }
    }
  }
}

void rd_kern_gemm_isa(rd_isa isa, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a,
                      int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  const int keep = beta != 0.0f;
  if (k <= 0) {
    if (!keep)
      for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, sizeof(float) * (size_t)n);
    return;
  }
  const rd_kern_ukr *u = ukr_of(isa, 0);
  /* A few rows times a transposed B (Dense's dL/dx = dy W^T over a shard):
   * packing the large B would cost more than the product. Compute C^T = B A^T
   * instead, which reads B's rows where they are and packs only the small A,
   * and store it transposed. fma(b, a, acc) = fma(a, b, acc): the same chains.
   * Its k is not blocked: each tile is stored once, since transposed stores to
   * rows a power-of-two apart collide in the cache. (m <= 2 NR: A is then read
   * where it is, never packed into the KC-deep buffer; k >= 64: a shorter
   * chain does not pay for the tile's transposed copy.) */
  const int64_t panels = (m + u->nr - 1) / u->nr;
  if (trans_b && !trans_a && m <= 2 * u->nr && n > 2 * u->nr && k >= 64 && k <= KT_MAX &&
      panels * u->nr * k <= KC * NC) {
    gemm_run(ukr_for(isa, n, m, ldb), 0, 1, n, m, k, b, ldb, a, lda, keep, c, ldc, 1, k, NULL);
    return;
  }
  gemm_run(ukr_for(isa, m, n, trans_a ? 1 : lda), trans_a, trans_b, m, n, k, a, lda, b, ldb, keep, c, ldc, 0, KC, NULL);
}

/* ---- folding a push into the store (kern.h) ---------------------------------------- */
static rd_kern_fold *k_fold;

void rd_kern_fold_set(rd_kern_fold *f) { k_fold = f; }

/* gemm_grad, portable: folded when a fold is set, C (rows ldc = n apart, so
 * one range) lies in its slot, beta is 0, k is one block and the product is
 * not computed transposed (C^T); else gemm. */
static void gemm_portable_grad(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a,
                               int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  rd_kern_fold *f = k_fold;
  const rd_isa isa = rd_kern_isa();
  const rd_kern_ukr *u = ukr_of(isa, 0);
  const int ct = trans_b && !trans_a && m <= 2 * u->nr; /* rd_kern_gemm_isa may take the C^T route */
  if (!f || f->n < 1 || f->nranges >= RD_KERN_FOLD_MAX || beta != 0.0f || ldc != n || m <= 0 || n <= 0 || k <= 0 ||
      k > KC || ct || c < f->slot || c + m * n > f->slot + f->len) {
    rd_kern_gemm_isa(isa, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  gemm_run(ukr_for(isa, m, n, trans_a ? 1 : lda), trans_a, trans_b, m, n, k, a, lda, b, ldb, 0, c, ldc, 0, KC, f);
  f->lo[f->nranges] = (size_t)(c - f->slot), f->hi[f->nranges] = (size_t)(c - f->slot) + (size_t)(m * n);
  f->nranges++;
}

/* ---- the two modes ------------------------------------------------------------- */
static void gemm_portable(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                          const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  rd_kern_gemm_isa(rd_kern_isa(), trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

/* OpenBLAS sgemm on the calling thread: its bits depend on the shapes, the
 * values and the core type (the fingerprint compares the core across ranks). */
static void gemm_openblas(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                          const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
#ifdef RD_KERN_NO_OPENBLAS
  /* tests/portable/driver.c's build: no OpenBLAS, portable mode only. */
  RD_ASSERT(0, "gemm %lld x %lld x %lld: this build has no OpenBLAS", (long long)m, (long long)n, (long long)k);
  (void)trans_a, (void)trans_b, (void)a, (void)lda, (void)b, (void)ldb, (void)beta, (void)c, (void)ldc;
#else
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n,
              (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
#endif
}

static float libm_exp(float x) { return expf(x); }
static float libm_log(float x) { return logf(x); }
static float libm_tanh(float x) { return tanhf(x); }
static float libm_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

static const rd_kern_ops k_ops[2] = {
    {gemm_openblas, libm_exp, libm_log, libm_tanh, libm_sigmoid, gemm_openblas},
    {gemm_portable, rd_pmath_expf, rd_pmath_logf, rd_pmath_tanhf, rd_pmath_sigmoidf, gemm_portable_grad},
};

const rd_kern_ops *rd_kern_ops_of(rd_kern_mode mode) { return &k_ops[mode == RD_KERN_PORTABLE]; }
