/* loss: the losses' registry (see loss.h). */
#include "loss.h"

#include <string.h>

#define RD_LOSS(n) extern const rd_loss_type rd_loss_##n;
#include "losses/list.h"
#undef RD_LOSS

static const rd_loss_type *const k_types[] = {
#define RD_LOSS(n) &rd_loss_##n,
#include "losses/list.h"
#undef RD_LOSS
};
enum { NTYPES = (int)(sizeof k_types / sizeof *k_types) };

int rd_loss_count(void) { return NTYPES; }
const rd_loss_type *rd_loss_type_at(int i) { return k_types[i]; }

const rd_loss_type *rd_loss_find(const char *name) {
  for (int i = 0; i < NTYPES; i++)
    if (!strcmp(k_types[i]->name, name)) return k_types[i];
  return NULL;
}

static int has_key(const rd_loss_type *t, const char *key) {
  for (const char *const *k = t->keys; k && *k; k++)
    if (!strcmp(*k, key)) return 1;
  return 0;
}

void rd_loss_from_cfg(rd_cfg *c, int tr, rd_loss_spec *s) {
  memset(s, 0, sizeof *s);
  const char *names[NTYPES + 1];
  for (int i = 0; i < NTYPES; i++) names[i] = k_types[i]->name;
  names[NTYPES] = NULL;
  int k = 0;
  rd_cfg_enum(c, tr, "loss", names, 0, 0, &k);
  s->type = k_types[k];
  s->type->read(c, tr, s->p);
  for (int i = 0; i < NTYPES; i++)
    for (const char *const *key = k_types[i]->keys; key && *key; key++)
      if (!has_key(s->type, *key)) rd_cfg_not_applicable(c, tr, *key, "does not apply to loss = %s", s->type->name);
}

void rd_loss_spec_defaults(const rd_loss_type *t, rd_loss_spec *s) {
  rd_cfg c;
  memset(&c, 0, sizeof c);
  memset(s, 0, sizeof *s);
  s->type = t;
  t->read(&c, -1, s->p);
}

int64_t rd_loss_argmax(const float *z, int64_t n) {
  int64_t b = 0;
  for (int64_t k = 1; k < n; k++)
    if (z[k] > z[b]) b = k;
  return b;
}
