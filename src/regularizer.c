/* regularizer: L1, L2, L1L2 on weights and outputs (see regularizer.h). */
#include "regularizer.h"

#include <math.h>
#include <stdio.h>

int rd_reg_read(rd_cfg *c, int sec, const char *p, int allowed, const char *why, double *l1, double *l2) {
  static const char *const kinds[] = {"none", "l1", "l2", "l1_l2", NULL};
  char key[96], k1[96], k2[96];
  snprintf(key, sizeof key, "%sregularizer", p);
  snprintf(k1, sizeof k1, "%sl1", p);
  snprintf(k2, sizeof k2, "%sl2", p);
  *l1 = *l2 = 0.0;
  if (!allowed) {
    rd_cfg_not_applicable(c, sec, key, "%s", why);
    rd_cfg_not_applicable(c, sec, k1, "%s", why);
    rd_cfg_not_applicable(c, sec, k2, "%s", why);
    return 0;
  }
  int kind = 0, bad = 0;
  bad |= rd_cfg_enum(c, sec, key, kinds, 0, 0, &kind) < 0;
  /* Keras 3: 'l1' is L1(l1=0.01), 'l2' is L2(l2=0.01), 'l1_l2' is L1L2(l1=0, l2=0). */
  if (kind == 1 || kind == 3)
    bad |= rd_cfg_float(c, sec, k1, kind == 1 ? 0.01 : 0.0, 0, 1e6, 0, l1) < 0;
  else
    rd_cfg_not_applicable(c, sec, k1, "does not apply to %s = %s", key, kinds[kind]);
  if (kind == 2 || kind == 3)
    bad |= rd_cfg_float(c, sec, k2, kind == 2 ? 0.01 : 0.0, 0, 1e6, 0, l2) < 0;
  else
    rd_cfg_not_applicable(c, sec, k2, "does not apply to %s = %s", key, kinds[kind]);
  return bad ? -1 : 0;
}

/* sum |y| and sum y^2 in double: blocks of 256 in sequence, block sums along a binary counter's fixed tree. */
static void sums(const float *y, size_t n, double *a, double *q) {
  double sa[64], sq[64];
  int top = 0;
  uint64_t k = 0;
  for (size_t b = 0; b < n; b += 256) {
    const size_t e = n - b < 256 ? n : b + 256;
    double va = 0.0, vq = 0.0;
    for (size_t i = b; i < e; i++) va += fabs((double)y[i]), vq += (double)y[i] * (double)y[i];
    k++;
    for (uint64_t cnt = k; !(cnt & 1); cnt >>= 1) --top, va = sa[top] + va, vq = sq[top] + vq;
    sa[top] = va, sq[top] = vq, top++;
  }
  *a = *q = 0.0;
  while (top) --top, *a = sa[top] + *a, *q = sq[top] + *q;
}

double rd_reg_sum(double l1, double l2, const float *y, size_t n) {
  double a, q;
  sums(y, n, &a, &q);
  return l1 * a + l2 * q;
}

void rd_reg_add_grad(double l1, double l2, const float *restrict y, size_t n, int64_t batch_n, float *restrict dy) {
  const float a = (float)(l1 / (double)batch_n), b = (float)(2.0 * l2 / (double)batch_n);
  for (size_t i = 0; i < n; i++) dy[i] += a * (float)((y[i] > 0.0f) - (y[i] < 0.0f)) + b * y[i];
}

int rd_reg_any(const rd_model *m) {
  for (int t = 0; t < m->ntensors; t++)
    if (m->tensors[t].reg_l1 != 0.0 || m->tensors[t].reg_l2 != 0.0) return 1;
  return 0;
}

double rd_reg_penalty(const rd_model *m, const float *params) {
  double p = 0.0;
  for (int t = 0; t < m->ntensors; t++) {
    const rd_tensor *T = &m->tensors[t];
    if (T->reg_l1 != 0.0 || T->reg_l2 != 0.0) p += rd_reg_sum(T->reg_l1, T->reg_l2, params + T->offset, T->numel);
  }
  return p;
}

void rd_reg_grad(const rd_model *m, const float *params, float *g) {
  for (int t = 0; t < m->ntensors; t++) {
    const rd_tensor *T = &m->tensors[t];
    if (T->reg_l1 == 0.0 && T->reg_l2 == 0.0) continue;
    const float a = (float)T->reg_l1, b = (float)(2.0 * T->reg_l2);
    const float *restrict w = params + T->offset;
    float *restrict d = g + T->offset;
    for (size_t i = 0; i < T->numel; i++) d[i] += a * (float)((w[i] > 0.0f) - (w[i] < 0.0f)) + b * w[i];
  }
}
