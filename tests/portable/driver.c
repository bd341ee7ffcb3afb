/* rd_portable: portable mode's arithmetic without MPI, HDF5 or OpenBLAS, for
 * comparing CPU architectures (tests/portable_aarch64.sh builds it statically
 * for aarch64 and runs it under qemu-user next to the x86-64 build). It links
 * the same core sources as reprodist (config, registry, model, layers, shard,
 * reduce, optim, kern, pmath, seed); only the driving loop (driver_train.c, shared
 * with the SimGrid driver) is its own.
 *
 *   rd_portable kernels
 *       GEMM digests over a set of shapes on every path this CPU runs (they
 *       must agree: exit 1 if not), and digests of exp, log, tanh and sigmoid
 *       over sweeps of their inputs.
 *   rd_portable train CONFIG STEPS BATCH SHARD
 *       STEPS optimizer steps ([train] optimizer, its options and learning-rate
 *       schedule; Adam by default) of the config's model in portable mode on seeded
 *       synthetic samples: each batch cut into shards of SHARD rows, the shard
 *       gradients and statistics summed along reduce.h's canonical tree, then
 *       the statistics hook and the optimizer. Prints every tensor's digest.
 * RD_ISA forces a GEMM path, as for reprodist. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern.h"
#include "pmath.h"
#include "seed.h"
#include "driver_train.h"

static float val(uint64_t s, uint64_t i) { return (float)(rd_seed_uniform(rd_seed_word(s, i, 0)) * 2.0 - 1.0); }

static int kernels(void) {
  static const int64_t shapes[][3] = {{5, 7, 3},      {13, 33, 300},  {121, 17, 9},
                                      {64, 128, 784}, {250, 31, 513}, {20, 1030, 1100}};
  int bad = 0;
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
    for (int t = 0; t < 4; t++) {
      const int ta = t & 1, tb = t >> 1;
      const int64_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
      float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(k * n));
      float *c = malloc(sizeof(float) * (size_t)(m * n));
      for (int64_t i = 0; i < m * k; i++) a[i] = val(1, (uint64_t)i);
      for (int64_t i = 0; i < k * n; i++) b[i] = val(2, (uint64_t)i);
      uint64_t first = 0;
      char paths[128] = "";
      for (int isa = 0; isa < RD_ISA_COUNT; isa++) {
        if (!rd_kern_isa_supported((rd_isa)isa)) continue;
        rd_kern_gemm_isa((rd_isa)isa, ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, 0.0f, c, n);
        const uint64_t d = rd_seed_digest_f32(c, (size_t)(m * n));
        if (!paths[0]) first = d;
        else if (d != first) {
          printf("MISMATCH gemm %s: %016" PRIx64 " vs %016" PRIx64 "\n", rd_kern_isa_name((rd_isa)isa), d, first);
          bad = 1;
        }
        snprintf(paths + strlen(paths), sizeof paths - strlen(paths), "%s%s", paths[0] ? "," : "",
                 rd_kern_isa_name((rd_isa)isa));
      }
      /* The paths that agreed go to stderr: the digests on stdout must be the same on every CPU. */
      printf("gemm m=%" PRId64 " n=%" PRId64 " k=%" PRId64 " ta=%d tb=%d %016" PRIx64 "\n", m, n, k, ta, tb, first);
      fprintf(stderr, "gemm m=%" PRId64 " n=%" PRId64 " k=%" PRId64 " ta=%d tb=%d: paths %s agree\n", m, n, k, ta, tb,
              paths);
      free(a), free(b), free(c);
    }
  static const struct {
    const char *name;
    float (*f)(float);
    float lo, hi;
  } fns[] = {{"exp", rd_pmath_expf, -110.0f, 100.0f},
             {"log", rd_pmath_logf, 0.0f, 3.4e38f},
             {"tanh", rd_pmath_tanhf, -12.0f, 12.0f},
             {"sigmoid", rd_pmath_sigmoidf, -120.0f, 45.0f}};
  for (size_t f = 0; f < sizeof fns / sizeof *fns; f++) {
    /* Every 61st float of [lo, hi], as one stream of float32 results. */
    enum { CHUNK = 4096 };
    float out[CHUNK];
    uint64_t h = 0;
    long n = 0;
    int used = 0;
    for (int sign = 0; sign < 2; sign++) {
      const float end = sign ? -fns[f].lo : fns[f].hi;
      if (end <= 0.0f) continue;
      uint32_t hi;
      memcpy(&hi, &end, 4);
      for (uint32_t u = sign; u <= hi; u += 61, n++) {
        float x;
        memcpy(&x, &u, 4);
        out[used++] = fns[f].f(sign ? -x : x);
        if (used == CHUNK) h = rd_seed_word(h, rd_seed_digest_f32(out, CHUNK), 0), used = 0;
      }
    }
    h = rd_seed_word(h, rd_seed_digest_f32(out, (size_t)used), 1);
    printf("%s %ld inputs %016" PRIx64 "\n", fns[f].name, n, h);
  }
  return bad;
}

int main(int argc, char **argv) {
  char msg[256];
  if (rd_kern_isa_select(getenv("RD_ISA"), msg, sizeof msg)) {
    fprintf(stderr, "rd_portable: %s\n", msg);
    return 2;
  }
  fprintf(stderr, "rd_portable: the %s path\n", rd_kern_isa_name(rd_kern_isa()));
  if (argc == 2 && !strcmp(argv[1], "kernels")) return kernels();
  if (argc == 6 && !strcmp(argv[1], "train"))
    return rd_driver_train(argv[2], strtoll(argv[3], NULL, 10), strtoll(argv[4], NULL, 10), strtoll(argv[5], NULL, 10),
                           NULL);
  fprintf(stderr, "usage: rd_portable kernels | train CONFIG STEPS BATCH SHARD\n");
  return 2;
}
