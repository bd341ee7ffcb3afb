/* data: training and test samples from IDX files, HDF5 datasets or a formula.
 *
 *   idx        MNIST-format files, gzipped or not; rank 0 reads and broadcasts.
 *   hdf5       "FILE:DATASET" for features (N, ...) of 2 to 4 axes, uint8 or float32, and labels
 *              (N,) of any integer type; opened with parallel HDF5, and each rank
 *              reads only the rows of its shards, so memory does not grow with N.
 *   synthetic  features uniform in [0, 1) and labels from hash-derived seeds
 *              (docs/SEEDS.md §5): every rank computes them, nothing is sent.
 *
 * Feature value = float32(raw * scale), computed in double. Labels must lie in
 * [0, classes). Errors name the file (and dataset) and say what is wrong. */
#ifndef REPRODIST_DATA_H
#define REPRODIST_DATA_H

#include <stdint.h>

#include "cfg.h"
#include "reprodist/layer.h"
#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { RD_DATA_IDX, RD_DATA_HDF5, RD_DATA_SYNTHETIC } rd_data_source;

/* [data], read once before anything runs. Index RD_DATA_TRAIN is the training
 * set, RD_DATA_TEST the test set, RD_DATA_VAL the explicit validation set. */
enum { RD_DATA_TRAIN = 0, RD_DATA_TEST = 1, RD_DATA_VAL = 2, RD_DATA_SETS = 3 };

typedef struct rd_data_spec {
  rd_data_source source;
  const char *x[RD_DATA_SETS], *y[RD_DATA_SETS]; /* idx: paths (Fashion-MNIST by default; no default
                                                     validation set); hdf5: FILE:DATASET */
  int given[RD_DATA_SETS];  /* both x and y set in the config (hdf5 needs them) */
  int64_t limit[RD_DATA_SETS]; /* 0: all */
  int64_t samples[RD_DATA_SETS]; /* synthetic set sizes (validation: 0, none) */
  int has_val;              /* an explicit validation set: val_x and val_y, or synthetic val_samples */
  double validation_split;  /* Keras' fit(validation_split=): the last fraction of the training set; 0: none */
  double scale;
  const char *cfg_path;     /* for messages */
  char set_x[RD_DATA_SETS][320], set_y[RD_DATA_SETS][320]; /* what named each file: "[data] train_x, c.cfg:24"
                                                              or "[data] train_x's default" */
  char split_where[320];    /* where validation_split was set ("c.cfg:12"), for messages */
} rd_data_spec;

/* Reads [data] (cfg.h: errors are recorded in the config). The strings point
 * into cfg, which must outlive the spec. */
rd_status rd_data_spec_from_cfg(rd_data_spec *s, rd_cfg *cfg);

typedef struct rd_dataset {
  rd_data_source source;
  int64_t n;        /* samples (after limit) */
  rd_shape shape;   /* [model] input: what a sample must fit (see rd_data_open) */
  int64_t dim;      /* features per sample: its values */
  int64_t classes;
  double scale;
  char xname[1024], yname[1024]; /* for messages */
  char h5files[2100];             /* hdf5: the file(s), for rd_h5_guard_begin */
  const char *xkey, *ykey;        /* their config keys */
  const char *xset, *yset;        /* what named them (rd_data_spec set_x, set_y) */
  int64_t first;    /* sample i is row first + i of the source (a validation_split view) */
  int view;         /* 1: a view of another dataset's storage (rd_data_split): closing frees nothing */
  uint8_t *u8;      /* idx: n * dim bytes */
  int32_t *labels;  /* idx: n labels */
  int64_t hx, hy, hfx, hfy; /* hdf5 handles (hid_t) */
  int x_is_u8;
  uint64_t seed_x, seed_y;  /* synthetic */
  /* hdf5 scratch for one shard, made at open: */
  int64_t scratch_rows;
  void *xbuf;
  int64_t *ybuf;
} rd_dataset;

/* Collective. which: RD_DATA_TRAIN, RD_DATA_TEST or RD_DATA_VAL. max_rows bounds
 * one fetch (the shard size). Samples must fit the input shape: as many values,
 * and the same shape unless the input is flat (784 takes 28x28 images); a
 * channel axis of 1 may be missing from the data (28x28 images for 28,28,1).
 * Features are stored as they are, in C order (NHWC for images). */
rd_status rd_data_open(rd_dataset *d, const rd_data_spec *spec, int which, const rd_shape *input, int64_t classes,
                       uint64_t global_seed, int64_t max_rows, rd_err *err);
/* Keras' validation split of the open training set d: its first
 * floor(n (1 - validation_split)) samples stay, val becomes a view of the
 * rest (taken before any shuffling, as Keras' fit does). Refuses (naming the
 * key) a split that leaves either part empty. Not collective (every rank
 * computes the same). */
rd_status rd_data_split(rd_dataset *d, const rd_data_spec *spec, rd_dataset *val, rd_err *err);
/* Gathers rows[0..n) into x (n, dim) and y (n). Not collective. */
/* Serial: every sample of an input file for prediction, scaled by `scale` as
 * training scales its features, into *x (malloc'ed, *n rows of
 * numel(input) floats). The file is a .npy array (uint8, float32 or float64,
 * C order, shape (N, ...)), FILE:DATASET of an HDF5 file (uint8 or float), or
 * an IDX uint8 file (.gz or not). Its samples must fit input as training's do;
 * non-finite values are refused. Errors name the file. */
rd_status rd_data_read_inputs(const char *path, const rd_shape *input, double scale, float **x, int64_t *n,
                              rd_err *err);

rd_status rd_data_fetch(rd_dataset *d, const uint32_t *rows, int64_t n, float *x, int32_t *y, rd_err *err);
void rd_data_close(rd_dataset *d);

#ifdef __cplusplus
}
#endif
#endif
