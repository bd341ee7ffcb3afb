/* fuzz_idx: the IDX reader (plain and gzip) through rd_data_open, as training does.
 *
 * Input: one IDX file, gzipped or not. Each input is opened twice with
 * [data] source = idx: once as train_x (images, beside a valid 16-label file),
 * once as train_y (labels, beside valid 16 images of 28x28). The model has 784
 * inputs and 10 classes. A file that opens must then deliver every row through
 * rd_data_fetch; one that does not must give a one-line error naming the file.
 * The same bytes are also read as a prediction input (rd_data_read_inputs), as
 * IDX and as a .npy file (the corpus holds .npy seeds too): read, every value
 * is finite; refused, one line naming the file. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "job.h"
#include "data.h"

enum { N = 16, DIM = 784, CLASSES = 10 };

static rd_job g_as_x, g_as_y; /* train_x = the input; train_y = the input */
static char g_in[512];

static void write_idx(const char *name, uint32_t magic, const uint32_t *dims, int nd, const uint8_t *body, size_t n,
                      char *path, size_t pn) {
  uint8_t *buf = malloc(4 + 4 * (size_t)nd + n);
  if (!buf) abort();
  uint32_t words[5] = {magic, 0, 0, 0, 0};
  for (int i = 0; i < nd; i++) words[1 + i] = dims[i];
  for (int i = 0; i <= nd; i++)
    for (int b = 0; b < 4; b++) buf[4 * i + b] = (uint8_t)(words[i] >> (24 - 8 * b));
  memcpy(buf + 4 + 4 * nd, body, n);
  rd_fuzz_write(name, buf, 4 + 4 * (size_t)nd + n, path, pn);
  free(buf);
}

static void make_cfg(rd_job *j, const char *x, const char *y) {
  char text[2048];
  int n = snprintf(text, sizeof text,
                   "[model]\ninput = %d\n[dense]\nunits = %d\nactivation = softmax\n"
                   "[data]\nsource = idx\ntrain_x = %s\ntrain_y = %s\n",
                   DIM, CLASSES, x, y);
  rd_err err = {0};
  if (rd_job_load(j, "fuzz_idx.cfg", text, (size_t)n, NULL, 0, RD_JOB_NO_PLUGINS, &err)) {
    fprintf(stderr, "fuzz_idx: %s\n", err.msg);
    abort();
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  rd_fuzz_setup(argc, argv);
  static uint8_t images[N * DIM], labels[N];
  for (int i = 0; i < N * DIM; i++) images[i] = (uint8_t)(i * 7);
  for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i % CLASSES);
  char xp[512], yp[512];
  const uint32_t xd[3] = {N, 28, 28}, yd[1] = {N};
  write_idx("valid-x.idx", 0x803, xd, 3, images, sizeof images, xp, sizeof xp);
  write_idx("valid-y.idx", 0x801, yd, 1, labels, sizeof labels, yp, sizeof yp);
  snprintf(g_in, sizeof g_in, "%s/input.idx", rd_fuzz_dir);
  make_cfg(&g_as_x, g_in, yp);
  make_cfg(&g_as_y, xp, g_in);
  return 0;
}

static void open_and_fetch(const rd_job *j) {
  rd_dataset d;
  rd_err err = {0};
  if (rd_data_open(&d, &j->data, 0, &j->model.input, CLASSES, 1, N, &err) == RD_OK) {
    if (d.n < 1 || d.dim != DIM) abort();
    static float x[N * DIM];
    int32_t y[N];
    uint32_t rows[N];
    for (int64_t s = 0; s < d.n; s += N) {
      int64_t k = d.n - s < N ? d.n - s : N;
      for (int64_t i = 0; i < k; i++) rows[i] = (uint32_t)(d.n - 1 - s - i); /* back to front */
      if (rd_data_fetch(&d, rows, k, x, y, &err)) abort(); /* idx data is in memory: cannot fail */
      for (int64_t i = 0; i < k; i++)
        if (y[i] < 0 || y[i] >= CLASSES) abort(); /* the open checked every label */
    }
  } else if (err.msg[0] == '\0' || strchr(err.msg, '\n') || !strstr(err.msg, "fuzz")) {
    fprintf(stderr, "fuzz_idx: bad error message (code %d): '%s'\n", err.code, err.msg);
    abort();
  }
  rd_data_close(&d);
}

static void read_inputs(const char *path) {
  const rd_shape in = {1, {DIM}};
  float *x = NULL;
  int64_t n = 0;
  rd_err err = {0};
  if (rd_data_read_inputs(path, &in, 0.5, &x, &n, &err) == RD_OK) {
    if (!x || n < 1) abort();
    for (int64_t i = 0; i < n * DIM; i++)
      if (!isfinite(x[i])) abort(); /* non-finite values are refused */
  } else if (err.msg[0] == '\0' || strchr(err.msg, '\n') || !strstr(err.msg, "fuzz") || x) {
    fprintf(stderr, "fuzz_idx: bad error message from rd_data_read_inputs (code %d): '%s'\n", err.code, err.msg);
    abort();
  }
  free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[512], npy[512];
  rd_fuzz_write("input.idx", data, size, path, sizeof path);
  open_and_fetch(&g_as_x);
  open_and_fetch(&g_as_y);
  read_inputs(path);
  unlink(path);
  rd_fuzz_write("input.npy", data, size, npy, sizeof npy);
  read_inputs(npy);
  unlink(npy);
  return 0;
}
