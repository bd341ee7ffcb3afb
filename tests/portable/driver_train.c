/* The drivers' training loop: STEPS optimizer steps of a config's model in
 * portable mode on seeded synthetic samples. Each batch of B is cut into shards
 * of S rows; the shard gradients and statistics are summed along reduce.h's
 * canonical tree; then the statistics hook and the optimizer ([train]
 * optimizer, its options and schedule; Adam by default). Prints every tensor's
 * digest and the whole arena's ("all"). With d, this process is rank d->rank of
 * d->P: it computes only its shards (rd_shard_range) and d->sum finishes the
 * tree across the ranks (the SimGrid driver, tests/simgrid/); only rank 0
 * prints. Without it, one process computes every shard (rd_portable). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg.h"
#include "mem.h"
#include "model.h"
#include "optim.h"
#include "reduce.h"
#include "registry.h"
#include "seed.h"
#include "shard.h"
#include "driver_train.h"

static double now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(1 << 20);
  *len = fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  buf[*len] = '\0';
  return buf;
}

int rd_driver_train(const char *path, int64_t steps, int64_t B, int64_t S, const rd_driver_dist *d) {
  size_t len;
  char *text = slurp(path, &len);
  if (!text) {
    fprintf(stderr, "rd_portable: cannot read %s\n", path);
    return 2;
  }
  rd_cfg cfg;
  rd_err err = {0};
  rd_model m;
  if (rd_cfg_parse(&cfg, path, text, len, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 2;
  }
  rd_registry_init();
  rd_model_from_cfg(&m, &cfg);
  rd_optim_spec opt;
  rd_optim_from_cfg(&cfg, rd_cfg_section(&cfg, "train", 0), &opt);
  if (rd_cfg_finish(&cfg, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 2;
  }
  const int64_t K = (B + S - 1) / S, in = rd_shape_numel(&m.input);
  const size_t len_v = m.ntrain + m.nstats;
  const size_t nstate = (size_t)rd_optim_slots(&opt) * m.ntrain + 1;
  float *params = rd_mem_alloc_f32(m.nparams), *state = rd_mem_alloc_f32(nstate), *gsum = rd_mem_alloc_f32(len_v);
  memset(state, 0, sizeof(float) * nstate);
  rd_model_init_params(&m, params);
  rd_shard sh;
  rd_loss_spec loss;
  rd_loss_spec_defaults(rd_loss_find("sparse_categorical_crossentropy"), &loss);
  rd_shard_init(&sh, &m, S, &loss, RD_KERN_PORTABLE);
  rd_reduce r;
  rd_reduce_init(&r, len_v, K);
  rd_optim o;
  rd_optim_init(&o, &opt, &m);
  if (d && d->shard) d->shard(d->ctx, &o, len_v, K);
  rd_optim_state_init(&o, state);
  double t_pass = 0.0, t_opt = 0.0;
  int64_t passes = 0;
  for (int64_t it = 0; it < steps; it++) {
    rd_reduce_begin(&r, K);
    int64_t lo = 0, hi = K;
    if (d) rd_shard_range(K, d->P, d->rank, &lo, &hi);
    for (int64_t s = lo; s < hi; s++) {
      const int64_t rows = s == K - 1 ? B - s * S : S;
      for (int64_t i = 0; i < rows; i++) {
        const uint64_t sample = (uint64_t)(it * B + s * S + i);
        sh.sample[i] = (uint32_t)sample;
        sh.y[i] = (int32_t)rd_seed_below(rd_seed_word(0x79, sample, 0), (uint64_t)sh.C);
        for (int64_t f = 0; f < in; f++) sh.x[i * in + f] = (float)rd_seed_uniform(rd_seed_word(0x78, sample, (uint64_t)f));
      }
      float *v = rd_reduce_slot(&r);
      rd_pass p = {B, v, v + m.ntrain, (uint64_t)it, NULL, 0};
      rd_shard_metrics mt;
      const double t0 = now_sec();
      rd_shard_pass(&sh, params, rows, &p, &mt);
      t_pass += now_sec() - t0, passes++;
      rd_reduce_push(&r, 0, s);
    }
    const float *sum = d && d->shard ? d->scatter(d->ctx, &r, gsum) : d ? d->sum(d->ctx, &r, gsum) : rd_reduce_vec(&r, 0);
    const double t0 = now_sec();
    if (m.nstats) rd_shard_apply_stats(&sh, params, sum + m.ntrain, K, B);
    if (d && d->shard) d->update(d->ctx, &o, (uint64_t)it, params, (float *)sum, state);
    else rd_optim_step(&o, (uint64_t)it, params, (float *)sum, state);
    t_opt += now_sec() - t0;
  }
  /* CPU time on this machine (stderr: the digests on stdout are the same everywhere). */
  if ((!d || d->rank == 0) && passes)
    fprintf(stderr, "rd_driver: %zu floats summed; shard pass %.4f ms; optimizer step %.4f ms\n", len_v,
            1e3 * t_pass / (double)passes, 1e3 * t_opt / (double)steps);
  for (int t = 0; t < m.ntensors && (!d || d->rank == 0); t++) {
    const rd_tensor *T = &m.tensors[t];
    printf("%s/%s %016" PRIx64 "\n", T->layer, T->name, rd_seed_digest_f32(params + T->offset, T->numel));
  }
  if (!d || d->rank == 0) printf("all %016" PRIx64 "\n", rd_seed_digest_f32(params, m.nparams));
  rd_reduce_free(&r);
  rd_shard_free(&sh);
  rd_optim_free(&o);
  free(params), free(state), free(gsum), free(text);
  rd_model_free(&m);
  rd_cfg_free(&cfg);
  return 0;
}

