/* cli: argument parsing and the commands (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "comm.h"
#include "fingerprint.h"
#include "fsio.h"
#include "h5io.h"
#include "inspect.h"
#include "keras_file.h"
#include "keras_model.h"
#include "kjson.h"
#include "job.h"
#include "log.h"
#include "mem.h"
#include "gradcheck.h"
#include "summary.h"
#include "paths.h"
#include "predict.h"
#include "registry.h"
#include "sig.h"

#define RD_MAX_SETS 256
#define RD_MAX_CONFIG_BYTES (16u << 20)

typedef struct {
  const char *cmd;
  const char *config;
  const char *output;
  const char *resume;  /* --resume PATH or "latest" */
  int allow_mixed;
  const char *sets[RD_MAX_SETS];
  int nsets;
  const char **files; /* check / digest operands */
  const char *weights; /* evaluate's and predict's weights file */
  const char *input;   /* predict's input file */
  int plugin;          /* --plugin was given (gradcheck only) */
  int64_t steps;       /* schedule: how many steps to print */
  int nfiles;
  char command[8192]; /* argv, shell-quoted, without --resume: for the resume hint */
} cli_args;

static const char k_usage[] =
    "usage: reprodist [train] CONFIG [options]   train; write the final weights\n"
    "       reprodist init CONFIG [options]      write the initial weights\n"
    "       reprodist seeds CONFIG [options]     print every tensor's derived seed\n"
    "       reprodist evaluate CONFIG W.h5       test loss and accuracy of W.h5's (or W.keras') weights\n"
    "       reprodist predict CONFIG W.h5 INPUT -o OUT.npy|OUT.h5   the model's outputs for INPUT\n"
    "       reprodist gradcheck CONFIG [--plugin LIB.so]   check each layer's gradients (finite differences)\n"
    "       reprodist summary CONFIG             the model's layers, shapes and parameters, as Keras prints them\n"
    "       reprodist schedule CONFIG [STEPS]    the learning rate of steps 0..STEPS-1 (default 100)\n"
    "       reprodist keras-config CONFIG        the model as Keras' model JSON (to_json(), with compile_config)\n"
    "       reprodist check A.h5 B.h5 [C.h5...]  compare weight files (.h5 or .keras) tensor by tensor\n"
    "       reprodist digest X.h5 [Y.h5...]      print per-tensor digests (XXH64, hex)\n"
    "\n"
    "options:\n"
    "  -o, --output PATH[,PATH]   write the weights here (overrides [run] output): a .keras\n"
    "                             archive (Keras 3) or a .h5 weights file, or both\n"
    "  --set SECTION.KEY=VALUE    override a config value; repeatable;\n"
    "                             SECTION.N.KEY for the N-th [SECTION] (from 0)\n"
    "  --resume PATH|latest       continue from a checkpoint (any rank count)\n"
    "  --allow-mixed              train even if ranks' environments differ (warns)\n"
    "  -h, --help                 this text\n"
    "  --version                  version and build\n"
    "\n"
    "exit codes: 0 success; 1 runtime failure (check: the files differ); 2 usage,\n"
    "config, data, checkpoint or output error (a bad path, a full disk); 3 stopped\n"
    "by SIGTERM/SIGINT/SIGUSR1 after writing a checkpoint.\n"
    "Run with mpirun -np N; results are bit-identical for every N (see README).";

/* The command that resumes this run, as the user can type it: launch/run's
 * form when it started the run (it says so in RD_LAUNCH_HINT), else mpirun's,
 * with --allow-run-as-root for root. N stands for any rank count. */
static void build_command(int argc, char **argv, cli_args *a) {
  a->command[0] = '\0';
  const char *via = getenv("RD_LAUNCH_HINT");
  int i = 0;
  if (via && *via) {
    snprintf(a->command, sizeof a->command, "%s N", via);
    i = 1; /* launch/run names the binary itself */
  } else {
    snprintf(a->command, sizeof a->command, "mpirun%s -np N", geteuid() == 0 ? " --allow-run-as-root" : "");
  }
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "--resume") && i + 1 < argc) {
      i++;
      continue;
    }
    if (!strncmp(argv[i], "--resume=", 9)) continue;
    rd_fs_shell_append(a->command, sizeof a->command, argv[i]);
  }
}

static int is_command(const char *s) {
  return !strcmp(s, "train") || !strcmp(s, "init") || !strcmp(s, "seeds") || !strcmp(s, "check") ||
         !strcmp(s, "digest") || !strcmp(s, "evaluate") || !strcmp(s, "predict") || !strcmp(s, "gradcheck") ||
         !strcmp(s, "summary") || !strcmp(s, "schedule") || !strcmp(s, "keras-config");
}

static rd_status add_set(cli_args *a, const char *v, rd_err *err) {
  if (a->nsets >= RD_MAX_SETS) return rd_err_set(err, RD_EINPUT, "reprodist: too many --set options");
  a->sets[a->nsets++] = v;
  return RD_OK;
}

static rd_status parse_args(int argc, char **argv, cli_args *a, rd_err *err, int *done) {
  memset(a, 0, sizeof *a);
  *done = 0;
  static const char *pos[4096];
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
      *done = 1;
      return RD_OK;
    } else if (!strcmp(s, "--version")) {
      *done = 2;
      return RD_OK;
    } else if (!strcmp(s, "-o") || !strcmp(s, "--output") || !strcmp(s, "--set") || !strcmp(s, "--resume")) {
      if (i + 1 >= argc) return rd_err_set(err, RD_EINPUT, "reprodist: %s needs a value (see --help)", s);
      const char *v = argv[++i];
      if (!strcmp(s, "--set")) {
        if (add_set(a, v, err)) return err->code;
      } else if (!strcmp(s, "--resume")) {
        a->resume = v;
      } else {
        a->output = v;
      }
      if (!*v) return rd_err_set(err, RD_EINPUT, "reprodist: %s needs a non-empty value (see --help)", s);
    } else if (!strncmp(s, "--output=", 9)) {
      a->output = s + 9;
      if (!*a->output) return rd_err_set(err, RD_EINPUT, "reprodist: --output needs a non-empty value (see --help)");
    } else if (!strncmp(s, "--resume=", 9)) {
      a->resume = s + 9;
    } else if (!strncmp(s, "--set=", 6)) {
      if (add_set(a, s + 6, err)) return err->code;
    } else if (!strcmp(s, "--plugin")) { /* gradcheck's: [run] plugins = LIB.so */
      if (i + 1 >= argc || !*argv[i + 1])
        return rd_err_set(err, RD_EINPUT, "reprodist: --plugin needs a value (see --help)");
      static char set[4200];
      snprintf(set, sizeof set, "run.plugins=%s", argv[++i]);
      if (add_set(a, set, err)) return err->code;
      a->plugin = 1;
    } else if (!strcmp(s, "--allow-mixed")) {
      a->allow_mixed = 1;
    } else if (s[0] == '-' && s[1] != '\0') {
      return rd_err_set(err, RD_EINPUT, "reprodist: unknown option '%s' (see --help)", s);
    } else {
      if (npos >= (int)(sizeof pos / sizeof pos[0]))
        return rd_err_set(err, RD_EINPUT, "reprodist: too many arguments");
      pos[npos++] = s;
    }
  }
  if (npos == 0) return rd_err_set(err, RD_EINPUT, "reprodist: no config file given (see --help)");
  build_command(argc, argv, a);
  int first = 0;
  a->cmd = "train";
  if (is_command(pos[0])) a->cmd = pos[0], first = 1;
  int nops = npos - first;
  if (!strcmp(a->cmd, "check") || !strcmp(a->cmd, "digest")) {
    int need = !strcmp(a->cmd, "check") ? 2 : 1;
    if (nops < need)
      return rd_err_set(err, RD_EINPUT, "reprodist: '%s' needs %s (see --help)", a->cmd,
                        need == 2 ? "at least two weight files" : "a weight file");
    a->files = pos + first;
    a->nfiles = nops;
    return RD_OK;
  }
  if (nops == 0) return rd_err_set(err, RD_EINPUT, "reprodist: '%s' needs a config file (see --help)", a->cmd);
  if (a->plugin && strcmp(a->cmd, "gradcheck"))
    return rd_err_set(err, RD_EINPUT, "reprodist: --plugin is for gradcheck; a run names its plugins in [run] plugins");
  if (!strcmp(a->cmd, "evaluate")) {
    if (nops != 2)
      return rd_err_set(err, RD_EINPUT, "reprodist: 'evaluate' needs a config and a weights file (see --help)");
    a->config = pos[first], a->weights = pos[first + 1];
    return RD_OK;
  }
  if (!strcmp(a->cmd, "predict")) {
    if (nops != 3 || !a->output)
      return rd_err_set(err, RD_EINPUT,
                        "reprodist: 'predict' needs a config, a weights file, an input file and -o OUT (see --help)");
    a->config = pos[first], a->weights = pos[first + 1], a->input = pos[first + 2];
    return RD_OK;
  }
  if (!strcmp(a->cmd, "schedule")) {
    a->config = pos[first], a->steps = 100;
    if (nops > 2 || (nops == 2 && (rd_parse_int(pos[first + 1], &a->steps) || a->steps < 1 || a->steps > 100000000)))
      return rd_err_set(err, RD_EINPUT, "reprodist: 'schedule' needs a config and, optionally, a step count from 1 to "
                        "100000000 (see --help)");
    return RD_OK;
  }
  if (nops > 1 && !first)
    return rd_err_set(err, RD_EINPUT, "reprodist: unknown command '%s' (train, init, seeds, evaluate, predict, gradcheck, summary, schedule, keras-config, check, digest; "
                      "see --help)",
                      pos[0]);
  if (nops > 1)
    return rd_err_set(err, RD_EINPUT, "reprodist: unexpected argument '%s' (see --help)", pos[first + 1]);
  a->config = pos[first];
  return RD_OK;
}

/* Rank 0 reads the file; every rank gets its bytes, so no rank can disagree. */
static rd_status read_config_bytes(const char *path, char **text, size_t *len, rd_err *err) {
  *text = NULL;
  *len = 0;
  if (rd_comm_rank() == 0) {
    struct stat st;
    FILE *f = NULL;
    if (stat(path, &st) != 0)
      rd_err_set(err, RD_EINPUT, "%s: cannot open config (%s)", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
      rd_err_set(err, RD_EINPUT, "%s: is a directory, not a config file", path);
    else if ((size_t)st.st_size > RD_MAX_CONFIG_BYTES)
      rd_err_set(err, RD_EINPUT, "%s: config is larger than 16 MiB; is this the right file?", path);
    else if (!(f = fopen(path, "rb")))
      rd_err_set(err, RD_EINPUT, "%s: cannot open config (%s)", path, strerror(errno));
    else {
      *text = malloc((size_t)st.st_size + 1);
      RD_ASSERT(*text != NULL, "out of memory");
      *len = fread(*text, 1, (size_t)st.st_size, f);
      if (ferror(f)) rd_err_set(err, RD_EINPUT, "%s: read error (%s)", path, strerror(errno));
      fclose(f);
    }
  }
  if (rd_comm_agree(err)) {
    free(*text);
    *text = NULL;
    return err->code;
  }
  rd_comm_bcast_bytes((void **)text, len, 0);
  return RD_OK;
}

/* Config + overrides + plugins + model, identical on every rank. */
static rd_status load_job(const cli_args *a, rd_job *j, rd_err *err) {
  char *text = NULL;
  size_t len = 0;
  memset(j, 0, sizeof *j);
  if (read_config_bytes(a->config, &text, &len, err)) return err->code;
  rd_job_load(j, a->config, text, len, a->sets, a->nsets, 0, err);
  free(text);
  /* Every rank parsed the same bytes; a plugin missing on one node differs. */
  return rd_comm_agree(err);
}

static const char *output_path(const cli_args *a, const rd_job *j) { return a->output ? a->output : j->output; }

/* What a run writes: -o's or [run] output's paths, one or several separated by
 * commas ("x.h5, x.keras"): a .keras name gets a Keras 3 archive, any other the
 * legacy weights file. */
#define RD_MAX_OUTPUTS 4
typedef struct {
  int n;
  char path[RD_MAX_OUTPUTS][4096];
} out_list;

static rd_status outputs_of(const cli_args *a, const rd_job *j, out_list *o, rd_err *err) {
  const char *spec = output_path(a, j);
  char where[512] = "-o ";
  if (!a->output) {
    const rd_cfg_item *it = rd_cfg_find(&j->cfg, "run", 0, "output");
    char w[480];
    snprintf(where, sizeof where, "%s: output = ", it ? rd_cfg_where(&j->cfg, it, -1, w, sizeof w) : "[run]");
  }
  o->n = 0;
  for (const char *p = spec;; p++) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    while (len && (*p == ' ' || *p == '\t')) p++, len--;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
    if (!len || len >= sizeof o->path[0])
      return rd_err_set(err, RD_EINPUT, "%s%s: %s", where, spec,
                        len ? "a path is too long" : "an empty path (write one path, or several separated by commas)");
    if (o->n == RD_MAX_OUTPUTS)
      return rd_err_set(err, RD_EINPUT, "%s%s: at most %d outputs", where, spec, RD_MAX_OUTPUTS);
    snprintf(o->path[o->n++], sizeof o->path[0], "%.*s", (int)len, p);
    for (int i = 0; i + 1 < o->n; i++)
      if (!strcmp(o->path[i], o->path[o->n - 1]))
        return rd_err_set(err, RD_EINPUT, "%s%s: %s is named twice", where, spec, o->path[i]);
    if (!e) break;
    p = e;
  }
  return RD_OK;
}

/* Collective: every output can be written (checked before long work). */
static rd_status check_outputs(const out_list *o, rd_err *err) {
  for (int i = 0; i < o->n; i++)
    if (rd_h5_check_output(o->path[i], err)) return err->code;
  return RD_OK;
}

static rd_status write_weights(const char *path, const rd_job *j, const float *params, const rd_optim_view *ov,
                               rd_err *err) {
  char *canon = rd_cfg_canonical(&j->cfg);
  /* The core name is rank 0's: the file must not depend on which rank wrote what. */
  const rd_kern_mode mode = j->train.kernels;
  char *core = strdup(mode == RD_KERN_PORTABLE ? "none (kernels = portable)" : rd_fp_openblas_core());
  size_t n = strlen(core) + 1;
  if (rd_comm_rank() != 0) free(core), core = NULL;
  rd_comm_bcast_bytes((void **)&core, &n, 0);
  /* Rank 0's fingerprint: ranks agree (rd_fp_check_ranks) or the user allowed mixing. */
  char *fp = malloc(RD_FP_MAX);
  RD_ASSERT(fp != NULL, "out of memory");
  rd_fp_text(fp, RD_FP_MAX, mode);
  size_t fn = strlen(fp) + 1;
  if (rd_comm_rank() != 0) free(fp), fp = NULL;
  rd_comm_bcast_bytes((void **)&fp, &fn, 0);
  rd_provenance prov = {rd_fp_version(), canon, rd_cfg_digest(&j->cfg), j->model.global_seed, core, fp, j->plugins};
  rd_status st = rd_keras_is_archive(path)
                     ? rd_keras_write(path, &j->model, &j->cfg, &j->train, params, ov, &prov, j->date_saved, err)
                     : rd_h5_write_weights(path, &j->model, params, &prov, err);
  free(canon);
  free(core);
  free(fp);
  return st;
}

/* ---- outputs never replace inputs (paths.h) ---------------------------------------- */

/* u names path as set by [sec] key: "[data] train_x (c.cfg:9)", or "(its default)". */
static void path_use(rd_path_use *u, const char *path, const rd_cfg *c, const char *sec, const char *key) {
  const rd_cfg_item *it = rd_cfg_find(c, sec, 0, key);
  char where[512];
  u->path = path;
  snprintf(u->what, sizeof u->what, "[%s] %s (%s)", sec, key,
           it ? rd_cfg_where(c, it, -1, where, sizeof where) : "its default");
}

/* Rank 0 compares the run's outputs with its inputs; every rank gets the verdict. */
static rd_status check_paths(const cli_args *a, const rd_job *j, const out_list *outs, int train, rd_err *err) {
  if (rd_comm_rank() == 0) {
    rd_path_use in[16 + 64], out[RD_MAX_OUTPUTS + 1];
    int nin = 0, nout = 0;
    memset(in, 0, sizeof in), memset(out, 0, sizeof out);
    char h5[6][4096];
    in[nin].path = a->config, snprintf(in[nin++].what, sizeof in[0].what, "the config file");
    if (train && j->data.source != RD_DATA_SYNTHETIC) {
      static const char *const keys[6] = {"train_x", "train_y", "test_x", "test_y", "val_x", "val_y"};
      const char *v[6] = {j->data.x[0], j->data.y[0], j->data.x[1], j->data.y[1], j->data.x[2], j->data.y[2]};
      for (int k = 0; k < (j->data.has_val ? 6 : 4); k++) {
        const char *f = v[k];
        if (j->data.source == RD_DATA_HDF5) { /* FILE:DATASET, split at the last ':' */
          const char *colon = strrchr(v[k], ':');
          snprintf(h5[k], sizeof h5[k], "%.*s", (int)(colon ? colon - v[k] : (long)strlen(v[k])), v[k]);
          f = h5[k];
        }
        path_use(&in[nin++], f, &j->cfg, "data", keys[k]);
      }
    }
    for (int i = 0; i < rd_registry_plugin_count() && nin < 16 + 64; i++)
      path_use(&in[nin++], rd_registry_plugin_path(i), &j->cfg, "run", "plugins");
    if (train && a->resume && strcmp(a->resume, "latest"))
      in[nin].path = a->resume, snprintf(in[nin++].what, sizeof in[0].what, "--resume");
    for (int i = 0; i < outs->n; i++)
      if (a->output)
        out[nout].path = outs->path[i], snprintf(out[nout++].what, sizeof out[0].what, "-o (the weights)");
      else
        path_use(&out[nout], outs->path[i], &j->cfg, "run", "output"), nout++;
    if (train && j->train.metrics_path) path_use(&out[nout++], j->train.metrics_path, &j->cfg, "run", "metrics");
    rd_paths_check(out, nout, in, nin, train ? j->train.ckpt_dir : NULL, err);
  }
  return rd_comm_agree(err);
}

/* Rank 0 reads path's weights (a .keras archive or a legacy .h5 file) into
 * params; every rank gets them. Collective. */
static rd_status read_params(const char *path, const rd_model *m, float *params, rd_err *err) {
  if (rd_comm_rank() == 0)
    rd_keras_is_archive(path) ? rd_keras_load_params(path, m, params, err) : rd_h5_load_params(path, m, params, err);
  if (rd_comm_agree(err)) return err->code;
  void *buf = params;
  size_t len = sizeof(float) * m->nparams;
  rd_comm_bcast_bytes(&buf, &len, 0);
  if (buf != params) memcpy(params, buf, len), free(buf);
  return RD_OK;
}

/* The weights a run starts from: [model] keras_weights' (fine-tuning), else the seeded initializers'. */
static rd_status start_params(const rd_job *j, float *params, rd_err *err) {
  rd_model_init_params(&j->model, params);
  return j->keras_weights ? read_params(j->keras_weights, &j->model, params, err) : RD_OK;
}

/* The config's model as Keras' model JSON (model.to_json(), with compile_config), on rank 0's stdout. */
static rd_status cmd_keras_config(const rd_job *j) {
  if (rd_comm_rank() != 0) return RD_OK;
  json_t *model = rd_keras_model_json(&j->model, &j->cfg, &j->train);
  char *text = rd_kjson_dumps(model);
  rd_out("%s\n", text);
  free(text);
  json_decref(model);
  return RD_OK;
}

static rd_status cmd_init(const cli_args *a, const rd_job *j, rd_err *err) {
  const rd_model *m = &j->model;
  out_list outs;
  outputs_of(a, j, &outs, err);
  if (rd_comm_agree(err) || check_paths(a, j, &outs, 0, err) || check_outputs(&outs, err)) return err->code;
  float *params = rd_mem_alloc_f32(m->nparams);
  if (start_params(j, params, err)) {
    free(params);
    return err->code;
  }
  /* The optimizer as before its first step, for a .keras archive's optimizer variables. */
  rd_optim o;
  rd_optim_init(&o, &j->train.opt, m);
  float *state = calloc((size_t)rd_optim_slots(&j->train.opt) * o.n + 1, sizeof(float));
  RD_ASSERT(state != NULL, "out of memory");
  rd_optim_state_init(&o, state);
  const rd_optim_view ov = {&o, state, 0};
  rd_status st = RD_OK;
  for (int i = 0; i < outs.n && st == RD_OK; i++) {
    st = write_weights(outs.path[i], j, params, &ov, err);
    if (st == RD_OK)
      rd_log0("reprodist: wrote initial weights of %d layers (%zu parameters) to %s (config xxh64 %016" PRIx64 ")",
              m->nlayers, m->nparams, outs.path[i], rd_cfg_digest(&j->cfg));
  }
  free(state);
  rd_optim_free(&o);
  free(params);
  return st;
}

/* The rate each step trains with: "step rate bits", the rate to 9 digits
 * (float32's round trip) and its float32 bits in hex. */
static rd_status cmd_schedule(const cli_args *a, const rd_job *j) {
  const rd_sched *s = &j->train.opt.lr;
  rd_log0("# learning rate: %s (optimizer %s); step, rate, float32 bits", rd_sched_name(s), j->train.opt.type->name);
  for (int64_t i = 0; i < a->steps; i++) {
    const float r = (float)rd_sched_rate(s, (uint64_t)i);
    uint32_t b;
    memcpy(&b, &r, 4);
    rd_log0("%lld %.9g %08" PRIx32, (long long)i, (double)r, b);
  }
  return RD_OK;
}

/* rd_train_ctl's save_weights: a model_checkpoint file, or (path NULL) the run's outputs when it finishes. */
typedef struct {
  const rd_job *j;
  const out_list *outs;
} final_ctx;

static rd_status save_outputs(const void *ctx, const char *path, const float *params, const rd_optim_view *ov,
                              rd_err *err) {
  const final_ctx *f = ctx;
  if (path) return write_weights(path, f->j, params, ov, err); /* a model_checkpoint file */
  for (int i = 0; i < f->outs->n; i++) {
    if (write_weights(f->outs->path[i], f->j, params, ov, err)) return err->code;
    rd_log0("reprodist: wrote trained weights to %s (config xxh64 %016" PRIx64 ")", f->outs->path[i],
            rd_cfg_digest(&f->j->cfg));
  }
  return RD_OK;
}

static int stores_state(const void *ctx, const char *path) {
  const final_ctx *f = ctx;
  if (path) return rd_keras_is_archive(path);
  for (int i = 0; i < f->outs->n; i++)
    if (rd_keras_is_archive(f->outs->path[i])) return 1;
  return 0;
}

static rd_status cmd_train(const cli_args *a, const rd_job *j, rd_err *err) {
  const rd_model *m = &j->model;
  out_list outs;
  rd_train_spec_check(&j->train, m, &j->cfg, err);
  if (!err->code) outputs_of(a, j, &outs, err);
  if (rd_comm_agree(err) || rd_fp_check_ranks(j->train.kernels, a->allow_mixed, err) ||
      check_paths(a, j, &outs, 1, err) || check_outputs(&outs, err))
    return err->code;
  float *params = rd_mem_alloc_f32(m->nparams);
  if (start_params(j, params, err)) {
    free(params);
    return err->code;
  }
  char fp[RD_FP_MAX];
  rd_fp_text(fp, sizeof fp, j->train.kernels);
  char *ctext = rd_cfg_canonical_resumable(&j->cfg);
  const final_ctx fc = {j, &outs};
  rd_train_ctl ctl = {a->resume, rd_cfg_digest_resumable(&j->cfg), ctext, fp, outs.path[0], a->command, j->plugins,
                      save_outputs, &fc, &j->cfg, 1, stores_state, 0, NULL, NULL, NULL};
  /* 0.1.x's default was openblas and its canonical text left an unset kernels key out (CHANGELOG.md 0.2.0): its
   * checkpoints of an openblas run carry the digest without the line, and a portable run refuses them saying so. */
  if (j->train.kernels == RD_KERN_OPENBLAS) {
    ctl.legacy_digest = rd_cfg_digest_resumable_without(&j->cfg, "train", "kernels");
  } else {
    ctl.legacy_key = "kernels";
    ctl.legacy_note = "this checkpoint was made with kernels = openblas, the default before reprodist 0.2.0 "
                      "(CHANGELOG.md); this run's is portable";
    ctl.legacy_advice = "resume with --set train.kernels=openblas";
  }
  rd_status st = rd_train_run(&j->train, &ctl, &j->data, m, params, err);
  free(ctext);
  free(params);
  return st;
}

/* Rank 0 reads the weights; every rank gets them; the test set is evaluated
 * over fixed shards, so the numbers are the same at any rank count. */
static float *load_params(const cli_args *a, const rd_job *j, rd_err *err) {
  const rd_model *m = &j->model;
  rd_train_spec_check(&j->train, m, &j->cfg, err);
  if (rd_comm_agree(err)) return NULL;
  float *params = rd_mem_alloc_f32(m->nparams);
  if (read_params(a->weights, m, params, err)) {
    free(params);
    return NULL;
  }
  return params;
}

static rd_status cmd_evaluate(const cli_args *a, const rd_job *j, rd_err *err) {
  const rd_model *m = &j->model;
  float *params = load_params(a, j, err);
  if (!params) return err->code;
  double loss = 0, acc = 0;
  int64_t n = 0;
  rd_status st = rd_train_evaluate(&j->train, &j->data, m, params, &loss, &acc, &n, err);
  if (st == RD_OK)
    rd_log0("test_loss %.6f  test_acc %.4f  (%lld test samples, %s)", loss, acc, (long long)n, a->weights);
  free(params);
  return st;
}

/* Rank 0 reads the input and writes the outputs; the shards are shared out. */
static rd_status cmd_predict(const cli_args *a, const rd_job *j, rd_err *err) {
  const rd_model *m = &j->model;
  if (rd_comm_rank() == 0) {
    rd_path_use in[3], out[1];
    memset(in, 0, sizeof in), memset(out, 0, sizeof out);
    in[0].path = a->config, snprintf(in[0].what, sizeof in[0].what, "the config file");
    in[1].path = a->weights, snprintf(in[1].what, sizeof in[1].what, "the weights");
    in[2].path = a->input, snprintf(in[2].what, sizeof in[2].what, "the input");
    out[0].path = a->output, snprintf(out[0].what, sizeof out[0].what, "-o (the predictions)");
    rd_paths_check(out, 1, in, 3, NULL, err);
  }
  if (rd_comm_agree(err)) return err->code;
  float *params = load_params(a, j, err);
  if (!params) return err->code;
  float *x = NULL;
  int64_t n = 0;
  if (rd_comm_rank() == 0) rd_data_read_inputs(a->input, &m->input, j->data.scale, &x, &n, err);
  if (rd_comm_agree(err)) {
    free(params);
    return err->code;
  }
  size_t len = sizeof(float) * (size_t)n * (size_t)rd_shape_numel(&m->input);
  rd_comm_bcast_bytes((void **)&x, &len, 0);
  uint64_t nn = (uint64_t)n;
  rd_comm_bcast_u64(&nn, 0);
  n = (int64_t)nn;
  const int64_t C = rd_shape_numel(&m->layers[m->nlayers - 1].out);
  float *out = rd_comm_rank() == 0 ? rd_mem_alloc_f32((size_t)(n * C) + 1) : NULL;
  rd_status st = rd_predict_run(&j->train, m, params, x, n, out, err);
  if (st == RD_OK && rd_comm_rank() == 0) st = rd_predict_write(a->output, out, n, C, err);
  if (rd_comm_agree(err) == RD_OK)
    rd_log0("reprodist: wrote the outputs of %lld samples (%lld values each) to %s", (long long)n, (long long)C,
            a->output);
  free(out), free(x), free(params);
  return err->code;
}

static rd_status cmd_seeds(const rd_model *m) {
  rd_log0("# global seed %" PRIu64 "; tensor seed = XXH64 of (seed, layer, tensor), see docs/SEEDS.md", m->global_seed);
  rd_log0("%-32s %-14s %-18s %-16s %s", "# tensor", "shape", "initializer", "seed", "source");
  for (int t = 0; t < m->ntensors; t++) {
    const rd_tensor *T = &m->tensors[t];
    char name[RD_NAME_MAX + 48], shape[96];
    snprintf(name, sizeof name, "%s/%s:0", T->layer, T->name);
    rd_log0("%-32s %-14s %-18s %016" PRIx64 " %s", name, rd_shape_text(&T->shape, shape, sizeof shape),
            rd_init_kind_name(T->init.kind), T->seed,
            T->explicit_seed ? "explicit" : (rd_init_is_random(T->init.kind) ? "derived" : "derived (unused)"));
  }
  return RD_OK;
}

/* ---- every rank gets the same command line --------------------------------------------
 * mpirun can give each rank its own arguments (MPMD: `-np 1 reprodist cfg -o a.h5
 * : -np 1 reprodist cfg -o b.h5`). Ranks that disagree would open different
 * files collectively and hang, or train different runs and report divergence.
 * So, before anything collective, the ranks compare the canonical form of their
 * command lines: a list of (option, value) pairs. */

#define ARG_PAIRS (RD_MAX_SETS + 16)

/* Writes a's canonical pairs as "option\x1fvalue\x1e" records; returns the length. */
static size_t canonical_args(const cli_args *a, int done, char *buf, size_t n) {
  size_t o = 0;
#define PAIR(k, v) o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s\x1f%s\x1e", (k), (v))
  PAIR("--help/--version", done == 1 ? "--help" : done == 2 ? "--version" : "(none)");
  if (!done) {
    PAIR("the command", a->cmd ? a->cmd : "(none)");
    PAIR("the config file", a->config ? a->config : "(none)");
    PAIR("-o", a->output ? a->output : "(none)");
    PAIR("--resume", a->resume ? a->resume : "(none)");
    PAIR("--allow-mixed", a->allow_mixed ? "given" : "(none)");
    for (int i = 0; i < a->nsets; i++) PAIR("--set", a->sets[i]);
    PAIR("--set", "(none)");
    for (int i = 0; i < a->nfiles; i++) PAIR("a file operand", a->files[i]);
  }
#undef PAIR
  return o < n ? o : n - 1;
}

/* The next record of s: its option and value, NUL-terminated in place. */
static char *next_pair(char **s, char **val) {
  char *k = *s, *sep = strchr(k, '\x1f'), *end = sep ? strchr(sep, '\x1e') : NULL;
  if (!sep || !end) return NULL;
  *sep = '\0', *end = '\0';
  *val = sep + 1;
  *s = end + 1;
  return k;
}

static rd_status agree_args(const cli_args *a, int done, rd_err *err) {
  static char mine[ARG_PAIRS * 256 + 65536];
  size_t len = canonical_args(a, done, mine, sizeof mine);
  char *root = rd_comm_rank() == 0 ? mine : NULL;
  size_t rlen = len;
  rd_comm_bcast_bytes((void **)&root, &rlen, 0);
  if (rd_comm_rank() != 0) {
    char *r = root, *m = strdup(mine), *mm = m, *rv, *mv, *rk, *mk;
    RD_ASSERT(m != NULL, "out of memory");
    while ((rk = next_pair(&r, &rv)) && (mk = next_pair(&mm, &mv))) {
      if (!strcmp(rk, mk) && !strcmp(rv, mv)) continue;
      char q0[1100], q1[1100];
      snprintf(q0, sizeof q0, strcmp(rv, "(none)") ? "'%s'" : "%s", rv);
      snprintf(q1, sizeof q1, strcmp(mv, "(none)") ? "'%s'" : "%s", mv);
      rd_err_set(err, RD_EINPUT,
                 "reprodist: the ranks were started with different arguments: %s is %s on rank 0 but %s on rank %d; "
                 "give every rank the same command line",
                 strcmp(rk, mk) ? "the command line" : rk, q0, q1, rd_comm_rank());
      break;
    }
    free(m);
    free(root);
  }
  return rd_comm_agree(err);
}

/* A command that completed although a signal arrived (while the final weights
 * were written, or after training's last step): its output is whole, and the
 * job still exits 3 on every rank, as a stopped one does. */
static rd_status late_signal(const char *cmd) {
  rd_comm_flag_begin(rd_sig_pending() != 0);
  if (!rd_comm_flag_end()) return RD_OK;
  rd_warn0("reprodist: stopped by a signal after '%s' had done its work: its output is complete", cmd);
  return RD_STOPPED;
}

int rd_cli_main(int argc, char **argv) {
  rd_err err = {0};
  cli_args a;
  int done = 0;
  parse_args(argc, argv, &a, &err, &done);
  /* A bad command line on one rank, or different ones, stop every rank here. */
  if (rd_comm_agree(&err) || agree_args(&a, done, &err)) {
    rd_err_print0(&err);
    return err.code;
  }
  if (done == 1) rd_log0("%s", k_usage);
  if (done == 2)
    rd_log0("reprodist %s (%s; OpenBLAS %s)", rd_fp_version(), rd_fp_build_flags(), rd_fp_openblas_config());
  if (done) return RD_OK;
  /* Said whenever more than one thread was asked for, also where OpenBLAS
   * would cap it (a process confined to one CPU), so the log does not depend
   * on the machine. */
  int blas_threads = rd_fp_pin_blas_threads();
  const char *asked = getenv("OPENBLAS_NUM_THREADS");
  if (asked && atoi(asked) > blas_threads) blas_threads = atoi(asked);
  if (blas_threads > 1 && asked)
    rd_warn0("OPENBLAS_NUM_THREADS=%s ignored: reprodist runs OpenBLAS on 1 thread per rank, because threaded "
             "GEMMs change result bits; start one rank per core instead",
             getenv("OPENBLAS_NUM_THREADS"));
  if (!strcmp(a.cmd, "check") || !strcmp(a.cmd, "digest")) {
    /* File inspection: rank 0 works, the others wait for its verdict. */
    if (rd_comm_rank() == 0) {
      rd_status st = !strcmp(a.cmd, "check") ? rd_inspect_check(a.files, a.nfiles, &err)
                                             : rd_inspect_digest(a.files, a.nfiles, &err);
      if (st == RD_ERUNTIME && err.code == RD_OK) err.code = RD_ERUNTIME, err.msg[0] = '\0';
    }
    rd_comm_agree(&err);
    if (err.msg[0]) rd_err_print0(&err);
    return err.code;
  }
  rd_job job;
  rd_status st = RD_OK;
  char metrics[4096 + 32];
  if (load_job(&a, &job, &err) == RD_OK) {
    /* [run] metrics: absent, next to the weights; empty, none. */
    if (!job.train.metrics_path) { /* next to the first output */
      out_list outs;
      rd_err e = {0};
      rd_paths_metrics_default(outputs_of(&a, &job, &outs, &e) ? output_path(&a, &job) : outs.path[0], metrics,
                               sizeof metrics);
      job.train.metrics_path = metrics;
    }
    else if (!*job.train.metrics_path)
      job.train.metrics_path = NULL;
    if (!strcmp(a.cmd, "init"))
      st = cmd_init(&a, &job, &err);
    else if (!strcmp(a.cmd, "seeds"))
      st = cmd_seeds(&job.model);
    else if (!strcmp(a.cmd, "keras-config"))
      st = cmd_keras_config(&job);
    else if (!strcmp(a.cmd, "summary"))
      rd_summary_print(&job.model), st = RD_OK;
    else if (!strcmp(a.cmd, "schedule"))
      st = cmd_schedule(&a, &job);
    else if (!strcmp(a.cmd, "evaluate"))
      st = cmd_evaluate(&a, &job, &err);
    else if (!strcmp(a.cmd, "predict"))
      st = cmd_predict(&a, &job, &err);
    else if (!strcmp(a.cmd, "gradcheck")) {
      /* Rank 0 checks; the others wait for its verdict (exit 1 when a layer fails). */
      int failed = rd_comm_rank() == 0 ? rd_gradcheck_model(&job.model, job.train.kernels) : 0;
      uint64_t f = (uint64_t)failed;
      rd_comm_bcast_u64(&f, 0);
      st = f ? RD_ERUNTIME : RD_OK;
    }
    else
      st = cmd_train(&a, &job, &err);
  }
  rd_comm_agree(&err);
  if (err.code == RD_OK && st == RD_OK) st = late_signal(a.cmd);
  rd_err_print0(&err);
  rd_job_free(&job);
  /* RD_STOPPED carries no error message: the loop already said what to do. */
  return err.code != RD_OK ? (int)err.code : (int)st;
}
