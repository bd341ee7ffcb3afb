/* fingerprint: build, library and FP-environment facts that can change result bits. */
#include "fingerprint.h"

#include <cblas.h>
#include <fenv.h>
#include <gnu/libc-version.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "comm.h"
#include "registry.h"

#ifndef RD_VERSION
#define RD_VERSION "unknown"
#endif
#ifndef RD_BUILD_FLAGS
#define RD_BUILD_FLAGS "unknown"
#endif

const char *rd_fp_version(void) { return RD_VERSION; }
const char *rd_fp_build_flags(void) { return RD_BUILD_FLAGS; }
const char *rd_fp_openblas_core(void) { return openblas_get_corename(); }
const char *rd_fp_openblas_config(void) { return openblas_get_config(); }
int rd_fp_openblas_threads(void) { return openblas_get_num_threads(); }

int rd_fp_pin_blas_threads(void) {
  int before = openblas_get_num_threads();
  openblas_set_num_threads(1);
  return before;
}

static const char *rounding(void) {
  switch (fegetround()) {
    case FE_TONEAREST: return "nearest";
    case FE_DOWNWARD: return "down";
    case FE_UPWARD: return "up";
    case FE_TOWARDZERO: return "zero";
    default: return "unknown";
  }
}

void rd_fp_text(char *buf, size_t n, rd_kern_mode mode) {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  const uint32_t one = 1;
  const int little = *(const unsigned char *)&one == 1;
  int ftz = -1, daz = -1;
#if defined(__x86_64__) || defined(__i386__)
  unsigned csr = _mm_getcsr();
  ftz = (csr >> 15) & 1;
  daz = (csr >> 6) & 1;
#endif
  int o;
  if (mode == RD_KERN_PORTABLE)
    /* No BLAS, no libm and no contraction reach the weights: the compiler, the
     * CPU, OpenBLAS and libc cannot change them, so they are not compared. */
    o = snprintf(buf, n, "reprodist=%s\nkernels=portable\n", rd_fp_version());
  else
    o = snprintf(buf, n,
                 "reprodist=%s\nbuild=%s\ncompiler=%s\nopenblas_core=%s\nopenblas=%s\nopenblas_threads=%d\n"
                 "libc=glibc %s\n",
                 rd_fp_version(), rd_fp_build_flags(), __VERSION__, rd_fp_openblas_core(), rd_fp_openblas_config(),
                 rd_fp_openblas_threads(), gnu_get_libc_version());
  if (o > 0 && (size_t)o < n)
    o += snprintf(buf + o, n - (size_t)o,
                  "hdf5=%u.%u.%u\nfp_rounding=%s\nfp_ftz=%d\nfp_daz=%d\nendian=%s\n"
                  "sizes=float:%zu,double:%zu,long:%zu,pointer:%zu\n",
                  maj, min, rel, rounding(), ftz, daz, little ? "little" : "big", sizeof(float), sizeof(double),
                  sizeof(long), sizeof(void *));
  /* Plugins are code that computes the result: ranks must load the same bytes. */
  if (*rd_registry_plugins() && o > 0 && (size_t)o < n) snprintf(buf + o, n - (size_t)o, "plugins=%s\n", rd_registry_plugins());
}

/* Value of key in a fingerprint text, into out. */
static void value_of(const char *text, const char *key, char *out, size_t n) {
  size_t kl = strlen(key);
  out[0] = '\0';
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    size_t ll = nl ? (size_t)(nl - p) : strlen(p);
    if (ll > kl && !strncmp(p, key, kl) && p[kl] == '=') {
      snprintf(out, n, "%.*s", (int)(ll - kl - 1), p + kl + 1);
      return;
    }
    p += ll + (nl ? 1 : 0);
  }
}

#define RD_HOST_MAX 256

rd_status rd_fp_check_ranks(rd_kern_mode mode, int allow_mixed, rd_err *err) {
  const int P = rd_comm_size();
  const size_t rec = RD_FP_MAX + RD_HOST_MAX;
  char *mine = calloc(1, rec);
  char *all = rd_comm_rank() == 0 ? calloc((size_t)P, rec) : NULL;
  RD_ASSERT(mine && (rd_comm_rank() != 0 || all), "out of memory");
  rd_fp_text(mine, RD_FP_MAX, mode);
  snprintf(mine + RD_FP_MAX, RD_HOST_MAX, "%s", rd_comm_host());
  rd_comm_gather_bytes(mine, rec, all);
  if (rd_comm_rank() == 0) {
    char msg[RD_ERR_MSG_MAX] = "";
    for (int r = 1; r < P && !msg[0]; r++) {
      const char *a = all, *b = all + (size_t)r * rec;
      if (!strcmp(a, b)) continue;
      /* Name the first key that differs, and every rank's value of it. */
      for (const char *p = a; *p && !msg[0];) {
        const char *eq = strchr(p, '='), *nl = strchr(p, '\n');
        if (!eq || !nl) break;
        char key[64], va[RD_FP_MAX], vb[RD_FP_MAX];
        snprintf(key, sizeof key, "%.*s", (int)(eq - p), p);
        value_of(a, key, va, sizeof va);
        value_of(b, key, vb, sizeof vb);
        if (strcmp(va, vb)) {
          size_t o = (size_t)snprintf(msg, sizeof msg, "ranks differ in %s (their results would differ):", key);
          for (int q = 0; q < P && q < 16 && o < sizeof msg; q++) {
            value_of(all + (size_t)q * rec, key, vb, sizeof vb);
            o += (size_t)snprintf(msg + o, sizeof msg - o, " rank %d (%s) %s;", q, all + (size_t)q * rec + RD_FP_MAX,
                                  vb);
          }
        }
        p = nl + 1;
      }
    }
    if (msg[0]) {
      if (allow_mixed)
        rd_warn0("%s proceeding because of --allow-mixed: the weights may depend on which rank ran what", msg);
      else
        rd_err_set(err, RD_EINPUT,
                   "reprodist: %s make them equal (e.g. the same OPENBLAS_CORETYPE on every rank, see README) "
                   "or pass --allow-mixed",
                   msg);
    }
  }
  free(mine);
  free(all);
  return rd_comm_agree(err);
}
