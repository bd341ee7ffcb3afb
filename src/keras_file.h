/* keras_file: Keras 3 .keras archives (keras/src/saving/saving_lib.py).
 *
 * The archive is a zip of three members, stored (not compressed), in this
 * order, each dated 1980-01-01 00:00 (zip's first date):
 *   metadata.json     {"keras_version": "3.15.1", "date_saved": [run] date_saved}
 *   config.json       the model's config and compile_config (keras_model.h)
 *   model.weights.h5  layers/<class>[_N]/vars/<i> (keras_model.h), each layer's
 *                     variables trainable first; optimizer/vars/<i> (iteration,
 *                     learning_rate for a constant rate, then the slots in the
 *                     order Keras' optimizer builds them); vars; reprodist's
 *                     provenance as attributes of the root, as in the .h5 file
 * Nothing in it depends on the clock or on np: the same bytes at every rank
 * count. Zip through libzip, JSON through Jansson (kjson.h), HDF5 in memory
 * (the core driver) on rank 0, which holds the data. */
#ifndef REPRODIST_KERAS_FILE_H
#define REPRODIST_KERAS_FILE_H

#include <stdint.h>

#include "cfg.h"
#include "h5io.h"
#include "model.h"
#include "optim.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if path names a .keras archive (by its extension). */
int rd_keras_is_archive(const char *path);

/* Collective. Writes the archive atomically (a temporary file, then rename).
 * t NULL: no compile_config; opt NULL: no optimizer variables. */
rd_status rd_keras_write(const char *path, const rd_model *m, const rd_cfg *c, const rd_train_spec *t,
                         const float *params, const rd_optim_view *opt, const rd_provenance *prov,
                         const char *date_saved, rd_err *err);

/* Serial. The model's tensors of an archive (any Keras 3 .keras file), in
 * model.layers order, named "layers/conv2d_1/vars/0". Errors name the file and
 * the member. */
rd_status rd_keras_read_weights(const char *path, rd_h5_weights *w, rd_err *err);

/* Serial. Fills params (m->nparams floats) from an archive: each layer's
 * variables at layers/<class>[_N]/vars/<i> (keras_model.h), with the model's
 * shapes. A missing variable or another shape is an error naming the file,
 * the variable, the layer and the shapes. */
rd_status rd_keras_load_params(const char *path, const rd_model *m, float *params, rd_err *err);

/* Serial. A Keras model's JSON: a .keras archive's config.json, or the whole
 * of any other file (model.to_json()), in *text (malloc'ed, NUL-terminated). */
rd_status rd_keras_read_config(const char *path, char **text, size_t *len, rd_err *err);

#ifdef __cplusplus
}
#endif
#endif
