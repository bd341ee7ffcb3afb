/* registry: built-in and plugin layer types (see registry.h). */
#include "registry.h"

#include "fsio.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "cfg.h"

/* The built-in types, declared by the one list of them. */
#define RD_BUILTIN_LAYER(n) extern const rd_layer_type rd_layer_##n;
#include "layers/builtin.h"
#undef RD_BUILTIN_LAYER

#define MAX_PLUGINS 32

typedef struct {
  char path[PATH_MAX];
  uint64_t xxh64;
  char id[80]; /* name@xxh64 */
  void *handle;
} plugin;

static plugin g_plugins[MAX_PLUGINS];
static int g_nplugins;
static char g_plugins_text[MAX_PLUGINS * 96];

static const rd_layer_type *g_types[RD_REGISTRY_MAX_TYPES];
/* ABI 1 plugins' types: their struct ends before build_n, so each is copied
 * into a whole one whose fields since ABI 2 are zero. */
static rd_layer_type g_abi1[RD_REGISTRY_MAX_TYPES];
static int g_nabi1;
static int g_owner[RD_REGISTRY_MAX_TYPES]; /* -1: built in; else the index of the plugin that defines it */
static int g_ntypes, g_inited;


static int valid_type_name(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 48 || !(s[0] >= 'a' && s[0] <= 'z')) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return 0;
  return 1;
}

static rd_status add(const rd_layer_type *t, const char *origin, int owner, rd_err *err);

rd_status rd_registry_add(const rd_layer_type *t, const char *origin, rd_err *err) {
  rd_registry_init();
  return add(t, origin, -1, err);
}

static rd_status add(const rd_layer_type *t, const char *origin, int owner, rd_err *err) {
  for (int i = 0; i < g_ntypes; i++)
    if (g_types[i] == t) return RD_OK; /* the same type again (a plugin loaded twice) */
  if (!valid_type_name(t->name))
    return rd_err_set(err, RD_EINPUT,
                      "%s: layer type name '%s' is not valid (lower-case letters, digits and _, starting with a "
                      "letter; at most 48)",
                      origin, t->name ? t->name : "(null)");
  if (rd_cfg_is_fixed(t->name))
    return rd_err_set(err, RD_EINPUT, "%s: layer type '%s' clashes with the config section [%s]; rename it", origin,
                      t->name, t->name);
  for (int i = 0; i < g_ntypes; i++)
    if (!strcmp(g_types[i]->name, t->name)) {
      if (g_owner[i] < 0)
        return rd_err_set(err, RD_EINPUT, "%s: layer type '%s' clashes with reprodist's built-in [%s]; rename it",
                          origin, t->name, t->name);
      return rd_err_set(err, RD_EINPUT, "%s: layer type '%s' is already defined by plugin %s; rename one of them",
                        origin, t->name, g_plugins[g_owner[i]].path);
    }
  const int one = t->build && !(t->flags & RD_LAYER_RESHAPE) && t->forward && t->backward;
  const int reshape = t->build && (t->flags & RD_LAYER_RESHAPE);
  const int several = t->build_n && t->forward_n && t->backward_n && !(t->flags & RD_LAYER_RESHAPE);
  if ((one || reshape) == several || (several && (t->build || t->forward || t->backward)) ||
      (t->stats_size && !t->stats_apply))
    return rd_err_set(err, RD_EINPUT,
                      "%s: layer type '%s' needs either build, forward and backward (one input) or build_n, "
                      "forward_n and backward_n (several inputs), not a mix (and stats_apply with stats_size)",
                      origin, t->name);
  if (t->self_size > RD_REGISTRY_MAX_SELF)
    return rd_err_set(err, RD_EINPUT,
                      "%s: layer type '%s' asks for %zu bytes of state per layer (self_size); at most %d MiB is allowed: "
                      "keep large arrays in tensors or the workspace",
                      origin, t->name, t->self_size, RD_REGISTRY_MAX_SELF >> 20);
  if (g_ntypes == RD_REGISTRY_MAX_TYPES) return rd_err_set(err, RD_EINPUT, "%s: too many layer types", origin);
  g_owner[g_ntypes] = owner;
  g_types[g_ntypes++] = t;
  return RD_OK;
}

void rd_registry_init(void) {
  if (g_inited) return;
  g_inited = 1;
  rd_err e = {0};
#define RD_BUILTIN_LAYER(n) add(&rd_layer_##n, "built in", -1, &e);
#include "layers/builtin.h"
#undef RD_BUILTIN_LAYER
  RD_ASSERT(e.code == RD_OK, "built-in layer type refused: %s", e.msg);
}

const rd_layer_type *rd_registry_find(const char *name) {
  rd_registry_init();
  for (int i = 0; i < g_ntypes; i++)
    if (strcmp(g_types[i]->name, name) == 0) return g_types[i];
  return NULL;
}

void rd_registry_names(char *buf, size_t n) {
  rd_registry_init();
  size_t o = 0;
  buf[0] = '\0';
  for (int i = 0; i < g_ntypes && o < n; i++) o += (size_t)snprintf(buf + o, n - o, "%s[%s]", i ? " " : "", g_types[i]->name);
}

int rd_registry_count(void) {
  rd_registry_init();
  return g_ntypes;
}

const rd_layer_type *rd_registry_type(int i) {
  rd_registry_init();
  return i >= 0 && i < g_ntypes ? g_types[i] : NULL;
}

const char *rd_registry_plugins(void) { return g_plugins_text; }
int rd_registry_plugin_count(void) { return g_nplugins; }
const char *rd_registry_origin(const rd_layer_type *t) {
  for (int i = 0; i < g_ntypes; i++)
    if (g_types[i] == t) return g_owner[i] < 0 ? NULL : g_plugins[g_owner[i]].path;
  return NULL;
}
const char *rd_registry_plugin_path(int i) { return i >= 0 && i < g_nplugins ? g_plugins[i].path : NULL; }

rd_status rd_registry_load(const char *path, const char *where, char *id, size_t idn, rd_err *err) {
  rd_registry_init();
  struct stat st;
  char real[PATH_MAX];
  if (stat(path, &st) != 0)
    return rd_err_set(err, RD_EINPUT, "%s: plugin %s: cannot open it (%s)", where, path, strerror(errno));
  if (!S_ISREG(st.st_mode)) return rd_err_set(err, RD_EINPUT, "%s: plugin %s: not a file", where, path);
  /* An absolute path, so dlopen never searches the system's library path. */
  if (!realpath(path, real))
    return rd_err_set(err, RD_EINPUT, "%s: plugin %s: cannot open it (%s)", where, path, strerror(errno));
  for (int i = 0; i < g_nplugins; i++)
    if (!strcmp(g_plugins[i].path, real)) {
      snprintf(id, idn, "%s", g_plugins[i].id);
      return RD_OK;
    }
  if (g_nplugins == MAX_PLUGINS) return rd_err_set(err, RD_EINPUT, "%s: more than %d plugins", where, MAX_PLUGINS);
  uint64_t h;
  if (rd_fs_hash_file(real, &h))
    return rd_err_set(err, RD_EINPUT, "%s: plugin %s: cannot read it (%s)", where, path, strerror(errno));
  dlerror();
  void *lib = dlopen(real, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    return rd_err_set(err, RD_EINPUT, "%s: plugin %s: not a loadable shared library (%s)", where, path,
                      why ? why : "dlopen failed");
  }
  const rd_plugin *(*entry)(void) = NULL;
  *(void **)&entry = dlsym(lib, RD_PLUGIN_SYMBOL);
  if (!entry) {
    dlclose(lib);
    return rd_err_set(err, RD_EINPUT,
                      "%s: plugin %s: no %s function, so not a reprodist plugin (define it with RD_PLUGIN(...) from "
                      "reprodist/layer.h)",
                      where, path, RD_PLUGIN_SYMBOL);
  }
  const rd_plugin *p = entry();
  if (!p) {
    dlclose(lib);
    return rd_err_set(err, RD_EINPUT,
                      "%s: plugin %s: its %s() returned NULL instead of describing its layer types (define it with "
                      "RD_PLUGIN(...) from reprodist/layer.h)",
                      where, path, RD_PLUGIN_SYMBOL);
  }
  const unsigned abi = p->abi;
  if (abi != RD_LAYER_ABI && abi != 1) {
    dlclose(lib); /* p points into it: read before */
    return rd_err_set(err, RD_EINPUT,
                      "%s: plugin %s: built for layer interface version %u, but this reprodist has version %d (and "
                      "loads version 1); rebuild it against this reprodist's reprodist/layer.h",
                      where, path, abi, RD_LAYER_ABI);
  }
  if (p->ntypes <= 0) {
    const int n = p->ntypes;
    dlclose(lib);
    return rd_err_set(err, RD_EINPUT,
                      "%s: plugin %s: declares %d layer types; a plugin defines at least one "
                      "(RD_PLUGIN(\"name\", &type, ...))",
                      where, path, n);
  }
  char origin[PATH_MAX + 600];
  snprintf(origin, sizeof origin, "%s: plugin %s", where, path);
  const int before = g_ntypes, before1 = g_nabi1;
  plugin *pl = &g_plugins[g_nplugins];
  snprintf(pl->path, sizeof pl->path, "%s", real);
  for (int i = 0; i < p->ntypes && !err->code; i++)
    if (!p->types || !p->types[i])
      rd_err_set(err, RD_EINPUT, "%s: type %d of %d is missing", origin, i + 1, p->ntypes);
    else if (abi == 1) {
      if (g_nabi1 == RD_REGISTRY_MAX_TYPES) {
        rd_err_set(err, RD_EINPUT, "%s: too many layer types", origin);
        break;
      }
      rd_layer_type *t = &g_abi1[g_nabi1++];
      memset(t, 0, sizeof *t);
      memcpy(t, p->types[i], offsetof(rd_layer_type, build_n));
      add(t, origin, g_nplugins, err);
    } else
      add(p->types[i], origin, g_nplugins, err);
  if (err->code) {
    g_ntypes = before; /* none of its types stays registered */
    g_nabi1 = before1;
    dlclose(lib);
    return err->code;
  }
  g_nplugins++;
  pl->xxh64 = h;
  pl->handle = lib;
  snprintf(pl->id, sizeof pl->id, "%.60s@%016" PRIx64, p->name && *p->name ? p->name : "plugin", h);
  size_t o = strlen(g_plugins_text);
  snprintf(g_plugins_text + o, sizeof g_plugins_text - o, "%s%s", o ? "," : "", pl->id);
  snprintf(id, idn, "%s", pl->id);
  return RD_OK;
}
