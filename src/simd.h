/* simd: RD_SIMD marks a built-in layer's hot elementwise function to be
 * compiled three times on x86-64, for AVX-512 (512-bit vectors), AVX2 and the
 * baseline, the CPU choosing once at load time (GCC's target_clones). Vector
 * lanes are separate elements, and with -ffp-contract=off every operation is
 * rounded on its own as written: every copy gives the same bits. Elsewhere it is nothing: with
 * clang (14 emits a resolver per file for a function in a header, which
 * fails to link) and off x86-64. Private to src/layers/. */
#ifndef REPRODIST_LAYERS_SIMD_H
#define REPRODIST_LAYERS_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define RD_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef RD_SIMD
#define RD_SIMD
#endif

#endif
