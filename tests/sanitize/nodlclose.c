/* nodlclose: preloaded by launch/test-sanitize into every process of the
 * sanitized suite, so that no library is ever unloaded. Open MPI dlclose()s its
 * components (and with pmix3x, libpmix) in MPI_Finalize; what they allocated
 * and still hold in their static data is then reported as leaked at exit, with
 * a stack in an unmapped module ("<unknown module>") that no suppression can
 * name. Kept mapped, the stack names the library (libpmix.so), and
 * tests/lsan.supp suppresses it by name while the fast unwinder stays on (the
 * slow one, fast_unwind_on_malloc=0, doubled the sanitized suite's time).
 * Never part of reprodist itself. */
int dlclose(void *handle);

int dlclose(void *handle) {
  (void)handle;
  return 0;
}
