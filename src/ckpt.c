/* ckpt: checkpoints (see ckpt.h). */
#include "ckpt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "cfg.h"
#include "comm.h"
#include "fault.h"
#include "fsio.h"
#include "h5io.h"

#define CKPT_FORMAT "reprodist-checkpoint-3"

/* The first CKPT_HEADER bytes of a checkpoint are an HDF5 user block (HDF5
 * skips it) holding a text header, NUL-padded:
 *   reprodist-checkpoint-3\nbytes N\nxxh64 HEX\nconfig HEX\n
 * N and HEX: length and XXH64 (seed 0) of the HDF5 bytes after the header;
 * config: the config digest. A checkpoint is checked with plain reads before
 * HDF5 parses any of it (HDF5 1.10 can crash on corrupt metadata; a damaged
 * checkpoint must only be refused), and pruning reads nothing but the header. */
#define CKPT_HEADER 512

static void header_text(char *h, uint64_t bytes, uint64_t sum, uint64_t cfg) {
  memset(h, 0, CKPT_HEADER);
  snprintf(h, CKPT_HEADER, CKPT_FORMAT "\nbytes %" PRIu64 "\nxxh64 %016" PRIx64 "\nconfig %016" PRIx64 "\n", bytes,
           sum, cfg);
}

/* The header of the open file fd: 0 and its fields when it is exactly what
 * header_text writes, -1 otherwise. */
static int read_header(int fd, uint64_t *bytes, uint64_t *sum, uint64_t *cfg) {
  char h[CKPT_HEADER + 1], want[CKPT_HEADER];
  unsigned long long b, s, c;
  if (pread(fd, h, CKPT_HEADER, 0) != CKPT_HEADER) return -1;
  h[CKPT_HEADER] = '\0';
  if (sscanf(h, CKPT_FORMAT "\nbytes %llu\nxxh64 %llx\nconfig %llx\n", &b, &s, &c) != 3) return -1;
  header_text(want, b, s, c);
  if (memcmp(h, want, CKPT_HEADER)) return -1;
  *bytes = b, *sum = s, *cfg = c;
  return 0;
}

int rd_ckpt_is_checkpoint(const char *path) {
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) return 0;
  uint64_t b, sum, cfg;
  int yes = read_header(fd, &b, &sum, &cfg) == 0;
  close(fd);
  return yes;
}

int rd_ckpt_is_name(const char *name, uint64_t *step) {
  unsigned long long s;
  char tail[8];
  if (sscanf(name, "ckpt-%12llu%7s", &s, tail) != 2 || strcmp(tail, ".h5") || strlen(name) != 20) return 0;
  if (step) *step = s;
  return 1;
}

/* XXH64 of the n bytes of fd after the header; -1 on a read error or a short file. */
static int hash_body(int fd, uint64_t n, uint64_t *sum) {
  enum { CHUNK = 1 << 20 };
  char *buf = malloc(CHUNK);
  RD_ASSERT(buf != NULL, "out of memory");
  XXH64_state_t *s = XXH64_createState();
  XXH64_reset(s, 0);
  uint64_t done = 0;
  while (done < n) {
    ssize_t k = pread(fd, buf, n - done < CHUNK ? (size_t)(n - done) : CHUNK, (off_t)(CKPT_HEADER + done));
    if (k <= 0) break;
    XXH64_update(s, buf, (size_t)k);
    done += (uint64_t)k;
  }
  *sum = XXH64_digest(s);
  XXH64_freeState(s);
  free(buf);
  return done == n ? 0 : -1;
}

/* Writes the header into the closed checkpoint at tmp; 0 on success. */
static int seal(const char *tmp, uint64_t cfg) {
  int fd = open(tmp, O_RDWR);
  struct stat sb;
  uint64_t sum = 0;
  int bad = fd < 0 || fstat(fd, &sb) != 0 || sb.st_size < CKPT_HEADER;
  if (!bad) bad = hash_body(fd, (uint64_t)sb.st_size - CKPT_HEADER, &sum);
  if (!bad) {
    char h[CKPT_HEADER];
    header_text(h, (uint64_t)sb.st_size - CKPT_HEADER, sum, cfg);
    bad = pwrite(fd, h, CKPT_HEADER, 0) != CKPT_HEADER;
  }
  if (fd >= 0) bad |= close(fd) != 0;
  return bad ? -1 : 0;
}

uint64_t rd_ckpt_model_digest(const rd_model *m) {
  XXH64_state_t *s = XXH64_createState();
  XXH64_reset(s, 0);
  for (int t = 0; t < m->ntensors; t++) {
    char line[512];
    const rd_tensor *T = &m->tensors[t];
    /* "layer/name ndim d0 d1[ d2 d3][ nt]": the first form is the one of
     * Dense-only models before 4-D and non-trainable tensors existed. */
    int n = snprintf(line, sizeof line, "%s/%s %d %" PRId64 " %" PRId64, T->layer, T->name, T->shape.ndim,
                     T->shape.dim[0], T->shape.ndim > 1 ? T->shape.dim[1] : 0);
    for (int d = 2; d < T->shape.ndim; d++) n += snprintf(line + n, sizeof line - (size_t)n, " %" PRId64, T->shape.dim[d]);
    n += snprintf(line + n, sizeof line - (size_t)n, "%s\n", T->trainable ? "" : " nt");
    XXH64_update(s, line, (size_t)n);
  }
  uint64_t h = XXH64_digest(s);
  XXH64_freeState(s);
  return h;
}

static void put64(XXH64_state_t *s, uint64_t v) {
  unsigned char b[8];
  for (int k = 0; k < 8; k++) b[k] = (unsigned char)(v >> (8 * k));
  XXH64_update(s, b, 8);
}

static hid_t mem_type(rd_piece_kind k);

/* Reads values [start, start + cnt) of 1-D dataset d (file space fs) into buf: 0, or -1. */
static int read_slab(hid_t d, hid_t fs, rd_piece_kind kind, hsize_t start, hsize_t cnt, void *buf) {
  hid_t ms = H5Screate_simple(1, &cnt, NULL);
  int ok = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL) >= 0 &&
           H5Dread(d, mem_type(kind), ms, fs, H5P_DEFAULT, buf) >= 0;
  H5Sclose(ms);
  return ok ? 0 : -1;
}

/* XXH64-updates s with the n values of p's dataset in f, read a slab at a time
 * (a sharded piece: no rank holds it whole). 0, or -1 when it cannot be read. */
static int hash_dataset(XXH64_state_t *s, hid_t f, const rd_piece *p) {
  enum { STEP = 1 << 18 };
  const size_t w = p->kind == RD_PIECE_F32 ? 4 : 8;
  hid_t d = H5Dopen2(f, p->name, H5P_DEFAULT), fs = d >= 0 ? H5Dget_space(d) : -1;
  void *buf = malloc(STEP * w);
  RD_ASSERT(buf != NULL, "out of memory");
  int ok = d >= 0 && fs >= 0 && H5Sget_simple_extent_npoints(fs) == (hssize_t)p->n;
  for (size_t at = 0; ok && at < p->n; at += STEP) {
    const size_t cnt = p->n - at < STEP ? p->n - at : STEP;
    ok = read_slab(d, fs, p->kind, at, cnt, buf) == 0;
    if (ok) XXH64_update(s, buf, cnt * w);
  }
  free(buf);
  if (fs >= 0) H5Sclose(fs);
  if (d >= 0) H5Dclose(d);
  return ok ? 0 : -1;
}

/* Covers every required piece a resume depends on (its name, kind, length and
 * bytes) and the two digests, in a fixed little-endian order. A sharded piece's
 * bytes are read from f, the others' from memory. 0, or -1 when f fails. */
static int checksum(const rd_pieces *ps, uint64_t cfg, uint64_t model, hid_t f, uint64_t *out) {
  XXH64_state_t *s = XXH64_createState();
  XXH64_reset(s, 0);
  int bad = 0;
  for (int i = 0; i < ps->n; i++) {
    const rd_piece *p = &ps->p[i];
    if (p->absent) continue; /* optional: may come or go at a resume (piece.h) */
    XXH64_update(s, p->name, strlen(p->name) + 1);
    put64(s, (uint64_t)p->kind), put64(s, (uint64_t)p->n);
    if (p->dist) bad |= hash_dataset(s, f, p);
    else if (p->n) XXH64_update(s, p->data, rd_piece_bytes(p));
  }
  put64(s, cfg), put64(s, model);
  *out = XXH64_digest(s);
  XXH64_freeState(s);
  return bad ? -1 : 0;
}

static hid_t file_type(rd_piece_kind k) {
  return k == RD_PIECE_F32   ? H5T_IEEE_F32LE
         : k == RD_PIECE_F64 ? H5T_IEEE_F64LE
         : k == RD_PIECE_U64 ? H5T_STD_U64LE
                             : H5T_STD_I64LE;
}
static hid_t mem_type(rd_piece_kind k) {
  return k == RD_PIECE_F32   ? H5T_NATIVE_FLOAT
         : k == RD_PIECE_F64 ? H5T_NATIVE_DOUBLE
         : k == RD_PIECE_U64 ? H5T_NATIVE_UINT64
                             : H5T_NATIVE_INT64;
}

/* One piece as a 1-D dataset of its name (groups made on the way). */
static int write_piece(hid_t f, const rd_piece *p) {
  hsize_t d = (hsize_t)p->n;
  hid_t sp = H5Screate_simple(1, &d, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_obj_track_times(dcpl, 0); /* the same state gives the same bytes */
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t ds = H5Dcreate2(f, p->name, file_type(p->kind), sp, lcpl, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl), H5Pclose(lcpl);
  int ok = ds >= 0 && (p->n == 0 || H5Dwrite(ds, mem_type(p->kind), H5S_ALL, H5S_ALL, H5P_DEFAULT, p->data) >= 0);
  if (ds >= 0) H5Dclose(ds);
  H5Sclose(sp);
  return ok ? 0 : -1;
}

/* 1 if every link on the path name exists (H5Lexists needs the parents to). */
static int path_exists(hid_t f, const char *name) {
  char part[64];
  for (const char *q = name;; q++) {
    if (*q != '/' && *q) continue;
    const size_t n = (size_t)(q - name);
    if (n >= sizeof part) return 0;
    memcpy(part, name, n), part[n] = '\0';
    if (H5Lexists(f, part, H5P_DEFAULT) <= 0) return 0;
    if (!*q) return 1;
  }
}

/* Reads piece p from the dataset of its name: 0, or -1 when it is missing, of
 * another kind or size, or unreadable. A sharded piece: its slab alone. */
static int read_piece(hid_t f, const rd_piece *p) {
  hid_t d = path_exists(f, p->name) ? H5Dopen2(f, p->name, H5P_DEFAULT) : -1;
  hid_t s = d >= 0 ? H5Dget_space(d) : -1, t = d >= 0 ? H5Dget_type(d) : -1;
  int ok = d >= 0 && s >= 0 && t >= 0 && H5Sget_simple_extent_ndims(s) == 1 &&
           H5Sget_simple_extent_npoints(s) == (hssize_t)p->n && H5Tequal(t, file_type(p->kind)) > 0;
  if (ok && p->dist && p->cnt) {
    ok = read_slab(d, s, p->kind, p->lo, p->cnt, p->data) == 0;
  } else if (ok && !p->dist && p->n) {
    ok = H5Dread(d, mem_type(p->kind), H5S_ALL, H5S_ALL, H5P_DEFAULT, p->data) >= 0;
  }
  if (t >= 0) H5Tclose(t);
  if (s >= 0) H5Sclose(s);
  if (d >= 0) H5Dclose(d);
  return ok ? 0 : -1;
}

/* The config digest in a checkpoint's header; 0 when it has none. */
static uint64_t file_config(const char *path) {
  uint64_t bytes, sum, cfg = 0;
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd >= 0 && read_header(fd, &bytes, &sum, &cfg)) cfg = 0;
  if (fd >= 0) close(fd);
  return cfg;
}

/* Keeps the `keep` newest checkpoints of this config (the one just written,
 * `mine`, always among them) and removes its older ones. Checkpoints of other
 * configs in the same directory are not touched. */
static void prune(const char *dir, int keep, uint64_t mine, uint64_t cfg) {
  DIR *d = opendir(dir);
  if (!d) return;
  uint64_t *steps = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    uint64_t s;
    char p[4096];
    if (!rd_ckpt_is_name(e->d_name, &s)) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    if (s == mine || file_config(p) != cfg) continue;
    if (n == cap) steps = realloc(steps, sizeof *steps * (cap = cap ? 2 * cap : 16));
    RD_ASSERT(steps != NULL, "out of memory");
    steps[n++] = s;
  }
  closedir(d);
  for (size_t i = 0; i < n; i++) {
    size_t newer = 1; /* the one just written */
    for (size_t j = 0; j < n; j++) newer += steps[j] > steps[i];
    if ((int)newer >= keep) {
      char p[4096];
      snprintf(p, sizeof p, "%s/ckpt-%012" PRIu64 ".h5", dir, steps[i]);
      unlink(p);
    }
  }
  free(steps);
}

/* Newest ckpt-*.h5 in dir, or 0 if none (then *found = 0). */
static uint64_t newest(const char *dir, int *found) {
  DIR *d = opendir(dir);
  *found = 0;
  uint64_t best = 0;
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    uint64_t s;
    if (rd_ckpt_is_name(e->d_name, &s)) {
      if (!*found || s > best) best = s;
      *found = 1;
    }
  }
  closedir(d);
  return best;
}

/* Rank 0's checks before a checkpoint is written: its directory, stale
 * temporaries, the space the file needs (reserved at tmp). 0, or an error. */
static rd_status prepare(const char *dir, const char *path, const char *tmp, const rd_pieces *ps,
                         const rd_ckpt_ident *id, rd_err *err) {
  struct stat sb;
  if (stat(dir, &sb) != 0 && mkdir(dir, 0755) != 0)
    return rd_err_set(err, RD_EINPUT, "%s: cannot create the checkpoint directory (%s)", dir, strerror(errno));
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return rd_err_set(err, RD_EINPUT, "%s: checkpoint_dir exists but is not a directory", dir);
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
    return rd_err_set(err, RD_EINPUT, "%s: a directory stands where the checkpoint file goes; remove it", path);
  rd_fs_clean_stale_tmps(dir, "ckpt-", 1);
  /* The data, the strings and generous room for HDF5's metadata. */
  long long need = CKPT_HEADER + 65536 + 1024 * ps->n + (id->fingerprint ? (long long)strlen(id->fingerprint) : 0) +
                   (id->plugins ? (long long)strlen(id->plugins) : 0);
  for (int i = 0; i < ps->n; i++) need += (long long)rd_piece_bytes(&ps->p[i]);
  int rc = rd_fs_reserve(tmp, need);
  if (rc == ENOSPC || rc == EDQUOT)
    return rd_err_set(err, RD_EINPUT,
                      "%s: not enough free space in '%s' for the checkpoint (%lld bytes); older ones are intact", path,
                      dir, need);
  return RD_OK;
}

/* The attributes every checkpoint carries but the checksum. */
static int attributes(hid_t f, const rd_ckpt_ident *id, const char *fingerprint, uint64_t md) {
  int bad = rd_h5_attr_str(f, "format", CKPT_FORMAT);
  bad |= rd_h5_attr_u64(f, "config_xxh64", id->config_digest);
  if (id->config_text) bad |= rd_h5_attr_str(f, "config", id->config_text);
  bad |= rd_h5_attr_u64(f, "model_xxh64", md);
  bad |= rd_h5_attr_str(f, "fingerprint", fingerprint ? fingerprint : "");
  if (id->plugins && *id->plugins) bad |= rd_h5_attr_str(f, "plugins", id->plugins);
  return bad;
}

/* 1 when v is 1 on every rank. Collective. */
static int agreed(int v) { return rd_comm_same_u64((uint64_t)(v != 0)) && v; }

/* A sharded checkpoint is written from every rank: each must see the file
 * rank 0 reserved at tmp, which it marks with a token, or the directory is not
 * shared. Collective; the ranks agree on err. */
static rd_status check_shared(const char *dir, const char *tmp, rd_err *err) {
  uint64_t token = XXH64(tmp, strlen(tmp), (uint64_t)getpid() ^ (uint64_t)time(NULL)), seen = 0;
  rd_comm_bcast_u64(&token, 0);
  if (rd_comm_rank() == 0) {
    int fd = open(tmp, O_WRONLY), e = fd < 0 ? errno : 0;
    if (fd >= 0) {
      errno = 0;
      if (pwrite(fd, &token, sizeof token, 0) != (ssize_t)sizeof token) e = errno ? errno : ENOSPC; /* short: full */
    }
    if (e) {
      if (e == ENOSPC || e == EDQUOT)
        rd_err_set(err, RD_EINPUT,
                   "%s: not enough free space in the checkpoint directory for a checkpoint (%s; with "
                   "shard_optimizer every rank writes its part, so the directory is tried at start-up): free some "
                   "or choose another checkpoint_dir",
                   dir, strerror(e));
      else
        rd_err_set(err, RD_EINPUT, "%s: cannot write in the checkpoint directory (%s)", dir, strerror(e));
    }
    if (fd >= 0) close(fd);
  }
  if (rd_comm_agree(err)) return err->code;
  if (rd_comm_rank() != 0) {
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || pread(fd, &seen, sizeof seen, 0) != (ssize_t)sizeof seen || seen != token)
      rd_err_set(err, RD_EINPUT,
                 "%s: checkpoint_dir is not shared with rank %d's node (%s): with shard_optimizer every rank writes "
                 "its part of each checkpoint; use a directory every node shares, or shard_optimizer = false",
                 dir, rd_comm_rank(), rd_comm_host());
    if (fd >= 0) close(fd);
  }
  return rd_comm_agree(err);
}

rd_status rd_ckpt_check_shared(const char *dir, rd_err *err) {
  char tmp[4200];
  uint64_t pid = (uint64_t)getpid();
  rd_comm_bcast_u64(&pid, 0);
  snprintf(tmp, sizeof tmp, "%s/ckpt-probe.tmp.%" PRIu64, dir, pid);
  if (rd_comm_rank() == 0) {
    struct stat sb;
    int fd = -1;
    if (stat(dir, &sb) != 0 && mkdir(dir, 0755) != 0)
      rd_err_set(err, RD_EINPUT, "%s: cannot create the checkpoint directory (%s)", dir, strerror(errno));
    else if ((fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY, 0644)) < 0)
      rd_err_set(err, RD_EINPUT, "%s: cannot write in the checkpoint directory (%s)", dir, strerror(errno));
    if (fd >= 0) close(fd);
  }
  if (rd_comm_agree(err) == RD_OK) check_shared(dir, tmp, err);
  if (rd_comm_rank() == 0) unlink(tmp);
  return err->code;
}

/* A checkpoint with sharded pieces, written collectively through MPI-IO: rank
 * 0 writes the whole pieces, each rank its slabs. Then rank 0 alone reopens the
 * file, hashes what was written (the sharded pieces read back a slab at a time)
 * into the checksum attribute, and seals it. The calls do not depend on np, so
 * neither do the bytes. Collective. */
static void write_dist(const char *tmp, const rd_pieces *ps, const rd_ckpt_ident *id, uint64_t md, int *bad) {
  /* Rank 0's fingerprint: attributes must be the same on every rank. */
  char *fp = rd_comm_rank() == 0 ? (char *)(id->fingerprint ? id->fingerprint : "") : NULL;
  size_t fn = fp ? strlen(fp) + 1 : 0;
  rd_comm_bcast_bytes((void **)&fp, &fn, 0);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
  const int mpio = rd_comm_h5_fapl_mpio(fapl) == 0;
  H5Pset_obj_track_times(fcpl, 0);
  H5Pset_userblock(fcpl, CKPT_HEADER);
  /* The collective calls below run on every rank or on none: the ranks agree on
   * each outcome they depend on (HDF5's collective calls fail everywhere or nowhere). */
  const int all_mpio = agreed(mpio);
  hid_t f = all_mpio ? H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl) : -1;
  H5Pclose(fcpl), H5Pclose(fapl);
  if (all_mpio) RD_ASSERT(rd_comm_same_u64(f >= 0), "H5Fcreate succeeded on some ranks only");
  *bad |= f < 0;
  if (f >= 0) {
    rd_fault_pause("ckpt_write");
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
    int skip = 0;
    for (int i = 0; i < ps->n; i++) {
      const rd_piece *p = &ps->p[i];
      hsize_t d = (hsize_t)p->n;
      hid_t sp = H5Screate_simple(1, &d, NULL);
      hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = H5Pcreate(H5P_LINK_CREATE);
      H5Pset_obj_track_times(dcpl, 0);
      H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
      H5Pset_create_intermediate_group(lcpl, 1);
      hid_t ds = skip ? -1 : H5Dcreate2(f, p->name, file_type(p->kind), sp, lcpl, dcpl, H5P_DEFAULT);
      H5Pclose(dcpl), H5Pclose(lcpl);
      if (!skip) RD_ASSERT(rd_comm_same_u64(ds >= 0), "H5Dcreate2 of %s succeeded on some ranks only", p->name);
      if (ds < 0) skip = 1, *bad = 1; /* on every rank: all skip the rest (a failed write is this rank's alone) */
      if (ds >= 0 && p->n) {
        hsize_t start = p->dist ? p->lo : 0, cnt = p->dist ? p->cnt : p->n;
        hid_t ms = H5Screate_simple(1, cnt ? &cnt : &d, NULL);
        if (cnt && (p->dist || rd_comm_rank() == 0))
          H5Sselect_hyperslab(sp, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
        else
          H5Sselect_none(sp), H5Sselect_none(ms);
        *bad |= H5Dwrite(ds, mem_type(p->kind), ms, sp, dxpl, p->data) < 0;
        H5Sclose(ms);
      }
      if (ds >= 0) H5Dclose(ds);
      H5Sclose(sp);
    }
    H5Pclose(dxpl);
    *bad |= attributes(f, id, fp, md);
    *bad |= rd_h5_attr_u64(f, "checksum", 0); /* rank 0 fills it in below */
    if (H5Fclose(f) < 0) *bad = 1, rd_h5_mark_close_failed();
  }
  if (rd_comm_rank() != 0) free(fp);
  /* Every rank's bytes are in the file before rank 0 reads them back. */
  *bad = !rd_comm_same_u64((uint64_t)*bad) || *bad;
  if (rd_comm_rank() != 0 || *bad) return;
  uint64_t sum = 0;
  hid_t g = H5Fopen(tmp, H5F_ACC_RDWR, H5P_DEFAULT);
  *bad |= g < 0 || checksum(ps, id->config_digest, md, g, &sum);
  hid_t a = g >= 0 ? H5Aopen(g, "checksum", H5P_DEFAULT) : -1;
  *bad |= a < 0 || H5Awrite(a, H5T_NATIVE_UINT64, &sum) < 0;
  if (a >= 0) H5Aclose(a);
  if (g >= 0 && H5Fclose(g) < 0) *bad = 1, rd_h5_mark_close_failed();
}

rd_status rd_ckpt_write(const char *dir, int keep, uint64_t step, const rd_model *m, const rd_pieces *ps,
                        const rd_ckpt_ident *id, char *path_out, size_t n, rd_err *err) {
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/ckpt-%012" PRIu64 ".h5", dir, step);
  int dist = 0;
  for (int i = 0; i < ps->n; i++) dist |= ps->p[i].dist;
  uint64_t pid = (uint64_t)getpid(); /* rank 0's: the temporary's name */
  if (dist) rd_comm_bcast_u64(&pid, 0);
  snprintf(tmp, sizeof tmp, "%s.tmp.%" PRIu64, path, pid);
  if (rd_comm_rank() == 0) prepare(dir, path, tmp, ps, id, err);
  if (dist && (rd_comm_agree(err) || check_shared(dir, tmp, err))) {
    if (rd_comm_rank() == 0) unlink(tmp); /* rank 0 reserved it, if anything */
    return err->code;
  }
  const uint64_t md = rd_ckpt_model_digest(m);
  int bad = 0;
  if (dist) {
    write_dist(tmp, ps, id, md, &bad);
  } else if (rd_comm_rank() == 0 && !err->code) {
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    H5Pset_obj_track_times(fcpl, 0);
    H5Pset_userblock(fcpl, CKPT_HEADER);
    hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    H5Pclose(fcpl);
    bad = f < 0;
    if (!bad) {
      rd_fault_pause("ckpt_write");
      for (int i = 0; i < ps->n; i++) bad |= write_piece(f, &ps->p[i]);
      bad |= attributes(f, id, id->fingerprint, md);
      uint64_t sum = 0;
      bad |= checksum(ps, id->config_digest, md, f, &sum);
      bad |= rd_h5_attr_u64(f, "checksum", sum);
      if (H5Fclose(f) < 0) bad = 1, rd_h5_mark_close_failed();
    }
  }
  if (rd_comm_rank() == 0 && !err->code) {
    if (!bad) bad = seal(tmp, id->config_digest);
    if (bad)
      rd_err_set(err, RD_EINPUT, "%s: writing the checkpoint failed (disk full or I/O error); older ones are intact",
                 path);
    else if (rd_fs_commit(tmp, path, err) == RD_OK)
      prune(dir, keep, step, id->config_digest);
    if (err->code) unlink(tmp);
  }
  if (path_out) snprintf(path_out, n, "%s", path);
  return rd_comm_agree(err);
}

static rd_status load(const char *path, const rd_model *m, const rd_pieces *ps, const rd_ckpt_ident *id,
                      rd_err *err) {
  struct stat sb;
  if (stat(path, &sb) != 0) return rd_err_set(err, RD_EINPUT, "%s: cannot open checkpoint (%s)", path, strerror(errno));
  if (S_ISDIR(sb.st_mode))
    return rd_err_set(err, RD_EINPUT, "%s: is a directory, not a checkpoint (use --resume latest for the newest)", path);
  if (!S_ISREG(sb.st_mode)) return rd_err_set(err, RD_EINPUT, "%s: not a checkpoint (not a regular file)", path);
  /* The header and the checksum of every byte after it, before HDF5 reads any. */
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) return rd_err_set(err, RD_EINPUT, "%s: cannot open checkpoint (%s)", path, strerror(errno));
  uint64_t bytes = 0, fsum = 0, fcfg = 0, got = 0;
  if (read_header(fd, &bytes, &fsum, &fcfg))
    rd_err_set(err, RD_EINPUT,
               "%s: not a reprodist checkpoint (no " CKPT_FORMAT " header: another kind of file, or written by an "
               "older reprodist)",
               path);
  else if (bytes != (uint64_t)sb.st_size - CKPT_HEADER) /* read_header read CKPT_HEADER bytes */
    rd_err_set(err, RD_EINPUT,
               "%s: cannot open checkpoint (corrupt or truncated file: %lld bytes, its header says %llu); use an older one",
               path, (long long)sb.st_size, (unsigned long long)bytes + CKPT_HEADER);
  else if (hash_body(fd, bytes, &got) || got != fsum)
    rd_err_set(err, RD_EINPUT, "%s: checksum mismatch: the checkpoint is corrupt; use an older one", path);
  close(fd);
  if (err->code) return err->code;
  if (H5Fis_hdf5(path) <= 0)
    return rd_err_set(err, RD_EINPUT, "%s: not a checkpoint (not an HDF5 file; truncated?)", path);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return rd_err_set(err, RD_EINPUT, "%s: cannot open checkpoint (corrupt or truncated file)", path);
  char *fmt = rd_h5_read_attr_str(f, "format");
  uint64_t cfg = 0, md = 0, sum = 0;
  int bad = !fmt || strcmp(fmt, CKPT_FORMAT) || rd_h5_read_attr_u64(f, "config_xxh64", &cfg) ||
            rd_h5_read_attr_u64(f, "model_xxh64", &md) || rd_h5_read_attr_u64(f, "checksum", &sum);
  free(fmt);
  if (bad) {
    H5Fclose(f);
    return rd_err_set(err, RD_EINPUT, "%s: not a reprodist checkpoint (format attributes missing)", path);
  }
  char *plugins = rd_h5_read_attr_str(f, "plugins");
  const char *want = id->plugins ? id->plugins : "";
  if (strcmp(plugins ? plugins : "", want)) {
    rd_err_set(err, RD_EINPUT,
               "%s: this checkpoint was made with layer plugins '%s', this run loads '%s' (name@xxh64); resume with "
               "the plugin files it was made with",
               path, plugins ? plugins : "", want);
    free(plugins);
    H5Fclose(f);
    return err->code;
  }
  free(plugins);
  if (md != rd_ckpt_model_digest(m)) {
    H5Fclose(f);
    return rd_err_set(err, RD_EINPUT, "%s: this checkpoint belongs to another model (its tensors differ from the config's)",
                      path);
  }
  if (cfg != id->config_digest && !(id->legacy_digest && cfg == id->legacy_digest)) {
    /* Checkpoints from before the "config" attribute can only give digests. */
    char *was = rd_h5_read_attr_str(f, "config"), diff[1024] = "";
    if (was && id->config_text) rd_cfg_text_diff(was, id->config_text, "in the checkpoint", diff, sizeof diff);
    char line[160] = "";
    if (id->legacy_key) snprintf(line, sizeof line, "\n%s = ", id->legacy_key);
    const int old_default = was && line[0] && !strstr(was, line);
    free(was);
    H5Fclose(f);
    if (diff[0] && old_default)
      return rd_err_set(err, RD_EINPUT, "%s: %s (%s); %s", path, id->legacy_note, diff, id->legacy_advice);
    if (diff[0])
      return rd_err_set(err, RD_EINPUT,
                        "%s: this checkpoint belongs to another config: %s; resume with the config and --set options "
                        "it was made with",
                        path, diff);
    return rd_err_set(err, RD_EINPUT,
                      "%s: this checkpoint belongs to another config (config xxh64 %016" PRIx64 ", this run %016" PRIx64
                      "); resume with the config and --set options it was made with",
                      path, cfg, id->config_digest);
  }
  for (int i = 0; i < ps->n && !err->code; i++)
    if (ps->p[i].absent && !path_exists(f, ps->p[i].name)) /* an optional piece this checkpoint lacks */
      *ps->p[i].absent = 1;
    else if (read_piece(f, &ps->p[i])) /* a sharded piece: rank 0's slab; the others read theirs after */
      rd_err_set(err, RD_EINPUT, "%s: piece '%s' (%zu %s) is missing, of another size or unreadable", path,
                 ps->p[i].name, ps->p[i].n, ps->p[i].kind == RD_PIECE_F32 ? "float32" : "64-bit values");
  char *fp = rd_h5_read_attr_str(f, "fingerprint");
  uint64_t csum = 0;
  if (!err->code && (checksum(ps, cfg, md, f, &csum) || csum != sum))
    rd_err_set(err, RD_EINPUT, "%s: checksum mismatch: the checkpoint is corrupt; use an older one", path);
  H5Fclose(f);
  if (!err->code && fp && id->fingerprint && strcmp(fp, id->fingerprint))
    rd_warn0("%s was written in another environment (fingerprint differs); the resumed run may not match an "
             "uninterrupted one bit for bit",
             path);
  free(fp);
  return err->code;
}

rd_status rd_ckpt_read(const char *path, const char *dir, const rd_model *m, const rd_pieces *ps,
                       const rd_ckpt_ident *id, char *path_out, size_t n, rd_err *err) {
  char chosen[4096];
  if (rd_comm_rank() == 0) {
    if (!strcmp(path, "latest")) {
      int found = 0;
      if (!dir || !*dir)
        rd_err_set(err, RD_EINPUT, "--resume latest: no [run] checkpoint_dir in the config to look in");
      else {
        uint64_t s = newest(dir, &found);
        if (!found)
          rd_err_set(err, RD_EINPUT, "%s: --resume latest found no checkpoint (ckpt-*.h5) here", dir);
        snprintf(chosen, sizeof chosen, "%s/ckpt-%012" PRIu64 ".h5", dir, s);
      }
    } else {
      snprintf(chosen, sizeof chosen, "%s", path);
    }
    if (!err->code) load(chosen, m, ps, id, err);
  }
  if (rd_comm_agree(err)) return err->code;
  /* Everyone continues from rank 0's bytes; a sharded piece's slabs each rank reads itself. */
  int dist = 0;
  for (int i = 0; i < ps->n; i++) dist |= ps->p[i].dist;
  if (dist) {
    char *name = rd_comm_rank() == 0 ? chosen : NULL;
    size_t len = name ? strlen(name) + 1 : 0;
    rd_comm_bcast_bytes((void **)&name, &len, 0);
    /* The file every rank reads its slab from must be the one rank 0 verified. */
    uint64_t hsum = 0, b, c;
    int fd = rd_comm_rank() == 0 ? open(chosen, O_RDONLY) : -1;
    if (fd >= 0 && read_header(fd, &b, &hsum, &c)) hsum = 0;
    if (fd >= 0) close(fd);
    rd_comm_bcast_u64(&hsum, 0);
    if (rd_comm_rank() != 0) {
      uint64_t mine = 1;
      fd = open(name, O_RDONLY);
      if (fd < 0 || read_header(fd, &b, &mine, &c) || mine != hsum)
        rd_err_set(err, RD_EINPUT,
                   "%s: rank %d (%s) does not see the checkpoint rank 0 read: with shard_optimizer every rank reads "
                   "its part; use a checkpoint directory every node shares, or shard_optimizer = false",
                   name, rd_comm_rank(), rd_comm_host());
      if (fd >= 0) close(fd);
    }
    if (rd_comm_rank() != 0 && !err->code) {
      hid_t f = H5Fopen(name, H5F_ACC_RDONLY, H5P_DEFAULT);
      for (int i = 0; i < ps->n && !err->code; i++)
        if (ps->p[i].dist && (f < 0 || read_piece(f, &ps->p[i])))
          rd_err_set(err, RD_EINPUT, "%s: cannot read this rank's slab of '%s' (is the directory shared by every node?)",
                     name, ps->p[i].name);
      if (f >= 0) H5Fclose(f);
    }
    if (rd_comm_rank() != 0) free(name);
    if (rd_comm_agree(err)) return err->code;
  }
  for (int i = 0; i < ps->n; i++) {
    const rd_piece *p = &ps->p[i];
    if (p->dist) continue;
    void *b = p->data;
    size_t len = rd_piece_bytes(p);
    if (!len) continue;
    rd_comm_bcast_bytes(&b, &len, 0);
    if (rd_comm_rank() != 0) memcpy(p->data, b, len), free(b);
  }
  if (path_out) snprintf(path_out, n, "%s", rd_comm_rank() == 0 ? chosen : path);
  return RD_OK;
}
