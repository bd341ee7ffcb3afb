/* check.h: the unit tests' CHECK(cond, printf-args): counts passes and failures
 * (passes, fails) and prints "FAIL file:line: message" for a failure. */
#ifndef REPRODIST_TESTS_CHECK_H
#define REPRODIST_TESTS_CHECK_H

#include <stdio.h>

static int passes, fails;
#define CHECK(cond, ...)                          \
  do {                                            \
    if (cond) passes++;                           \
    else {                                        \
      fails++;                                    \
      printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      printf(__VA_ARGS__);                        \
      printf("\n");                               \
    }                                             \
  } while (0)

#endif
