/* fuzz_h5: the two HDF5 readers on any file: weights (rd_h5_read_weights, what
 * `reprodist check/digest` run) and checkpoints (rd_ckpt_read, what --resume runs).
 *
 * Input: one file. It is read as a weights file and as a checkpoint of the model
 * in tests/fuzz/tiny.cfg (RD_FUZZ_TINY_CFG, compiled in), whose config digest
 * the seed checkpoints carry. A file that reads must hold every tensor it
 * announces; one that does not must give a one-line error naming the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "cfg.h"
#include "ckpt.h"
#include "h5io.h"
#include "job.h"
#include "mem.h"
#include "model.h"
#include "optim.h"
#include "seed.h"
#include "train.h"

#include <hdf5.h>

#ifndef RD_FUZZ_TINY_CFG
#error "define RD_FUZZ_TINY_CFG as the path of tests/fuzz/tiny.cfg"
#endif

static rd_job g_job;
static const rd_model *g_model = &g_job.model;
static size_t g_nopt;
static rd_ckpt_ident g_id;
static float *g_params, *g_opt;
static rd_optim g_o;
static rd_train_pos g_pos;
static rd_pieces g_pieces; /* what a checkpoint of tiny.cfg holds, as training reads it */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  rd_fuzz_setup(argc, argv);
  rd_h5_guard_enabled = 0; /* crashes must reach libFuzzer, which keeps them */
  /* HDF5 keeps what it frees on free lists, and by default gives back to
   * malloc whatever is over 1 MB; H5Fopen's metadata cache is bigger than
   * that. Under ASan every fresh large block is a new mmap, page-faulted and
   * cleared: 80% of an input's time. Unlimited lists reuse it: about 10 times
   * more executions per second. What sits on them stays reachable, so leak
   * checking is unaffected; libFuzzer's per-input check (run when an input
   * allocated more blocks than it freed) triggers only while the lists grow. */
  H5set_free_list_limits(-1, -1, -1, -1, -1, -1);
  rd_err err = {0};
  static char text[8192];
  FILE *f = fopen(RD_FUZZ_TINY_CFG, "rb");
  size_t n = f ? fread(text, 1, sizeof text, f) : 0;
  if (f) fclose(f);
  if (n == 0 || rd_job_load(&g_job, RD_FUZZ_TINY_CFG, text, n, NULL, 0, RD_JOB_NO_PLUGINS, &err)) {
    fprintf(stderr, "fuzz_h5: %s: %s\n", RD_FUZZ_TINY_CFG, n ? err.msg : "cannot read");
    abort();
  }
  g_nopt = (size_t)rd_optim_slots(&g_job.train.opt) * g_model->ntrain;
  g_id.config_digest = rd_cfg_digest(&g_job.cfg);
  g_id.fingerprint = NULL; /* no environment comparison (it would only warn) */
  g_params = rd_mem_alloc_f32(g_model->nparams);
  g_opt = rd_mem_alloc_f32(g_nopt + 1);
  rd_optim_init(&g_o, &g_job.train.opt, g_model);
  rd_train_pieces(&g_pieces, g_model, g_params, &g_o, g_opt, &g_pos, NULL, NULL);
  return 0;
}

static void check_message(const char *what, const rd_err *err, const char *path) {
  if (err->msg[0] == '\0' || strchr(err->msg, '\n') || !strstr(err->msg, path)) {
    fprintf(stderr, "fuzz_h5: %s: bad error message (code %d): '%s'\n", what, err->code, err->msg);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A new name each time: HDF5 must never see a file it may still hold open. */
  static unsigned long count;
  char name[64], path[512];
  snprintf(name, sizeof name, "input-%lu.h5", count++);
  rd_fuzz_write(name, data, size, path, sizeof path);

  rd_h5_weights w;
  rd_err err = {0};
  if (rd_h5_read_weights(path, &w, &err) == RD_OK) {
    for (int i = 0; i < w.ntensors; i++) {
      const rd_h5_tensor *T = &w.tensors[i];
      size_t numel = 1;
      for (int d = 0; d < T->ndim; d++) numel *= (size_t)T->shape[d];
      if (T->ndim < 0 || T->ndim > 4 || numel != T->numel || !T->path) abort();
      (void)rd_seed_digest_f32(T->data, T->numel); /* reads every element */
    }
    rd_h5_weights_free(&w);
  } else {
    check_message("weights", &err, path);
  }

  rd_err cerr = {0};
  if (rd_ckpt_read(path, NULL, g_model, &g_pieces, &g_id, NULL, 0, &cerr) != RD_OK)
    check_message("checkpoint", &cerr, path);
  unlink(path);
  return 0;
}
