/* sig: the process's stop signals (see sig.h). */
#include "sig.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t g_first, g_count;

static void on_signal(int sig) {
  if (g_count++ > 0) { /* the second one: the default action, now */
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  g_first = sig;
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
