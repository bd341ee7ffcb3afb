/* reprodist: entry point. All logic lives in the library (cli.c and below). */
#include "cli.h"
#include "comm.h"
#include "h5io.h"
#include "sig.h"

#include <unistd.h>

int main(int argc, char **argv) {
  rd_sig_install(); /* before MPI_Init: a signal during start-up is noted, not fatal */
  rd_comm_init(&argc, &argv);
  rd_h5_quiet();
  int code = rd_cli_main(argc, argv);
  rd_sig_done();
  /* After an HDF5 file failed to close (a disk that filled while writing),
   * HDF5 1.10 crashes when it shuts down, and MPI_Finalize shuts it down too
   * (an MPI_COMM_SELF attribute of parallel HDF5's): this process leaves
   * without either; the error was agreed and printed already. */
  if (rd_h5_shutdown() != 0) _exit(code);
  rd_comm_finalize();
  return code;
}
