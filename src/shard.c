/* shard: forward and backward of the model over one shard (see include/reprodist/shard.h). */
#include "reprodist/shard.h"

#include <stdlib.h>
#include <string.h>

#include "reprodist/mem.h"
#include "reprodist/nn.h"

void rd_shard_init(rd_shard *k, const rd_model *m, int64_t max_rows, int xent) {
  memset(k, 0, sizeof *k);
  k->m = m;
  k->xent = xent;
  k->S = max_rows;
  k->C = m->layers[m->nlayers - 1].units;
  size_t wmax = (size_t)rd_model_max_width(m);
  k->x = rd_mem_alloc_f32((size_t)(k->S * m->input));
  k->y = malloc(sizeof(int32_t) * (size_t)k->S);
  k->act = malloc(sizeof(float *) * (size_t)m->nlayers);
  RD_ASSERT(k->x && k->y && k->act, "out of memory");
  for (int l = 0; l < m->nlayers; l++) {
    k->act[l] = rd_mem_alloc_f32((size_t)(k->S * m->layers[l].units));
  }
  k->d0 = rd_mem_alloc_f32((size_t)k->S * wmax);
  k->d1 = rd_mem_alloc_f32((size_t)k->S * wmax);
}

void rd_shard_free(rd_shard *k) {
  for (int l = 0; l < k->m->nlayers; l++) free(k->act[l]);
  free(k->act);
  free(k->x);
  free(k->y);
  free(k->d0);
  free(k->d1);
}

double rd_shard_pass(rd_shard *k, const float *params, int64_t S, int64_t batch_n, float *grad,
                         int64_t *correct) {
  const rd_model *m = k->m;
  const int L = m->nlayers, xent = k->xent;
  const float *A = k->x;
  for (int l = 0; l < L; l++) {
    const rd_layer *ly = &m->layers[l];
    const float *W = params + m->tensors[ly->kernel].offset;
    const float *b = ly->bias >= 0 ? params + m->tensors[ly->bias].offset : NULL;
    rd_nn_dense_forward(A, S, ly->in, W, b, ly->units, ly->act, xent && l == L - 1, k->act[l]);
    A = k->act[l];
  }
  float *dZ = grad ? k->d0 : NULL, *dA = k->d1;
  double loss = xent ? rd_nn_xent(k->act[L - 1], k->y, S, k->C, batch_n, dZ, correct)
                     : rd_nn_mse(k->act[L - 1], k->y, S, k->C, batch_n, dZ, correct);
  if (!grad) return loss;
  if (!xent) rd_nn_act_backward(m->layers[L - 1].act, k->act[L - 1], S, k->C, dZ);
  for (int l = L - 1; l >= 0; l--) {
    const rd_layer *ly = &m->layers[l];
    const rd_tensor *K = &m->tensors[ly->kernel];
    rd_nn_dense_backward(l ? k->act[l - 1] : k->x, dZ, params + K->offset, S, ly->in, ly->units,
                         grad + K->offset, ly->bias >= 0 ? grad + m->tensors[ly->bias].offset : NULL,
                         l ? dA : NULL);
    if (l) {
      rd_nn_act_backward(m->layers[l - 1].act, k->act[l - 1], S, ly->in, dA);
      float *tmp = dZ;
      dZ = dA;
      dA = tmp;
    }
  }
  return loss;
}

