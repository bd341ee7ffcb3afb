/* paths: a run's outputs never land on its inputs, nor on each other.
 *
 * Every file a run writes (the weights, the metrics) is compared with every
 * file it reads (the config, the data, the plugins, the checkpoint it resumes)
 * and with the other outputs: the same file by device and inode where it
 * exists, by its resolved directory and name where it does not yet. An output
 * may not replace a reprodist checkpoint either (a file with a checkpoint's
 * header, or a checkpoint's name in checkpoint_dir). A clash is one error naming
 * both paths and what set each, before anything is written. No MPI: the caller
 * runs it on one rank and agrees on the result. */
#ifndef REPRODIST_PATHS_H
#define REPRODIST_PATHS_H

#include <stddef.h>

#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A file a run uses, and what named it ("-o", "[data] train_x (c.cfg:9)"). */
typedef struct rd_path_use {
  const char *path;
  char what[256];
} rd_path_use;

/* Checks outs against ins and against each other; ckpt_dir (NULL: none) is
 * where the run writes checkpoints. */
rd_status rd_paths_check(const rd_path_use *outs, int nout, const rd_path_use *ins, int nin, const char *ckpt_dir,
                         rd_err *err);

/* The metrics file a run writes when [run] metrics is not set: next to the
 * weights, their name with ".metrics.jsonl" for a final ".h5", ".hdf5" or
 * ".keras" (w.h5 -> w.metrics.jsonl; runs/np2.h5 -> runs/np2.metrics.jsonl), so
 * two runs with different outputs never share one. */
void rd_paths_metrics_default(const char *weights, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
