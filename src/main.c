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
  int h5_ok = rd_h5_shutdown() == 0;
  rd_comm_finalize();
  if (!h5_ok) _exit(code); /* skip HDF5's exit handler, see rd_h5_shutdown */
  return code;
}
