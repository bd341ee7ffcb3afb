/* fault: the test suite's fault-injection hooks, read from the environment once.
 *
 * They exist so that tests can prove what happens on faults that no input can
 * cause. Each is read once, on first use, here and nowhere else; nothing parses
 * the environment per step.
 *   RD_FAULT_ABORT_BEFORE_RENAME=1  rd_fs_commit aborts the process between
 *                                   fsync and rename (tests/signals.sh, c)
 *   RD_FAULT_DIVERGE=RANK:STEP      after optimizer step STEP, rank RANK flips
 *                                   one bit of its replica (tests/signals.sh, d)
 *   RD_FAULT_PAUSE_BEFORE_RENAME=P  rd_fs_commit, with the new file whole but not
 *                                   yet renamed, creates P.paused and waits until
 *                                   P.go exists: a test acts while a write is in
 *                                   progress, at a known moment (tests/signals.sh, e) */
#ifndef REPRODIST_FAULT_H
#define REPRODIST_FAULT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rd_fault {
  int abort_before_rename; /* RD_FAULT_ABORT_BEFORE_RENAME=1 */
  int diverge_rank;        /* RD_FAULT_DIVERGE's RANK; -1 when unset */
  uint64_t diverge_step;   /* and its STEP */
  const char *pause_before_rename; /* RD_FAULT_PAUSE_BEFORE_RENAME's P, or NULL */
} rd_fault;

/* The hooks in force (all off unless the variables are set). */
const rd_fault *rd_fault_get(void);
/* RD_FAULT_PAUSE_BEFORE_RENAME: creates P.paused, waits for P.go (no-op if unset). */
void rd_fault_pause(void);

#ifdef __cplusplus
}
#endif
#endif
