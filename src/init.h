/* init: Keras' weight initializers, computed from counter-based draws.
 *
 * Pure functions: rd_init_fill writes a tensor from (spec, tensor seed, shape)
 * and nothing else, so every rank computes the same bits independently.
 * Formulas and defaults follow Keras (random_initializers.py); the draws are
 * reprodist's own (docs/SEEDS.md), so values differ from Keras' own RNG while
 * following the same distributions. All arithmetic is IEEE double, rounded once
 * to float32 at the end. */
#ifndef REPRODIST_INIT_H
#define REPRODIST_INIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  RD_INIT_ZEROS,
  RD_INIT_ONES,
  RD_INIT_CONSTANT,
  RD_INIT_RANDOM_UNIFORM,
  RD_INIT_RANDOM_NORMAL,
  RD_INIT_TRUNCATED_NORMAL,
  RD_INIT_VARIANCE_SCALING,
  RD_INIT_GLOROT_UNIFORM,
  RD_INIT_GLOROT_NORMAL,
  RD_INIT_HE_UNIFORM,
  RD_INIT_HE_NORMAL,
  RD_INIT_LECUN_UNIFORM,
  RD_INIT_LECUN_NORMAL,
  RD_INIT_ORTHOGONAL,
  RD_INIT_COUNT
} rd_init_kind;

typedef enum { RD_FAN_IN, RD_FAN_OUT, RD_FAN_AVG } rd_fan_mode;
typedef enum { RD_DIST_TRUNCATED_NORMAL, RD_DIST_UNTRUNCATED_NORMAL, RD_DIST_UNIFORM } rd_dist;

/* Parameters an initializer accepts (a bit each), named as the config keys. */
enum {
  RD_IP_MINVAL = 1 << 0,
  RD_IP_MAXVAL = 1 << 1,
  RD_IP_MEAN = 1 << 2,
  RD_IP_STDDEV = 1 << 3,
  RD_IP_VALUE = 1 << 4,
  RD_IP_SCALE = 1 << 5,
  RD_IP_MODE = 1 << 6,
  RD_IP_DISTRIBUTION = 1 << 7,
  RD_IP_GAIN = 1 << 8,
  RD_IP_SEED = 1 << 9
};

typedef struct rd_init_spec {
  rd_init_kind kind;
  double minval, maxval, mean, stddev, value, scale, gain;
  rd_fan_mode mode;
  rd_dist dist;
} rd_init_spec;

/* Name as in Keras' snake_case identifiers ("glorot_uniform"); -1 if unknown. */
int rd_init_kind_from_name(const char *name);
const char *rd_init_kind_name(rd_init_kind k);
/* Which RD_IP_* parameters the initializer takes. */
unsigned rd_init_params(rd_init_kind k);
const char *rd_init_param_name(unsigned bit);
/* Keras' defaults for kind, e.g. random_uniform: minval -0.05, maxval 0.05. */
void rd_init_defaults(rd_init_kind k, rd_init_spec *spec);
/* 1 if the initializer draws random numbers (so its seed matters). */
int rd_init_is_random(rd_init_kind k);

/* Fills out[0 .. prod(shape)) in C order. ndim is 1 to 4; fans as Keras'
 * compute_fans (a kernel (..., in, out) counts its receptive field).
 * Returns 0, or -1 if the initializer does not support the shape (orthogonal on 1-D). */
int rd_init_fill(const rd_init_spec *spec, uint64_t tensor_seed, const int64_t *shape, int ndim, float *out);

#ifdef __cplusplus
}
#endif
#endif
