/* cli: the reprodist command line.
 *
 *   reprodist [train] CONFIG [options]   train and write the weights
 *   reprodist init CONFIG [options]      write the initial weights
 *   reprodist seeds CONFIG [options]     print every tensor's derived seed
 *
 * Options: -o/--output PATH, --set SECTION.KEY=VALUE (repeatable), --help, --version.
 * Exit codes: 0 success, 1 runtime failure, 2 usage, config or input error.
 * Every rank returns the same code: failures are agreed before anyone exits. */
#ifndef REPRODIST_CLI_H
#define REPRODIST_CLI_H

#ifdef __cplusplus
extern "C" {
#endif

/* Runs the command; MPI must be initialised. Returns the exit code. */
int rd_cli_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
