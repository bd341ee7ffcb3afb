/* predict: see predict.h. */
#include "predict.h"

#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"
#include "fsio.h"
#include "mem.h"
#include "reduce.h"
#include "shard.h"

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

rd_status rd_predict_run(const rd_train_spec *t, const rd_model *m, const float *params, const float *x, int64_t n,
                         float *out, rd_err *err) {
  const int64_t S = t->shard, K = ceil_div(n, S), D = rd_shape_numel(&m->input);
  const int64_t C = rd_shape_numel(&m->layers[m->nlayers - 1].out);
  const int P = rd_comm_size();
  /* Each rank's shards go to rank 0 as one record of the largest share. */
  const int64_t share = ceil_div(K, P) * S * C;
  if ((double)share * sizeof(float) > (double)INT_MAX)
    return rd_err_set(err, RD_EINPUT, "predict: %lld samples are too many for one call at %d ranks; split the input",
                      (long long)n, P);
  rd_shard k;
  rd_shard_init(&k, m, S, NULL, t->kernels); /* no loss: the last activation is applied */
  float *rec = rd_mem_alloc_f32((size_t)share + 1);
  int64_t lo, hi;
  rd_shard_range(K, P, rd_comm_rank(), &lo, &hi);
  for (int64_t s = lo; s < hi; s++) {
    const int64_t s0 = s * S, sn = n - s0 < S ? n - s0 : S;
    memcpy(k.x, x + s0 * D, sizeof(float) * (size_t)(sn * D));
    for (int64_t i = 0; i < sn; i++) k.y[i] = 0, k.sample[i] = (uint32_t)(s0 + i);
    const rd_pass p = {sn, NULL, NULL, 0, NULL, 0};
    rd_shard_metrics mt;
    rd_shard_pass(&k, params, sn, &p, &mt);
    memcpy(rec + (s - lo) * S * C, k.act[m->nlayers - 1], sizeof(float) * (size_t)(sn * C));
  }
  float *all = rd_comm_rank() == 0 ? rd_mem_alloc_f32((size_t)(share * P) + 1) : NULL;
  rd_comm_gather_bytes(rec, sizeof(float) * (size_t)share, all);
  if (rd_comm_rank() == 0)
    for (int r = 0; r < P; r++) {
      int64_t a, b;
      rd_shard_range(K, P, r, &a, &b);
      for (int64_t s = a; s < b; s++) {
        const int64_t sn = n - s * S < S ? n - s * S : S;
        memcpy(out + s * S * C, all + r * share + (s - a) * S * C, sizeof(float) * (size_t)(sn * C));
      }
    }
  free(all);
  free(rec);
  rd_shard_free(&k);
  return RD_OK;
}

static int write_npy(const char *path, const float *out, int64_t n, int64_t c) {
  char h[256];
  int hl = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }", (long long)n,
                    (long long)c);
  int total = ((10 + hl + 1 + 63) / 64) * 64; /* magic + header + '\n', padded to 64 bytes */
  while (10 + hl + 1 < total) h[hl++] = ' ';
  h[hl++] = '\n';
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff), (unsigned char)(hl >> 8)};
  int bad = fwrite(pre, 1, 10, f) != 10 || fwrite(h, 1, (size_t)hl, f) != (size_t)hl ||
            fwrite(out, sizeof(float), (size_t)(n * c), f) != (size_t)(n * c);
  bad |= fclose(f) != 0;
  return bad ? -1 : 0;
}

static int write_h5(const char *path, const float *out, int64_t n, int64_t c) {
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) return -1;
  hsize_t dims[2] = {(hsize_t)n, (hsize_t)c};
  hid_t sp = H5Screate_simple(2, dims, NULL);
  hid_t d = H5Dcreate2(f, "predictions", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  int bad = d < 0 || H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0;
  if (d >= 0) H5Dclose(d);
  H5Sclose(sp);
  bad |= H5Fclose(f) < 0;
  return bad ? -1 : 0;
}

rd_status rd_predict_write(const char *path, const float *out, int64_t n, int64_t c, rd_err *err) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  size_t len = strlen(path);
  const int npy = len > 4 && !strcmp(path + len - 4, ".npy");
  if ((npy ? write_npy(tmp, out, n, c) : write_h5(tmp, out, n, c)) != 0) {
    unlink(tmp);
    return rd_err_set(err, RD_EINPUT, "%s: writing the predictions failed (%s)", path,
                      errno ? strerror(errno) : "disk full or I/O error");
  }
  if (rd_fs_commit(tmp, path, err)) unlink(tmp);
  return err->code;
}
