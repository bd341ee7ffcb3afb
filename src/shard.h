/* shard: forward and backward of a whole model over one shard of rows.
 * The unit of work and of determinism: every layer sees the same call for the
 * same shard, whichever rank runs it, so its GEMMs have shapes that depend only
 * on the shard's row count. Buffers are made once by rd_shard_init;
 * rd_shard_pass allocates nothing. No MPI, no files. */
#ifndef REPRODIST_SHARD_H
#define REPRODIST_SHARD_H

#include <stdint.h>

#include "loss.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a pass counts besides the loss, summed over its rows (weighted with p->class_weight). */
typedef struct rd_shard_metrics {
  double correct;      /* rows whose first largest output is the label (Keras' accuracy) */
  double weight;       /* the rows' weights (the row count without class_weight) */
  double top_k;        /* rows whose label's output is >= the k-th largest (Keras' in_top_k) */
} rd_shard_metrics;

struct rd_shard_step;
typedef struct rd_shard {
  const rd_model *m;
  const rd_loss_spec *loss; /* the loss (loss.h), or NULL: outputs only (predict); fused: the last layer's
                               activation is the loss's */
  int fused;
  const rd_kern_ops *ops; /* the mode's arithmetic (kern.h) */
  const rd_api *api; /* what layers call, with that arithmetic */
  int64_t S, C;      /* max rows; classes (the last layer's outputs) */
  int64_t G;         /* shards one forward pass may run at once (rd_shard_forward); 1: one */
  float *x;          /* (G S, input): the caller fills the rows here */
  int32_t *y;        /* (G S): and the labels here */
  uint32_t *sample;  /* (G S): and each row's global sample index (layers key draws by it) */
  float **act;       /* act[l]: layer l's output (G S, out_l); a reshape layer's is its input */
  float **ws;        /* ws[l]: layer l's workspace */
  int64_t *ws_row;   /* with G > 1: floats of ws[l] per row (the workspace is row by row) */
  char *failed;      /* (G): the caller's, a flag per shard of a group (its rows could not be read) */
  const float **w;   /* per tensor: where it is in the params arena (set per pass) */
  float **g;         /* per tensor: its gradient in the pass's gradient arena, or NULL */
  /* Backward's gradient buffers, planned once from the graph (rd_shard_plan):
   * nbuf buffers of (S, sizes from the plan) floats, each reused once its values are
   * consumed. For a stack of layers that is two, used in turn. */
  int nbuf;
  float **buf;
  int64_t *bufn;     /* floats in each */
  struct rd_shard_step *plan; /* per layer: which buffers its backward reads and writes */
  double *times;     /* NULL, or 2 per layer: seconds in forward and in backward (RD_PROFILE) */
  double fetch_sec, push_sec; /* with times: seconds of the training passes' data reads and tree pushes */
  /* NULL, or called during a training pass: once the forward pass and the loss
   * are done (layer = m->nlayers; pass_loss and pass_mt then hold what the pass
   * returns), and after each layer's backward (layer = l), when that layer's
   * tensors' gradients are final. An overlapped step sends them from there. */
  void (*on_ready)(void *ctx, int layer);
  void *on_ready_ctx;
  double pass_loss;
  rd_shard_metrics pass_mt;
} rd_shard;

/* Backward, layer by layer (from the last to the first): layer l's dL/dy is
 * in buffer dy; dL/dx of input i is written to buffer dx[i] (-1: none, the
 * input needs no gradient), and then, when add[i] >= 0, added into buffer
 * add[i] (the gradient its source already holds from a later layer). A
 * reshape layer's dy becomes its source's (add[0] < 0) or is added to it.
 * When one output feeds several layers, its gradient is therefore the dx of
 * the last of them in the config, plus the next-to-last's, and so on:
 * g = ((dx_last + dx_prev) + ...) + dx_first, an order fixed by the graph. */
typedef struct rd_shard_step {
  int dy;
  int dx[RD_MAX_INPUTS], add[RD_MAX_INPUTS];
} rd_shard_step;

/* The plan for model m: fills steps[m->nlayers] when steps is not NULL,
 * sizes[b] (floats per sample of buffer b; room for nlayers + RD_MAX_INPUTS +
 * 2) when sizes is not NULL, and returns the number of gradient buffers. A
 * buffer is taken at the smallest free size that fits, or a free one grown. */
int rd_shard_plan(const rd_model *m, rd_shard_step *steps, int64_t *sizes);

void rd_shard_init(rd_shard *k, const rd_model *m, int64_t max_rows, const rd_loss_spec *loss, rd_kern_mode mode);

/* Floats rd_shard_init allocates for layer l (its activations and workspace),
 * and for everything else (input rows, gradient buffers), at max_rows. */
size_t rd_shard_layer_floats(const rd_model *m, int l, int64_t max_rows);
size_t rd_shard_base_floats(const rd_model *m, int64_t max_rows);
void rd_shard_free(rd_shard *k);

/* What a pass computes besides the loss. */
typedef struct rd_pass {
  int64_t batch_n;     /* samples in the whole batch: the loss is the batch mean */
  float *grad;         /* NULL (evaluation), or m->ntrain floats: the gradient of (loss sum / batch_n) */
  float *stats;        /* with grad: m->nstats floats of batch statistics */
  uint64_t iteration;  /* the optimizer step (training) */
  const float *class_weight; /* NULL, or a weight per class: each sample's loss, gradient and metrics are
                                weighted by its label's (Keras' fit(class_weight=)) */
  int top_k;           /* > 0: also count the rows whose label is among the k largest outputs */
} rd_pass;


/* Forward over the first S rows of k->x / k->y / k->sample; returns the loss
 * summed over the rows (each weighted) and fills *mt. With p->grad (a training
 * pass) layers run in training mode and the gradient and statistics are
 * written. */
double rd_shard_pass(rd_shard *k, const float *params, int64_t S, const rd_pass *p, rd_shard_metrics *mt);

/* Forward groups. A Dense layer's forward pass over one shard reads its whole
 * kernel for a few rows: the 784-1024-1024-10 MLP's 7 MB of weights came from
 * memory once per shard. When every row's forward values depend on that row
 * alone, and on nothing of the rows beside it, the forward pass may run
 * several shards' rows in one call with the same bits: each output is the
 * same chain of operations on the same values. That holds when
 * rd_shard_groupable: every layer is a Dense, Dropout (its draws keyed by
 * global sample) or Activation layer, or a reshape; none keeps batch
 * statistics or has an activity regularizer (a sum over the pass's rows); and
 * the GEMM's chains do not depend on its row count (portable mode, not under
 * RD_UNFUSED=1: rd_api's gemm_chains). The loss and the backward pass still run
 * shard by shard (rd_shard_finish): a weight gradient is a sum over one
 * shard's rows, then the canonical tree's. */
int rd_shard_groupable(const rd_model *m, rd_kern_mode mode);
/* rd_shard_init whose forward buffers hold `group` shards of max_rows rows
 * (group 1: rd_shard_init; more only for a groupable model). */
void rd_shard_init_group(rd_shard *k, const rd_model *m, int64_t max_rows, int64_t group, const rd_loss_spec *loss,
                         rd_kern_mode mode);
/* The forward pass over rows [0, rows) of k->x / k->sample (rows <= G S), in
 * training mode when train; then rd_shard_finish for each shard among them. */
void rd_shard_forward(rd_shard *k, const float *params, int64_t rows, int train, uint64_t iteration);
/* What rd_shard_pass does after the forward pass, for the S rows from row r0
 * of the last rd_shard_forward (p->iteration as there): the loss and metrics,
 * and with p->grad the backward pass into it. The same bits as rd_shard_pass
 * over those rows alone. */
double rd_shard_finish(rd_shard *k, const float *params, int64_t r0, int64_t S, const rd_pass *p,
                       rd_shard_metrics *mt);

/* Once per training step, after the batch's statistics slots were summed
 * along the canonical tree into sums (m->nstats floats): each layer with
 * statistics updates its tensors in params (layer.h, stats_apply). */
void rd_shard_apply_stats(rd_shard *k, float *params, const float *sums, int64_t shards, int64_t samples);

#ifdef __cplusplus
}
#endif
#endif
