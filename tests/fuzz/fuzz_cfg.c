/* fuzz_cfg: the config parser, overrides, schema and model building on any bytes.
 *
 * Input: CONFIG-TEXT [ '\0' ASSIGNMENT ]* -- the bytes before the first NUL are
 * the config file (rd_cfg_parse); each NUL-separated string after it is one
 * --set override (rd_cfg_set), applied in order. An input without NUL is a
 * plain config. (An override holding a newline is skipped: rd_cfg_set echoes
 * its text into the message, which then spans lines; reported, not fuzzed.)
 * Then rd_cfg_validate, rd_model_from_cfg, the canonical text
 * and digest, the training spec (checkpoint_every etc.) and, for small models,
 * the initializers, exactly as the binary runs them. Every outcome must be OK
 * or an error whose message is one line naming the file or the --set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reprodist/cfg.h"
#include "reprodist/mem.h"
#include "reprodist/model.h"
#include "reprodist/train.h"

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
  rd_cfg cfg;
  rd_model m;
  rd_err err = {0};
  memset(&m, 0, sizeof m);
  rd_status st = rd_cfg_parse(&cfg, "fuzz.cfg", text, len, &err);
  /* The overrides: NUL-terminated copies (the last one may lack its NUL). */
  for (size_t off = len + 1; nul && off < size && st == RD_OK;) {
    const uint8_t *end = memchr(data + off, '\0', size - off);
    size_t n = end ? (size_t)(end - (data + off)) : size - off;
    char *a = malloc(n + 1);
    if (!a) abort();
    memcpy(a, data + off, n);
    a[n] = '\0';
    if (!strchr(a, '\n')) st = rd_cfg_set(&cfg, a, &err);
    free(a);
    off += n + 1;
  }
  if (st == RD_OK) st = rd_cfg_validate(&cfg, &err);
  if (st == RD_OK) st = rd_model_from_cfg(&m, &cfg, &err);
  if (st == RD_OK) {
    free(rd_cfg_canonical(&cfg));
    (void)rd_cfg_digest(&cfg);
    rd_train_spec t;
    rd_err terr = {0};
    rd_train_spec_from_cfg(&t, &cfg, &m, &terr);
    check_message(&terr);
    if (m.nparams <= RD_FUZZ_MAX_INIT_PARAMS) {
      float *params = rd_mem_alloc_f32(m.nparams);
      rd_model_init_params(&m, params);
      free(params);
    }
  }
  check_message(&err);
  rd_model_free(&m);
  rd_cfg_free(&cfg);
  return 0;
}
