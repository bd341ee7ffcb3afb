/* gradcheck: see gradcheck.h. */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "seed.h"

enum { ROWS = 3, PER_TENSOR = 24 };

typedef struct {
  const rd_model *m;
  const rd_layer *ly;
  rd_io io;
  float *x, *y, *dy, *dx, *r, *ws, *stats, **w, **g;
  int64_t nin, nout;         /* x holds every input, one after the other (dx too) */
  const float *xs[RD_MAX_INPUTS];
  float *dxs[RD_MAX_INPUTS]; /* each input's place in x and dx */
} probe;

static void forward(probe *p) {
  if (p->ly->type->forward_n)
    p->ly->type->forward_n(&p->io, p->xs, p->y);
  else
    p->ly->type->forward(&p->io, p->x, p->y);
}

/* L = sum(y * r) in double, from a fresh forward. */
static double loss(probe *p) {
  forward(p);
  double s = 0;
  for (int64_t i = 0; i < p->nout; i++) s += (double)p->y[i] * (double)p->r[i];
  return s;
}

/* The central difference of L at *v with step h. */
static double central(probe *p, float *v, float h) {
  const float v0 = *v;
  *v = v0 + h;
  const double lp = loss(p);
  *v = v0 - h;
  const double lm = loss(p);
  *v = v0;
  return (lp - lm) / (2 * (double)h);
}

/* Compares the analytic derivative ana of L with respect to *v with a central
 * difference; a kink within the step (the one-sided quotients disagree, or the
 * difference at a quarter of the step is another: max pooling's choice flips,
 * in one of several overlapping windows) is skipped and counted. Returns the
 * relative error |num - ana| / (|num| + |ana| + 1e-6), or -1 for a kink;
 * *wrong is set when the difference exceeds float32's noise (1% of the size,
 * plus 1e-3). */
static double compare(probe *p, float *v, double ana, int *wrong) {
  const float v0 = *v, h = 1e-2f * (fabsf(v0) > 1.0f ? fabsf(v0) : 1.0f);
  const double l0 = loss(p);
  *v = v0 + h;
  const double lp = loss(p);
  *v = v0 - h;
  const double lm = loss(p);
  *v = v0;
  const double hh = (double)h, dr = (lp - l0) / hh, dl = (l0 - lm) / hh, num = (lp - lm) / (2 * hh);
  if (fabs(dr - dl) > 0.2 * (fabs(dr) + fabs(dl)) + 1e-3) return -1;
  const double quarter = central(p, v, h / 4);
  if (fabs(quarter - num) > 0.05 * (fabs(quarter) + fabs(num)) + 2e-3) return -1;
  *wrong = fabs(num - ana) > 1e-2 * (fabs(num) + fabs(ana)) + 1e-3;
  return fabs(num - ana) / (fabs(num) + fabs(ana) + 1e-6);
}

static int check_layer(const rd_model *m, int l, const rd_api *api) {
  const rd_layer *ly = &m->layers[l];
  probe p = {.m = m, .ly = ly};
  p.nin = 0, p.nout = ROWS * rd_shape_numel(&ly->out);
  for (int i = 0; i < ly->nin; i++) p.nin += ROWS * rd_shape_numel(&ly->ins[i]);
  size_t nws = ly->type->workspace ? ly->type->workspace(ly->self, &ly->in, &ly->out, ROWS) : 0;
  p.x = rd_mem_alloc_f32((size_t)p.nin + 1), p.dx = rd_mem_alloc_f32((size_t)p.nin + 1);
  p.y = rd_mem_alloc_f32((size_t)p.nout + 1), p.dy = rd_mem_alloc_f32((size_t)p.nout + 1);
  p.r = rd_mem_alloc_f32((size_t)p.nout + 1), p.ws = rd_mem_alloc_f32(nws + 1);
  p.stats = rd_mem_alloc_f32(ly->nstats + 1);
  for (int i = 0, off = 0; i < ly->nin; off += (int)(ROWS * rd_shape_numel(&ly->ins[i])), i++)
    p.xs[i] = p.x + off, p.dxs[i] = p.dx + off;
  p.w = calloc((size_t)ly->nt + 1, sizeof *p.w), p.g = calloc((size_t)ly->nt + 1, sizeof *p.g);
  RD_ASSERT(p.w && p.g, "out of memory");
  const uint64_t seed = rd_seed_tensor(0x67726164ULL, ly->name, "gradcheck");
  for (int t = 0; t < ly->nt; t++) {
    const rd_tensor *T = &m->tensors[ly->t0 + t];
    p.w[t] = rd_mem_alloc_f32(T->numel + 1);
    p.g[t] = T->trainable ? rd_mem_alloc_f32(T->numel + 1) : NULL;
  }
  /* Initial values, then moved away from them. */
  float *init = rd_mem_alloc_f32(m->nparams + 1);
  rd_model_init_params(m, init);
  for (int t = 0; t < ly->nt; t++) {
    const rd_tensor *T = &m->tensors[ly->t0 + t];
    for (size_t i = 0; i < T->numel; i++) {
      const double u = rd_seed_uniform(rd_seed_word(seed, (uint64_t)t, 2 * i));
      const double v = rd_seed_uniform(rd_seed_word(seed, (uint64_t)t, 2 * i + 1));
      p.w[t][i] = (float)((double)init[T->offset + i] * (1 + 0.6 * (u - 0.5)) + 0.2 * (v - 0.5));
    }
  }
  free(init);
  for (int64_t i = 0; i < p.nin; i++) p.x[i] = (float)(2 * rd_seed_uniform(rd_seed_word(seed, 100, (uint64_t)i)) - 1);
  for (int64_t i = 0; i < p.nout; i++) p.r[i] = (float)(2 * rd_seed_uniform(rd_seed_word(seed, 101, (uint64_t)i)) - 1);
  static const uint32_t samples[ROWS] = {7, 1000, 123456};
  p.io = (rd_io){.rd = api, .self = ly->self, .in = &ly->in, .out = &ly->out, .rows = ROWS, .training = 1,
                 .iteration = 3, .sample = samples, .seed = ly->seed, .w = (const float *const *)p.w, .g = p.g,
                 .ws = p.ws, .stats = ly->nstats ? p.stats : NULL, .nin = ly->nin, .ins = ly->ins};
  /* Analytic: one forward and backward. */
  loss(&p);
  memcpy(p.dy, p.r, sizeof(float) * (size_t)p.nout);
  if (ly->type->backward_n)
    ly->type->backward_n(&p.io, p.xs, p.y, p.dy, p.dxs);
  else
    ly->type->backward(&p.io, p.x, p.y, p.dy, p.dx);
  float *ana_x = rd_mem_alloc_f32((size_t)p.nin + 1);
  memcpy(ana_x, p.dx, sizeof(float) * (size_t)p.nin);
  float **ana_w = calloc((size_t)ly->nt + 1, sizeof *ana_w);
  RD_ASSERT(ana_w != NULL, "out of memory");
  for (int t = 0; t < ly->nt; t++)
    if (p.g[t]) {
      const size_t n = m->tensors[ly->t0 + t].numel;
      ana_w[t] = rd_mem_alloc_f32(n + 1);
      memcpy(ana_w[t], p.g[t], sizeof(float) * n);
    }
  /* Numeric, for a sample of each trainable tensor and of x. */
  double worst = 0;
  int checked = 0, kinks = 0, wrong = 0;
  char first[300] = "";
  for (int t = -1; t < ly->nt; t++) {
    float *v = t < 0 ? p.x : p.w[t];
    const float *ana = t < 0 ? ana_x : ana_w[t];
    if (!ana) continue;
    const size_t n = t < 0 ? (size_t)p.nin : m->tensors[ly->t0 + t].numel;
    const size_t k = n < PER_TENSOR ? n : PER_TENSOR;
    for (size_t j = 0; j < k; j++) {
      const size_t i = n <= PER_TENSOR ? j : (size_t)rd_seed_below(rd_seed_word(seed, 200 + (uint64_t)(t + 1), j), n);
      int off = 0;
      const double e = compare(&p, &v[i], ana[i], &off);
      if (e < 0) {
        kinks++;
        continue;
      }
      checked++;
      if (e > worst) worst = e;
      if (off) {
        if (!wrong)
          snprintf(first, sizeof first, "; first: dL/d%s[%zu] analytic %.6g, relative error %.2g",
                   t < 0 ? "x" : m->tensors[ly->t0 + t].name, i, (double)ana[i], e);
        wrong++;
      }
    }
  }
  const int bad = wrong > 0 || (kinks * 4 > checked + kinks);
  rd_log0("%-8s %-24s %-22s %4d derivatives, worst relative error %.1e, %d at kinks%s%s", bad ? "FAIL" : "ok",
          ly->name, ly->type->name, checked, worst, kinks, first,
          kinks * 4 > checked + kinks ? "; too many kinks to trust the check" : "");
  for (int t = 0; t < ly->nt; t++) free(p.w[t]), free(p.g[t]), free(ana_w[t]);
  free(p.w), free(p.g), free(ana_w), free(ana_x);
  free(p.x), free(p.dx), free(p.y), free(p.dy), free(p.r), free(p.ws), free(p.stats);
  return bad;
}

int rd_gradcheck_model(const rd_model *m, rd_kern_mode mode) {
  const rd_api *api = rd_model_api(mode);
  int failed = 0, n = 0;
  for (int l = 0; l < m->nlayers; l++) {
    if (m->layers[l].type->flags & RD_LAYER_RESHAPE) continue;
    failed += check_layer(m, l, api);
    n++;
  }
  if (failed)
    rd_log0("gradcheck: FAILED: %d of %d layers have a gradient that disagrees with finite differences", failed, n);
  else
    rd_log0("gradcheck: passed: %d layers agree with finite differences", n);
  return failed;
}
