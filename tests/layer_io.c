/* layer_io: runs the last layer of a config once, forward and backward, on
 * inputs it draws itself (one array per input: the layers before it only give
 * the shapes), and writes everything to a directory, for
 * tests/reference_layers.py to recompute in numpy float64:
 *     layer_io CONFIG OUTDIR ROWS TRAINING ITERATION TIES
 * OUTDIR/io.json names the layer, its shapes, seeds and tensors; the arrays
 * are raw little-endian float32 files (the config's [train] kernels: portable,
 * the default, or openblas): x, y (before the activation: the
 * layer's own output), dy, dx, w_<tensor>, g_<tensor> (trainable ones) and
 * (a layer with several inputs: x0, x1, ... and dx0, dx1, ... instead of x, dx)
 * stats (training, when the layer has batch statistics). Row r of the shard
 * is the sample with global index 1000 + 7r. TIES = 1 rounds x to quarters,
 * so that windows hold equal values (max pooling's first-maximum rule). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fingerprint.h"
#include "job.h"
#include "mem.h"
#include "model.h"
#include "seed.h"

static int write_f32(const char *dir, const char *name, const float *v, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(v, sizeof(float), n, f) != n) {
    fprintf(stderr, "layer_io: cannot write %s\n", path);
    if (f) fclose(f);
    return -1;
  }
  return fclose(f);
}

static void shape_json(FILE *f, const rd_shape *s) {
  fputc('[', f);
  for (int d = 0; d < s->ndim; d++) fprintf(f, "%s%lld", d ? ", " : "", (long long)s->dim[d]);
  fputc(']', f);
}

static float draw(uint64_t stream, uint64_t i) { return (float)(2.0 * rd_seed_uniform(rd_seed_word(stream, i, 0)) - 1.0); }

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: layer_io CONFIG OUTDIR ROWS TRAINING ITERATION TIES\n");
    return 2;
  }
  rd_fp_pin_blas_threads();
  const char *dir = argv[2];
  const int64_t S = atoll(argv[3]);
  const int training = atoi(argv[4]), ties = atoi(argv[6]);
  const uint64_t iteration = strtoull(argv[5], NULL, 10);
  FILE *cf = fopen(argv[1], "rb");
  static char text[1 << 16];
  size_t n = cf ? fread(text, 1, sizeof text, cf) : 0;
  if (cf) fclose(cf);
  rd_job j;
  rd_err e = {0};
  if (rd_job_load(&j, argv[1], text, n, NULL, 0, 0, &e)) {
    fprintf(stderr, "layer_io: %s\n", e.msg);
    return 2;
  }
  const rd_model *m = &j.model;
  const rd_layer *L = &m->layers[m->nlayers - 1];
  const int64_t nout = S * rd_shape_numel(&L->out);
  float *params = rd_mem_alloc_f32(m->nparams), *grads = rd_mem_alloc_f32(m->ntrain + 1);
  float *xs[RD_MAX_INPUTS], *dxs[RD_MAX_INPUTS];
  int64_t nins[RD_MAX_INPUTS];
  for (int i = 0; i < L->nin; i++) {
    nins[i] = S * rd_shape_numel(&L->ins[i]);
    xs[i] = rd_mem_alloc_f32((size_t)nins[i]), dxs[i] = rd_mem_alloc_f32((size_t)nins[i]);
  }
  const int64_t nin = nins[0];
  float *x = xs[0], *dx = dxs[0];
  float *y = rd_mem_alloc_f32((size_t)nout), *dy = rd_mem_alloc_f32((size_t)nout);
  float *stats = rd_mem_alloc_f32(L->nstats + 1);
  size_t wsn = L->type->workspace ? L->type->workspace(L->self, &L->in, &L->out, S) : 0;
  float *ws = rd_mem_alloc_f32(wsn + 1);
  rd_model_init_params(m, params);
  /* Away from the initial values (zero biases, unit gammas) so every term counts. */
  for (size_t i = 0; i < m->nparams; i++) params[i] += 0.25f * draw(71, i);
  for (int t = 0; t < m->ntensors; t++)
    if (!strcmp(m->tensors[t].name, "moving_variance")) /* a variance stays positive */
      for (size_t i = 0; i < m->tensors[t].numel; i++) params[m->tensors[t].offset + i] = 0.5f + 0.5f * (draw(72, i) + 1.0f);
  for (int k = 0; k < L->nin; k++)
    for (int64_t i = 0; i < nins[k]; i++) {
      const float v = draw(73 + 100 * (uint64_t)k, (uint64_t)i);
      xs[k][i] = ties ? (float)(int)(v * 4.0f) / 4.0f : v;
    }
  for (int64_t i = 0; i < nout; i++) dy[i] = draw(74, (uint64_t)i);
  uint32_t *sample = malloc(sizeof(uint32_t) * (size_t)S);
  const float **w = calloc((size_t)L->nt + 1, sizeof *w);
  float **g = calloc((size_t)L->nt + 1, sizeof *g);
  for (int64_t r = 0; r < S; r++) sample[r] = (uint32_t)(1000 + 7 * r);
  for (int t = 0; t < L->nt; t++) {
    const rd_tensor *T = &m->tensors[L->t0 + t];
    w[t] = params + T->offset;
    g[t] = T->trainable ? grads + T->offset : NULL;
  }
  rd_io io = {rd_model_api(j.train.kernels), L->self, &L->in, &L->out, S, training, iteration, sample, L->seed, w, g, ws,
              L->nstats ? stats : NULL, L->nin, L->ins, 0};
  float *dyc = rd_mem_alloc_f32((size_t)nout);
  memcpy(dyc, dy, sizeof(float) * (size_t)nout); /* backward may overwrite dy */
  if (L->type->flags & RD_LAYER_RESHAPE) {
    memcpy(y, x, sizeof(float) * (size_t)nin);
    memcpy(dx, dy, sizeof(float) * (size_t)nin);
  } else if (L->type->forward_n) {
    L->type->forward_n(&io, (const float *const *)xs, y);
    if (training) L->type->backward_n(&io, (const float *const *)xs, y, dyc, dxs);
  } else {
    L->type->forward(&io, x, y);
    if (training) L->type->backward(&io, x, y, dyc, dx);
  }
  int bad = write_f32(dir, "y", y, (size_t)nout) || write_f32(dir, "dy", dy, (size_t)nout);
  for (int k = 0; k < L->nin; k++) {
    char xn[16], dn[16];
    snprintf(xn, sizeof xn, L->nin == 1 ? "x" : "x%d", k);
    snprintf(dn, sizeof dn, L->nin == 1 ? "dx" : "dx%d", k);
    bad |= write_f32(dir, xn, xs[k], (size_t)nins[k]) || (training && write_f32(dir, dn, dxs[k], (size_t)nins[k]));
  }
  if (training && L->nstats) bad |= write_f32(dir, "stats", stats, L->nstats);
  char path[4096];
  snprintf(path, sizeof path, "%s/io.json", dir);
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "{\"type\": \"%s\", \"name\": \"%s\", \"rows\": %lld, \"training\": %d, \"iteration\": %llu, "
             "\"seed\": \"%016llx\", \"activation\": \"%s\", \"in\": ",
          L->type->name, L->name, (long long)S, training, (unsigned long long)iteration, (unsigned long long)L->seed,
          rd_act_name(L->act));
  shape_json(f, &L->in);
  fprintf(f, ", \"ins\": [");
  for (int k = 0; k < L->nin; k++) {
    if (k) fprintf(f, ", ");
    shape_json(f, &L->ins[k]);
  }
  fprintf(f, "], \"out\": ");
  shape_json(f, &L->out);
  fprintf(f, ", \"samples\": [");
  for (int64_t r = 0; r < S; r++) fprintf(f, "%s%u", r ? ", " : "", sample[r]);
  fprintf(f, "], \"tensors\": [");
  for (int t = 0; t < L->nt; t++) {
    const rd_tensor *T = &m->tensors[L->t0 + t];
    char name[64];
    fprintf(f, "%s{\"name\": \"%s\", \"trainable\": %d, \"shape\": ", t ? ", " : "", T->name, T->trainable);
    shape_json(f, &T->shape);
    fputc('}', f);
    snprintf(name, sizeof name, "w_%s", T->name);
    bad |= write_f32(dir, name, w[t], T->numel);
    snprintf(name, sizeof name, "g_%s", T->name);
    if (training && T->trainable) bad |= write_f32(dir, name, g[t], T->numel);
  }
  fprintf(f, "]}\n");
  bad |= fclose(f) != 0;
  for (int k = 0; k < L->nin; k++) free(xs[k]), free(dxs[k]);
  free(params), free(grads), free(y), free(dy), free(dyc), free(stats), free(ws), free(sample);
  free(w), free(g);
  rd_job_free(&j);
  return bad ? 1 : 0;
}
