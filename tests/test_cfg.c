/* test_cfg: the config module (include/reprodist/cfg.h) and reading a whole
 * config (include/reprodist/job.h).
 *
 * 1. Strict numbers: rd_parse_int / _u64 / _double accept plain decimal text and
 *    reject junk, white space, overflow, NaN, infinities and hex.
 * 2. Parsing: sections, repeated [dense], comments, CRLF, line numbers, readers.
 * 3. Errors: every parse, --set, value and unread-key error gives exactly one
 *    expected line "t.cfg:LINE: message" (or "--set TEXT: message"); the first
 *    bad value in file order wins, then errors of meaning, then unread keys.
 * 4. Canonical text and digest: a known answer; comments, spacing, key order and
 *    result-irrelevant paths do not change the digest; result-relevant values
 *    and the order of layers of different types do.
 *
 * Run by ctest (unit_cfg); needs no MPI. Last line: "N passed, N failed". */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cfg.h"
#include "job.h"
#include "registry.h"

static int g_pass, g_fail;

/* CHECK(cond, fmt, ...): counts; on failure prints FILE:LINE and the message. */
#define CHECK(cond, ...) check_at(__FILE__, __LINE__, (cond), __VA_ARGS__)

static void check_at(const char *file, int line, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void check_at(const char *file, int line, int ok, const char *fmt, ...) {
  if (ok) {
    g_pass++;
    return;
  }
  g_fail++;
  va_list ap;
  va_start(ap, fmt);
  printf("FAIL %s:%d: ", file, line);
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
}

#define CHECK_STR(got, exp, what) \
  CHECK((got) && strcmp((got), (exp)) == 0, "%s:\n  got      '%s'\n  expected '%s'", (what), (got) ? (got) : "(null)", (exp))

/* Parses text as "t.cfg" and applies the overrides (NULL-terminated) only. */
static rd_status parse(rd_cfg *c, const char *text, const char *const *sets, rd_err *e) {
  memset(e, 0, sizeof *e);
  rd_status st = rd_cfg_parse(c, "t.cfg", text, strlen(text), e);
  for (int i = 0; sets && sets[i] && st == RD_OK; i++) st = rd_cfg_set(c, sets[i], e);
  return st;
}

static int nsets(const char *const *sets) {
  int n = 0;
  while (sets && sets[n]) n++;
  return n;
}

/* The whole chain, as the binary runs it: parse, --set, model, [train], [data], [run], unread keys. */
static rd_status load(rd_job *j, const char *text, const char *const *sets, rd_err *e) {
  memset(e, 0, sizeof *e);
  return rd_job_load(j, "t.cfg", text, strlen(text), sets, nsets(sets), 0, e);
}

/* The whole chain must fail with RD_EINPUT and exactly this message. */
static void expect_error_at(int line, const char *text, const char *const *sets, const char *msg) {
  rd_job j;
  rd_err e;
  rd_status st = load(&j, text, sets, &e);
  check_at(__FILE__, line, st == RD_EINPUT && e.code == RD_EINPUT, "expected RD_EINPUT for '%s', got %d", msg, st);
  check_at(__FILE__, line, strcmp(e.msg, msg) == 0, "error message:\n  got      '%s'\n  expected '%s'", e.msg, msg);
  rd_job_free(&j);
}
#define EXPECT_ERROR(text, sets, msg) expect_error_at(__LINE__, (text), (sets), (msg))


#define SETS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- 1. strict numbers ---------------------------------------------------------- */

static void test_numbers(void) {
  static const struct { const char *s; int64_t v; } int_ok[] = {
      {"0", 0}, {"12", 12}, {"-3", -3}, {"007", 7},
      {"9223372036854775807", INT64_MAX}, {"-9223372036854775808", INT64_MIN}};
  for (size_t i = 0; i < sizeof int_ok / sizeof int_ok[0]; i++) {
    int64_t v = -999;
    int rc = rd_parse_int(int_ok[i].s, &v);
    CHECK(rc == 0 && v == int_ok[i].v, "rd_parse_int(\"%s\"): rc %d value %" PRId64, int_ok[i].s, rc, v);
  }
  static const char *const int_bad[] = {
      "", " 1", "1 ", "\t1", "12abc", "abc", "99999999999999999999", "9223372036854775808",
      "-9223372036854775809", "1.0", "1e3", "0x10", "nan", "inf", "-", "1_000", "1,000"};
  for (size_t i = 0; i < sizeof int_bad / sizeof int_bad[0]; i++) {
    int64_t v = 0;
    CHECK(rd_parse_int(int_bad[i], &v) != 0, "rd_parse_int(\"%s\") must fail", int_bad[i]);
  }
  int64_t iv;
  CHECK(rd_parse_int(NULL, &iv) != 0, "rd_parse_int(NULL) must fail");

  static const struct { const char *s; uint64_t v; } u64_ok[] = {
      {"0", 0}, {"42", 42}, {"18446744073709551615", UINT64_MAX}, {"0042", 42}};
  for (size_t i = 0; i < sizeof u64_ok / sizeof u64_ok[0]; i++) {
    uint64_t v = 999;
    int rc = rd_parse_u64(u64_ok[i].s, &v);
    CHECK(rc == 0 && v == u64_ok[i].v, "rd_parse_u64(\"%s\"): rc %d value %" PRIu64, u64_ok[i].s, rc, v);
  }
  static const char *const u64_bad[] = {
      "", "-1", "+-1", " 1", "1 ", "18446744073709551616", "99999999999999999999", "12abc",
      "1e3", "0x10", "nan", "inf", "1.0", "-0"};
  for (size_t i = 0; i < sizeof u64_bad / sizeof u64_bad[0]; i++) {
    uint64_t v = 0;
    CHECK(rd_parse_u64(u64_bad[i], &v) != 0, "rd_parse_u64(\"%s\") must fail", u64_bad[i]);
  }
  uint64_t uv;
  CHECK(rd_parse_u64("+7", &uv) == 0 && uv == 7, "rd_parse_u64 accepts a leading '+', as rd_parse_int does");
  CHECK(rd_parse_u64(NULL, &uv) != 0, "rd_parse_u64(NULL) must fail");

  static const struct { const char *s; double v; } dbl_ok[] = {
      {"0", 0.0}, {"0.5", 0.5}, {"-1e-3", -1e-3}, {"1e308", 1e308}, {"1E2", 100.0}, {"+2.5", 2.5},
      {".5", 0.5}, {"5.", 5.0}, {"0.1", 0.1}, {"0.00392156862745098", 0.00392156862745098}, {"-0", -0.0}};
  for (size_t i = 0; i < sizeof dbl_ok / sizeof dbl_ok[0]; i++) {
    double v = -999;
    int rc = rd_parse_double(dbl_ok[i].s, &v);
    CHECK(rc == 0 && v == dbl_ok[i].v, "rd_parse_double(\"%s\"): rc %d value %.17g", dbl_ok[i].s, rc, v);
  }
  /* Underflow to (almost) zero is documented as fine; overflow is not. */
  double tiny = 1;
  CHECK(rd_parse_double("1e-400", &tiny) == 0 && fabs(tiny) < 1e-300, "rd_parse_double(\"1e-400\") accepts underflow");
  static const char *const dbl_bad[] = {
      "", " 1", "1 ", "12abc", "1.5abc", "1e999", "-1e999", "nan", "NaN", "-nan", "inf", "-inf", "Infinity",
      "0x1p3", "0x10", "1e", ".", "e5", "1..2", "--1", "1,5", "1e+"};
  for (size_t i = 0; i < sizeof dbl_bad / sizeof dbl_bad[0]; i++) {
    double v = 0;
    CHECK(rd_parse_double(dbl_bad[i], &v) != 0, "rd_parse_double(\"%s\") must fail", dbl_bad[i]);
  }
  double dv;
  CHECK(rd_parse_double(NULL, &dv) != 0, "rd_parse_double(NULL) must fail");
}

/* ---- 2. parsing a good file ------------------------------------------------------ */

static void test_parse_good(void) {
  /* Comments, blank lines, CRLF, tabs, a '#' inside a value (not after white
   * space, so not a comment), spaces inside [ ], no newline at the end. */
  static const char text[] =
      "# header comment\r\n"          /* 1 */
      "[run]\r\n"                     /* 2 */
      "seed = 42   # the seed\r\n"    /* 3 */
      "output = out#1.h5\r\n"         /* 4 */
      "\r\n"                          /* 5 */
      "[model]\n"                     /* 6 */
      "\tinput=784\n"                 /* 7 */
      "[dense]\n"                     /* 8 */
      "units = 128\n"                 /* 9 */
      "activation = relu\n"           /* 10 */
      "   # indented comment\n"       /* 11 */
      "[ dense ]\n"                   /* 12 */
      "name = head\n"                 /* 13 */
      "units = 10";                   /* 14 */
  rd_cfg c;
  rd_err e;
  rd_status st = parse(&c, text, NULL, &e);
  CHECK(st == RD_OK, "good config parses: %s", e.msg);
  if (st != RD_OK) {
    rd_cfg_free(&c);
    return;
  }
  CHECK(c.nsecs == 4, "4 sections, got %d", c.nsecs);
  CHECK(rd_cfg_count(&c, "dense") == 2, "2 [dense], got %d", rd_cfg_count(&c, "dense"));
  CHECK(rd_cfg_count(&c, "run") == 1 && rd_cfg_count(&c, "train") == 0, "count [run] = 1, [train] = 0");
  CHECK(c.nsecs == 4 && c.secs[2].ordinal == 0 && c.secs[3].ordinal == 1, "[dense] ordinals 0, 1");
  CHECK(c.nsecs == 4 && strcmp(c.secs[3].name, "dense") == 0 && c.secs[3].line == 12,
        "second [dense] named 'dense' at line 12");
  CHECK(rd_cfg_section(&c, "dense", 1) == 3 && rd_cfg_section(&c, "train", 0) == -1, "rd_cfg_section indices");

  const rd_cfg_item *it = rd_cfg_find(&c, "run", 0, "seed");
  CHECK(it && strcmp(it->value, "42") == 0 && it->line == 3, "run.seed = '42' at line 3 (trailing comment cut)");
  it = rd_cfg_find(&c, "run", 0, "output");
  CHECK(it && strcmp(it->value, "out#1.h5") == 0 && it->line == 4, "'#' not after space stays in the value");
  it = rd_cfg_find(&c, "model", 0, "input");
  CHECK(it && strcmp(it->value, "784") == 0 && it->line == 7, "tab-indented input=784 at line 7");
  it = rd_cfg_find(&c, "dense", 1, "units");
  CHECK(it && strcmp(it->value, "10") == 0 && it->line == 14, "last line without newline: dense.1.units = 10");
  CHECK(rd_cfg_find(&c, "dense", 2, "units") == NULL, "no third [dense]");
  CHECK(rd_cfg_find(&c, "dense", 0, "name") == NULL, "first [dense] has no name");
  CHECK(rd_cfg_find(&c, "train", 0, "epochs") == NULL, "absent section gives NULL");

  char w[256];
  CHECK_STR(rd_cfg_where(&c, rd_cfg_find(&c, "run", 0, "seed"), -1, w, sizeof w), "t.cfg:3", "where of run.seed");
  CHECK_STR(rd_cfg_where(&c, NULL, 3, w, sizeof w), "t.cfg:12", "where of the second [dense] header");

  /* The readers: value when set, default when absent (also for an absent section). */
  uint64_t u = 0;
  int64_t i = 0, v3[3];
  double d = 0;
  int b = 0, n = 0;
  const char *str = NULL;
  const int run = rd_cfg_section(&c, "run", 0), d0 = rd_cfg_section(&c, "dense", 0), d1 = rd_cfg_section(&c, "dense", 1);
  CHECK(rd_cfg_u64(&c, run, "seed", 7, 0, &u) == 1 && u == 42, "rd_cfg_u64 run.seed = 42");
  CHECK(rd_cfg_int(&c, d1, "units", 0, 1, 1e9, 0, &i) == 1 && i == 10, "rd_cfg_int dense.1.units = 10");
  CHECK(rd_cfg_int(&c, d0, "units", 0, 1, 1e9, 0, &i) == 1 && i == 128, "rd_cfg_int dense.0.units = 128");
  CHECK(rd_cfg_name(&c, d1, "name", NULL, 0, &str) == 1 && str && strcmp(str, "head") == 0, "rd_cfg_name");
  CHECK(rd_cfg_str(&c, d1, "activation", "linear", 0, &str) == 0 && strcmp(str, "linear") == 0,
        "rd_cfg_str default when absent");
  CHECK(rd_cfg_bool(&c, d0, "use_bias", 1, 0, &b) == 0 && b == 1, "rd_cfg_bool default when absent");
  CHECK(rd_cfg_float(&c, -1, "learning_rate", 0.25, 0, 1, 0, &d) == 0 && d == 0.25,
        "rd_cfg_float default when the section is absent");
  CHECK(rd_cfg_int(&c, -1, "epochs", -5, 0, 1, 0, &i) == 0 && i == -5, "rd_cfg_int default");
  const int64_t dflt[1] = {9};
  CHECK(rd_cfg_ints(&c, rd_cfg_section(&c, "model", 0), "input", 1, 3, dflt, 1, 1, 1e9, 0, v3, &n) == 1 && n == 1 &&
            v3[0] == 784,
        "rd_cfg_ints: one value");
  /* Read keys are marked: here every key was read but run.output. */
  rd_err fe = {0};
  CHECK(rd_cfg_finish(&c, &fe) == RD_EINPUT && !strcmp(fe.msg, "t.cfg:4: unknown key 'output' in [run]"),
        "rd_cfg_finish names the one unread key: '%s'", fe.msg);
  rd_cfg_str(&c, run, "output", NULL, RD_CFG_NOCANON, &str);
  rd_cfg_int(&c, d0, "activation", 0, 0, 1, 0, &i); /* not an integer: a bad value, reported first */
  rd_err_clear(&fe);
  CHECK(rd_cfg_finish(&c, &fe) == RD_EINPUT && !strcmp(fe.msg, "t.cfg:10: activation = 'relu' is not an integer"),
        "rd_cfg_finish reports a bad value: '%s'", fe.msg);
  rd_cfg_free(&c);
  CHECK(c.nsecs == 0 && c.nitems == 0 && c.secs == NULL && c.items == NULL && c.path == NULL,
        "rd_cfg_free leaves an empty cfg");

  /* Typed values, including booleans, floats and shapes. */
  static const char text2[] =
      "[dense]\nunits = 3\nuse_bias = false\nkernel_initializer = random_normal\nkernel_stddev = 0.25\n"
      "[train]\nlearning_rate = 1e-3\nshuffle = true\n[model]\ninput = 28, 28,1\n";
  st = parse(&c, text2, NULL, &e);
  CHECK(st == RD_OK, "typed config parses: %s", e.msg);
  const int dd = rd_cfg_section(&c, "dense", 0), tr = rd_cfg_section(&c, "train", 0);
  CHECK(rd_cfg_bool(&c, dd, "use_bias", 1, 0, &b) == 1 && b == 0, "use_bias = false");
  CHECK(rd_cfg_bool(&c, tr, "shuffle", 0, 0, &b) == 1 && b == 1, "shuffle = true");
  CHECK(rd_cfg_float(&c, dd, "kernel_stddev", 0, 0, 1, 0, &d) == 1 && d == 0.25, "kernel_stddev = 0.25");
  CHECK(rd_cfg_float(&c, tr, "learning_rate", 0, 0, 1, 0, &d) == 1 && d == 1e-3, "learning_rate = 1e-3");
  CHECK(rd_cfg_ints(&c, rd_cfg_section(&c, "model", 0), "input", 1, 3, NULL, 0, 1, 1e9, 0, v3, &n) == 1 && n == 3 &&
            v3[0] == 28 && v3[1] == 28 && v3[2] == 1,
        "rd_cfg_ints: input = 28, 28,1");
  rd_cfg_free(&c);

  /* An empty file and a comments-only file parse (the model check rejects them later). */
  st = parse(&c, "", NULL, &e);
  CHECK(st == RD_OK && c.nsecs == 0, "empty text parses to nothing");
  rd_cfg_free(&c);
  st = parse(&c, "# only\n\n   \n", NULL, &e);
  CHECK(st == RD_OK && c.nsecs == 0 && c.nitems == 0, "comments-only text parses to nothing");
  rd_cfg_free(&c);
}

/* ---- 3. errors -------------------------------------------------------------------- */

#define BASE "[run]\nseed = 1\n[model]\ninput = 4\n[dense]\nunits = 3\n" /* lines 1-6 */

static void test_parse_errors(void) {
  EXPECT_ERROR(BASE "[bogus]\n", NULL,
               "t.cfg:7: unknown section [bogus] (known: [run] [model] [data] [train], and the layers [dense] "
               "[conv2d] [max_pooling2d] [average_pooling2d] [global_average_pooling2d] [flatten] [reshape] [dropout] "
               "[batch_normalization] [activation] [add] [subtract] [multiply] [average] [maximum] [minimum] [concatenate] "
               "[zero_padding2d] [global_max_pooling2d] [layer_normalization] [depthwise_conv2d] [separable_conv2d] "
               "[random_flip] [random_translation] [random_crop] [random_rotation] [random_zoom] [random_contrast] "
               "[random_erasing] [test_identity])");
  EXPECT_ERROR(BASE "foo = 1\n", NULL, "t.cfg:7: unknown key 'foo' in [dense]");
  EXPECT_ERROR(BASE "seed = 2\n", NULL, "t.cfg:7: unknown key 'seed' in [dense]");
  EXPECT_ERROR(BASE "units = 4\n", NULL, "t.cfg:7: duplicate key 'units' in [dense] (first set at line 6)");
  EXPECT_ERROR(BASE "just a line\n", NULL, "t.cfg:7: expected 'key = value' or '[section]', found no '='");
  EXPECT_ERROR("seed = 1\n" BASE, NULL, "t.cfg:1: key 'seed' outside any section (add a [section] above it)");
  EXPECT_ERROR("# c\n\nseed = 1\n", NULL, "t.cfg:3: key 'seed' outside any section (add a [section] above it)");
  EXPECT_ERROR(BASE "[run]\n", NULL, "t.cfg:7: duplicate section [run] (first at line 1)");
  EXPECT_ERROR(BASE "[model]\n", NULL, "t.cfg:7: duplicate section [model] (first at line 3)");
  EXPECT_ERROR(BASE "[dense\n", NULL, "t.cfg:7: malformed section header (expected [name])");
  EXPECT_ERROR(BASE "[]\n", NULL, "t.cfg:7: malformed section header (expected [name])");
  EXPECT_ERROR(BASE "Units = 3\n", NULL, "t.cfg:7: malformed key 'Units' (lower-case letters, digits, _)");
  EXPECT_ERROR(BASE "kernel initializer = ones\n", NULL,
               "t.cfg:7: malformed key 'kernel initializer' (lower-case letters, digits, _)");
  /* The first bad line is reported, not the last. */
  EXPECT_ERROR(BASE "foo = 1\nbar = 2\n", NULL, "t.cfg:7: unknown key 'foo' in [dense]");
  /* Line numbers count CRLF lines once. */
  EXPECT_ERROR("[run]\r\nseed = 1\r\n\r\nfoo = 2\r\n[model]\r\ninput = 4\r\n[dense]\r\nunits = 3\r\n", NULL,
               "t.cfg:4: unknown key 'foo' in [run]");

  rd_cfg c;
  rd_err e = {0};
  static const char nul[] = "[run]\nseed = 1\0\n";
  rd_status st = rd_cfg_parse(&c, "t.cfg", nul, sizeof nul - 1, &e);
  CHECK(st == RD_EINPUT, "NUL bytes rejected");
  CHECK_STR(e.msg, "t.cfg: not a text file (contains NUL bytes)", "NUL byte message");
  rd_cfg_free(&c);
}

static void test_value_errors(void) {
  /* Integers. */
  EXPECT_ERROR(BASE "[train]\nepochs = 12abc\n", NULL, "t.cfg:8: epochs = '12abc' is not an integer");
  EXPECT_ERROR("[model]\ninput = nan\n" "[dense]\nunits = 3\n", NULL, "t.cfg:2: input = 'nan' is not an integer");
  EXPECT_ERROR("[model]\ninput = inf\n" "[dense]\nunits = 3\n", NULL, "t.cfg:2: input = 'inf' is not an integer");
  EXPECT_ERROR("[model]\ninput = 1e999\n" "[dense]\nunits = 3\n", NULL, "t.cfg:2: input = '1e999' is not an integer");
  EXPECT_ERROR("[model]\ninput = 1.5\n" "[dense]\nunits = 3\n", NULL, "t.cfg:2: input = '1.5' is not an integer");
  EXPECT_ERROR("[dense]\nunits = 0\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: units = 0 is out of range (must be in [1, 1000000000])");
  EXPECT_ERROR("[dense]\nunits = -3\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: units = -3 is out of range (must be in [1, 1000000000])");
  EXPECT_ERROR("[dense]\nunits =\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: units has no value");
  EXPECT_ERROR("[dense]\nunits =   # nothing\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: units has no value");
  /* Overflow and the upper bound: out of range, with both bounds named. */
  EXPECT_ERROR("[dense]\nunits = 99999999999999999999\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: units = 99999999999999999999 is out of range (must be in [1, 1000000000])");
  EXPECT_ERROR("[dense]\nunits = 2000000000\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: units = 2000000000 is out of range (must be in [1, 1000000000])");
  EXPECT_ERROR("[dense]\nunits = -99999999999999999999\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: units = -99999999999999999999 is out of range (must be in [1, 1000000000])");
  /* --set parts must be non-empty; spaces around them are trimmed. */
  EXPECT_ERROR(BASE, SETS("dense..units=5"), "--set dense..units=5: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE");
  EXPECT_ERROR(BASE, SETS(".run.seed=5"), "--set .run.seed=5: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE");
  EXPECT_ERROR(BASE, SETS("run.seed.=5"), "--set run.seed.=5: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE");
  /* A line with nothing before '='. */
  EXPECT_ERROR("[run]\n= 1\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: missing key before '='");
  /* Unsigned 64-bit seeds. */
  EXPECT_ERROR("[run]\nseed = -1\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: seed = '-1' is not an integer in [0, 2^64)");
  EXPECT_ERROR("[run]\nseed = 99999999999999999999\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: seed = '99999999999999999999' is not an integer in [0, 2^64)");
  EXPECT_ERROR("[run]\nseed = 18446744073709551616\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: seed = '18446744073709551616' is not an integer in [0, 2^64)");
  EXPECT_ERROR("[run]\nseed = 12abc\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: seed = '12abc' is not an integer in [0, 2^64)");
  /* Floats. */
  EXPECT_ERROR("[train]\nlearning_rate = 12abc\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: learning_rate = '12abc' is not a finite decimal number");
  EXPECT_ERROR("[train]\nlearning_rate = nan\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: learning_rate = 'nan' is not a finite decimal number");
  EXPECT_ERROR("[train]\nlearning_rate = inf\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: learning_rate = 'inf' is not a finite decimal number");
  EXPECT_ERROR("[train]\nlearning_rate = 1e999\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: learning_rate = '1e999' is not a finite decimal number");
  EXPECT_ERROR("[train]\nlearning_rate = 0x1p3\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: learning_rate = '0x1p3' is not a finite decimal number");
  EXPECT_ERROR("[train]\nlearning_rate = 0\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: learning_rate = 0 is out of range (must be > 0)");
  EXPECT_ERROR("[train]\nbeta_1 = 1\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: beta_1 = 1 is out of range (must be in [0, 1))");
  EXPECT_ERROR("[train]\nbeta_2 = -0.5\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: beta_2 = -0.5 is out of range (must be in [0, 1))");
  EXPECT_ERROR("[dense]\nunits = 3\nkernel_initializer = random_normal\nkernel_stddev = -1\n" "[model]\ninput = 4\n", NULL,
               "t.cfg:4: kernel_stddev = -1 is out of range (must be >= 0)");
  EXPECT_ERROR("[dense]\nunits = 3\nbias_initializer = variance_scaling\nbias_scale = 0\n" "[model]\ninput = 4\n", NULL,
               "t.cfg:4: bias_scale = 0 is out of range (must be > 0)");
  /* Booleans, names, enums. */
  EXPECT_ERROR("[dense]\nuse_bias = yes\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: use_bias = 'yes' must be true or false");
  EXPECT_ERROR("[train]\nshuffle = True\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: shuffle = 'True' must be true or false");
  EXPECT_ERROR("[dense]\nname = 9x\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: name = '9x' is not a valid name (a letter or _, then letters, digits, _ or -; at most 64)");
  EXPECT_ERROR("[dense]\nname = a/b\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: name = 'a/b' is not a valid name (a letter or _, then letters, digits, _ or -; at most 64)");
  EXPECT_ERROR("[dense]\nactivation = gelu\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: unknown activation 'gelu' (one of: linear, relu, tanh, sigmoid, softmax)");
  EXPECT_ERROR("[dense]\nkernel_initializer = xavier\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: unknown kernel_initializer 'xavier' (one of: zeros, ones, constant, random_uniform, "
               "random_normal, truncated_normal, variance_scaling, glorot_uniform, glorot_normal, he_uniform, "
               "he_normal, lecun_uniform, lecun_normal, orthogonal)");
  EXPECT_ERROR("[dense]\nunits = 3\nkernel_initializer = variance_scaling\nkernel_mode = fan_sum\n" "[model]\ninput = 4\n",
               NULL, "t.cfg:4: unknown kernel_mode 'fan_sum' (one of: fan_in, fan_out, fan_avg)");
  /* A parameter the initializer does not take: why, not "unknown key". */
  EXPECT_ERROR("[dense]\nunits = 3\nkernel_stddev = -1\n" "[model]\ninput = 4\n", NULL,
               "t.cfg:3: kernel_stddev does not apply to kernel_initializer = glorot_uniform");
  /* A bad value outranks an unknown key, which outranks an error of meaning
   * (here: no units; the typo 'unit' is its likely cause). */
  EXPECT_ERROR("[dense]\nunit = 1\nuse_bias = yes\n" "[model]\ninput = 4\n", NULL,
               "t.cfg:3: use_bias = 'yes' must be true or false");
  EXPECT_ERROR("[dense]\nunit = 1\nuse_bias = true\n" "[model]\ninput = 4\n", NULL, "t.cfg:2: unknown key 'unit' in [dense]");
  EXPECT_ERROR("[dense]\nuse_bias = true\n" "[model]\ninput = 4\n", NULL, "t.cfg:1: [dense] needs units = N");
  /* A layer that failed leaves the later ones unread: their keys are not called unknown. */
  EXPECT_ERROR("[model]\ninput = 4\n[dense]\nunits = 3\nbias_initializer = orthogonal\n[dense]\nunits = 2\n", NULL,
               "t.cfg:5: orthogonal needs a 2-D tensor; bias of layer 'dense' is 1-D");
  EXPECT_ERROR("[train]\noptimizer = adadelta\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: unknown optimizer 'adadelta' (one of: sgd, adam, adamw, rmsprop, adagrad, nadam, lion)");
  /* Validation reports in file order. */
  EXPECT_ERROR("[dense]\nunits = 0\nactivation = gelu\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL, "t.cfg:2: units = 0 is out of range (must be in [1, 1000000000])");
  EXPECT_ERROR("[dense]\nactivation = gelu\nunits = 0\n" "[model]\ninput = 4\n[dense]\nunits = 3\n", NULL,
               "t.cfg:2: unknown activation 'gelu' (one of: linear, relu, tanh, sigmoid, softmax)");
}

static void test_set(void) {
  /* Errors of the override syntax itself. */
  EXPECT_ERROR(BASE, SETS("run.seed"), "--set run.seed: expected SECTION.KEY=VALUE");
  EXPECT_ERROR(BASE, SETS("seed=1"), "--set seed=1: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE");
  EXPECT_ERROR(BASE, SETS("a.b.c.d=1"), "--set a.b.c.d=1: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE");
  EXPECT_ERROR(BASE, SETS("=1"), "--set =1: expected SECTION.KEY=VALUE or SECTION.N.KEY=VALUE");
  EXPECT_ERROR(BASE, SETS("bogus.x=1"),
               "--set bogus.x=1: t.cfg has no [bogus] section (--set changes the layers the file has)");
  EXPECT_ERROR(BASE, SETS("test_identity.x=1"),
               "--set test_identity.x=1: t.cfg has no [test_identity] section (--set changes the layers the file has)");
  EXPECT_ERROR(BASE, SETS("run.Foo=1"), "--set run.Foo=1: malformed key 'Foo' (lower-case letters, digits, _)");
  EXPECT_ERROR(BASE, SETS("run.foo=1"), "--set run.foo=1: unknown key 'foo' in [run]");
  EXPECT_ERROR(BASE, SETS("dense.1.units=5"),
               "--set dense.1.units=5: there is no [dense] number 1 (the file has 1, numbered from 0)");
  EXPECT_ERROR(BASE, SETS("dense.x.units=5"),
               "--set dense.x.units=5: there is no [dense] number x (the file has 1, numbered from 0)");
  EXPECT_ERROR(BASE, SETS("dense.-1.units=5"),
               "--set dense.-1.units=5: there is no [dense] number -1 (the file has 1, numbered from 0)");
  EXPECT_ERROR(BASE "[dense]\nunits = 2\n", SETS("dense.units=5"),
               "--set dense.units=5: the file has 2 [dense] sections; say which: dense.N.units");
  /* Values set on the command line go through the same checks. */
  EXPECT_ERROR(BASE, SETS("run.seed=-1"), "--set run.seed=-1: seed = '-1' is not an integer in [0, 2^64)");
  EXPECT_ERROR(BASE, SETS("dense.units=0"), "--set dense.units=0: units = 0 is out of range (must be in [1, 1000000000])");
  EXPECT_ERROR(BASE, SETS("dense.units=12abc"), "--set dense.units=12abc: units = '12abc' is not an integer");
  EXPECT_ERROR(BASE, SETS("dense.activation=gelu"),
               "--set dense.activation=gelu: unknown activation 'gelu' (one of: linear, relu, tanh, sigmoid, softmax)");
  EXPECT_ERROR(BASE, SETS("train.learning_rate=nan"),
               "--set train.learning_rate=nan: learning_rate = 'nan' is not a finite decimal number");
  EXPECT_ERROR(BASE, SETS("dense.units="), "--set dense.units=: units has no value");
  EXPECT_ERROR(BASE, SETS("model.input=28,x"), "--set model.input=28,x: input = 'x' is not an integer");
  /* An override that cannot be applied fails at once, before what other
   * overrides set is checked; of those, the first bad value wins. */
  EXPECT_ERROR(BASE, SETS("run.foo=1", "bogus.x=1"),
               "--set bogus.x=1: t.cfg has no [bogus] section (--set changes the layers the file has)");
  EXPECT_ERROR(BASE, SETS("run.seed=x", "dense.units=0"), "--set run.seed=x: seed = 'x' is not an integer in [0, 2^64)");

  rd_job j;
  rd_err e;
  char w[256];
  /* Replacing a value from the file. */
  rd_status st = load(&j, BASE, SETS("run.seed=7", "dense.0.units= 5 ", "dense.activation=relu", "train.epochs=3"), &e);
  CHECK(st == RD_OK, "overrides apply: %s", e.msg);
  const rd_cfg_item *it = rd_cfg_find(&j.cfg, "run", 0, "seed");
  CHECK(it && strcmp(it->value, "7") == 0 && it->line == 0 && it->origin && strcmp(it->origin, "--set run.seed=7") == 0,
        "run.seed replaced by --set");
  CHECK_STR(rd_cfg_where(&j.cfg, it, -1, w, sizeof w), "--set run.seed=7", "where of an overridden value");
  CHECK(j.model.global_seed == 7, "the model has seed 7");
  it = rd_cfg_find(&j.cfg, "dense", 0, "units");
  CHECK(it && strcmp(it->value, "5") == 0 && j.model.layers[0].out.dim[0] == 5, "dense.0.units = 5 (value trimmed)");
  it = rd_cfg_find(&j.cfg, "dense", 0, "activation");
  CHECK(it && strcmp(it->value, "relu") == 0 && it->line == 0 && j.model.layers[0].act == RD_ACT_RELU,
        "new key added by --set");
  /* A fixed section the file lacks is created. */
  CHECK(rd_cfg_count(&j.cfg, "train") == 1 && j.train.epochs == 3, "[train] created by --set, epochs = 3");
  /* 5 items, plus [train] kernels: its default enters the config (rd_cfg_put_default). */
  CHECK(j.cfg.nitems == 6, "no duplicate items after overrides: %d", j.cfg.nitems);
  rd_job_free(&j);

  /* Picking one of several [dense]. */
  st = load(&j, BASE "[dense]\nunits = 2\n", SETS("dense.1.units=9", "dense.0.name=first"), &e);
  CHECK(st == RD_OK, "indexed overrides apply: %s", e.msg);
  CHECK(st == RD_OK && j.model.layers[0].out.dim[0] == 3 && j.model.layers[1].out.dim[0] == 9,
        "dense.1.units = 9 leaves dense.0 alone");
  CHECK(st == RD_OK && !strcmp(j.model.layers[0].name, "first") && !strcmp(j.model.layers[1].name, "dense"),
        "dense.0.name = first; the other is the first unnamed dense");
  rd_job_free(&j);
}

/* ---- 4. canonical text and digest ------------------------------------------------- */

static uint64_t digest_of(const char *text, const char *const *sets) {
  rd_job j;
  rd_err e;
  uint64_t h = 0;
  if (load(&j, text, sets, &e) == RD_OK)
    h = rd_cfg_digest(&j.cfg);
  else
    printf("FAIL (setup) %s\n", e.msg);
  rd_job_free(&j);
  return h;
}

static void test_canonical(void) {
  static const char text[] =
      "# comment\n"
      "[run]\n"
      "seed = 042\n"
      "output = a.h5\n"
      "metrics = m.jsonl\n"
      "[model]\n"
      "input = +784\n"
      "[dense]\n"
      "units = 128\n"
      "activation = relu\n"
      "kernel_initializer = random_normal\n"
      "kernel_stddev = 5e-2\n"
      "[dense]\n"
      "units = 10   # classes\n"
      "[data]\n"
      "source = idx\n"
      "train_x = /x.gz\n"
      "scale = 0.5e0\n"
      "[train]\n"
      "learning_rate = 1e-3\n"
      "epochs = 10\n"
      "shuffle = true\n";
  static const char expected[] =
      "[run]\n"
      "seed = 42\n"
      "[model]\n"
      "input = 784\n"
      "[dense]\n"
      "activation = relu\n"
      "kernel_initializer = random_normal\n"
      "kernel_stddev = 0.050000000000000003\n"
      "units = 128\n"
      "[dense]\n"
      "units = 10\n"
      "[data]\n"
      "scale = 0.5\n"
      "source = idx\n"
      "[train]\n"
      "epochs = 10\n"
      "kernels = portable\n" /* the default since 0.2.0, named whether or not the file says it */
      "learning_rate = 0.001\n"
      "shuffle = true\n";
  rd_job j;
  rd_err e;
  rd_status st = load(&j, text, NULL, &e);
  CHECK(st == RD_OK, "canonical example parses: %s", e.msg);
  char *canon = st == RD_OK ? rd_cfg_canonical(&j.cfg) : NULL;
  CHECK_STR(canon, expected, "canonical text (known answer)");
  uint64_t h = st == RD_OK ? rd_cfg_digest(&j.cfg) : 0;
  CHECK(h == XXH64(expected, strlen(expected), 0), "digest is XXH64(canonical, seed 0): %016" PRIx64, h);
  free(canon);
  rd_job_free(&j);

  /* kernels: writing the default changes nothing; openblas is another config, and
   * its digest without the kernels line is 0.1.x's (whose default it was and
   * whose text left an unset key out), resumable (no epochs). */
  static const char *const portable[] = {"train.kernels=portable", NULL}, *const openblas[] = {"train.kernels=openblas", NULL};
  const uint64_t hp = digest_of(text, portable), ho = digest_of(text, openblas);
  CHECK(hp == h, "kernels = portable written out: the same digest as unset");
  CHECK(ho != h && ho != 0, "kernels = openblas: another digest");
  st = load(&j, text, openblas, &e);
  static const char old_text[] = "[run]\nseed = 42\n[model]\ninput = 784\n[dense]\nactivation = relu\n"
                                 "kernel_initializer = random_normal\nkernel_stddev = 0.050000000000000003\n"
                                 "units = 128\n[dense]\nunits = 10\n[data]\nscale = 0.5\nsource = idx\n[train]\n"
                                 "learning_rate = 0.001\nshuffle = true\n";
  CHECK(st == RD_OK && rd_cfg_digest_resumable_without(&j.cfg, "train", "kernels") == XXH64(old_text, strlen(old_text), 0),
        "openblas: the resumable digest without kernels is XXH64 of 0.1.x's text");
  rd_job_free(&j);

  /* Same result-relevant content written differently: same digest. */
  static const char same[] =
      "[run]\r\n"
      "metrics=other.jsonl\r\n"
      "seed=42\r\n"
      "output = elsewhere/b.h5   # not part of the result\r\n"
      "[model]\r\n"
      "input=784\r\n"
      "[dense]\n"
      "kernel_stddev = 0.05\n"
      "kernel_initializer = random_normal\n"
      "activation = relu\n"
      "units = 0128\n"
      "[dense]\n"
      "units = 10\n"
      "[data]\n"
      "train_x = /somewhere/else.gz\n"
      "test_x = /t.gz\n"
      "source = idx\n"
      "scale = .5\n"
      "[train]\n"
      "shuffle = true\n"
      "epochs = 10\n"
      "learning_rate = 0.001\n";
  uint64_t h_same = digest_of(same, NULL);
  CHECK(h_same == h, "digest ignores comments, spacing, key order, paths: %016" PRIx64 " vs %016" PRIx64, h_same, h);
  CHECK(digest_of(text, SETS("run.output=z.h5", "run.metrics=z.jsonl", "data.train_y=/y.gz")) == h,
        "overriding output/metrics/data paths keeps the digest");
  CHECK(digest_of(text, SETS("run.seed=42")) == h, "overriding a value with the same value keeps the digest");
  CHECK(digest_of(text, SETS("run.seed=0042")) == h, "overriding with the same number spelled differently");

  /* Anything that can change the weights changes the digest. */
  CHECK(digest_of(text, SETS("run.seed=7")) != h, "seed changes the digest");
  CHECK(digest_of(text, SETS("dense.1.units=11")) != h, "units change the digest");
  CHECK(digest_of(text, SETS("dense.0.kernel_stddev=0.06")) != h, "an initializer parameter changes the digest");
  CHECK(digest_of(text, SETS("dense.1.name=out")) != h, "a layer name changes the digest");
  CHECK(digest_of(text, SETS("train.learning_rate=0.002")) != h, "learning_rate changes the digest");
  CHECK(digest_of(text, SETS("data.limit=100")) != h, "data.limit changes the digest");

  /* Layer order matters. */
  uint64_t a = digest_of("[model]\ninput = 4\n[dense]\nunits = 3\n[dense]\nunits = 2\n", NULL);
  uint64_t b = digest_of("[model]\ninput = 4\n[dense]\nunits = 2\n[dense]\nunits = 3\n", NULL);
  CHECK(a != b && a != 0 && b != 0, "swapping [dense] sections changes the digest");

  /* Layers keep their file order whatever their types, so reorderings of
   * different layer types never collide. */
  uint64_t o1 = digest_of("[model]\ninput = 4\n[dense]\nunits = 3\n[test_identity]\n[dense]\nunits = 2\n", NULL);
  uint64_t o2 = digest_of("[model]\ninput = 4\n[test_identity]\n[dense]\nunits = 3\n[dense]\nunits = 2\n", NULL);
  uint64_t o3 = digest_of("[model]\ninput = 4\n[dense]\nunits = 3\n[dense]\nunits = 2\n[test_identity]\n", NULL);
  CHECK(o1 && o2 && o3 && o1 != o2 && o1 != o3 && o2 != o3, "moving a [test_identity] between [dense] changes the digest");

  /* The canonical text of an override-only value shows the normalised number; shapes too. */
  st = load(&j, "[model]\ninput = 4\n[dense]\nunits = 3\n", SETS("model.input=0004"), &e);
  canon = st == RD_OK ? rd_cfg_canonical(&j.cfg) : NULL;
  CHECK_STR(canon, "[model]\ninput = 4\n[dense]\nunits = 3\n[train]\nkernels = portable\n", "canonical text after --set");
  free(canon);
  rd_job_free(&j);
  st = load(&j, "[model]\ninput = 28, +28,01\n[test_identity]\n", NULL, &e);
  canon = st == RD_OK ? rd_cfg_canonical(&j.cfg) : NULL;
  CHECK_STR(canon, "[model]\ninput = 28,28,1\n[test_identity]\n[train]\nkernels = portable\n", "canonical text of a shape");
  rd_job_free(&j);
  free(canon);
}

/* ---- 5. the model: shapes, names per type ------------------------------------------ */

static void test_model(void) {
  rd_job j;
  rd_err e;
  /* Keras' automatic names count per type: dense, test_identity, dense_1, test_identity_1. */
  rd_status st = load(&j,
                      "[model]\ninput = 2,3,4\n[dense]\nunits = 5\n[test_identity]\n[dense]\nname = dense_9\nunits = 6\n"
                      "[dense]\nunits = 7\n[test_identity]\n",
                      NULL, &e);
  CHECK(st == RD_OK, "a model of two types loads: %s", e.msg);
  if (st == RD_OK) {
    static const char *const names[] = {"dense", "test_identity", "dense_9", "dense_1", "test_identity_1"};
    for (int l = 0; l < 5; l++)
      CHECK(l < j.model.nlayers && !strcmp(j.model.layers[l].name, names[l]), "layer %d is %s (got %s)", l, names[l],
            l < j.model.nlayers ? j.model.layers[l].name : "none");
    /* Dense on (2, 3, 4) acts on the last axis, as Keras' Dense does. */
    const rd_shape *o = &j.model.layers[0].out;
    CHECK(j.model.input.ndim == 3 && o->ndim == 3 && o->dim[0] == 2 && o->dim[1] == 3 && o->dim[2] == 5,
          "input 2,3,4 -> dense(5) -> (2, 3, 5)");
    CHECK(j.model.tensors[0].shape.ndim == 2 && j.model.tensors[0].shape.dim[0] == 4, "kernel (4, 5)");
    CHECK(j.model.ntrain == j.model.nparams, "all Dense tensors are trainable, first in the arena");
  }
  rd_job_free(&j);
  EXPECT_ERROR("[model]\ninput = 4\n", NULL, "t.cfg: the model has no layers: add a layer section, e.g. [dense]");
  EXPECT_ERROR("[dense]\nunits = 2\n", NULL,
               "t.cfg: missing [model] input = N, or H,W,C for images (the shape of one sample)");
  EXPECT_ERROR("[model]\ninput = 2,2,2,2\n[dense]\nunits = 2\n", NULL,
               "t.cfg:2: input = '2,2,2,2' must be 1 to 3 integers separated by commas");
  EXPECT_ERROR("[model]\ninput = 2,0\n[dense]\nunits = 2\n", NULL,
               "t.cfg:2: input = 0 is out of range (must be in [1, 1000000000])");
  EXPECT_ERROR("[model]\ninput = 4\n[dense]\nunits = 2\n[test_identity]\nfoo = 1\n", NULL,
               "t.cfg:6: unknown key 'foo' in [test_identity]");
}

/* A layer type registered exactly as a plugin's: it reads no key and passes its
 * input through (a pure reshape), so it can sit anywhere in a model. */
static int identity_build(const rd_api *rd, rd_build *b, void *self, const rd_shape *in, rd_shape *out) {
  *out = *in;
  return 0;
}
static const rd_layer_type k_identity = {.name = "test_identity", .flags = RD_LAYER_RESHAPE, .build = identity_build};

/* rd_cfg_text_diff: expected messages written by hand from the two texts. */
static void test_text_diff(void) {
  char buf[2048];
  const char *out = buf; /* CHECK_STR takes a pointer */
  const char *a = "[dense]\nunits = 8\n[dense]\nactivation = relu\nunits = 4\n[train]\nlearning_rate = 0.001\n";
  rd_cfg_text_diff(a, a, "in the checkpoint", buf, sizeof buf);
  CHECK_STR(out, "", "equal texts");
  const char *b = "[dense]\nunits = 8\n[dense]\nactivation = tanh\nunits = 4\n[train]\nbeta_1 = 0.80000000000000004\n"
                  "learning_rate = 0.001\n";
  rd_cfg_text_diff(a, b, "in the checkpoint", buf, sizeof buf);
  CHECK_STR(out,
            "[dense] (the 2nd) activation: relu in the checkpoint, tanh now; [train] beta_1: not set in the "
            "checkpoint, 0.8 now",
            "a changed layer key (2nd occurrence) and a new key, 17 digits shown as 15");
  const char *c = "[dense]\nunits = 8\n[train]\n";
  rd_cfg_text_diff(a, c, "in A", buf, sizeof buf);
  CHECK_STR(out, "[dense] (the 2nd): in A, not now; [train] learning_rate: 0.001 in A, not set now",
            "a removed section is one item, not one per key");
  rd_cfg_text_diff(c, a, "in A", buf, sizeof buf);
  CHECK_STR(out, "[dense] (the 2nd): not in A, only now; [train] learning_rate: not set in A, 0.001 now",
            "an added section, then a new key, in the new text's order");
  const char *d = "[train]\na = 1\nb = 1\nc = 1\nd = 1\ne = 1\nf = 1\n", *e = "[train]\na = 2\nb = 2\nc = 2\nd = 2\ne = 2\nf = 2\n";
  rd_cfg_text_diff(d, e, "then", buf, sizeof buf);
  CHECK_STR(out, "[train] a: 1 then, 2 now; [train] b: 1 then, 2 now; [train] c: 1 then, 2 now; [train] d: 1 then, 2 now; and 2 more",
            "at most 4, then a count");
  char small[24];
  rd_cfg_text_diff(d, e, "then", small, sizeof small);
  CHECK(strlen(small) == sizeof small - 1, "a short buffer is filled and terminated (%zu)", strlen(small));
}

int main(void) {
  rd_err e = {0};
  CHECK(rd_registry_add(&k_identity, "test_cfg", &e) == RD_OK, "register test_identity: %s", e.msg);
  test_numbers();
  test_parse_good();
  test_parse_errors();
  test_value_errors();
  test_set();
  test_canonical();
  test_model();
  test_text_diff();
  printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}
