/* sched: the learning-rate schedules' registry and the rate in use (schedule.h). */
#include "schedule.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"

#define RD_SCHEDULE(n) extern const rd_sched_type rd_sched_##n;
#include "schedules/list.h"
#undef RD_SCHEDULE

static const rd_sched_type *const k_types[] = {
#define RD_SCHEDULE(n) &rd_sched_##n,
#include "schedules/list.h"
#undef RD_SCHEDULE
};

int rd_sched_count(void) { return (int)(sizeof k_types / sizeof *k_types); }
const rd_sched_type *rd_sched_type_at(int i) { return k_types[i]; }

const rd_sched_type *rd_sched_find(const char *name) {
  for (int i = 0; i < rd_sched_count(); i++)
    if (!strcmp(k_types[i]->name, name)) return k_types[i];
  return NULL;
}

void rd_sched_from_cfg(rd_cfg *c, int tr, double dflt, rd_sched *s) {
  memset(s, 0, sizeof *s);
  s->lr = dflt;
  rd_cfg_item *it = rd_cfg_item_of(c, tr, "learning_rate");
  /* A name starts with a letter or '_', a number never does; nan and inf are
   * numbers, refused as such. */
  const char v0 = it ? it->value[0] : '\0';
  const int name = ((v0 >= 'a' && v0 <= 'z') || (v0 >= 'A' && v0 <= 'Z') || v0 == '_') &&
                   strcasecmp(it->value, "nan") && strcasecmp(it->value, "inf") && strcasecmp(it->value, "infinity");
  if (!name) {
    rd_cfg_float(c, tr, "learning_rate", dflt, 0, RD_CFG_F32_MAX, RD_CFG_LO_OPEN, &s->lr);
  } else {
    const char *name = NULL;
    if (rd_cfg_name(c, tr, "learning_rate", NULL, 0, &name) > 0) {
      s->type = rd_sched_find(name);
      char list[512] = "";
      for (int i = 0; i < rd_sched_count(); i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", k_types[i]->name);
      if (!s->type)
        rd_cfg_fail(c, it, -1, "learning_rate = '%s' is neither a number nor a schedule (%s)", name, list);
      else if (rd_cfg_section(c, name, 0) < 0)
        rd_cfg_fail(c, it, -1, "learning_rate = %s names a schedule, but the config has no [%s] section", name, name);
    }
  }
  for (int i = 0; i < rd_sched_count(); i++) {
    const int sec = rd_cfg_section(c, k_types[i]->name, 0);
    if (sec < 0) continue;
    if (k_types[i] != s->type) { /* each of its keys says why it does not apply */
      for (int j = 0; j < c->nitems; j++)
        if (c->items[j].sec == sec)
          rd_cfg_not_applicable(c, sec, c->items[j].key,
                                "is in [%s], which is not used: [train] learning_rate = %s would use it",
                                k_types[i]->name, k_types[i]->name);
      continue;
    }
    rd_cfg_visit(c, sec);
    s->type->read(c, sec, s);
  }
}

double rd_sched_rate(const rd_sched *s, uint64_t step) {
  return s->type ? (double)(float)s->type->rate(s, step) : s->lr;
}

const char *rd_sched_name(const rd_sched *s) { return s->type ? s->type->name : "constant"; }

void rd_sched_need_steps(rd_cfg *c, int sec, const char *key, double *out) {
  int64_t n = 0;
  if (rd_cfg_int(c, sec, key, 0, 1, 1e15, 0, &n) == 0) rd_cfg_fail(c, NULL, sec, "%s is required (an integer >= 1)", key);
  *out = (double)n;
}

void rd_sched_need_rate(rd_cfg *c, int sec, const char *key, double *out) {
  if (rd_cfg_float(c, sec, key, 0.0, 0, RD_CFG_F32_MAX, RD_CFG_LO_OPEN, out) == 0)
    rd_cfg_fail(c, NULL, sec, "%s is required (a number > 0)", key);
}
