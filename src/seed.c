/* seed: hash-derived seeds and counter-based draws (see include/reprodist/seed.h). */
#include "reprodist/seed.h"

#include <math.h>
#include <string.h>
/* XXH64 compiled in here (the same function as libxxhash's): a draw per
 * element, as dropout makes, is then a few nanoseconds instead of a library
 * call that costs as much as the rest of the layer. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "reprodist/log.h"
#include "reprodist/pmath.h"

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

uint64_t rd_seed_word(uint64_t seed, uint64_t i, uint64_t j) {
  unsigned char buf[16];
  put_le64(buf, i);
  put_le64(buf + 8, j);
  return XXH64(buf, sizeof buf, seed);
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
