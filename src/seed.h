/* seed: hash-derived seeds and counter-based random draws.
 *
 * Every random value in reprodist is a pure function of global indices; no rank
 * number, rank count, thread count or allocation order enters it. The exact
 * definitions (so anyone can reimplement them) are in docs/SEEDS.md; in short:
 *
 *   tensor seed  = XXH64(le64(global_seed) || le32(|layer|) || layer
 *                        || le32(|tensor|) || tensor, 0)
 *   explicit seed (kernel_seed = S) = the same with empty layer and tensor names
 *   word(s, i, j) = XXH64(le64(i) || le64(j), s)     -- draw j of element i
 *   uniform(w)   = (w >> 11) * 2^-53                  -- a double in [0, 1)
 *
 * Normal draws use the Marsaglia polar method on words j = 0, 1, 2, ... of the
 * element, with rd_pmath_log (pmath.h: a log built from IEEE +,-,*,/ only) and sqrt, both
 * exact-rounded the same way on every IEEE-754 machine. */
#ifndef REPRODIST_SEED_H
#define REPRODIST_SEED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint64_t rd_seed_tensor(uint64_t global_seed, const char *layer, const char *tensor);
uint64_t rd_seed_explicit(uint64_t user_seed);
uint64_t rd_seed_word(uint64_t seed, uint64_t i, uint64_t j);
/* out[k] = rd_seed_word(seed, i0 + k, j) for k in [0, n). */
void rd_seed_words(uint64_t seed, uint64_t i0, int64_t n, uint64_t j, uint64_t *out);
double rd_seed_uniform(uint64_t word);

/* A standard normal for element i of stream `seed`. *j is the next unused draw
 * index of that element (start at 0); it advances past the draws consumed. */
double rd_seed_normal(uint64_t seed, uint64_t i, uint64_t *j);
/* Uniform integer in [0, n) from a word: (word * n) >> 64 (Lemire's reduction). */
uint64_t rd_seed_below(uint64_t word, uint64_t n);

/* The canonical digest of a float tensor: XXH64 (seed 0) of its n float32
 * values' little-endian bytes. Weights files store it per tensor, `reprodist
 * digest` prints it, the replica guard compares it across ranks. */
uint64_t rd_seed_digest_f32(const float *data, size_t n);

/* Fills perm[0..n) with the shuffle of epoch `epoch` (Fisher-Yates, draws
 * word(seed, epoch, i) for i = n-1 down to 1). The same on every rank. */
void rd_seed_permutation(uint64_t seed, uint64_t epoch, uint64_t n, uint32_t *perm);

#ifdef __cplusplus
}
#endif
#endif
