/* init: Keras initializers over counter-based draws (see init.h). */
#include "init.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "seed.h"

static const char *const k_names[RD_INIT_COUNT] = {
    "zeros", "ones", "constant", "random_uniform", "random_normal", "truncated_normal",
    "variance_scaling", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
    "lecun_uniform", "lecun_normal", "orthogonal"};

int rd_init_kind_from_name(const char *name) {
  for (int i = 0; i < RD_INIT_COUNT; i++)
    if (strcmp(k_names[i], name) == 0) return i;
  return -1;
}

const char *rd_init_kind_name(rd_init_kind k) { return k_names[k]; }

unsigned rd_init_params(rd_init_kind k) {
  switch (k) {
    case RD_INIT_ZEROS:
    case RD_INIT_ONES: return 0;
    case RD_INIT_CONSTANT: return RD_IP_VALUE;
    case RD_INIT_RANDOM_UNIFORM: return RD_IP_MINVAL | RD_IP_MAXVAL | RD_IP_SEED;
    case RD_INIT_RANDOM_NORMAL:
    case RD_INIT_TRUNCATED_NORMAL: return RD_IP_MEAN | RD_IP_STDDEV | RD_IP_SEED;
    case RD_INIT_VARIANCE_SCALING: return RD_IP_SCALE | RD_IP_MODE | RD_IP_DISTRIBUTION | RD_IP_SEED;
    case RD_INIT_ORTHOGONAL: return RD_IP_GAIN | RD_IP_SEED;
    default: return RD_IP_SEED; /* glorot/he/lecun: only a seed, as in Keras */
  }
}

const char *rd_init_param_name(unsigned bit) {
  switch (bit) {
    case RD_IP_MINVAL: return "minval";
    case RD_IP_MAXVAL: return "maxval";
    case RD_IP_MEAN: return "mean";
    case RD_IP_STDDEV: return "stddev";
    case RD_IP_VALUE: return "value";
    case RD_IP_SCALE: return "scale";
    case RD_IP_MODE: return "mode";
    case RD_IP_DISTRIBUTION: return "distribution";
    case RD_IP_GAIN: return "gain";
    case RD_IP_SEED: return "seed";
    default: return "?";
  }
}

int rd_init_is_random(rd_init_kind k) { return (rd_init_params(k) & RD_IP_SEED) != 0; }

void rd_init_defaults(rd_init_kind k, rd_init_spec *s) {
  memset(s, 0, sizeof *s);
  s->kind = k;
  s->minval = -0.05;
  s->maxval = 0.05;
  s->mean = 0.0;
  s->stddev = 0.05;
  s->value = 0.0;
  s->gain = 1.0;
  /* Keras VarianceScaling defaults, and the named shortcuts. */
  s->scale = 1.0;
  s->mode = RD_FAN_IN;
  s->dist = RD_DIST_TRUNCATED_NORMAL;
  switch (k) {
    case RD_INIT_GLOROT_UNIFORM: s->mode = RD_FAN_AVG; s->dist = RD_DIST_UNIFORM; break;
    case RD_INIT_GLOROT_NORMAL: s->mode = RD_FAN_AVG; break;
    case RD_INIT_HE_UNIFORM: s->scale = 2.0; s->dist = RD_DIST_UNIFORM; break;
    case RD_INIT_HE_NORMAL: s->scale = 2.0; break;
    case RD_INIT_LECUN_UNIFORM: s->dist = RD_DIST_UNIFORM; break;
    default: break;
  }
}

static int64_t numel(const int64_t *shape, int ndim) {
  int64_t n = 1;
  for (int d = 0; d < ndim; d++) n *= shape[d];
  return n;
}

/* value_i = float32(minval + (maxval - minval) * uniform(word(seed, i, 0))) */
static void fill_uniform(double lo, double hi, uint64_t seed, int64_t n, float *out) {
  for (int64_t i = 0; i < n; i++)
    out[i] = (float)(lo + (hi - lo) * rd_seed_uniform(rd_seed_word(seed, (uint64_t)i, 0)));
}

/* value_i = float32(mean + stddev * z_i); truncated: z redrawn while |z| > 2. */
static void fill_normal(double mean, double stddev, int truncated, uint64_t seed, int64_t n, float *out) {
  for (int64_t i = 0; i < n; i++) {
    uint64_t j = 0;
    double z;
    do z = rd_seed_normal(seed, (uint64_t)i, &j);
    while (truncated && fabs(z) > 2.0);
    out[i] = (float)(mean + stddev * z);
  }
}

/* Orthogonal: a (max(r,c) x min(r,c)) standard normal matrix, drawn row-major as
 * elements i = 0, 1, ...; modified Gram-Schmidt with one re-orthogonalisation on
 * its columns gives Q with R's diagonal positive (Keras' q *= sign(diag(r))). */
static void fill_orthogonal(double gain, uint64_t seed, int64_t rows, int64_t cols, float *out) {
  int64_t R = rows > cols ? rows : cols, C = rows > cols ? cols : rows;
  double *a = malloc(sizeof *a * (size_t)(R * C));
  RD_ASSERT(a != NULL, "out of memory");
  for (int64_t i = 0; i < R * C; i++) {
    uint64_t j = 0;
    a[i] = rd_seed_normal(seed, (uint64_t)i, &j);
  }
  for (int64_t k = 0; k < C; k++) {
    for (int pass = 0; pass < 2; pass++)
      for (int64_t p = 0; p < k; p++) {
        double dot = 0.0;
        for (int64_t r = 0; r < R; r++) dot += a[r * C + p] * a[r * C + k];
        for (int64_t r = 0; r < R; r++) a[r * C + k] -= dot * a[r * C + p];
      }
    double nrm = 0.0;
    for (int64_t r = 0; r < R; r++) nrm += a[r * C + k] * a[r * C + k];
    nrm = sqrt(nrm);
    for (int64_t r = 0; r < R; r++) a[r * C + k] /= nrm;
  }
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++)
      out[r * cols + c] = (float)(gain * (rows >= cols ? a[r * C + c] : a[c * C + r]));
  free(a);
}

int rd_init_fill(const rd_init_spec *s, uint64_t seed, const int64_t *shape, int ndim, float *out) {
  RD_ASSERT(ndim >= 1 && ndim <= 4, "unsupported rank %d", ndim);
  int64_t n = numel(shape, ndim);
  /* Keras' compute_fans: (n,) -> n, n; (in, out) -> in, out; a kernel
   * (..., in, out) -> in and out times the receptive field prod(shape[:-2]). */
  double fan_in = (double)shape[0], fan_out = (double)shape[ndim - 1];
  if (ndim > 2) {
    double rf = (double)numel(shape, ndim - 2);
    fan_in = (double)shape[ndim - 2] * rf;
    fan_out = (double)shape[ndim - 1] * rf;
  }
  switch (s->kind) {
    case RD_INIT_ZEROS:
    case RD_INIT_ONES:
    case RD_INIT_CONSTANT: {
      float v = s->kind == RD_INIT_ZEROS ? 0.0f : s->kind == RD_INIT_ONES ? 1.0f : (float)s->value;
      for (int64_t i = 0; i < n; i++) out[i] = v;
      return 0;
    }
    case RD_INIT_RANDOM_UNIFORM: fill_uniform(s->minval, s->maxval, seed, n, out); return 0;
    case RD_INIT_RANDOM_NORMAL: fill_normal(s->mean, s->stddev, 0, seed, n, out); return 0;
    case RD_INIT_TRUNCATED_NORMAL: fill_normal(s->mean, s->stddev, 1, seed, n, out); return 0;
    case RD_INIT_ORTHOGONAL:
      /* Keras flattens to (prod(shape[:-1]), shape[-1]). */
      if (ndim < 2) return -1;
      fill_orthogonal(s->gain, seed, numel(shape, ndim - 1), shape[ndim - 1], out);
      return 0;
    default: {
      /* The named shortcuts are fixed variance_scaling settings, whatever the spec's fields say. */
      rd_init_spec vs = *s;
      if (s->kind != RD_INIT_VARIANCE_SCALING) rd_init_defaults(s->kind, &vs);
      s = &vs;
      double fan = s->mode == RD_FAN_IN ? fan_in : s->mode == RD_FAN_OUT ? fan_out : (fan_in + fan_out) / 2.0;
      double scale = s->scale / (fan > 1.0 ? fan : 1.0);
      if (s->dist == RD_DIST_UNIFORM) {
        double limit = sqrt(3.0 * scale);
        fill_uniform(-limit, limit, seed, n, out);
      } else if (s->dist == RD_DIST_TRUNCATED_NORMAL) {
        fill_normal(0.0, sqrt(scale) / 0.87962566103423978, 1, seed, n, out);
      } else {
        fill_normal(0.0, sqrt(scale), 0, seed, n, out);
      }
      return 0;
    }
  }
}
