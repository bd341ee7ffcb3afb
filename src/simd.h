/* simd: RD_SIMD marks a hot elementwise function (a built-in layer's, an
 * optimizer's update, the reduction's additions) to be
 * compiled three times on x86-64, for AVX-512 (512-bit vectors), AVX2 and the
 * baseline, the CPU choosing once at load time (GCC's target_clones). Vector
 * lanes are separate elements, and with -ffp-contract=off every operation is
 * rounded on its own as written: every copy gives the same bits. Elsewhere it is nothing: with
 * clang (14 emits a resolver per file for a function in a header, which
 * fails to link) and off x86-64. Only for loops whose elements are
 * independent: without -ffast-math no compiler reorders a sum, so a loop
 * that sums stays one chain in every copy.
 *
 * RD_SIMD_AVX2: the AVX2 and baseline copies only, for loops over several
 * arrays at offsets nothing aligns (an optimizer's range of the parameters,
 * the reduction's tensor slices). There a 64-byte vector straddles two cache
 * lines at almost every access: on AMD EPYC (Zen 4), Adam's update of the
 * 784-1024-1024-10 MLP took 1.45 ms on 512-bit vectors, 0.94 on the
 * baseline's 128-bit ones and 0.83 on AVX2's 256-bit ones (cold arrays,
 * 16-byte aligned; in training, 1.5-1.6, 1.0-1.1 and 0.76-0.94 ms a step). */
#ifndef REPRODIST_SIMD_H
#define REPRODIST_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define RD_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#define RD_SIMD_AVX2 __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef RD_SIMD
#define RD_SIMD
#define RD_SIMD_AVX2
#endif

/* 1 where RD_SIMD's avx512f clone is the one that runs (GCC on x86-64, a
 * CPU with AVX-512), else 0: for code whose best form needs AVX-512's 32
 * vector registers and runs slower in the other clones. */
static inline int rd_simd_avx512(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
  return __builtin_cpu_supports("avx512f");
#endif
#endif
  return 0;
}

#endif
