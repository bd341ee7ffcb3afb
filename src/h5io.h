/* h5io: weights files in the Keras 2 legacy save_weights layout.
 *
 *   /                      attrs layer_names, backend, keras_version, reprodist_*
 *   /<layer>               attr  weight_names = ["<layer>/kernel:0", "<layer>/bias:0"]
 *   /<layer>/<layer>/kernel:0   float32 (in, units), C order, contiguous
 *   /<layer>/<layer>/bias:0     float32 (units,)
 * Every layer is listed in layer_names, in model order; its tensors (any
 * number, 1-D to 4-D, trainable first as Keras orders them) are named in
 * weight_names; a layer without tensors has an empty weight_names and no
 * subgroup, as Keras' save_weights writes it.
 *
 * Strings are fixed-length, null-padded ASCII. Object timestamps are off, so the
 * bytes depend only on the values written, not on when or at which np.
 * Writing is collective over the MPI-IO driver (rank 0 holds the data) and
 * atomic: a temporary file in the same directory, fsync, then rename. */
#ifndef REPRODIST_H5IO_H
#define REPRODIST_H5IO_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the file records about how it was made; nothing here may depend on np. */
typedef struct rd_provenance {
  const char *version;       /* reprodist version */
  const char *config_text;   /* rd_cfg_canonical */
  uint64_t config_digest;
  uint64_t global_seed;
  const char *openblas_core; /* rank 0's; ranks must agree (fingerprint) */
  const char *fingerprint;   /* environment fingerprint text, or NULL */
  const char *plugins;       /* "name@xxh64,..." of the plugins the model uses, or NULL / "" */
} rd_provenance;

/* Collective. Writes the model's tensors from params (rank 0's copy is used). */
rd_status rd_h5_write_weights(const char *path, const rd_model *m, const float *params, const rd_provenance *prov,
                              rd_err *err);

/* Collective. Checks, before long work, that path can be written: its directory
 * exists and takes a new file, and path is not a directory. Creates nothing. */
rd_status rd_h5_check_output(const char *path, rd_err *err);

/* One tensor read back from a weights file (any Keras 2 legacy .h5). */
typedef struct rd_h5_tensor {
  char *path;     /* "/<layer>/<layer>/kernel:0" */
  int ndim;
  int64_t shape[4];
  size_t numel;
  float *data;
} rd_h5_tensor;

typedef struct rd_h5_weights {
  int ntensors;
  rd_h5_tensor *tensors;
} rd_h5_weights;

/* Serial read (no MPI needed) following Keras' loader: layer_names order, then
 * each layer's weight_names. Errors name the file and the dataset. */
rd_status rd_h5_read_weights(const char *path, rd_h5_weights *w, rd_err *err);
void rd_h5_weights_free(rd_h5_weights *w);
/* Appends to w the float dataset `name` of group loc (a hid_t) of file path
 * (file_size bytes), shown as dpath in messages; a dataset that claims more
 * data than the file holds is refused before it is read. */
rd_status rd_h5_read_tensor(int64_t loc, const char *name, const char *path, const char *dpath, uint64_t file_size,
                            rd_h5_weights *w, rd_err *err);
/* Fills params (m->nparams floats) from a weights file: each of the model's
 * tensors from /<layer>/<layer>/<name>:0 (or <name>, as Keras 3 writes it),
 * with the model's shape. Serial. A missing tensor or a shape that differs is
 * an error naming the file, the dataset and both shapes. */
rd_status rd_h5_load_params(const char *path, const rd_model *m, float *params, rd_err *err);

/* Small attribute helpers for other HDF5 writers (ckpt). loc is a hid_t.
 * Return 0 on success, -1 on failure. Strings are fixed-length, null-padded. */
int rd_h5_attr_u64(int64_t loc, const char *name, uint64_t v);
int rd_h5_attr_f64(int64_t loc, const char *name, double v);
int rd_h5_attr_str(int64_t loc, const char *name, const char *v);
int rd_h5_read_attr_u64(int64_t loc, const char *name, uint64_t *v);
int rd_h5_read_attr_f64(int64_t loc, const char *name, double *v);
/* A scalar or 1-element string attribute, malloc'ed; NULL if absent. */
char *rd_h5_read_attr_str(int64_t loc, const char *name);

/* Crash guard for HDF5 reading files reprodist did not check itself (weights
 * files, HDF5 data). Debian 12's HDF5 1.10.8 crashes inside the library
 * (SIGSEGV, ...) on some corrupt files. Between rd_h5_guard_begin(what) and
 * rd_h5_guard_end() such a signal writes one line, "<what>: HDF5 crashed
 * reading it: ...", and exits with RD_EINPUT (2); under mpirun the other ranks
 * are then stopped as for any failed rank. Nests: the innermost what is named.
 * rd_h5_guard_enabled (1) is for fuzz targets, which set it to 0 to see where
 * HDF5 crashed or hung. */
extern int rd_h5_guard_enabled;
void rd_h5_guard_begin(const char *what);
void rd_h5_guard_end(void);
/* Inside a guard, for small metadata reads only (never data): HDF5 1.10.8 also
 * loops forever on some corrupt files (global heaps of variable-length
 * strings). rd_h5_guard_deadline(s) arms a timer: HDF5 still running s seconds
 * later is taken for such a loop, with one line naming the file and exit 2.
 * rd_h5_guard_deadline(0) disarms it. Uses SIGALRM and alarm(). */
void rd_h5_guard_deadline(unsigned seconds);

/* Turns off HDF5's own error printing; reprodist reports errors itself. */
void rd_h5_quiet(void);
/* Closes HDF5 while MPI is still up. Returns -1 when a file failed to close
 * (HDF5 1.10 would crash finishing it): the caller then leaves with _exit. */
/* Records that an H5Fclose failed (a full disk while writing): HDF5 1.10 would
 * crash closing that file again in H5close, so rd_h5_shutdown skips it. */
void rd_h5_mark_close_failed(void);
int rd_h5_shutdown(void);

#ifdef __cplusplus
}
#endif
#endif
