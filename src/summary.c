/* summary: see summary.h. */
#include "summary.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void rd_summary_class(const char *type, char *buf, size_t n) {
  size_t o = 0;
  for (const char *p = type; *p && o + 1 < n; p++) {
    if (*p == '_') continue;
    const int start = p == type || p[-1] == '_';
    const int dim = *p == 'd' && p > type && isdigit((unsigned char)p[-1]) && (!p[1] || p[1] == '_'); /* 2d -> 2D */
    buf[o++] = (char)(start || dim ? toupper((unsigned char)*p) : *p);
  }
  buf[o] = '\0';
}

/* "(None, 28, 28, 16)" */
static void batch_shape(const rd_shape *s, char *buf, size_t n) {
  size_t o = (size_t)snprintf(buf, n, "(None");
  for (int d = 0; d < s->ndim && o < n; d++) o += (size_t)snprintf(buf + o, n - o, ", %" PRId64, s->dim[d]);
  if (o < n) snprintf(buf + o, n - o, ")");
}

/* "1,234,567" */
static void grouped(uint64_t v, char *buf, size_t n) {
  char d[32];
  const int k = snprintf(d, sizeof d, "%" PRIu64, v);
  size_t o = 0;
  for (int i = 0; i < k && o + 2 < n; i++) {
    if (i && (k - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = d[i];
  }
  buf[o] = '\0';
}

typedef struct {
  char name[2 * RD_NAME_MAX + 4], shape[100], params[32];
  char conn[RD_MAX_INPUTS][RD_NAME_MAX + 8];
  int nconn;
} row;

static void print_row(const row *r, const int *w, int graph) {
  for (int k = 0; k < (graph && r->nconn > 1 ? r->nconn : 1); k++) {
    if (graph)
      rd_log0(" %-*s %-*s %-*s %s", w[0], k ? "" : r->name, w[1], k ? "" : r->shape, w[2], k ? "" : r->params,
              r->nconn ? r->conn[k] : "[]");
    else
      rd_log0(" %-*s %-*s %s", w[0], r->name, w[1], r->shape, r->params);
  }
}

void rd_summary_print(const rd_model *m) {
  const int n = m->nlayers + (m->graph ? 1 : 0);
  row *rows = calloc((size_t)n, sizeof *rows);
  RD_ASSERT(rows != NULL, "out of memory");
  uint64_t total = 0, trainable = 0;
  int k = 0;
  if (m->graph) { /* Keras lists a Functional model's input layer */
    char s[96];
    batch_shape(&m->input, s, sizeof s);
    snprintf(rows[k].name, sizeof rows[k].name, "%s (InputLayer)", RD_INPUT_LAYER_NAME);
    snprintf(rows[k].shape, sizeof rows[k].shape, "[%s]", s);
    snprintf(rows[k].params, sizeof rows[k].params, "0");
    k++;
  }
  for (int i = 0; i < m->nlayers; i++, k++) {
    const rd_layer *L = &m->layers[m->keras_order[i]];
    char cls[64];
    rd_summary_class(L->type->name, cls, sizeof cls);
    snprintf(rows[k].name, sizeof rows[k].name, "%s (%s)", L->name, cls);
    batch_shape(&L->out, rows[k].shape, sizeof rows[k].shape);
    uint64_t p = 0;
    for (int t = 0; t < L->nt; t++) {
      const rd_tensor *T = &m->tensors[L->t0 + t];
      p += T->numel;
      if (T->trainable) trainable += T->numel;
    }
    total += p;
    grouped(p, rows[k].params, sizeof rows[k].params);
    rows[k].nconn = L->nin;
    for (int s = 0; s < L->nin; s++)
      snprintf(rows[k].conn[s], sizeof rows[k].conn[s], "%s[0][0]",
               L->src[s] < 0 ? RD_INPUT_LAYER_NAME : m->layers[L->src[s]].name);
  }
  int w[3] = {(int)strlen("Layer (type)"), (int)strlen("Output Shape"), (int)strlen("Param #")}, wc = 12;
  for (int i = 0; i < n; i++) {
    const char *f[3] = {rows[i].name, rows[i].shape, rows[i].params};
    for (int c = 0; c < 3; c++)
      if ((int)strlen(f[c]) > w[c]) w[c] = (int)strlen(f[c]);
    for (int s = 0; s < rows[i].nconn; s++)
      if ((int)strlen(rows[i].conn[s]) > wc) wc = (int)strlen(rows[i].conn[s]);
  }
  w[0] += 2, w[1] += 2, w[2] += 2;
  const int width = 1 + w[0] + 1 + w[1] + 1 + w[2] + (m->graph ? 1 + wc : 0);
  char under[512], equals[512];
  const int lw = width < (int)sizeof under - 1 ? width : (int)sizeof under - 1;
  memset(under, '_', (size_t)lw), under[lw] = '\0';
  memset(equals, '=', (size_t)lw), equals[lw] = '\0';
  rd_log0("Model: \"%s\"", m->graph ? "functional" : "sequential");
  rd_log0("%s", under);
  row head = {.nconn = 1};
  snprintf(head.name, sizeof head.name, "Layer (type)");
  snprintf(head.shape, sizeof head.shape, "Output Shape");
  snprintf(head.params, sizeof head.params, "Param #");
  snprintf(head.conn[0], sizeof head.conn[0], "Connected to");
  print_row(&head, w, m->graph);
  rd_log0("%s", equals);
  for (int i = 0; i < n; i++) {
    if (i) rd_log0("%s", m->graph ? under : "");
    print_row(&rows[i], w, m->graph);
  }
  rd_log0("%s", equals);
  char a[32], b[32], c[32];
  grouped(total, a, sizeof a), grouped(trainable, b, sizeof b), grouped(total - trainable, c, sizeof c);
  rd_log0("Total params: %s (%.2f KB)", a, (double)total * 4 / 1024);
  rd_log0("Trainable params: %s (%.2f KB)", b, (double)trainable * 4 / 1024);
  rd_log0("Non-trainable params: %s (%.2f KB)", c, (double)(total - trainable) * 4 / 1024);
  rd_log0("%s", under);
  free(rows);
}
