/* reprodist: entry point. All logic lives in the library (cli.c and below). */
#include "reprodist/cli.h"
#include "reprodist/comm.h"
#include "reprodist/h5io.h"

int main(int argc, char **argv) {
  rd_comm_init(&argc, &argv);
  rd_h5_quiet();
  int code = rd_cli_main(argc, argv);
  rd_comm_finalize();
  return code;
}
