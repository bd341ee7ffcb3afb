/* h5io: Keras 2 legacy weights files (see h5io.h). */
#include "h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "comm.h"
#include "fsio.h"
#include "seed.h"

static int g_h5_close_failed; /* see prepare_output */

void rd_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

void rd_h5_mark_close_failed(void) { g_h5_close_failed = 1; }

int rd_h5_shutdown(void) {
  if (g_h5_close_failed) return -1; /* HDF5 would crash closing that file again */
  H5close();
  return 0;
}

/* ---- crash guard ------------------------------------------------------------------ */

int rd_h5_guard_enabled = 1;
static const int g_guard_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define GUARD_NSIGS (sizeof g_guard_sigs / sizeof g_guard_sigs[0])
#define GUARD_DEPTH 4
static struct sigaction g_guard_saved[GUARD_NSIGS], g_guard_alarm_saved;
static char g_guard_what[GUARD_DEPTH][RD_ERR_MSG_MAX]; /* the file(s) each level names */
static volatile sig_atomic_t g_guard_depth;
/* The line each handler writes, composed before HDF5 runs (write() and _exit()
 * are all a handler may call). */
static char g_guard_msg[2 * RD_ERR_MSG_MAX], g_guard_alarm_msg[2 * RD_ERR_MSG_MAX];
static size_t g_guard_len, g_guard_alarm_len;

static void guard_handler(int sig) {
  ssize_t r = sig == SIGALRM ? write(STDERR_FILENO, g_guard_alarm_msg, g_guard_alarm_len)
                             : write(STDERR_FILENO, g_guard_msg, g_guard_len);
  (void)r;
  _exit(RD_EINPUT);
}

static const char *guard_top(void) {
  return g_guard_what[g_guard_depth <= GUARD_DEPTH ? g_guard_depth - 1 : GUARD_DEPTH - 1];
}

static size_t guard_compose(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static size_t guard_compose(char *buf, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static void guard_crash_msg(void) {
  g_guard_len = guard_compose(g_guard_msg, sizeof g_guard_msg,
                              "%s: HDF5 crashed reading it: the file's HDF5 structure is corrupt (HDF5 1.10 cannot "
                              "read such files safely); restore the file or write it again\n",
                              guard_top());
}

static void guard_install(int sig, struct sigaction *saved) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = guard_handler;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, saved);
}

void rd_h5_guard_begin(const char *what) {
  if (!rd_h5_guard_enabled) return;
  int k = g_guard_depth;
  if (k < GUARD_DEPTH) snprintf(g_guard_what[k], sizeof g_guard_what[k], "%s", what);
  g_guard_depth = k + 1;
  guard_crash_msg();
  if (k == 0)
    for (size_t i = 0; i < GUARD_NSIGS; i++) guard_install(g_guard_sigs[i], &g_guard_saved[i]);
}

void rd_h5_guard_deadline(unsigned seconds) {
  if (!rd_h5_guard_enabled || g_guard_depth == 0) return;
  if (seconds == 0) {
    alarm(0);
    sigaction(SIGALRM, &g_guard_alarm_saved, NULL);
    return;
  }
  g_guard_alarm_len = guard_compose(g_guard_alarm_msg, sizeof g_guard_alarm_msg,
                                    "%s: HDF5 was still reading a string attribute after %u s (HDF5 1.10 loops "
                                    "forever on some corrupt files): the file's HDF5 structure is corrupt; restore "
                                    "the file or write it again\n",
                                    guard_top(), seconds);
  guard_install(SIGALRM, &g_guard_alarm_saved);
  alarm(seconds);
}

void rd_h5_guard_end(void) {
  if (!rd_h5_guard_enabled) return;
  RD_ASSERT(g_guard_depth > 0, "rd_h5_guard_end without rd_h5_guard_begin");
  if (--g_guard_depth > 0) {
    guard_crash_msg(); /* the enclosing level's file again */
    return;
  }
  for (size_t i = 0; i < GUARD_NSIGS; i++) sigaction(g_guard_sigs[i], &g_guard_saved[i], NULL);
}

/* ---- writing --------------------------------------------------------------------- */

typedef struct {
  int failed; /* any HDF5 call failed */
} wctx;

#define H5CHK(ctx, expr) ((ctx)->failed |= ((expr) < 0))

/* Keras' limit for one attribute; longer lists are split as Keras splits them
 * (save_attributes_to_hdf5_group): name0, name1, ... in np.array_split sizes,
 * each with the full list's string width. Keras' loader joins them again. */
#define RD_H5_ATTR_LIMIT 64512

static void attr_strings_one(wctx *x, hid_t loc, const char *name, const char *const *v, int n, size_t w) {
  char *buf = calloc((size_t)(n > 0 ? n : 1), w);
  RD_ASSERT(buf != NULL, "out of memory");
  for (int i = 0; i < n; i++) memcpy(buf + (size_t)i * w, v[i], strlen(v[i]));
  hid_t t = H5Tcopy(H5T_C_S1);
  H5CHK(x, H5Tset_size(t, w));
  H5CHK(x, H5Tset_strpad(t, H5T_STR_NULLPAD));
  hsize_t dim = (hsize_t)n;
  hid_t s = H5Screate_simple(1, &dim, NULL);
  hid_t a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  H5CHK(x, a);
  if (a >= 0) H5CHK(x, H5Awrite(a, t, buf)), H5Aclose(a);
  H5Sclose(s);
  H5Tclose(t);
  free(buf);
}

static void attr_strings(wctx *x, hid_t loc, const char *name, const char *const *v, int n) {
  size_t w = 1;
  for (int i = 0; i < n; i++)
    if (strlen(v[i]) > w) w = strlen(v[i]);
  int k = 1; /* chunks; the largest holds ceil(n / k) strings */
  while ((size_t)((n + k - 1) / k) * w > RD_H5_ATTR_LIMIT && k < n) k++;
  if (k == 1) {
    attr_strings_one(x, loc, name, v, n, w);
    return;
  }
  for (int c = 0, first = 0; c < k; c++) {
    int cnt = n / k + (c < n % k ? 1 : 0);
    char nm[128];
    snprintf(nm, sizeof nm, "%s%d", name, c);
    attr_strings_one(x, loc, nm, v + first, cnt, w);
    first += cnt;
  }
}

static void attr_string_one(wctx *x, hid_t loc, const char *name, const char *v, size_t len) {
  size_t w = len ? len : 1;
  hid_t t = H5Tcopy(H5T_C_S1);
  H5CHK(x, H5Tset_size(t, w));
  H5CHK(x, H5Tset_strpad(t, H5T_STR_NULLPAD));
  hid_t s = H5Screate(H5S_SCALAR);
  char *buf = calloc(1, w);
  RD_ASSERT(buf != NULL, "out of memory");
  memcpy(buf, v, len);
  hid_t a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  H5CHK(x, a);
  if (a >= 0) H5CHK(x, H5Awrite(a, t, buf)), H5Aclose(a);
  free(buf);
  H5Sclose(s);
  H5Tclose(t);
}

/* A text longer than one attribute holds goes to name0, name1, ... in order. */
static void attr_string(wctx *x, hid_t loc, const char *name, const char *v) {
  size_t len = strlen(v);
  if (len <= RD_H5_ATTR_LIMIT) {
    attr_string_one(x, loc, name, v, len);
    return;
  }
  for (size_t off = 0, c = 0; off < len; off += RD_H5_ATTR_LIMIT, c++) {
    char nm[128];
    snprintf(nm, sizeof nm, "%s%zu", name, c);
    attr_string_one(x, loc, nm, v + off, len - off < RD_H5_ATTR_LIMIT ? len - off : RD_H5_ATTR_LIMIT);
  }
}

static void attr_num(wctx *x, hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v) {
  hid_t s = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(loc, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT);
  H5CHK(x, a);
  if (a >= 0) H5CHK(x, H5Awrite(a, mtype, v)), H5Aclose(a);
  H5Sclose(s);
}

static void attr_u64(wctx *x, hid_t loc, const char *name, uint64_t v) {
  attr_num(x, loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
}

int rd_h5_attr_u64(int64_t loc, const char *name, uint64_t v) {
  wctx x = {0};
  attr_u64(&x, (hid_t)loc, name, v);
  return x.failed ? -1 : 0;
}

int rd_h5_attr_f64(int64_t loc, const char *name, double v) {
  wctx x = {0};
  attr_num(&x, (hid_t)loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
  return x.failed ? -1 : 0;
}

int rd_h5_attr_str(int64_t loc, const char *name, const char *v) {
  wctx x = {0};
  attr_string(&x, (hid_t)loc, name, v);
  return x.failed ? -1 : 0;
}

static int read_num_attr(hid_t loc, const char *name, hid_t mtype, void *out) {
  if (H5Aexists(loc, name) <= 0) return -1;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  if (a < 0) return -1;
  hid_t s = H5Aget_space(a);
  int ok = H5Sget_simple_extent_npoints(s) == 1 && H5Aread(a, mtype, out) >= 0;
  H5Sclose(s);
  H5Aclose(a);
  return ok ? 0 : -1;
}

int rd_h5_read_attr_u64(int64_t loc, const char *name, uint64_t *v) {
  return read_num_attr((hid_t)loc, name, H5T_NATIVE_UINT64, v);
}

int rd_h5_read_attr_f64(int64_t loc, const char *name, double *v) {
  return read_num_attr((hid_t)loc, name, H5T_NATIVE_DOUBLE, v);
}

static void hex64(uint64_t v, char out[17]) { snprintf(out, 17, "%016" PRIx64, v); }

/* Rank 0 checks the output path and makes the (empty) temporary file, so that a
 * bad path gets a message with the system's reason rather than HDF5's. */
/* HDF5 1.10 cannot recover from a write that fails at close (a later H5close
 * crashes), so the space is reserved up front: a full disk is then reported
 * before HDF5 writes anything. HDF5 truncates the file to its end on close, so
 * the reservation leaves no trace in the bytes. */
static rd_status prepare_output(const char *path, const char *tmp, int keep, off_t reserve, rd_err *err) {
  if (rd_comm_rank() == 0) {
    struct stat st;
    char *dup = strdup(path);
    RD_ASSERT(dup != NULL, "out of memory");
    const char *dir = dirname(dup);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
      rd_err_set(err, RD_EINPUT, "%s: output path is a directory; give a file name (-o PATH)", path);
    else if (stat(dir, &st) != 0)
      rd_err_set(err, RD_EINPUT, "%s: output directory '%s' does not exist (%s); create it first", path, dir,
                 strerror(errno));
    else if (!S_ISDIR(st.st_mode))
      rd_err_set(err, RD_EINPUT, "%s: '%s' is not a directory", path, dir);
    else {
      char *dup2 = strdup(path);
      RD_ASSERT(dup2 != NULL, "out of memory");
      rd_fs_clean_stale_tmps(dir, basename(dup2), 0);
      free(dup2);
      int rc = rd_fs_reserve(tmp, (long long)reserve);
      if (rc == ENOSPC || rc == EDQUOT)
        rd_err_set(err, RD_EINPUT, "%s: not enough free space in '%s' for the weights (%lld bytes); free some or use -o",
                   path, dir, (long long)reserve);
      else if (rc)
        rd_err_set(err, RD_EINPUT, "%s: cannot create a file in '%s' (%s); choose a writable place with -o", path,
                   dir, strerror(rc));
      else if (!keep)
        unlink(tmp);
    }
    free(dup);
  }
  return rd_comm_agree(err);
}

static char *temp_name(const char *path) {
  uint64_t pid = (uint64_t)getpid();
  rd_comm_bcast_u64(&pid, 0);
  size_t tn = strlen(path) + 32;
  char *tmp = malloc(tn);
  RD_ASSERT(tmp != NULL, "out of memory");
  snprintf(tmp, tn, "%s.tmp.%" PRIu64, path, pid);
  return tmp;
}

rd_status rd_h5_check_output(const char *path, rd_err *err) {
  char *tmp = temp_name(path);
  rd_status st = prepare_output(path, tmp, 0, 0, err);
  free(tmp);
  return st;
}


rd_status rd_h5_write_weights(const char *path, const rd_model *m, const float *params, const rd_provenance *prov,
                              rd_err *err) {
  char *tmp = temp_name(path);
  /* Data, plus generous room for HDF5's metadata and the attributes. */
  off_t reserve = (off_t)(m->nparams * sizeof(float)) + (off_t)strlen(prov->config_text) +
                  (prov->fingerprint ? (off_t)strlen(prov->fingerprint) : 0) + 8192 * (off_t)(m->nlayers + 8);
  if (prepare_output(path, tmp, 1, reserve, err)) {
    free(tmp);
    return err->code;
  }

  wctx x = {0};
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5CHK(&x, rd_comm_h5_fapl_mpio(fapl));
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  H5CHK(&x, H5Pset_obj_track_times(fcpl, 0));
  hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
  H5Pclose(fapl);
  H5Pclose(fcpl);
  if (f < 0) {
    rd_err_set(err, RD_EINPUT, "%s: HDF5 could not create the file (check the path and free space)", path);
  } else {
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5CHK(&x, H5Pset_obj_track_times(gcpl, 0));
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5CHK(&x, H5Pset_obj_track_times(dcpl, 0));
    H5CHK(&x, H5Pset_layout(dcpl, H5D_CONTIGUOUS));
    H5CHK(&x, H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER));
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5CHK(&x, H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));

    /* Keras' model.layers order: a graph's (a Functional model's) by depth,
     * after its input layer; a stack's as written. */
    const char **names = malloc(sizeof *names * (size_t)(m->nlayers + 1));
    RD_ASSERT(names != NULL, "out of memory");
    int nn = 0;
    if (m->graph) names[nn++] = RD_INPUT_LAYER_NAME;
    for (int i = 0; i < m->nlayers; i++) names[nn++] = m->layers[m->keras_order[i]].name;
    attr_strings(&x, f, "layer_names", names, nn);
    free(names);
    attr_string(&x, f, "backend", "tensorflow");
    attr_string(&x, f, "keras_version", "2.15.0");
    attr_string(&x, f, "reprodist_version", prov->version);
    attr_string(&x, f, "reprodist_config", prov->config_text);
    char hx[17];
    hex64(prov->config_digest, hx);
    attr_string(&x, f, "reprodist_config_xxh64", hx);
    attr_u64(&x, f, "reprodist_seed", prov->global_seed);
    attr_string(&x, f, "reprodist_openblas_core", prov->openblas_core);
    if (prov->fingerprint) attr_string(&x, f, "reprodist_fingerprint", prov->fingerprint);
    if (prov->plugins && *prov->plugins) attr_string(&x, f, "reprodist_plugins", prov->plugins);

    /* Every rank makes the same sequence of HDF5 calls even after a local
     * failure (a full disk is seen by the writing rank only): leaving the
     * sequence early would leave the others waiting in a collective. */
    if (m->graph) { /* the input layer: no weights */
      hid_t g = H5Gcreate2(f, RD_INPUT_LAYER_NAME, H5P_DEFAULT, gcpl, H5P_DEFAULT);
      H5CHK(&x, g);
      if (g >= 0) attr_strings(&x, g, "weight_names", NULL, 0), H5Gclose(g);
    }
    for (int i = 0; i < m->nlayers; i++) {
      const rd_layer *L = &m->layers[m->keras_order[i]];
      /* Keras: a group per layer with its weight_names; the weights at
       * "<layer>/<tensor>:0" inside it (so a subgroup named like the layer),
       * trainable first. A layer without weights has an empty list and no subgroup. */
      hid_t g = H5Gcreate2(f, L->name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
      hid_t g2 = g >= 0 && L->nt ? H5Gcreate2(g, L->name, H5P_DEFAULT, gcpl, H5P_DEFAULT) : -1;
      H5CHK(&x, g);
      if (L->nt) H5CHK(&x, g2);
      char(*wn)[2 * RD_NAME_MAX + 40] = calloc((size_t)L->nt + 1, sizeof *wn);
      const char **wnp = calloc((size_t)L->nt + 1, sizeof *wnp);
      RD_ASSERT(wn && wnp, "out of memory");
      int nw = 0;
      for (int pass = 1; pass >= 0 && g2 >= 0; pass--)
        for (int k = 0; k < L->nt; k++) {
          const rd_tensor *T = &m->tensors[L->t0 + k];
          if (T->trainable != pass) continue;
          snprintf(wn[nw], sizeof wn[nw], "%s/%s:0", L->name, T->name);
          wnp[nw] = wn[nw];
          nw++;
          char dname[64];
          snprintf(dname, sizeof dname, "%s:0", T->name);
          hsize_t dims[RD_MAX_DIMS];
          for (int d = 0; d < T->shape.ndim; d++) dims[d] = (hsize_t)T->shape.dim[d];
          hid_t fs = H5Screate_simple(T->shape.ndim, dims, NULL);
          hid_t d = H5Dcreate2(g2, dname, H5T_IEEE_F32LE, fs, H5P_DEFAULT, dcpl, H5P_DEFAULT);
          H5CHK(&x, d);
          if (d >= 0) {
            /* Collective write; rank 0 holds the data, the others select nothing. */
            hid_t ms = H5Screate_simple(T->shape.ndim, dims, NULL);
            if (rd_comm_rank() != 0) H5Sselect_none(ms), H5Sselect_none(fs);
            H5CHK(&x, H5Dwrite(d, H5T_NATIVE_FLOAT, ms, fs, dxpl, params + T->offset));
            H5Sclose(ms);
            attr_u64(&x, d, "reprodist_seed", T->seed);
            hex64(rd_seed_digest_f32(params + T->offset, T->numel), hx);
            attr_string(&x, d, "reprodist_xxh64", hx);
            H5Dclose(d);
          }
          H5Sclose(fs);
        }
      if (g >= 0) attr_strings(&x, g, "weight_names", wnp, nw);
      free(wn);
      free(wnp);
      if (g2 >= 0) H5Gclose(g2);
      if (g >= 0) H5Gclose(g);
    }
    H5Pclose(dxpl);
    H5Pclose(dcpl);
    H5Pclose(gcpl);
    if (H5Fclose(f) < 0) x.failed = 1, g_h5_close_failed = 1;
    if (x.failed)
      rd_err_set(err, RD_EINPUT, "%s: writing the weights failed (disk full or I/O error); the old file, if any, is untouched",
                 path);
  }
  rd_comm_agree(err);
  if (err->code == RD_OK && rd_comm_rank() == 0) rd_fs_commit(tmp, path, err);
  if (rd_comm_agree(err) != RD_OK && rd_comm_rank() == 0) unlink(tmp);
  free(tmp);
  return err->code;
}

/* ---- reading --------------------------------------------------------------------- */

/* Reads a string or string-array attribute into a malloc'ed vector of strings. */
static int read_str_attr_one(hid_t loc, const char *name, char ***out, int *n);
static void free_strs(char **v, int n);

/* name, or Keras' split form name0, name1, ... joined in order. */
static int read_str_attr(hid_t loc, const char *name, char ***out, int *n) {
  if (H5Aexists(loc, name) > 0) return read_str_attr_one(loc, name, out, n);
  *out = NULL;
  *n = 0;
  for (int c = 0;; c++) {
    char nm[128];
    snprintf(nm, sizeof nm, "%s%d", name, c);
    if (H5Aexists(loc, nm) <= 0) return c > 0 ? 0 : -1;
    char **part = NULL;
    int k = 0;
    if (read_str_attr_one(loc, nm, &part, &k) != 0) {
      free_strs(*out, *n);
      *out = NULL, *n = 0;
      return -1;
    }
    *out = realloc(*out, sizeof **out * (size_t)(*n + k + 1));
    RD_ASSERT(*out != NULL, "out of memory");
    memcpy(*out + *n, part, sizeof *part * (size_t)k);
    *n += k;
    free(part);
  }
}

/* An attribute's size comes from the file: a corrupt one may claim any count or
 * width. Keras splits its lists at 64512 bytes; anything near this is refused. */
#define RD_H5_ATTR_MAX_BYTES (1 << 26)

/* A string attribute is a few bytes to a few hundred KB of metadata: HDF5
 * still reading one after this long is looping (see rd_h5_guard_deadline). */
#define RD_H5_ATTR_SECONDS 30

static int read_str_attr_guarded(hid_t loc, const char *name, char ***out, int *n);

static int read_str_attr_one(hid_t loc, const char *name, char ***out, int *n) {
  rd_h5_guard_deadline(RD_H5_ATTR_SECONDS);
  int rc = read_str_attr_guarded(loc, name, out, n);
  rd_h5_guard_deadline(0);
  return rc;
}

static int read_str_attr_guarded(hid_t loc, const char *name, char ***out, int *n) {
  *out = NULL;
  *n = 0;
  if (H5Aexists(loc, name) <= 0) return -1;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  if (a < 0) return -1;
  hid_t t = H5Aget_type(a), s = H5Aget_space(a);
  hssize_t cnt = H5Sget_simple_extent_npoints(s);
  size_t w = H5Tget_size(t);
  int vlen = H5Tis_variable_str(t) > 0;
  char **v = NULL;
  int rc = -1;
  if (H5Tget_class(t) == H5T_STRING && cnt >= 0 && cnt <= RD_H5_ATTR_MAX_BYTES / 8 &&
      (vlen || (w > 0 && w <= RD_H5_ATTR_MAX_BYTES / ((size_t)cnt + 1)))) {
    v = calloc((size_t)cnt + 1, sizeof *v);
    RD_ASSERT(v != NULL, "out of memory");
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mt, H5Tget_cset(t)); /* HDF5 converts no string between ASCII and UTF-8 */
    if (vlen) {
      H5Tset_size(mt, H5T_VARIABLE);
      char **raw = calloc((size_t)cnt + 1, sizeof *raw);
      RD_ASSERT(raw != NULL, "out of memory");
      if (H5Aread(a, mt, raw) >= 0) {
        rc = 0;
        for (hssize_t i = 0; i < cnt; i++) {
          v[i] = strdup(raw[i] ? raw[i] : "");
          RD_ASSERT(v[i] != NULL, "out of memory");
        }
        H5Dvlen_reclaim(mt, s, H5P_DEFAULT, raw);
      }
      free(raw);
    } else {
      char *buf = calloc((size_t)cnt + 1, w);
      RD_ASSERT(buf != NULL, "out of memory");
      H5Tset_size(mt, w);
      H5Tset_strpad(mt, H5T_STR_NULLPAD); /* NULLTERM would drop a full-width string's last byte */
      if (H5Aread(a, mt, buf) >= 0) {
        rc = 0;
        for (hssize_t i = 0; i < cnt; i++) {
          v[i] = calloc(1, w + 1);
          RD_ASSERT(v[i] != NULL, "out of memory");
          memcpy(v[i], buf + (size_t)i * w, w);
        }
      }
      free(buf);
    }
    H5Tclose(mt);
  }
  if (rc == 0) {
    *out = v;
    *n = (int)cnt;
  } else {
    free(v);
  }
  H5Sclose(s);
  H5Tclose(t);
  H5Aclose(a);
  return rc;
}

static void free_strs(char **v, int n) {
  for (int i = 0; i < n; i++) free(v[i]);
  free(v);
}

rd_status rd_h5_read_tensor(int64_t loc, const char *name, const char *path, const char *dpath, uint64_t file_size,
                            rd_h5_weights *w, rd_err *err) {
  hid_t g = (hid_t)loc;
  hid_t d = H5Lexists(g, name, H5P_DEFAULT) > 0 ? H5Dopen2(g, name, H5P_DEFAULT) : -1;
  if (d < 0) return rd_err_set(err, RD_EINPUT, "%s: dataset %s is missing", path, dpath);
  hid_t s = H5Dget_space(d), t = H5Dget_type(d);
  int nd = H5Sget_simple_extent_ndims(s);
  if (H5Tget_class(t) != H5T_FLOAT || nd < 0 || nd > 4) {
    rd_err_set(err, RD_EINPUT, "%s: dataset %s is not a float tensor of rank <= 4", path, dpath);
  } else {
    w->tensors = realloc(w->tensors, sizeof *w->tensors * (size_t)(w->ntensors + 1));
    RD_ASSERT(w->tensors != NULL, "out of memory");
    rd_h5_tensor *T = &w->tensors[w->ntensors++];
    memset(T, 0, sizeof *T);
    T->path = strdup(dpath);
    T->ndim = nd;
    hsize_t dims[4] = {0};
    H5Sget_simple_extent_dims(s, dims, NULL);
    /* The shape comes from the file: a corrupt one may claim any size. */
    int huge = 0;
    T->numel = 1;
    for (int q = 0; q < nd; q++) {
      T->shape[q] = (int64_t)dims[q];
      huge |= dims[q] > INT64_MAX || __builtin_mul_overflow(T->numel, (size_t)dims[q], &T->numel);
    }
    huge |= T->numel > SIZE_MAX / sizeof(float);
    /* Unfiltered data stored in this file cannot be larger than the file. */
    hid_t dcpl = H5Dget_create_plist(d);
    H5D_layout_t lay = H5Pget_layout(dcpl);
    int inside = (lay == H5D_CONTIGUOUS || lay == H5D_COMPACT) && H5Pget_external_count(dcpl) == 0;
    H5Pclose(dcpl);
    if (!huge && inside && T->numel > file_size / (H5Tget_size(t) ? H5Tget_size(t) : 1))
      rd_err_set(err, RD_EINPUT, "%s: dataset %s claims more data than the file holds (corrupt file?)", path, dpath);
    else if (!(T->data = huge ? NULL : malloc(sizeof(float) * (T->numel ? T->numel : 1))))
      rd_err_set(err, RD_EINPUT, "%s: dataset %s is too large to hold in memory (corrupt file?)", path, dpath);
    else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, T->data) < 0)
      rd_err_set(err, RD_EINPUT, "%s: dataset %s could not be read (truncated or corrupt file?)", path, dpath);
  }
  H5Tclose(t);
  H5Sclose(s);
  H5Dclose(d);
  return err->code;
}

static rd_status read_weights(const char *path, rd_h5_weights *w, rd_err *err) {
  struct stat st;
  if (stat(path, &st) != 0) return rd_err_set(err, RD_EINPUT, "%s: cannot open (%s)", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) return rd_err_set(err, RD_EINPUT, "%s: is a directory, not a weights file", path);
  if (H5Fis_hdf5(path) <= 0) return rd_err_set(err, RD_EINPUT, "%s: not an HDF5 file", path);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return rd_err_set(err, RD_EINPUT, "%s: HDF5 could not open the file (corrupt or truncated?)", path);
  char **layers = NULL;
  int nl = 0;
  if (read_str_attr(f, "layer_names", &layers, &nl) != 0) {
    H5Fclose(f);
    return rd_err_set(err, RD_EINPUT, "%s: no 'layer_names' attribute at '/': not a Keras/reprodist weights file",
                      path);
  }
  for (int i = 0; i < nl && err->code == RD_OK; i++) {
    hid_t g = H5Oexists_by_name(f, layers[i], H5P_DEFAULT) > 0 ? H5Gopen2(f, layers[i], H5P_DEFAULT) : -1;
    if (g < 0) {
      rd_err_set(err, RD_EINPUT, "%s: layer '%s' is listed in layer_names but the group /%s is missing", path,
                 layers[i], layers[i]);
      break;
    }
    char **wn = NULL;
    int nw = 0;
    if (read_str_attr(g, "weight_names", &wn, &nw) != 0)
      rd_err_set(err, RD_EINPUT, "%s: group /%s has no 'weight_names' attribute", path, layers[i]);
    for (int k = 0; k < nw && err->code == RD_OK; k++) {
      char dpath[512];
      snprintf(dpath, sizeof dpath, "/%s/%s", layers[i], wn[k]);
      if (rd_h5_read_tensor(g, wn[k], path, dpath, (uint64_t)st.st_size, w, err)) break;
    }
    free_strs(wn, nw);
    H5Gclose(g);
  }
  free_strs(layers, nl);
  H5Fclose(f);
  if (err->code != RD_OK) rd_h5_weights_free(w);
  return err->code;
}

rd_status rd_h5_read_weights(const char *path, rd_h5_weights *w, rd_err *err) {
  memset(w, 0, sizeof *w);
  rd_h5_guard_begin(path);
  rd_status st = read_weights(path, w, err);
  rd_h5_guard_end();
  return st;
}

void rd_h5_weights_free(rd_h5_weights *w) {
  for (int i = 0; i < w->ntensors; i++) {
    free(w->tensors[i].path);
    free(w->tensors[i].data);
  }
  free(w->tensors);
  memset(w, 0, sizeof *w);
}

char *rd_h5_read_attr_str(int64_t loc, const char *name) {
  char **v = NULL;
  int n = 0;
  if (read_str_attr((hid_t)loc, name, &v, &n) != 0 || n != 1) {
    free_strs(v, n);
    return NULL;
  }
  char *s = v[0];
  free(v);
  return s;
}

static void shape_text(int ndim, const int64_t *dim, char *buf, size_t n) {
  size_t len = (size_t)snprintf(buf, n, "(");
  for (int i = 0; i < ndim && len < n; i++) len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? ", " : "", (long long)dim[i]);
  if (len < n) snprintf(buf + len, n - len, ndim == 1 ? ",)" : ")");
}

rd_status rd_h5_load_params(const char *path, const rd_model *m, float *params, rd_err *err) {
  rd_h5_weights w;
  if (rd_h5_read_weights(path, &w, err)) return err->code;
  for (int t = 0; t < m->ntensors && !err->code; t++) {
    const rd_tensor *x = &m->tensors[t];
    char with[3 * RD_NAME_MAX + 64], without[3 * RD_NAME_MAX + 64];
    snprintf(with, sizeof with, "/%s/%s/%s:0", x->layer, x->layer, x->name);
    snprintf(without, sizeof without, "/%s/%s/%s", x->layer, x->layer, x->name);
    const rd_h5_tensor *h = NULL;
    for (int i = 0; i < w.ntensors && !h; i++)
      if (!strcmp(w.tensors[i].path, with) || !strcmp(w.tensors[i].path, without)) h = &w.tensors[i];
    if (!h) {
      rd_err_set(err, RD_EINPUT, "%s: no dataset %s: the file holds another model than the config's", path, with);
      break;
    }
    int same = h->ndim == x->shape.ndim;
    for (int d = 0; same && d < h->ndim; d++) same = h->shape[d] == x->shape.dim[d];
    if (!same) {
      char a[128], b[128];
      shape_text(h->ndim, h->shape, a, sizeof a), shape_text(x->shape.ndim, x->shape.dim, b, sizeof b);
      rd_err_set(err, RD_EINPUT, "%s: dataset %s has shape %s, the config's model needs %s", path, h->path, a, b);
      break;
    }
    memcpy(params + x->offset, h->data, sizeof(float) * x->numel);
  }
  rd_h5_weights_free(&w);
  return err->code;
}
