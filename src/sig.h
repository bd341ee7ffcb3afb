/* sig: SIGTERM, SIGINT and SIGUSR1, caught from the start of the process to its
 * end. A signal never ends a run by itself: it is noted, training stops at the
 * next step boundary that every rank agrees on and writes a checkpoint (exit 3),
 * and a write in progress (the final weights, a checkpoint) finishes. A signal
 * that arrives after the ranks already decided to stop, or while the weights are
 * being written, changes nothing but the exit code.
 *
 * A second signal to the same process ends it at once, with the default action
 * (a user pressing Ctrl-C twice means it). Ranks of a job receive their signals
 * at different moments (Slurm signals each node separately), so a rank may get
 * its first signal after the others have stopped: that is still a first signal,
 * and it is harmless. */
#ifndef REPRODIST_SIG_H
#define REPRODIST_SIG_H

#ifdef __cplusplus
extern "C" {
#endif

/* Installs the handlers. Call first thing in main, before MPI_Init: a signal
 * during start-up is then noted like any other. */
void rd_sig_install(void);
/* The first signal this process received (SIGTERM, SIGINT or SIGUSR1), or 0. */
int rd_sig_pending(void);
/* The command has finished (its result and any error are printed): a stop
 * signal from now on is not announced. mpirun sends SIGTERM to the ranks still
 * leaving when one rank has exited with an error, which under the sanitizers'
 * exit-time leak check can be seconds later: "stopping after this step" would
 * be a false second line. A second signal still takes the default action. */
void rd_sig_done(void);

/* ---- naming the plugin that crashed ------------------------------------------------
 * A layer from a plugin can crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL). Nothing
 * turns that into an error, but the process says where before it dies:
 * rd_sig_crash_install() (once) catches those signals; while rd_sig_crash_line
 * points at a line (set around each plugin call), a crash writes it to stderr,
 * then the previous handler (Open MPI's backtrace) or the default action
 * runs: the process dies of the signal, and the job ends as for any dead rank. */
void rd_sig_crash_install(void);
extern const char *volatile rd_sig_crash_line;

#ifdef __cplusplus
}
#endif
#endif
