/* fault: the test suite's fault-injection hooks, read from the environment once.
 *
 * They exist so that tests can prove what happens on faults that no input can
 * cause. Each is read once, on first use, here and nowhere else; nothing parses
 * the environment per step.
 *   RD_FAULT_ABORT_BEFORE_RENAME=1  rd_fs_commit aborts the process between
 *                                   fsync and rename (tests/signals.sh, c)
 *   RD_FAULT_DIVERGE=RANK:STEP      after optimizer step STEP, rank RANK flips
 *                                   one bit of its replica (tests/signals.sh, d)
 *   RD_FAULT_PAUSE=POINT:P          at POINT, rank 0 creates P.paused and waits
 *                                   until P.go exists: a test acts while a write
 *                                   is in progress, at a known moment. POINT:
 *                                   commit (rd_fs_commit, the new file whole but
 *                                   not renamed; tests/signals.sh e) or
 *                                   ckpt_write (a checkpoint's file created by
 *                                   HDF5, nothing written yet; tests/contract.sh) */
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
  char pause_point[32];    /* RD_FAULT_PAUSE's POINT ("" when unset) */
  const char *pause_path;  /* and its P */
} rd_fault;

/* The hooks in force (all off unless the variables are set). */
const rd_fault *rd_fault_get(void);
/* RD_FAULT_PAUSE at point: creates P.paused, waits for P.go (no-op elsewhere). */
void rd_fault_pause(const char *point);

#ifdef __cplusplus
}
#endif
#endif
