/* fuzz_keras: the .keras archive reader and the Keras JSON importer on any bytes.
 *
 * Each input is read twice: as a .keras archive (rd_keras_read_weights, what
 * check, digest, evaluate and keras_weights read: libzip, config.json through
 * Jansson, model.weights.h5 in memory), and as a Keras model JSON that a config
 * imports ([model] keras = FILE, through rd_job_load: the whole importer and
 * then the model it builds). Every outcome must be OK or an error whose message
 * is one line naming the file. Seeds: corpus/keras/ (tests/fuzz/make_corpus.sh). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "job.h"
#include "keras_file.h"

#include <hdf5.h>

static void check_message(const char *what, const rd_err *err, const char *path) {
  if (err->code != RD_OK && (err->msg[0] == '\0' || strchr(err->msg, '\n') || !strstr(err->msg, path))) {
    fprintf(stderr, "fuzz_keras: %s: bad error message (code %d): '%s'\n", what, err->code, err->msg);
    abort();
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  rd_fuzz_setup(argc, argv);
  rd_h5_guard_enabled = 0; /* crashes must reach libFuzzer */
  H5set_free_list_limits(-1, -1, -1, -1, -1, -1); /* see fuzz_h5.c */
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[512], json[512];
  rd_fuzz_write("x.keras", data, size, path, sizeof path);
  rd_h5_weights w;
  rd_err err = {0};
  if (rd_keras_read_weights(path, &w, &err) == RD_OK) rd_h5_weights_free(&w);
  check_message("archive", &err, path);

  rd_fuzz_write("m.json", data, size, json, sizeof json);
  char cfg[1024];
  int n = snprintf(cfg, sizeof cfg,
                   "[run]\nseed = 1\n[model]\nkeras = %s\n[data]\nsource = synthetic\nsamples = 32\n"
                   "test_samples = 8\n[train]\nbatch_size = 8\nshard_size = 8\n", json);
  rd_job job;
  rd_err jerr = {0};
  rd_job_load(&job, "fuzz.cfg", cfg, (size_t)n, NULL, 0, RD_JOB_NO_PLUGINS, &jerr);
  if (jerr.code != RD_OK && (jerr.msg[0] == '\0' || strchr(jerr.msg, '\n'))) {
    fprintf(stderr, "fuzz_keras: import: bad error message (code %d): '%s'\n", jerr.code, jerr.msg);
    abort();
  }
  rd_job_free(&job);
  return 0;
}
