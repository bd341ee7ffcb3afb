/* seed: hash-derived seeds and counter-based draws (see seed.h). */
#include "seed.h"

#include <math.h>
#include <string.h>
/* XXH64 compiled in here (the same function as libxxhash's), for the
 * per-tensor seeds and the digests; rd_seed_word writes its 16-byte case out. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "log.h"
#include "pmath.h"

static void put_le32(unsigned char *p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}
static void put_le64(unsigned char *p, uint64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}

uint64_t rd_seed_tensor(uint64_t global_seed, const char *layer, const char *tensor) {
  size_t ln = strlen(layer), tn = strlen(tensor);
  RD_ASSERT(ln <= 256 && tn <= 256, "names too long for seed derivation");
  unsigned char buf[8 + 4 + 256 + 4 + 256];
  size_t n = 0;
  put_le64(buf + n, global_seed);
  n += 8;
  put_le32(buf + n, (uint32_t)ln);
  n += 4;
  memcpy(buf + n, layer, ln);
  n += ln;
  put_le32(buf + n, (uint32_t)tn);
  n += 4;
  memcpy(buf + n, tensor, tn);
  n += tn;
  return XXH64(buf, n, 0);
}

uint64_t rd_seed_explicit(uint64_t user_seed) { return rd_seed_tensor(user_seed, "", ""); }

static uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* XXH64(le64(i) || le64(j), seed), written out for its one length: 16 bytes
 * are two 8-byte lanes, each mixed in with XXH64's round (input * P2, rotate
 * 31, * P1) and merge (rotate 27, * P1 + P4), then the avalanche. The same
 * value as the library's (unit_init compares them on a million inputs) at a
 * quarter of the instructions: dropout draws one word per two values. */
enum { W_LEN = 16 };
static const uint64_t P1 = 0x9E3779B185EBCA87u, P2 = 0xC2B2AE3D27D4EB4Fu, P3 = 0x165667B19E3779F9u,
                      P4 = 0x85EBCA77C2B2AE63u, P5 = 0x27D4EB2F165667C5u;
/* A lane as XXH64's round makes it. */
static inline uint64_t w_lane(uint64_t v) { return rotl64(v * P2, 31) * P1; }
/* The word from h0 = seed + P5 + 16 and the two lanes, merged in order. */
static inline uint64_t w_mix(uint64_t h0, uint64_t li, uint64_t lj) {
  uint64_t h = h0 ^ li;
  h = rotl64(h, 27) * P1 + P4;
  h ^= lj;
  h = rotl64(h, 27) * P1 + P4;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

uint64_t rd_seed_word(uint64_t seed, uint64_t i, uint64_t j) { return w_mix(seed + P5 + W_LEN, w_lane(i), w_lane(j)); }

/* rd_seed_word for i = i0 .. i0 + n - 1 at one j: the same steps, with j's
 * lane made once, in a loop the compiler vectorizes (AVX-512DQ multiplies
 * eight 64-bit words at once; the clones are chosen at load time, and every
 * one computes the same integers). Dropout draws its masks a row at a time
 * through it. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define WORDS_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
#endif
#ifndef WORDS_CLONES
#define WORDS_CLONES
#endif
WORDS_CLONES void rd_seed_words(uint64_t seed, uint64_t i0, int64_t n, uint64_t j, uint64_t *restrict out) {
  const uint64_t h0 = seed + P5 + W_LEN, lj = w_lane(j);
  for (int64_t k = 0; k < n; k++) out[k] = w_mix(h0, w_lane(i0 + (uint64_t)k), lj);
}

double rd_seed_uniform(uint64_t w) { return (double)(w >> 11) * 0x1p-53; }

uint64_t rd_seed_below(uint64_t w, uint64_t n) {
  return (uint64_t)(((unsigned __int128)w * n) >> 64);
}

double rd_seed_normal(uint64_t seed, uint64_t i, uint64_t *j) {
  for (;;) {
    double u1 = 2.0 * rd_seed_uniform(rd_seed_word(seed, i, *j)) - 1.0;
    double u2 = 2.0 * rd_seed_uniform(rd_seed_word(seed, i, *j + 1)) - 1.0;
    *j += 2;
    double s = u1 * u1 + u2 * u2;
    if (s >= 1.0 || s == 0.0) continue;
    return u1 * sqrt(-2.0 * rd_pmath_log(s) / s);
  }
}

void rd_seed_permutation(uint64_t seed, uint64_t epoch, uint64_t n, uint32_t *perm) {
  for (uint64_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
  for (uint64_t i = n; i-- > 1;) {
    uint64_t k = rd_seed_below(rd_seed_word(seed, epoch, i), i + 1);
    uint32_t t = perm[i];
    perm[i] = perm[k];
    perm[k] = t;
  }
}

uint64_t rd_seed_digest_f32(const float *data, size_t n) {
  /* Every target we build for is little-endian; the fingerprint checks it. */
  return XXH64(data, n * sizeof(float), 0);
}
