/* sig: the process's stop signals (see sig.h). */
#include "sig.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static volatile sig_atomic_t g_first, g_count, g_done;

static void on_signal(int sig) {
  if (g_count++ > 0) { /* the second one: the default action, now */
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  g_first = sig;
  if (g_done) return; /* the command is over and the process is leaving: no step to stop after */
  if (rd_log_rank() == 0) {
    const char *m = sig == SIGINT    ? "reprodist: SIGINT: stopping after this step, with a checkpoint (again: abort now)\n"
                    : sig == SIGTERM ? "reprodist: SIGTERM: stopping after this step, with a checkpoint (again: abort now)\n"
                                     : "reprodist: SIGUSR1: stopping after this step, with a checkpoint (again: abort now)\n";
    ssize_t r = write(STDERR_FILENO, m, strlen(m));
    (void)r;
  }
}

void rd_sig_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART; /* a noted signal must not fail a read or write in progress */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
}

int rd_sig_pending(void) { return g_first; }

void rd_sig_done(void) { g_done = 1; }

/* ---- the crash line ------------------------------------------------------------------ */

const char *volatile rd_sig_crash_line;
static const int k_crash_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define NCRASH (sizeof k_crash_sigs / sizeof k_crash_sigs[0])
static struct sigaction g_crash_saved[NCRASH];

static void on_crash(int sig) {
  const char *line = rd_sig_crash_line;
  size_t i = 0;
  while (i < NCRASH && k_crash_sigs[i] != sig) i++;
  if (line) {
    ssize_t r = write(STDERR_FILENO, line, strlen(line));
    (void)r;
    rd_sig_crash_line = NULL;
  }
  /* The previous handler, or the default action, takes it from here: the
   * faulting instruction runs again and the signal comes back to it. */
  sigaction(sig, i < NCRASH ? &g_crash_saved[i] : NULL, NULL);
  if (i == NCRASH) signal(sig, SIG_DFL);
}

void rd_sig_crash_install(void) {
  static int done;
  if (done) return;
  done = 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_crash;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < NCRASH; i++) sigaction(k_crash_sigs[i], &sa, &g_crash_saved[i]);
}
