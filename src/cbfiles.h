/* cbfiles: the files of the writer callbacks (csv_logger, tensorboard; see
 * callback.h), on rank 0. The callbacks say what to write; this module owns
 * the files: it makes their directories, starts them anew (or, for an
 * appending writer, keeps them), cuts a resumed run's files back to their
 * length at the checkpoint, and appends each epoch's bytes. Every rank keeps
 * the same lengths in the callbacks' state (checkpoint pieces). */
#ifndef REPRODIST_CBFILES_H
#define REPRODIST_CBFILES_H

#include "callback.h"
#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Collective, at the start of training (after a resume restored the
 * callbacks' state): readies every writer's files. A file that cannot be
 * made or written is an input error naming it and its config line. */
rd_status rd_cbfiles_open(rd_callbacks *cbs, const rd_cfg *cfg, int resumed, rd_err *err);

/* Every rank, at an epoch's end after rd_callbacks_epoch_end: rank 0 appends
 * each writer's bytes for the logs it saw; all ranks count them. A write
 * that fails (a full disk) is warned once and that file is given up; the run
 * goes on, as with the metrics file. */
void rd_cbfiles_epoch(rd_callbacks *cbs, int64_t epoch);

#ifdef __cplusplus
}
#endif
#endif
