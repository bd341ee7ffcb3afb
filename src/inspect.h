/* inspect: `reprodist check` and `reprodist digest`, on weight files.
 * They run on rank 0 only (no mpirun needed) and read any Keras 2 legacy .h5. */
#ifndef REPRODIST_INSPECT_H
#define REPRODIST_INSPECT_H

#include "log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Compares files[1..n) with files[0] tensor by tensor and prints a report.
 * Returns RD_OK when all are identical, RD_ERUNTIME when any differ, RD_EINPUT
 * (with err set) for a missing, unreadable or differently shaped file. */
rd_status rd_inspect_check(const char *const *files, int n, rd_err *err);
/* Prints "<xxh64 hex>  <dataset>  <shape>" per tensor and an overall line. */
rd_status rd_inspect_digest(const char *const *files, int n, rd_err *err);

#ifdef __cplusplus
}
#endif
#endif
