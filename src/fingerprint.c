/* fingerprint: build and library facts that can change result bits. */
#include "reprodist/fingerprint.h"

#include <cblas.h>

#ifndef RD_VERSION
#define RD_VERSION "unknown"
#endif
#ifndef RD_BUILD_FLAGS
#define RD_BUILD_FLAGS "unknown"
#endif

const char *rd_fp_version(void) { return RD_VERSION; }
const char *rd_fp_build_flags(void) { return RD_BUILD_FLAGS; }
const char *rd_fp_openblas_core(void) { return openblas_get_corename(); }
const char *rd_fp_openblas_config(void) { return openblas_get_config(); }
int rd_fp_openblas_threads(void) { return openblas_get_num_threads(); }

int rd_fp_pin_blas_threads(void) {
  int before = openblas_get_num_threads();
  openblas_set_num_threads(1);
  return before;
}
