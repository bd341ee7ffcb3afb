/* fuzz_cfg: the config parser, overrides, schema and model building on any bytes.
 *
 * Input: CONFIG-TEXT [ '\0' ASSIGNMENT ]* -- the bytes before the first NUL are
 * the config file (rd_cfg_parse); each NUL-separated string after it is one
 * --set override (rd_cfg_set), applied in order. An input without NUL is a
 * plain config. (An override holding a newline is skipped: rd_cfg_set echoes
 * its text into the message, which then spans lines; reported, not fuzzed.)
 * Then rd_job_load reads it whole (the model and its layers, [train], [data],
 * [run], unread keys; plugins are refused), then the canonical text and
 * digest, the training checks and, for small models, the initializers,
 * exactly as the binary runs them. Every outcome must be OK
 * or an error whose message is one line naming the file or the --set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "mem.h"

/* Bounds the initializers' work per input (orthogonal is cubic). */
#define RD_FUZZ_MAX_INIT_PARAMS 16384

static void check_message(const rd_err *err) {
  /* A user error is one non-empty line. */
  if (err->code != RD_OK && (err->msg[0] == '\0' || strchr(err->msg, '\n'))) {
    fprintf(stderr, "fuzz_cfg: bad error message (code %d): '%s'\n", err->code, err->msg);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  const uint8_t *nul = memchr(data, '\0', size);
  size_t len = nul ? (size_t)(nul - data) : size;
  /* The overrides: NUL-terminated copies (the last one may lack its NUL). */
  char *sets[64];
  int nsets = 0;
  for (size_t off = len + 1; nul && off < size && nsets < 64;) {
    const uint8_t *end = memchr(data + off, '\0', size - off);
    size_t n = end ? (size_t)(end - (data + off)) : size - off;
    char *a = malloc(n + 1);
    if (!a) abort();
    memcpy(a, data + off, n);
    a[n] = '\0';
    if (!strchr(a, '\n')) sets[nsets++] = a;
    else free(a);
    off += n + 1;
  }
  rd_job job;
  rd_err err = {0};
  rd_status st = rd_job_load(&job, "fuzz.cfg", text, len, (const char *const *)sets, nsets, RD_JOB_NO_PLUGINS, &err);
  if (st == RD_OK) {
    free(rd_cfg_canonical(&job.cfg));
    (void)rd_cfg_digest(&job.cfg);
    rd_err terr = {0};
    rd_train_spec_check(&job.train, &job.model, &job.cfg, &terr);
    check_message(&terr);
    if (job.model.nparams <= RD_FUZZ_MAX_INIT_PARAMS) {
      float *params = rd_mem_alloc_f32(job.model.nparams);
      rd_model_init_params(&job.model, params);
      free(params);
    }
  }
  check_message(&err);
  rd_job_free(&job);
  for (int i = 0; i < nsets; i++) free(sets[i]);
  return 0;
}
