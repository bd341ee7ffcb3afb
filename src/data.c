/* data: IDX, HDF5 and synthetic samples (see data.h). */
#include "data.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "comm.h"
#include "h5io.h"
#include "mem.h"
#include "seed.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/"

/* ---- IDX ----------------------------------------------------------------------- */

typedef struct {
  FILE *f;
  gzFile gz;
  const char *path;
  int64_t size; /* bytes on disk */
} idx_reader;

/* A data file that cannot be opened; set_by says which config line named it. */
static rd_status cannot_open(const char *path, const char *set_by, int e, rd_err *err) {
  if (e == EISDIR)
    return rd_err_set(err, RD_EINPUT, "%s: is a directory, not a data file (%s)", path, set_by);
  return rd_err_set(err, RD_EINPUT, "%s: cannot open data file (%s; %s)", path, strerror(e), set_by);
}

static rd_status idx_open(idx_reader *r, const char *path, const char *set_by, rd_err *err) {
  memset(r, 0, sizeof *r);
  r->path = path;
  struct stat st;
  if (stat(path, &st) != 0) return cannot_open(path, set_by, errno, err);
  if (S_ISDIR(st.st_mode)) return cannot_open(path, set_by, EISDIR, err);
  r->size = (int64_t)st.st_size;
  r->f = fopen(path, "rb");
  if (!r->f) return cannot_open(path, set_by, errno, err);
  unsigned char m[2] = {0, 0};
  size_t got = fread(m, 1, 2, r->f);
  size_t pl = strlen(path);
  int named_gz = pl > 3 && strcmp(path + pl - 3, ".gz") == 0;
  if (got == 2 && m[0] == 0x1f && m[1] == 0x8b) {
    fclose(r->f);
    r->f = NULL;
    r->gz = gzopen(path, "rb");
    if (!r->gz) return rd_err_set(err, RD_EINPUT, "%s: cannot open gzip stream", path);
    return RD_OK;
  }
  if (named_gz) {
    fclose(r->f);
    r->f = NULL;
    return rd_err_set(err, RD_EINPUT,
                      "%s: not a gzip stream (the name ends in .gz but the file does not start with 1f 8b); "
                      "re-download or decompress it",
                      path);
  }
  rewind(r->f);
  return RD_OK;
}

/* Reads exactly n bytes; returns how many it got, -1 on a corrupt gzip stream. */
static int64_t idx_read(idx_reader *r, void *buf, int64_t n) {
  int64_t got = 0;
  while (got < n) {
    unsigned chunk = (unsigned)(n - got > (1 << 30) ? (1 << 30) : n - got);
    int64_t k;
    if (r->gz) {
      int z = gzread(r->gz, (char *)buf + got, chunk);
      if (z < 0) return -1;
      k = z;
    } else {
      k = (int64_t)fread((char *)buf + got, 1, chunk, r->f);
    }
    if (k == 0) break;
    got += k;
  }
  return got;
}

static void idx_close(idx_reader *r) {
  if (r->f) fclose(r->f);
  if (r->gz) gzclose(r->gz);
  memset(r, 0, sizeof *r);
}

static rd_status idx_fail_read(idx_reader *r, int64_t got, int64_t want, const char *what, rd_err *err) {
  if (got < 0) {
    int zerr = 0;
    const char *msg = gzerror(r->gz, &zerr);
    /* zlib prefixes its message with the path; say the path once. */
    size_t pl = strlen(r->path);
    if (!strncmp(msg, r->path, pl) && !strncmp(msg + pl, ": ", 2)) msg += pl + 2;
    return rd_err_set(err, RD_EINPUT, "%s: corrupt gzip stream while reading the %s (%s)", r->path, what, msg);
  }
  if (r->gz)
    return rd_err_set(err, RD_EINPUT,
                      "%s: truncated: the gzip stream ends after %lld decompressed bytes of %s, %lld expected", r->path,
                      (long long)got, what, (long long)want);
  return rd_err_set(err, RD_EINPUT, "%s: truncated: expected %lld bytes of %s, found %lld", r->path, (long long)want,
                    what, (long long)got);
}

/* Reads an IDX uint8 file: dims[0] = items, *inner = product of the other
 * dims, which go to sdims[0 .. *snd) (at most 3). Only the first keep items
 * (keep > 0; else all) are stored: the rest is read and checked as before,
 * through a small buffer, so a limit bounds the memory too. */
static rd_status idx_load(const char *path, const char *set_by, int want_ndims_min, int want_ndims_max, const char *expect,
                          int64_t keep, uint8_t **data, int64_t *items, int64_t *inner, int64_t *sdims, int *snd,
                          char *shape_txt, size_t stn, rd_err *err) {
  idx_reader r;
  if (idx_open(&r, path, set_by, err)) return err->code;
  unsigned char h[4];
  int64_t got = idx_read(&r, h, 4);
  if (got != 4) {
    idx_fail_read(&r, got, 4, "IDX header", err);
    idx_close(&r);
    return err->code;
  }
  uint32_t magic = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
  int nd = h[3];
  if (h[0] != 0 || h[1] != 0 || h[2] != 0x08 || nd < want_ndims_min || nd > want_ndims_max) {
    idx_close(&r);
    return rd_err_set(err, RD_EINPUT, "%s: wrong IDX magic 0x%08x (expected %s)", path, magic, expect);
  }
  unsigned char dh[4 * 8];
  got = idx_read(&r, dh, 4 * nd);
  if (got != 4 * nd) {
    idx_fail_read(&r, got, 4 * nd, "IDX dimensions", err);
    idx_close(&r);
    return err->code;
  }
  int64_t dims[8], in = 1, bytes = 0;
  int overflow = 0;
  size_t o = 0;
  shape_txt[0] = '\0';
  for (int k = 0; k < nd; k++) {
    dims[k] = (int64_t)dh[4 * k] << 24 | (int64_t)dh[4 * k + 1] << 16 | (int64_t)dh[4 * k + 2] << 8 | dh[4 * k + 3];
    if (k > 0) {
      overflow |= __builtin_mul_overflow(in, dims[k], &in);
      o += (size_t)snprintf(shape_txt + o, stn > o ? stn - o : 0, "%s%lld", k > 1 ? "x" : "", (long long)dims[k]);
    }
  }
  overflow |= __builtin_mul_overflow(dims[0], in, &bytes);
  *items = dims[0];
  *inner = in;
  *snd = nd - 1;
  for (int k = 1; k < nd && k <= 3; k++) sdims[k - 1] = dims[k];
  /* The header is untrusted: never allocate more than the file can hold. A raw
   * file's size is known; a gzip stream's only by decompressing it, so its
   * buffer grows as the data arrives. */
  const int64_t avail = r.gz ? INT64_MAX : r.size - 4 - 4 * nd;
  if (overflow || bytes > avail) {
    if (overflow)
      rd_err_set(err, RD_EINPUT, "%s: corrupt IDX header: %lld items of %s bytes exceed 2^63 bytes", path,
                 (long long)dims[0], shape_txt);
    else
      idx_fail_read(&r, avail, bytes, "data after the header", err);
    idx_close(&r);
    return err->code;
  }
  const int64_t kept = keep > 0 && keep < dims[0] ? keep * in : bytes; /* the bytes stored */
  int64_t cap = r.gz && kept > (1 << 26) ? (1 << 26) : kept;
  *data = malloc((size_t)(cap > 0 ? cap : 1));
  RD_ASSERT(*data != NULL, "out of memory for %lld bytes of %s", (long long)cap, path);
  got = 0;
  for (;;) {
    int64_t k = idx_read(&r, *data + got, cap - got);
    if (k < 0) {
      got = k;
      break;
    }
    got += k;
    if (got < cap || cap == kept) break;
    cap = kept - cap > cap ? 2 * cap : kept;
    *data = realloc(*data, (size_t)cap);
    RD_ASSERT(*data != NULL, "out of memory for %lld bytes of %s", (long long)cap, path);
  }
  if (got == kept && kept < bytes) { /* the items past keep: read, checked, not stored */
    static unsigned char skip[1 << 16];
    while (got < bytes) {
      int64_t k = idx_read(&r, skip, bytes - got < (int64_t)sizeof skip ? bytes - got : (int64_t)sizeof skip);
      if (k <= 0) {
        if (k < 0) got = k;
        break;
      }
      got += k;
    }
  }
  if (got != bytes) {
    idx_fail_read(&r, got, bytes, "data after the header", err);
  } else {
    unsigned char extra;
    int64_t more = idx_read(&r, &extra, 1);
    if (more < 0)
      idx_fail_read(&r, more, 0, "end of the data", err);
    else if (more > 0)
      rd_err_set(err, RD_EINPUT, "%s: unexpected bytes after the %lld items the header announces", path,
                 (long long)dims[0]);
  }
  idx_close(&r);
  if (err->code) {
    free(*data);
    *data = NULL;
  }
  return err->code;
}

/* Samples of per-sample shape sd (snd axes) fit [model] input when they hold
 * as many values and either the input is flat (784 takes 28x28 images) or
 * the shapes are equal, up to a channel axis of 1 the data lacks (28x28
 * images for input 28,28,1). Otherwise one message shows both shapes. */
static rd_status check_shape(const rd_dataset *d, const char *what, const int64_t *sd, int snd, rd_err *err) {
  const rd_shape *in = &d->shape;
  int64_t n = 1;
  char ds[96] = "", is[96] = "";
  for (int k = 0; k < snd; k++) {
    n *= sd[k];
    snprintf(ds + strlen(ds), sizeof ds - strlen(ds), "%s%lld", k ? "x" : "", (long long)sd[k]);
  }
  for (int k = 0; k < in->ndim; k++)
    snprintf(is + strlen(is), sizeof is - strlen(is), "%s%lld", k ? "," : "", (long long)in->dim[k]);
  if (in->ndim == 1) {
    if (n == d->dim) return RD_OK;
    if (snd == 1)
      return rd_err_set(err, RD_EINPUT, "%s: samples have %lld features, but [model] input = %lld", what, (long long)n,
                        (long long)d->dim);
    return rd_err_set(err, RD_EINPUT, "%s: samples have %s = %lld features, but [model] input = %lld", what, ds,
                      (long long)n, (long long)d->dim);
  }
  int fits = n == d->dim && (snd == in->ndim || (snd == in->ndim - 1 && in->dim[in->ndim - 1] == 1));
  for (int k = 0; fits && k < snd; k++) fits = sd[k] == in->dim[k];
  if (fits) return RD_OK;
  return rd_err_set(err, RD_EINPUT, "%s: samples are %s (%lld values), but [model] input = %s (%lld values)", what, ds,
                    (long long)n, is, (long long)d->dim);
}

static rd_status open_idx(rd_dataset *d, const char *xp, const char *yp, int64_t limit, rd_err *err) {
  void *xb = NULL, *yb = NULL;
  size_t xl = 0, yl = 0;
  int64_t nx = 0, ny = 0, inner = 0, one = 0;
  if (rd_comm_rank() == 0) {
    uint8_t *x = NULL, *y = NULL;
    char shape[128], yshape[32];
    int64_t sd[3], yd[3];
    int snd = 0, ynd = 0;
    if (idx_load(xp, d->xset, 2, 4, "0x00000803 for uint8 images (N, rows, cols), or 0x00000802/4 for 2-D/4-D uint8",
                 limit, &x, &nx, &inner, sd, &snd, shape, sizeof shape, err) == RD_OK &&
        idx_load(yp, d->yset, 1, 1, "0x00000801 for uint8 labels (N)", limit, &y, &ny, &one, yd, &ynd, yshape,
                 sizeof yshape, err) == RD_OK) {
      if (check_shape(d, xp, sd, snd, err))
        ;
      else if (nx != ny)
        rd_err_set(err, RD_EINPUT, "%s: %lld labels, but %s has %lld samples; the two files must match", yp,
                   (long long)ny, xp, (long long)nx);
      else if (nx == 0)
        rd_err_set(err, RD_EINPUT, "%s: the file holds no samples", xp);
      else {
        int64_t n = limit > 0 && limit < nx ? limit : nx;
        for (int64_t i = 0; i < n; i++)
          if (y[i] >= d->classes) {
            rd_err_set(err, RD_EINPUT, "%s: label %d at index %lld is outside [0, %lld) (the last layer has %lld units)",
                       yp, y[i], (long long)i, (long long)d->classes, (long long)d->classes);
            break;
          }
        nx = n;
      }
    }
    xb = x, yb = y;
    xl = (size_t)(nx * d->dim), yl = (size_t)nx;
  }
  if (rd_comm_agree(err)) {
    free(xb), free(yb);
    return err->code;
  }
  rd_comm_bcast_bytes(&xb, &xl, 0);
  rd_comm_bcast_bytes(&yb, &yl, 0);
  /* The other ranks' copies were filled by the broadcast. Until each page had
   * been read once, the 784-128-10 MLP's rank 1 took 0.17 ms a step (batch
   * 256, np 2, two epochs) to gather rows that rank 0 gathered in 0.04-0.05;
   * one read of every page first makes both 0.04-0.05. */
  rd_mem_touch(xb, xl);
  d->n = (int64_t)yl;
  d->u8 = xb;
  d->labels = malloc(sizeof(int32_t) * (yl ? yl : 1));
  RD_ASSERT(d->labels != NULL, "out of memory");
  for (size_t i = 0; i < yl; i++) d->labels[i] = ((uint8_t *)yb)[i];
  free(yb);
  return RD_OK;
}

/* ---- HDF5 --------------------------------------------------------------------- */

/* "FILE:DATASET" -> file, dataset (split at the last ':'). */
static int split_h5(const char *spec, char *file, size_t fn, char *dset, size_t dn) {
  const char *c = strrchr(spec, ':');
  if (!c || c == spec || !c[1]) return -1;
  snprintf(file, fn, "%.*s", (int)(c - spec), spec);
  snprintf(dset, dn, "%s", c + 1);
  return 0;
}

static const char *type_name(hid_t t) {
  H5T_class_t c = H5Tget_class(t);
  size_t s = H5Tget_size(t);
  if (c == H5T_INTEGER) return H5Tget_sign(t) == H5T_SGN_NONE ? (s == 1 ? "uint8" : "unsigned integer") : "signed integer";
  if (c == H5T_FLOAT) return s == 4 ? "float32" : s == 8 ? "float64" : "float";
  if (c == H5T_STRING) return "string";
  return "non-numeric";
}

static rd_status h5_precheck_open(const char *file, const char *dset, rd_err *err) {
  if (H5Fis_hdf5(file) <= 0) return rd_err_set(err, RD_EINPUT, "%s: not an HDF5 file", file);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return rd_err_set(err, RD_EINPUT, "%s: HDF5 could not open the file (corrupt or truncated?)", file);
  /* Each link of the path in turn: absent (0) and unreadable (< 0) are then
   * different answers (HDF5 1.10 fails, rather than saying no, for a path
   * through a group that does not exist), and the latter is a corrupt file. */
  htri_t obj = 1;
  char prefix[512];
  for (const char *q = dset; obj > 0 && q;) {
    const char *slash = strchr(q + (*q == '/'), '/');
    snprintf(prefix, sizeof prefix, "%.*s", (int)(slash ? slash - dset : (long)strlen(dset)), dset);
    q = slash;
    if (!strcmp(prefix, "/") || !*prefix) continue;
    obj = H5Lexists(f, prefix, H5P_DEFAULT);
    if (obj > 0) obj = H5Oexists_by_name(f, prefix, H5P_DEFAULT);
    H5O_info_t gi;
    if (obj > 0 && q && H5Oget_info_by_name2(f, prefix, &gi, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
        gi.type != H5O_TYPE_GROUP) {
      rd_err_set(err, RD_EINPUT, "%s: '%s' is not a group, so '%s' cannot be in it", file, prefix, dset);
      H5Fclose(f);
      return err->code;
    }
  }
  H5O_info_t info;
  if (obj < 0)
    rd_err_set(err, RD_EINPUT, "%s: HDF5 could not read the file's structure at '%s' (corrupt or truncated file?)",
               file, prefix);
  else if (!obj)
    rd_err_set(err, RD_EINPUT, "%s: dataset '%s' not found", file, dset);
  else if (H5Oget_info_by_name2(f, dset, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET)
    rd_err_set(err, RD_EINPUT, "%s: '%s' is not a dataset", file, dset);
  H5Fclose(f);
  return err->code;
}

/* Rank 0 checks that the file and dataset exist, so the message is exact. */
static rd_status h5_precheck(const char *key, const char *spec, const char *set_by, rd_err *err) {
  /* key is the config key the user wrote (train_x, test_y, ...). */
  char file[1024], dset[512];
  if (split_h5(spec, file, sizeof file, dset, sizeof dset))
    return rd_err_set(err, RD_EINPUT, "[data] %s = '%s': for source = hdf5 write FILE:DATASET, e.g. data.h5:/train/x",
                      key, spec);
  struct stat st;
  if (stat(file, &st) != 0) return cannot_open(file, set_by, errno, err);
  if (S_ISDIR(st.st_mode)) return cannot_open(file, set_by, EISDIR, err);
  rd_h5_guard_begin(file);
  rd_status rc = h5_precheck_open(file, dset, err);
  rd_h5_guard_end();
  return rc;
}

static rd_status h5_open_dataset(const char *spec, int64_t *hf, int64_t *hd, rd_err *err) {
  char file[1024], dset[512];
  split_h5(spec, file, sizeof file, dset, sizeof dset);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  rd_comm_h5_fapl_mpio(fapl);
  rd_h5_guard_begin(file);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  hid_t d = f >= 0 ? H5Dopen2(f, dset, H5P_DEFAULT) : -1;
  rd_h5_guard_end();
  if (d < 0) rd_err_set(err, RD_EINPUT, "%s: could not open dataset '%s' with parallel HDF5", file, dset);
  *hf = f;
  *hd = d;
  return err->code;
}

static rd_status open_h5(rd_dataset *d, const char *xs, const char *ys, int64_t limit, int64_t max_rows, rd_err *err) {
  if (rd_comm_rank() == 0 && h5_precheck(d->xkey, xs, d->xset, err) == RD_OK) h5_precheck(d->ykey, ys, d->yset, err);
  if (rd_comm_agree(err)) return err->code;
  h5_open_dataset(xs, &d->hfx, &d->hx, err);
  if (!err->code) h5_open_dataset(ys, &d->hfy, &d->hy, err);
  if (rd_comm_agree(err)) return err->code;
  hid_t sx = H5Dget_space((hid_t)d->hx), sy = H5Dget_space((hid_t)d->hy);
  hid_t tx = H5Dget_type((hid_t)d->hx), ty = H5Dget_type((hid_t)d->hy);
  hsize_t dx[8] = {0}, dy[8] = {0};
  int ndx = H5Sget_simple_extent_ndims(sx), ndy = H5Sget_simple_extent_ndims(sy);
  if (ndx > 0 && ndx <= 8) H5Sget_simple_extent_dims(sx, dx, NULL);
  if (ndy > 0 && ndy <= 8) H5Sget_simple_extent_dims(sy, dy, NULL);
  int xu8 = H5Tget_class(tx) == H5T_INTEGER && H5Tget_size(tx) == 1 && H5Tget_sign(tx) == H5T_SGN_NONE;
  const int yunsigned = H5Tget_class(ty) == H5T_INTEGER && H5Tget_sign(ty) == H5T_SGN_NONE;
  int xf32 = H5Tget_class(tx) == H5T_FLOAT && H5Tget_size(tx) == 4;
  int64_t sd[3] = {0, 0, 0};
  for (int k = 1; k < ndx && k <= 3; k++) sd[k - 1] = (int64_t)dx[k];
  if (ndx < 2 || ndx > 4)
    rd_err_set(err, RD_EINPUT, "%s: features must be 2-D to 4-D (samples, ...), found %d-D", xs, ndx);
  else if (!xu8 && !xf32)
    rd_err_set(err, RD_EINPUT, "%s: features must be uint8 or float32, found %s", xs, type_name(tx));
  else if (check_shape(d, xs, sd, ndx - 1, err))
    ;
  else if (ndy != 1)
    rd_err_set(err, RD_EINPUT, "%s: labels must be 1-D (samples,), found %d-D", ys, ndy);
  else if (H5Tget_class(ty) != H5T_INTEGER)
    rd_err_set(err, RD_EINPUT, "%s: labels must be integers, found %s", ys, type_name(ty));
  else if (dx[0] != dy[0])
    rd_err_set(err, RD_EINPUT, "%s: %lld labels, but %s has %lld samples; they must match", ys, (long long)dy[0], xs,
               (long long)dx[0]);
  else if (dx[0] == 0)
    rd_err_set(err, RD_EINPUT, "%s: the dataset is empty", xs);
  for (int v = 0; v < 2 && !err->code; v++) {
    /* A compression filter this HDF5 lacks would only fail mid-training. */
    hid_t dcpl = H5Dget_create_plist((hid_t)(v ? d->hy : d->hx));
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf && !err->code; i++) {
      unsigned flags = 0, cd[8];
      size_t ncd = 8;
      char fname[64] = "";
      H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof fname, fname, NULL);
      if (id < 0 || H5Zfilter_avail(id) <= 0)
        rd_err_set(err, RD_EINPUT, "%s: compressed with HDF5 filter %d (%s), which this HDF5 library cannot read; "
                   "rewrite the dataset uncompressed or with gzip",
                   v ? ys : xs, (int)id, fname[0] ? fname : "unknown");
    }
    H5Pclose(dcpl);
  }
  H5Sclose(sx), H5Sclose(sy), H5Tclose(tx), H5Tclose(ty);
  if (rd_comm_agree(err)) return err->code;
  d->x_is_u8 = xu8;
  d->n = limit > 0 && limit < (int64_t)dx[0] ? limit : (int64_t)dx[0];
  /* Labels are checked in fixed-size blocks: memory stays flat whatever n is. */
  if (rd_comm_rank() == 0) {
    enum { B = 65536 };
    /* Read in the labels' own signedness: a uint64 label of 2^63 or more is
     * named as it is, not as HDF5's int64 clamp. */
    union { int64_t i; uint64_t u; } *blk = malloc(sizeof *blk * B);
    RD_ASSERT(blk != NULL, "out of memory");
    hid_t fs = H5Dget_space((hid_t)d->hy);
    for (int64_t s = 0; s < d->n && !err->code; s += B) {
      hsize_t start = (hsize_t)s, cnt = (hsize_t)(d->n - s < B ? d->n - s : B);
      hid_t ms = H5Screate_simple(1, &cnt, NULL);
      H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
      if (H5Dread((hid_t)d->hy, yunsigned ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, blk) < 0)
        rd_err_set(err, RD_EINPUT, "%s: reading labels failed (truncated or corrupt file?)", ys);
      for (hsize_t i = 0; i < cnt && !err->code; i++) {
        char v[32];
        const int bad = yunsigned ? blk[i].u >= (uint64_t)d->classes : blk[i].i < 0 || blk[i].i >= d->classes;
        if (!bad) continue;
        if (yunsigned)
          snprintf(v, sizeof v, "%llu", (unsigned long long)blk[i].u);
        else
          snprintf(v, sizeof v, "%lld", (long long)blk[i].i);
        rd_err_set(err, RD_EINPUT, "%s: label %s at index %lld is outside [0, %lld) (the last layer has %lld units)",
                   ys, v, (long long)(s + (int64_t)i), (long long)d->classes, (long long)d->classes);
      }
      H5Sclose(ms);
    }
    H5Sclose(fs);
    free(blk);
  }
  if (rd_comm_agree(err)) return err->code;
  d->scratch_rows = max_rows;
  d->xbuf = malloc((size_t)(max_rows * d->dim) * (xu8 ? 1 : 4));
  d->ybuf = malloc(sizeof(int64_t) * (size_t)max_rows);
  RD_ASSERT(d->xbuf && d->ybuf, "out of memory");
  return RD_OK;
}

/* One read per row: HDF5 1.10 builds OR-ed multi-block selections in time
 * quadratic in the block count, which made shuffled epochs 60x slower. */
static rd_status fetch_h5(rd_dataset *d, const uint32_t *rows, int64_t n, float *x, int32_t *y, rd_err *err) {
  RD_ASSERT(n <= d->scratch_rows, "fetch of %lld rows exceeds scratch %lld", (long long)n, (long long)d->scratch_rows);
  hid_t fx = H5Dget_space((hid_t)d->hx), fy = H5Dget_space((hid_t)d->hy);
  hsize_t mx[1] = {(hsize_t)d->dim}, one = 1, start[4] = {0, 0, 0, 0}, count[4]; /* 2 to 4 axes, checked at open */
  H5Sget_simple_extent_dims(fx, count, NULL);
  count[0] = 1;
  hid_t msx = H5Screate_simple(1, mx, NULL), msy = H5Screate_simple(1, &one, NULL);
  const size_t esz = d->x_is_u8 ? 1 : 4;
  int bad = 0;
  for (int64_t i = 0; i < n && !bad; i++) {
    hsize_t s1 = (hsize_t)d->first + rows[i];
    start[0] = s1;
    H5Sselect_hyperslab(fx, H5S_SELECT_SET, start, NULL, count, NULL);
    H5Sselect_hyperslab(fy, H5S_SELECT_SET, &s1, NULL, &one, NULL);
    bad |= H5Dread((hid_t)d->hx, d->x_is_u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, msx, fx, H5P_DEFAULT,
                   (char *)d->xbuf + (size_t)i * (size_t)d->dim * esz) < 0;
    bad |= H5Dread((hid_t)d->hy, H5T_NATIVE_INT64, msy, fy, H5P_DEFAULT, d->ybuf + i) < 0;
  }
  H5Sclose(msx), H5Sclose(msy), H5Sclose(fx), H5Sclose(fy);
  if (bad) return rd_err_set(err, RD_EINPUT, "%s: reading samples failed (truncated or corrupt file?)", d->xname);
  for (int64_t k = 0; k < n; k++) {
    float *xr = x + k * d->dim;
    if (d->x_is_u8) {
      const uint8_t *s = (const uint8_t *)d->xbuf + k * d->dim;
      for (int64_t c = 0; c < d->dim; c++) xr[c] = (float)((double)s[c] * d->scale);
    } else {
      const float *s = (const float *)d->xbuf + k * d->dim;
      for (int64_t c = 0; c < d->dim; c++) {
        if (!isfinite(s[c]))
          return rd_err_set(err, RD_EINPUT, "%s: sample %lld has a non-finite feature (%g at column %lld); clean the data",
                            d->xname, (long long)(d->first + rows[k]), (double)s[c], (long long)c);
        xr[c] = (float)((double)s[c] * d->scale);
      }
    }
    if (d->ybuf[k] < 0 || d->ybuf[k] >= d->classes) /* checked at open; guards a file changed since */
      return rd_err_set(err, RD_EINPUT, "%s: label %lld of sample %lld is outside [0, %lld)", d->yname,
                        (long long)d->ybuf[k], (long long)(d->first + rows[k]), (long long)d->classes);
    y[k] = (int32_t)d->ybuf[k];
  }
  return RD_OK;
}

/* ---- common ------------------------------------------------------------------- */

/* "[data] train_x, c.cfg:24", or "[data] train_x's default" when it is not set. */
static void set_by(const rd_cfg *c, int sec, const char *key, char *buf, size_t n) {
  const rd_cfg_item *it = sec >= 0 ? rd_cfg_item_of(c, sec, key) : NULL;
  char where[300];
  if (it)
    snprintf(buf, n, "[data] %s, %s", key, rd_cfg_where(c, it, -1, where, sizeof where));
  else
    snprintf(buf, n, "[data] %s's default", key);
}

static void read_files(rd_data_spec *s, rd_cfg *c, int sec, const char *source, const char *const *xk,
                       const char *const *yk, const char *const *xdef, const char *const *ydef, const char *const *lk,
                       const char *const *nk);

/* Each source reads its own keys; the others' say why they do not apply. */
rd_status rd_data_spec_from_cfg(rd_data_spec *s, rd_cfg *c) {
  memset(s, 0, sizeof *s);
  const int sec = rd_cfg_section(c, "data", 0);
  static const char *const sources[] = {"idx", "hdf5", "synthetic", NULL};
  int src = 0;
  rd_cfg_enum(c, sec, "source", sources, 0, 0, &src);
  s->source = src == 1 ? RD_DATA_HDF5 : src == 2 ? RD_DATA_SYNTHETIC : RD_DATA_IDX;
  static const char *const xk[3] = {"train_x", "test_x", "val_x"}, *const yk[3] = {"train_y", "test_y", "val_y"};
  static const char *const xdef[3] = {FMNIST "train-images-idx3-ubyte.gz", FMNIST "t10k-images-idx3-ubyte.gz", NULL};
  static const char *const ydef[3] = {FMNIST "train-labels-idx1-ubyte.gz", FMNIST "t10k-labels-idx1-ubyte.gz", NULL};
  static const char *const lk[3] = {"limit", "test_limit", "val_limit"};
  static const char *const nk[3] = {"samples", "test_samples", "val_samples"};
  s->scale = 1.0;
  s->cfg_path = c->path;
  /* Keras' fit(validation_split=): a fraction in [0, 1). */
  if (rd_cfg_float(c, sec, "validation_split", 0.0, 0, 1, RD_CFG_HI_OPEN, &s->validation_split) > 0)
    rd_cfg_where(c, rd_cfg_item_of(c, sec, "validation_split"), -1, s->split_where, sizeof s->split_where);
  if (s->source == RD_DATA_SYNTHETIC) {
    for (int t = 0; t < 3; t++) {
      rd_cfg_int(c, sec, nk[t], t == 0 ? 1024 : t == 1 ? 256 : 0, t == 2 ? 0 : 1, 1e9, 0, &s->samples[t]);
      s->x[t] = s->y[t] = "synthetic";
      rd_cfg_not_applicable(c, sec, xk[t], "does not apply to source = synthetic (it computes its samples)");
      rd_cfg_not_applicable(c, sec, yk[t], "does not apply to source = synthetic (it computes its samples)");
      rd_cfg_not_applicable(c, sec, lk[t], "does not apply to source = synthetic (set %s instead)", nk[t]);
    }
    s->has_val = s->samples[RD_DATA_VAL] > 0;
    rd_cfg_not_applicable(c, sec, "scale", "does not apply to source = synthetic (its features are in [0, 1))");
  } else {
    rd_cfg_float(c, sec, "scale", 1.0, -RD_CFG_F32_MAX, RD_CFG_F32_MAX, 0, &s->scale);
    read_files(s, c, sec, sources[src], xk, yk, xdef, ydef, lk, nk);
  }
  if (s->has_val && s->validation_split > 0)
    rd_cfg_fail(c, rd_cfg_item_of(c, sec, "validation_split"), -1,
                "validation_split and an explicit validation set (%s) are both set: keep one (Keras' fit would use "
                "the validation data and ignore validation_split)",
                s->source == RD_DATA_SYNTHETIC ? "val_samples" : "val_x, val_y");
  return RD_OK;
}

/* The file keys of the idx and hdf5 sources, for the three sets. */
static void read_files(rd_data_spec *s, rd_cfg *c, int sec, const char *source, const char *const *xk,
                       const char *const *yk, const char *const *xdef, const char *const *ydef, const char *const *lk,
                       const char *const *nk) {
  for (int t = 0; t < 3; t++) {
    int hx = rd_cfg_str(c, sec, xk[t], xdef[t], RD_CFG_NOCANON, &s->x[t]) > 0;
    int hy = rd_cfg_str(c, sec, yk[t], ydef[t], RD_CFG_NOCANON, &s->y[t]) > 0;
    if (t == RD_DATA_VAL) {
      s->has_val = hx || hy;
      if (hx != hy) {
        rd_cfg_fail(c, rd_cfg_item_of(c, sec, hx ? xk[t] : yk[t]), -1, "%s needs %s too (the validation set's %s)",
                    hx ? xk[t] : yk[t], hx ? yk[t] : xk[t], hx ? "labels" : "features");
        return;
      }
      if (!s->has_val) {
        rd_cfg_not_applicable(c, sec, lk[t], "does not apply without val_x and val_y");
        rd_cfg_not_applicable(c, sec, nk[t], "does not apply to source = %s (it sizes synthetic data)", source);
        continue;
      }
    }
    set_by(c, sec, xk[t], s->set_x[t], sizeof s->set_x[t]);
    set_by(c, sec, yk[t], s->set_y[t], sizeof s->set_y[t]);
    s->given[t] = hx && hy;
    if (s->source == RD_DATA_HDF5) /* FILE:DATASET, said where it was written */
      for (int k = 0; k < 2; k++) {
        const char *key = k ? yk[t] : xk[t], *v = k ? s->y[t] : s->x[t];
        char f[8], d[8];
        if ((k ? hy : hx) && split_h5(v, f, sizeof f, d, sizeof d))
          rd_cfg_fail(c, rd_cfg_item_of(c, sec, key), -1,
                      "%s = '%s': for source = hdf5 write FILE:DATASET, e.g. data.h5:/train/x", key, v);
      }
    rd_cfg_int(c, sec, lk[t], 0, 1, 9.2233720368547758e18, 0, &s->limit[t]);
    rd_cfg_not_applicable(c, sec, nk[t], "does not apply to source = %s (it sizes synthetic data; use %s)", source,
                          lk[t]);
  }
}

rd_status rd_data_open(rd_dataset *d, const rd_data_spec *spec, int which, const rd_shape *input, int64_t classes,
                       uint64_t global_seed, int64_t max_rows, rd_err *err) {
  static const char *const xk[3] = {"train_x", "test_x", "val_x"}, *const yk[3] = {"train_y", "test_y", "val_y"};
  static const char *const seedx[3] = {"x", "test_x", "val_x"}, *const seedy[3] = {"y", "test_y", "val_y"};
  static const char *const setname[3] = {"training", "test", "validation"};
  memset(d, 0, sizeof *d);
  d->hx = d->hy = d->hfx = d->hfy = -1;
  d->shape = *input;
  d->dim = rd_shape_numel(input);
  d->classes = classes;
  d->scale = spec->scale;
  const int64_t limit = spec->limit[which];
  const char *xs = spec->x[which], *ys = spec->y[which];
  snprintf(d->xname, sizeof d->xname, "%s", xs);
  snprintf(d->yname, sizeof d->yname, "%s", ys);
  d->xkey = xk[which];
  d->ykey = yk[which];
  d->xset = spec->set_x[which];
  d->yset = spec->set_y[which];
  if (spec->source == RD_DATA_SYNTHETIC) {
    d->source = RD_DATA_SYNTHETIC;
    d->n = spec->samples[which];
    if (limit > 0 && limit < d->n) d->n = limit;
    d->seed_x = rd_seed_tensor(global_seed, "data", seedx[which]);
    d->seed_y = rd_seed_tensor(global_seed, "data", seedy[which]);
    snprintf(d->xname, sizeof d->xname, "synthetic %s set", setname[which]);
    return RD_OK;
  }
  if (spec->source == RD_DATA_HDF5) {
    d->source = RD_DATA_HDF5;
    if (!spec->given[which])
      return rd_err_set(err, RD_EINPUT, "%s: [data] source = hdf5 needs %s and %s (FILE:DATASET)", spec->cfg_path,
                        xk[which], yk[which]);
    /* What the crash guard names where HDF5 may crash in either file (opening
     * names the one file). */
    char fx[1024], fy[1024], dset[512];
    int okx = split_h5(xs, fx, sizeof fx, dset, sizeof dset) == 0;
    int oky = split_h5(ys, fy, sizeof fy, dset, sizeof dset) == 0;
    if (okx && oky && strcmp(fx, fy))
      snprintf(d->h5files, sizeof d->h5files, "%s (or %s)", fx, fy);
    else
      snprintf(d->h5files, sizeof d->h5files, "%s", okx ? fx : xs);
    rd_h5_guard_begin(d->h5files);
    rd_status st = open_h5(d, xs, ys, limit, max_rows, err);
    rd_h5_guard_end();
    return st;
  }
  d->source = RD_DATA_IDX;
  return open_idx(d, xs, ys, limit, err);
}

rd_status rd_data_split(rd_dataset *d, const rd_data_spec *spec, rd_dataset *val, rd_err *err) {
  memset(val, 0, sizeof *val);
  val->hx = val->hy = val->hfx = val->hfy = -1;
  /* keras/src/trainers/data_adapters/array_slicing.py, train_validation_split:
   * split_at = int(math.floor(batch_dim * (1.0 - validation_split))), in double. */
  const int64_t n = d->n, at = (int64_t)floor((double)n * (1.0 - spec->validation_split));
  if (at <= 0 || at >= n) {
    char v[32]; /* the value as written: the shortest that reads back the same */
    for (int digits = 6; digits <= 17; digits++)
      if (snprintf(v, sizeof v, "%.*g", digits, spec->validation_split), strtod(v, NULL) == spec->validation_split) break;
    return rd_err_set(err, RD_EINPUT,
                      "%s: validation_split = %s of %lld training samples leaves %s empty (Keras' fit refuses it); "
                      "change the split or the data",
                      spec->split_where, v, (long long)n,
                      at <= 0 ? "the training set" : "the validation set");
  }
  *val = *d;
  val->view = 1;
  val->first = d->first + at;
  val->n = n - at;
  snprintf(val->xname, sizeof val->xname, "%.900s (its last %lld samples, validation_split)", d->xname,
           (long long)val->n);
  d->n = at;
  return RD_OK;
}

rd_status rd_data_fetch(rd_dataset *d, const uint32_t *rows, int64_t n, float *x, int32_t *y, rd_err *err) {
  switch (d->source) {
    case RD_DATA_HDF5: {
      rd_h5_guard_begin(d->h5files);
      rd_status st = fetch_h5(d, rows, n, x, y, err);
      rd_h5_guard_end();
      return st;
    }
    case RD_DATA_SYNTHETIC:
      for (int64_t i = 0; i < n; i++) {
        uint64_t r = (uint64_t)d->first + rows[i];
        for (int64_t c = 0; c < d->dim; c++)
          x[i * d->dim + c] = (float)rd_seed_uniform(rd_seed_word(d->seed_x, r * (uint64_t)d->dim + (uint64_t)c, 0));
        y[i] = (int32_t)rd_seed_below(rd_seed_word(d->seed_y, r, 0), (uint64_t)d->classes);
      }
      return RD_OK;
    case RD_DATA_IDX: {
      /* Shuffled rows lie anywhere in the set, so each one misses the cache
       * and the loop waits on every line of it. The lines of row i + AHEAD
       * are requested while row i is converted: at batch 256 of the 784-128-10
       * MLP (np 1, AMD EPYC) the reads took 0.17-0.19 ms a step without it,
       * 0.10 with it (AHEAD 2 to 8 alike). */
      enum { AHEAD = 4 };
      const int64_t D = d->dim;
      for (int64_t i = -AHEAD; i < n; i++) {
        if (i + AHEAD < n) {
          const char *ahead = (const char *)(d->u8 + (d->first + rows[i + AHEAD]) * D);
          for (int64_t o = 0; o < D; o += 64) __builtin_prefetch(ahead + o);
          __builtin_prefetch(ahead + D - 1);
        }
        if (i < 0) continue;
        const int64_t r = d->first + rows[i];
        const uint8_t *s = d->u8 + r * D;
        for (int64_t c = 0; c < D; c++) x[i * D + c] = (float)((double)s[c] * d->scale);
        y[i] = d->labels[r];
      }
      return RD_OK;
    }
  }
  return RD_OK;
}

void rd_data_close(rd_dataset *d) {
  if (d->view) {
    memset(d, 0, sizeof *d);
    d->hx = d->hy = d->hfx = d->hfy = -1;
    return;
  }
  if (d->hx >= 0) H5Dclose((hid_t)d->hx);
  if (d->hy >= 0) H5Dclose((hid_t)d->hy);
  if (d->hfx >= 0) H5Fclose((hid_t)d->hfx);
  if (d->hfy >= 0) H5Fclose((hid_t)d->hfy);
  free(d->u8);
  free(d->labels);
  free(d->xbuf);
  free(d->ybuf);
  memset(d, 0, sizeof *d);
  d->hx = d->hy = d->hfx = d->hfy = -1;
}

/* ---- inputs for prediction ------------------------------------------------------- */

/* A .npy file's array: its element type ('B' uint8, 'f' float32, 'd' float64),
 * shape and the offset of its data. */
static rd_status npy_header(const char *path, FILE *f, char *type, int64_t *shape, int *nd, long *off, rd_err *err) {
  unsigned char pre[10];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6))
    return rd_err_set(err, RD_EINPUT, "%s: not a .npy file (no \\x93NUMPY magic)", path);
  size_t hl = pre[6] == 1 ? (size_t)pre[8] | (size_t)pre[9] << 8 : 0;
  long start = 10;
  if (pre[6] >= 2) {
    unsigned char b[2];
    if (fread(b, 1, 2, f) != 2) return rd_err_set(err, RD_EINPUT, "%s: truncated .npy header", path);
    hl = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)b[0] << 16 | (size_t)b[1] << 24, start = 12;
  }
  if (hl == 0 || hl > 65536) return rd_err_set(err, RD_EINPUT, "%s: bad .npy header length", path);
  char *h = calloc(hl + 1, 1);
  RD_ASSERT(h != NULL, "out of memory");
  if (fread(h, 1, hl, f) != hl) {
    free(h);
    return rd_err_set(err, RD_EINPUT, "%s: truncated .npy header", path);
  }
  const char *d = strstr(h, "'descr':"), *fo = strstr(h, "'fortran_order':"), *sh = strstr(h, "'shape':");
  const char *q = d ? strchr(d + 8, '\'') : NULL;
  *type = !q ? 0 : !strncmp(q, "'|u1'", 5) ? 'B' : !strncmp(q, "'<f4'", 5) ? 'f' : !strncmp(q, "'<f8'", 5) ? 'd' : 0;
  int bad = !*type || !fo || strncmp(fo + 16 + strspn(fo + 16, " "), "False", 5) || !sh;
  *nd = 0;
  if (!bad) {
    const char *p = strchr(sh, '(');
    for (p = p ? p + 1 : NULL; p && *nd < 5;) {
      p += strspn(p, " ,");
      if (*p == ')') break;
      char *e;
      long long v = strtoll(p, &e, 10);
      if (e == p || v < 0 || v > (1LL << 40)) { /* bounded before anything multiplies them */
        bad = 1;
        break;
      }
      shape[(*nd)++] = v, p = e;
    }
    if (!p || *nd < 1 || *nd > 4) bad = 1;
  }
  free(h);
  if (bad)
    return rd_err_set(err, RD_EINPUT, "%s: unsupported .npy array: want uint8, float32 or float64 (little-endian), "
                      "C order, shape (N, ...) with 1 to 3 axes per sample", path);
  *off = start + (long)hl;
  return RD_OK;
}

static rd_status read_npy(const char *path, rd_dataset *d, float **x, int64_t *n, rd_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return rd_err_set(err, RD_EINPUT, "%s: cannot open input (%s)", path, strerror(errno));
  char type = 0;
  int64_t shape[5] = {0};
  int nd = 0;
  long off = 0;
  if (npy_header(path, f, &type, shape, &nd, &off, err)) {
    fclose(f);
    return err->code;
  }
  /* The values the header promises must be in the file: no product can overflow after this. */
  const size_t esz = type == 'B' ? 1 : type == 'f' ? 4 : 8;
  long end = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  double want = (double)esz;
  for (int k = 0; k < nd; k++) want *= (double)shape[k];
  if (end < off || want != (double)(end - off) || fseek(f, off, SEEK_SET) != 0) {
    fclose(f);
    return rd_err_set(err, RD_EINPUT, "%s: the .npy header promises %.0f bytes of data, the file holds %ld", path, want,
                      end < off ? 0L : end - off);
  }
  if (check_shape(d, path, shape + 1, nd - 1, err)) {
    fclose(f);
    return err->code;
  }
  const size_t cnt = (size_t)shape[0] * (size_t)d->dim;
  unsigned char *raw = malloc(cnt * esz + 1);
  *x = malloc(sizeof(float) * cnt + 1);
  RD_ASSERT(raw != NULL && *x != NULL, "out of memory");
  size_t got = fread(raw, esz, cnt, f);
  fclose(f);
  if (got != cnt) {
    free(raw);
    return rd_err_set(err, RD_EINPUT, "%s: truncated: %zu of %zu values", path, got, cnt);
  }
  for (size_t i = 0; i < cnt && !err->code; i++) {
    double v = type == 'B' ? raw[i] : type == 'f' ? (double)((float *)raw)[i] : ((double *)raw)[i];
    if (!isfinite(v))
      rd_err_set(err, RD_EINPUT, "%s: sample %zu has a non-finite value (%g at column %zu)", path,
                 i / (size_t)d->dim, v, i % (size_t)d->dim);
    (*x)[i] = (float)(v * d->scale);
  }
  free(raw);
  *n = shape[0];
  return err->code;
}

static rd_status read_h5_inputs(const char *spec, rd_dataset *d, float **x, int64_t *n, rd_err *err) {
  char file[1024], dset[512];
  split_h5(spec, file, sizeof file, dset, sizeof dset);
  rd_h5_guard_begin(file);
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT), ds = -1, sp = -1;
  if (f < 0) rd_err_set(err, RD_EINPUT, "%s: cannot open as HDF5", file);
  if (!err->code && !(H5Lexists(f, dset, H5P_DEFAULT) > 0 && (ds = H5Dopen2(f, dset, H5P_DEFAULT)) >= 0))
    rd_err_set(err, RD_EINPUT, "%s: no dataset '%s'", file, dset);
  hsize_t dims[8];
  int nd = 0;
  if (!err->code) {
    sp = H5Dget_space(ds);
    nd = H5Sget_simple_extent_ndims(sp);
    if (nd < 2 || nd > 5) rd_err_set(err, RD_EINPUT, "%s: dataset '%s' has %d axes, want (N, ...)", file, dset, nd);
    else H5Sget_simple_extent_dims(sp, dims, NULL);
  }
  int64_t sd[4];
  for (int k = 1; k < nd && !err->code; k++) sd[k - 1] = (int64_t)dims[k];
  if (!err->code) check_shape(d, spec, sd, nd - 1, err);
  if (!err->code) {
    const size_t cnt = (size_t)dims[0] * (size_t)d->dim;
    *x = malloc(sizeof(float) * cnt + 1);
    RD_ASSERT(*x != NULL, "out of memory");
    if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *x) < 0)
      rd_err_set(err, RD_EINPUT, "%s: reading dataset '%s' failed (not numbers, or a corrupt file)", file, dset);
    for (size_t i = 0; i < cnt && !err->code; i++) {
      if (!isfinite((*x)[i]))
        rd_err_set(err, RD_EINPUT, "%s: sample %zu has a non-finite value (%g at column %zu)", spec, i / (size_t)d->dim,
                   (double)(*x)[i], i % (size_t)d->dim);
      (*x)[i] = (float)((double)(*x)[i] * d->scale);
    }
    *n = (int64_t)dims[0];
  }
  if (sp >= 0) H5Sclose(sp);
  if (ds >= 0) H5Dclose(ds);
  if (f >= 0) H5Fclose(f);
  rd_h5_guard_end();
  return err->code;
}

rd_status rd_data_read_inputs(const char *path, const rd_shape *input, double scale, float **x, int64_t *n,
                              rd_err *err) {
  rd_dataset d;
  memset(&d, 0, sizeof d);
  d.shape = *input, d.dim = rd_shape_numel(input), d.scale = scale;
  *x = NULL, *n = 0;
  size_t len = strlen(path);
  char file[1024], dset[512];
  struct stat st;
  rd_status st_ = RD_OK;
  if (len > 4 && !strcmp(path + len - 4, ".npy")) {
    st_ = read_npy(path, &d, x, n, err);
  } else if (stat(path, &st) != 0 && !split_h5(path, file, sizeof file, dset, sizeof dset) && stat(file, &st) == 0) {
    st_ = read_h5_inputs(path, &d, x, n, err);
  } else {
    uint8_t *u8 = NULL;
    int64_t items = 0, inner = 0, sd[3];
    int snd = 0;
    char shape[128];
    if (idx_load(path, "the input file", 2, 4, "0x00000803 for uint8 images (N, rows, cols), or 0x00000802/4", 0, &u8,
                 &items, &inner, sd, &snd, shape, sizeof shape, err) == RD_OK &&
        check_shape(&d, path, sd, snd, err) == RD_OK) {
      *x = malloc(sizeof(float) * (size_t)(items * d.dim) + 1);
      RD_ASSERT(*x != NULL, "out of memory");
      for (int64_t i = 0; i < items * d.dim; i++) (*x)[i] = (float)((double)u8[i] * scale);
      *n = items;
    }
    free(u8);
    st_ = err->code;
  }
  if (st_ == RD_OK && *n == 0) rd_err_set(err, RD_EINPUT, "%s: holds no samples", path);
  if (err->code) free(*x), *x = NULL, *n = 0;
  return err->code;
}
