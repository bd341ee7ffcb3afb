/* keras_file: .keras archives, written and read (see keras_file.h). */
#include "keras_file.h"

#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "comm.h"
#include "keras_model.h"
#include "kjson.h"
#include "seed.h"

#define KERAS_VERSION "3.15.1"

int rd_keras_is_archive(const char *path) {
  size_t n = strlen(path);
  return n >= 6 && !strcmp(path + n - 6, ".keras");
}

/* ---- model.weights.h5, in memory ---------------------------------------------------- */

typedef struct {
  int failed;
  hid_t gcpl, dcpl;
} h5w;

#define CHK(x, call) ((call) < 0 ? ((x)->failed = 1) : 0)

static hid_t group(h5w *x, hid_t loc, const char *name) {
  hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, x->gcpl, H5P_DEFAULT);
  CHK(x, g);
  return g;
}

/* Keras' vars group: a variable-length UTF-8 "name" attribute, as h5py writes it. */
static hid_t vars_group(h5w *x, hid_t loc, const char *name) {
  hid_t g = group(x, loc, "vars");
  hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR);
  CHK(x, H5Tset_size(t, H5T_VARIABLE));
  CHK(x, H5Tset_cset(t, H5T_CSET_UTF8));
  hid_t a = H5Acreate2(g, "name", t, s, H5P_DEFAULT, H5P_DEFAULT);
  CHK(x, a);
  CHK(x, H5Awrite(a, t, &name));
  H5Aclose(a), H5Sclose(s), H5Tclose(t);
  return g;
}

static void dataset(h5w *x, hid_t g, int i, hid_t ftype, hid_t mtype, int ndim, const int64_t *shape,
                    const void *data) {
  char name[16];
  snprintf(name, sizeof name, "%d", i);
  hsize_t dims[RD_MAX_DIMS];
  for (int d = 0; d < ndim; d++) dims[d] = (hsize_t)shape[d];
  hid_t s = ndim ? H5Screate_simple(ndim, dims, NULL) : H5Screate(H5S_SCALAR);
  hid_t d = H5Dcreate2(g, name, ftype, s, H5P_DEFAULT, x->dcpl, H5P_DEFAULT);
  CHK(x, d);
  CHK(x, H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
  H5Dclose(d), H5Sclose(s);
}

/* Slot k of trainable tensor T in the optimizer's state. */
static const float *slot(const rd_optim_view *op, int k, const rd_tensor *T) {
  return op->state + (size_t)k * op->o->n + T->offset;
}

/* Keras' optimizer variables: iteration, learning_rate (a constant rate only),
 * with use_ema the averages, then the type's slots as its build() makes them:
 * Adam, AdamW and Nadam a momentum and a velocity per variable in turn (Nadam
 * then its u_product), the others one slot after the other over all variables. */
static void optimizer_vars(h5w *x, hid_t f, const rd_model *m, const rd_optim_view *op, const char *name) {
  const rd_optim_spec *s = op->o->s;
  hid_t og = group(x, f, "optimizer"), g = vars_group(x, og, name);
  int i = 0;
  const int64_t it = (int64_t)op->iterations;
  dataset(x, g, i++, H5T_STD_I64LE, H5T_NATIVE_INT64, 0, NULL, &it);
  if (!s->lr.type) {
    const float lr = (float)(op->o->lr_set > 0 ? op->o->lr_set : s->lr.lr);
    dataset(x, g, i++, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 0, NULL, &lr);
  }
  const int slots = s->type->slots(s->p);
  const int paired = !strcmp(s->type->name, "adam") || !strcmp(s->type->name, "adamw") || !strcmp(s->type->name, "nadam");
  /* Runs of slots: [ema average], then (0, 1) interleaved when paired, else each slot alone. */
  int runs[RD_OPTIM_NP + 2][2], nr = 0;
  if (s->use_ema) runs[nr][0] = slots, runs[nr++][1] = slots;
  for (int k = 0; k < slots; k++) {
    runs[nr][0] = k;
    runs[nr][1] = paired && k == 0 && slots > 1 ? ++k : k;
    nr++;
  }
  for (int r = 0; r < nr; r++)
    for (int q = 0; q < m->nlayers; q++) {
      const rd_layer *L = &m->layers[m->keras_order[q]];
      for (int t = 0; t < L->nt; t++) {
        const rd_tensor *T = &m->tensors[L->t0 + t];
        if (!T->trainable) continue;
        for (int k = runs[r][0]; k <= runs[r][1]; k++)
          dataset(x, g, i++, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, T->shape.ndim, T->shape.dim, slot(op, k, T));
      }
    }
  if (s->type->advance) { /* Nadam's u_product */
    const float u = (float)op->o->scalar;
    dataset(x, g, i++, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 0, NULL, &u);
  }
  H5Gclose(g), H5Gclose(og);
}

static void provenance(h5w *x, hid_t f, const rd_provenance *prov) {
  char hx[17];
  CHK(x, rd_h5_attr_str(f, "reprodist_version", prov->version));
  CHK(x, rd_h5_attr_str(f, "reprodist_config", prov->config_text));
  snprintf(hx, sizeof hx, "%016" PRIx64, prov->config_digest);
  CHK(x, rd_h5_attr_str(f, "reprodist_config_xxh64", hx));
  CHK(x, rd_h5_attr_u64(f, "reprodist_seed", prov->global_seed));
  CHK(x, rd_h5_attr_str(f, "reprodist_openblas_core", prov->openblas_core));
  if (prov->fingerprint) CHK(x, rd_h5_attr_str(f, "reprodist_fingerprint", prov->fingerprint));
  if (prov->plugins && *prov->plugins) CHK(x, rd_h5_attr_str(f, "reprodist_plugins", prov->plugins));
}

/* The weights file's bytes (malloc'ed) in *image, *len; 0, or -1 when HDF5 failed. */
static int weights_image(const rd_model *m, const float *params, const rd_optim_view *op, const char *opt_name,
                         const rd_provenance *prov, void **image, size_t *len) {
  h5w x = {0, H5Pcreate(H5P_GROUP_CREATE), H5Pcreate(H5P_DATASET_CREATE)};
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
  CHK(&x, H5Pset_fapl_core(fapl, 1 << 20, 0)); /* in memory, never on disk */
  CHK(&x, H5Pset_obj_track_times(fcpl, 0));
  CHK(&x, H5Pset_obj_track_times(x.gcpl, 0));
  CHK(&x, H5Pset_obj_track_times(x.dcpl, 0));
  CHK(&x, H5Pset_fill_time(x.dcpl, H5D_FILL_TIME_NEVER));
  hid_t f = H5Fcreate("model.weights.h5", H5F_ACC_TRUNC, fcpl, fapl);
  H5Pclose(fapl), H5Pclose(fcpl);
  if (f < 0) {
    H5Pclose(x.gcpl), H5Pclose(x.dcpl);
    return -1;
  }
  provenance(&x, f, prov);
  char(*groups)[RD_KERAS_GROUP_MAX] = calloc((size_t)m->nlayers, sizeof *groups);
  RD_ASSERT(groups != NULL, "out of memory");
  rd_keras_groups(m, groups);
  hid_t lg = group(&x, f, "layers");
  if (m->graph) { /* a Functional model's layers include its input layer */
    hid_t g = group(&x, lg, RD_INPUT_LAYER_NAME);
    H5Gclose(vars_group(&x, g, RD_INPUT_LAYER_NAME)), H5Gclose(g);
  }
  for (int q = 0; q < m->nlayers; q++) {
    const int l = m->keras_order[q];
    const rd_layer *L = &m->layers[l];
    hid_t g = group(&x, lg, groups[l] + strlen("layers/")), v = vars_group(&x, g, L->name);
    int i = 0;
    for (int pass = 1; pass >= 0; pass--) /* trainable first, as Keras' layer.weights */
      for (int t = 0; t < L->nt; t++) {
        const rd_tensor *T = &m->tensors[L->t0 + t];
        if (T->trainable == pass)
          dataset(&x, v, i++, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, T->shape.ndim, T->shape.dim, params + T->offset);
      }
    H5Gclose(v), H5Gclose(g);
  }
  H5Gclose(lg);
  free(groups);
  if (op) optimizer_vars(&x, f, m, op, opt_name);
  H5Gclose(vars_group(&x, f, m->graph ? "functional" : "sequential"));
  H5Pclose(x.gcpl), H5Pclose(x.dcpl);
  CHK(&x, H5Fflush(f, H5F_SCOPE_GLOBAL));
  ssize_t n = x.failed ? -1 : H5Fget_file_image(f, NULL, 0);
  *image = n > 0 ? malloc((size_t)n) : NULL;
  if (n <= 0 || !*image || H5Fget_file_image(f, *image, (size_t)n) != n) x.failed = 1;
  *len = n > 0 ? (size_t)n : 0;
  if (H5Fclose(f) < 0) x.failed = 1;
  return x.failed ? -1 : 0;
}

/* ---- the zip -------------------------------------------------------------------------- */

static int add_member(zip_t *z, const char *name, const void *data, size_t len) {
  zip_source_t *src = zip_source_buffer(z, data, len, 0);
  if (!src) return -1;
  zip_int64_t i = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8);
  if (i < 0) {
    zip_source_free(src);
    return -1;
  }
  /* Stored, as Keras writes them, and dated 1980-01-01 00:00 (DOS date 0x21, time 0): no clock, no time zone. */
  if (zip_set_file_compression(z, (zip_uint64_t)i, ZIP_CM_STORE, 0) < 0 ||
      zip_file_set_dostime(z, (zip_uint64_t)i, 0, 0x21, 0) < 0)
    return -1;
  return 0;
}

/* Rank 0's part: the members, then the zip at a temporary name renamed over path. */
static rd_status write_archive(const char *path, const rd_model *m, const rd_cfg *c, const rd_train_spec *t,
                               const float *params, const rd_optim_view *op, const rd_provenance *prov,
                               const char *date_saved, rd_err *err) {
  json_t *model = rd_keras_model_json(m, c, t);
  char *config = rd_kjson_dumps(model);
  json_t *opt_cfg = t ? json_object_get(json_object_get(json_object_get(model, "compile_config"), "optimizer"), "config")
                      : NULL;
  const char *opt_name = opt_cfg ? json_string_value(json_object_get(opt_cfg, "name")) : "optimizer";
  json_t *meta = json_object();
  rd_kjson_set(meta, "keras_version", json_string(KERAS_VERSION));
  rd_kjson_set(meta, "date_saved", json_string(date_saved));
  char *metadata = rd_kjson_dumps(meta);
  json_decref(meta);
  void *weights = NULL;
  size_t wlen = 0;
  if (weights_image(m, params, op, opt_name, prov, &weights, &wlen)) {
    rd_err_set(err, RD_EINPUT, "%s: HDF5 failed making model.weights.h5 in memory (out of memory?)", path);
  } else {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int zerr = 0;
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!z) {
      rd_err_set(err, RD_EINPUT, "%s: cannot create the archive (libzip error %d)", path, zerr);
    } else if (add_member(z, "metadata.json", metadata, strlen(metadata)) ||
               add_member(z, "config.json", config, strlen(config)) ||
               add_member(z, "model.weights.h5", weights, wlen)) {
      rd_err_set(err, RD_EINPUT, "%s: cannot add a member to the archive (%s)", path, zip_strerror(z));
      zip_discard(z);
    } else if (zip_close(z) < 0) {
      rd_err_set(err, RD_EINPUT, "%s: writing the archive failed (%s); the old file, if any, is untouched", path,
                 zip_strerror(z));
      zip_discard(z);
      unlink(tmp);
    } else if (rename(tmp, path) != 0) {
      rd_err_set(err, RD_EINPUT, "%s: cannot rename the finished archive into place (%s)", path, strerror(errno));
      unlink(tmp);
    }
  }
  free(weights);
  free(metadata);
  free(config);
  json_decref(model);
  return err->code;
}

rd_status rd_keras_write(const char *path, const rd_model *m, const rd_cfg *c, const rd_train_spec *t,
                         const float *params, const rd_optim_view *opt, const rd_provenance *prov,
                         const char *date_saved, rd_err *err) {
  if (rd_comm_rank() == 0) write_archive(path, m, c, t, params, opt, prov, date_saved, err);
  return rd_comm_agree(err);
}

/* ---- reading ----------------------------------------------------------------------------- */

static zip_t *open_archive(const char *path, rd_err *err) {
  int zerr = 0;
  zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, zerr);
    rd_err_set(err, RD_EINPUT, "%s: not a readable .keras archive (%s)", path, zip_error_strerror(&ze));
    zip_error_fini(&ze);
  }
  return z;
}

/* Member `name` of the archive, malloc'ed, in *data, *len. */
static rd_status member(const char *path, zip_t *z, const char *name, char **data, size_t *len, rd_err *err) {
  zip_stat_t st;
  zip_file_t *f = NULL;
  *data = NULL;
  if (zip_stat(z, name, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE))
    return rd_err_set(err, RD_EINPUT, "%s: no member %s: not a Keras 3 .keras archive", path, name);
  if (st.size > (zip_uint64_t)1 << 40 || !(*data = malloc(st.size + 1)) || !(f = zip_fopen(z, name, 0)) ||
      zip_fread(f, *data, st.size) != (zip_int64_t)st.size) {
    rd_err_set(err, RD_EINPUT, "%s: member %s could not be read (%s): truncated or corrupt archive?", path, name,
               f ? zip_file_strerror(f) : zip_strerror(z));
    free(*data), *data = NULL;
  } else {
    (*data)[st.size] = 0;
    *len = (size_t)st.size;
  }
  if (f) zip_fclose(f);
  return err->code;
}

/* The weights-file group of each entry of config.json's layers list, in order
 * (a Sequential model's input layer has none). */
static rd_status layer_groups(const char *path, const json_t *model, char (**groups)[RD_KERAS_GROUP_MAX], int *n,
                              rd_err *err) {
  const json_t *layers = json_object_get(json_object_get(model, "config"), "layers");
  const char *cls = json_string_value(json_object_get(model, "class_name"));
  if (!json_is_array(layers) || !cls)
    return rd_err_set(err, RD_EINPUT, "%s: config.json has no config.layers list: not a Keras model", path);
  const int seq = !strcmp(cls, "Sequential");
  const size_t nl = json_array_size(layers);
  *groups = calloc(nl + 1, sizeof **groups);
  const char **classes = calloc(nl + 1, sizeof *classes);
  RD_ASSERT(*groups && classes, "out of memory");
  *n = 0;
  for (size_t i = 0; i < nl && !err->code; i++) {
    const char *c = json_string_value(json_object_get(json_array_get(layers, i), "class_name"));
    if (!c) {
      rd_err_set(err, RD_EINPUT, "%s: config.json: layer %zu has no class_name", path, i + 1);
      break;
    }
    if (seq && !strcmp(c, "InputLayer")) continue;
    int count = 0; /* earlier layers of the same class */
    for (int j = 0; j < *n; j++) count += !strcmp(classes[j], c);
    classes[*n] = c;
    rd_keras_group(c, count, (*groups)[(*n)++]);
  }
  free(classes);
  return err->code;
}

static rd_status read_archive(const char *path, rd_h5_weights *w, rd_err *err) {
  zip_t *z = open_archive(path, err);
  if (!z) return err->code;
  char *config = NULL, *weights = NULL, what[4200];
  size_t clen = 0, wlen = 0;
  json_t *model = NULL;
  char(*groups)[RD_KERAS_GROUP_MAX] = NULL;
  int ng = 0;
  snprintf(what, sizeof what, "%s: config.json", path);
  if (!member(path, z, "config.json", &config, &clen, err) && !rd_kjson_parse(what, config, clen, &model, err) &&
      !layer_groups(path, model, &groups, &ng, err) && !member(path, z, "model.weights.h5", &weights, &wlen, err)) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 20, 0);
    H5Pset_file_image(fapl, weights, wlen);
    hid_t f = H5Fopen("model.weights.h5", H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0) {
      rd_err_set(err, RD_EINPUT, "%s: member model.weights.h5 is not a readable HDF5 file", path);
    } else {
      for (int i = 0; i < ng && !err->code; i++) {
        char vars[RD_KERAS_GROUP_MAX + 8];
        snprintf(vars, sizeof vars, "%s/vars", groups[i]);
        hid_t g = H5Lexists(f, "layers", H5P_DEFAULT) > 0 && H5Lexists(f, groups[i], H5P_DEFAULT) > 0 &&
                          H5Lexists(f, vars, H5P_DEFAULT) > 0
                      ? H5Gopen2(f, vars, H5P_DEFAULT)
                      : -1;
        if (g < 0) {
          rd_err_set(err, RD_EINPUT, "%s: model.weights.h5 has no group %s for layer %d of config.json", path, vars,
                     i + 1);
          break;
        }
        for (int k = 0;; k++) {
          char name[16], dpath[RD_KERAS_GROUP_MAX + 32];
          snprintf(name, sizeof name, "%d", k);
          if (H5Lexists(g, name, H5P_DEFAULT) <= 0) break;
          snprintf(dpath, sizeof dpath, "%s/%s", vars, name);
          if (rd_h5_read_tensor(g, name, path, dpath, wlen, w, err)) break;
        }
        H5Gclose(g);
      }
      H5Fclose(f);
    }
  }
  free(groups);
  json_decref(model);
  free(config);
  free(weights);
  zip_discard(z);
  return err->code;
}

rd_status rd_keras_read_weights(const char *path, rd_h5_weights *w, rd_err *err) {
  memset(w, 0, sizeof *w);
  rd_h5_guard_begin(path);
  rd_status st = read_archive(path, w, err);
  rd_h5_guard_end();
  if (st) rd_h5_weights_free(w);
  return st;
}

rd_status rd_keras_read_config(const char *path, char **text, size_t *len, rd_err *err) {
  *text = NULL;
  if (!rd_keras_is_archive(path)) {
    FILE *f = fopen(path, "rb");
    if (!f) return rd_err_set(err, RD_EINPUT, "%s: cannot open (%s)", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    RD_ASSERT(b != NULL, "out of memory");
    for (size_t got; (got = fread(b + n, 1, cap - n - 1, f)) > 0;) {
      n += got;
      if (n + 1 == cap) {
        b = realloc(b, cap *= 2);
        RD_ASSERT(b != NULL, "out of memory");
      }
    }
    const int bad = ferror(f);
    fclose(f);
    if (bad) {
      free(b);
      return rd_err_set(err, RD_EINPUT, "%s: read error", path);
    }
    b[n] = 0;
    *text = b, *len = n;
    return RD_OK;
  }
  zip_t *z = open_archive(path, err);
  if (!z) return err->code;
  member(path, z, "config.json", text, len, err);
  zip_discard(z);
  return err->code;
}

rd_status rd_keras_load_params(const char *path, const rd_model *m, float *params, rd_err *err) {
  rd_h5_weights w;
  if (rd_keras_read_weights(path, &w, err)) return err->code;
  char(*groups)[RD_KERAS_GROUP_MAX] = calloc((size_t)m->nlayers + 1, sizeof *groups);
  RD_ASSERT(groups != NULL, "out of memory");
  rd_keras_groups(m, groups);
  for (int l = 0; l < m->nlayers && !err->code; l++) {
    const rd_layer *L = &m->layers[l];
    int i = 0;
    for (int pass = 1; pass >= 0 && !err->code; pass--) /* trainable first, as Keras numbers them */
      for (int t = 0; t < L->nt && !err->code; t++) {
        const rd_tensor *T = &m->tensors[L->t0 + t];
        if (T->trainable != pass) continue;
        char want[RD_KERAS_GROUP_MAX + 32];
        snprintf(want, sizeof want, "%s/vars/%d", groups[l], i++);
        const rd_h5_tensor *h = NULL;
        for (int k = 0; k < w.ntensors && !h; k++)
          if (!strcmp(w.tensors[k].path, want)) h = &w.tensors[k];
        int ok = h && h->ndim == T->shape.ndim;
        for (int d = 0; ok && d < h->ndim; d++) ok = h->shape[d] == T->shape.dim[d];
        if (!h)
          rd_err_set(err, RD_EINPUT, "%s: no %s (layer '%s', %s): the archive holds another model than the config's",
                     path, want, L->name, T->name);
        else if (!ok)
          rd_err_set(err, RD_EINPUT, "%s: %s (layer '%s', %s) has %d dimensions (%lld, ...), the config's model needs "
                                     "%s", path, want, L->name, T->name, h->ndim, (long long)h->shape[0],
                     rd_shape_text(&T->shape, (char[64]){0}, 64));
        else
          memcpy(params + T->offset, h->data, sizeof(float) * T->numel);
      }
  }
  free(groups);
  rd_h5_weights_free(&w);
  return err->code;
}
