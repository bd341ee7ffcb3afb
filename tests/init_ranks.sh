#!/bin/bash
# init_ranks: `reprodist init` and the command line around it.
#
#  1. Usage: --help and --version exit 0 and print once; unknown options, missing
#     or extra arguments, unknown commands exit 2 with one exact message.
#  2. Rank-count invariance: init at np 1, 2 and 4 (to different files) gives
#     byte-identical files (sha256) for the shipped configs and for a config that
#     uses every kind of initializer.
#  3. Semantics: --set run.seed=7 changes the weights and the seed attribute, and
#     --set to the file's own value changes nothing; -o/--output overrides [run]
#     output; re-running over an existing file replaces it by rename (a hard link
#     to the old file keeps the old bytes) and leaves no *.tmp.*.
#  4. Bad output paths (missing directory, a directory, a path below a regular
#     file) exit 2 with one message naming the path, at np 2, and leave no
#     temporary files and the existing output untouched.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1

cd "$RD_TMP" || exit 1
CFG_KERAS=$RD_SRC/configs/keras_seeded_init.cfg
CFG_MLP=$RD_SRC/configs/fashion_mnist_mlp.cfg
PY=${RD_PYTHON:-/usr/bin/python3}

# run_capture NP ARGS...: runs reprodist; sets RC, and OUT/ERR to the file names.
run_capture() {
  local np=$1; shift
  rd_run "$np" "$@" > out.txt 2> err.txt
  RC=$?
}

# once LINE FILE: LINE appears exactly once, as a whole line, in FILE.
once() { [ "$(grep -cxF -- "$1" "$2")" -eq 1 ]; }

# show: prints the last run's output (after a failure).
show() { echo "  stdout:"; sed 's/^/    /' out.txt; echo "  stderr:"; sed 's/^/    /' err.txt; }

# check_usage_error NAME EXPECTED_LINE ARGS...: exit 2, EXPECTED_LINE once on stderr, empty stdout (np 2).
check_usage_error() {
  local name=$1 expected=$2; shift 2
  run_capture 2 "$@"
  if [ "$RC" -eq 2 ] && once "$expected" err.txt && [ ! -s out.txt ]; then
    rd_pass "$name: exit 2 and one message"
  else
    rd_fail "$name: exit $RC; expected '$expected' once"; show
  fi
}

# check_usage_error_prefix NAME PREFIX ARGS...: as check_usage_error, for a line
# that starts with PREFIX (the rest lists things that grow, like the commands).
check_usage_error_prefix() {
  local name=$1 prefix=$2; shift 2
  run_capture 2 "$@"
  local n; n=$(P=$prefix awk 'index($0, ENVIRON["P"]) == 1' err.txt | wc -l)
  if [ "$RC" -eq 2 ] && [ "$n" -eq 1 ] && [ ! -s out.txt ]; then
    rd_pass "$name: exit 2 and one message"
  else
    rd_fail "$name: exit $RC; expected one line starting '$prefix'"; show
  fi
}

# rd_h5attr FILE ATTR: prints a root attribute of an HDF5 file.

# ---- 1. usage ------------------------------------------------------------------------
run_capture 1 --help
rd_check "--help exits 0 with the usage on stdout" \
  test "$RC" -eq 0 -a "$(grep -c '^usage: reprodist' out.txt)" -eq 1 -a ! -s err.txt
run_capture 2 -h
rd_check "-h at np 2 exits 0 and prints the usage once" test "$RC" -eq 0 -a "$(grep -c '^usage: reprodist' out.txt)" -eq 1
run_capture 2 --version
rd_check "--version exits 0 and prints one line 'reprodist VERSION (...)'" \
  test "$RC" -eq 0 -a "$(grep -c '^reprodist [0-9][0-9.]* (' out.txt)" -eq 1 -a "$(wc -l < out.txt)" -eq 1
check_usage_error "no arguments" "reprodist: no config file given (see --help)"
check_usage_error "unknown option" "reprodist: unknown option '--bogus' (see --help)" init "$CFG_KERAS" --bogus
check_usage_error "-o without a value" "reprodist: -o needs a value (see --help)" init "$CFG_KERAS" -o
check_usage_error "--set without a value" "reprodist: --set needs a value (see --help)" init "$CFG_KERAS" --set
check_usage_error "command without config" "reprodist: 'init' needs a config file (see --help)" init
check_usage_error_prefix "unknown command" "reprodist: unknown command 'frobnicate' (train, init, seeds" \
  frobnicate "$CFG_KERAS"
check_usage_error "extra argument" "reprodist: unexpected argument 'extra' (see --help)" init "$CFG_KERAS" extra

# ---- 2. the same bytes at every rank count ---------------------------------------------
# Every initializer kind, with and without bias, explicit and derived seeds.
cat > mixed.cfg <<'EOF'
[run]
seed = 1234
[model]
input = 37
[dense]
units = 33
kernel_initializer = orthogonal
bias_initializer = random_normal
bias_stddev = 0.5
[dense]
name = he
units = 17
kernel_initializer = he_normal
bias_initializer = constant
bias_value = 0.25
[dense]
units = 9
use_bias = false
kernel_initializer = truncated_normal
kernel_seed = 5
[dense]
units = 11
kernel_initializer = variance_scaling
kernel_mode = fan_out
kernel_distribution = untruncated_normal
kernel_scale = 2.5
bias_initializer = random_uniform
bias_minval = -1
bias_maxval = 2
[dense]
units = 5
kernel_initializer = lecun_uniform
bias_initializer = ones
EOF
for cfg in "$CFG_KERAS" "$CFG_MLP" mixed.cfg; do
  tag=$(basename "$cfg" .cfg)
  ok=1
  for np in 1 2 4; do
    run_capture "$np" init "$cfg" -o "$tag.np$np.h5"
    if [ "$RC" -ne 0 ] || [ ! -s "$tag.np$np.h5" ]; then
      ok=0; rd_fail "$tag: init at np $np exit $RC"; show
    elif [ "$(grep -c '^reprodist: wrote initial weights of ' out.txt)" -ne 1 ]; then
      ok=0; rd_fail "$tag: np $np must report the write once"; show
    fi
  done
  if [ "$ok" -eq 1 ]; then
    a=$(rd_sha "$tag.np1.h5"); b=$(rd_sha "$tag.np2.h5"); c=$(rd_sha "$tag.np4.h5")
    if [ "$a" = "$b" ] && [ "$a" = "$c" ]; then
      rd_pass "$tag: np 1, 2, 4 give the same sha256 $a"
    else
      rd_fail "$tag: sha256 differs: np1 $a np2 $b np4 $c"
    fi
  fi
done
rd_check "no temporary files left by successful runs" test -z "$(ls -A | grep '\.tmp\.')"

# ---- 3. --set, -o, replacing ----------------------------------------------------------
BASE_SHA=$(rd_sha fashion_mnist_mlp.np1.h5)
run_capture 2 init "$CFG_MLP" -o seed7.h5 --set run.seed=7
rd_check "--set run.seed=7 writes a file" test "$RC" -eq 0 -a -s seed7.h5
rd_check "--set run.seed=7 changes the file" test "$(rd_sha seed7.h5)" != "$BASE_SHA"
rd_check "--set run.seed=7 records seed 7" test "$(rd_h5attr seed7.h5 reprodist_seed)" = 7
rd_check "the file without --set records seed 42" test "$(rd_h5attr fashion_mnist_mlp.np1.h5 reprodist_seed)" = 42
if "$PY" - seed7.h5 fashion_mnist_mlp.np1.h5 <<'EOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
k = "/dense/dense/kernel:0"
sys.exit(0 if not np.array_equal(a[k][()], b[k][()]) else 1)
EOF
then rd_pass "--set run.seed=7 changes the derived kernel values"; else rd_fail "--set run.seed=7 left the kernel unchanged"; fi
run_capture 4 init "$CFG_MLP" -o seed7.np4.h5 --set run.seed=7
rd_check "--set run.seed=7 at np 4 gives the np 2 bytes" test "$RC" -eq 0 -a "$(rd_sha seed7.np4.h5)" = "$(rd_sha seed7.h5)"
run_capture 1 init "$CFG_MLP" -o seed42.h5 --set run.seed=42
rd_check "--set run.seed=42 (the file's own value) gives the same bytes" test "$RC" -eq 0 -a "$(rd_sha seed42.h5)" = "$BASE_SHA"

# -o and --output override [run] output; without them [run] output is used.
mkdir -p cwd && sed 's/^output = .*/output = from_cfg.h5/' "$CFG_KERAS" > cwd/k.cfg
(cd cwd && rd_run 2 init k.cfg -o other.h5 > /dev/null 2>&1)
rd_check "-o writes where it says" test -s cwd/other.h5
rd_check "-o overrides [run] output" test ! -e cwd/from_cfg.h5
(cd cwd && rd_run 2 init k.cfg --output=eq.h5 > /dev/null 2>&1 && rd_run 1 init k.cfg --output sp.h5 > /dev/null 2>&1)
rd_check "--output=PATH and --output PATH work" test -s cwd/eq.h5 -a -s cwd/sp.h5 -a ! -e cwd/from_cfg.h5
(cd cwd && rd_run 2 init k.cfg > /dev/null 2>&1)
rd_check "without -o, [run] output is written" test -s cwd/from_cfg.h5
rd_check "-o and [run] output give the same bytes" test "$(rd_sha cwd/other.h5)" = "$(rd_sha cwd/from_cfg.h5)"
rd_check "... which are those of the shipped config" test "$(rd_sha cwd/other.h5)" = "$(rd_sha keras_seeded_init.np1.h5)"

# Replacing an existing file: by rename, so a hard link to the old file keeps the
# old bytes (an in-place rewrite would change them) and the result is complete.
cp seed7.h5 replace.h5
ln replace.h5 old_link.h5
OLD_SHA=$(rd_sha replace.h5)
run_capture 2 init "$CFG_MLP" -o replace.h5
rd_check "re-running over an existing file exits 0" test "$RC" -eq 0
rd_check "the existing file now holds the new weights" test "$(rd_sha replace.h5)" = "$BASE_SHA"
rd_check "the old file was replaced by rename, not rewritten in place" test "$(rd_sha old_link.h5)" = "$OLD_SHA"
rd_check "no temporary files left after replacing" test -z "$(ls -A | grep '\.tmp\.')"

# A crash between writing and renaming leaves the old file whole. Uses the
# fault-injection hook of src/fault.c (RD_FAULT_ABORT_BEFORE_RENAME=1).
mkdir -p crash && cp seed7.h5 crash/w.h5
CRASH_SHA=$(rd_sha crash/w.h5)
RD_FAULT_ABORT_BEFORE_RENAME=1 run_capture 2 init "$CFG_MLP" -o crash/w.h5
rd_check "a crash before the rename fails the run" test "$RC" -ne 0
rd_check "a crash before the rename leaves the old file intact" test "$(rd_sha crash/w.h5)" = "$CRASH_SHA"
rm -rf crash

# ---- 4. bad output paths ----------------------------------------------------------------
# The config's own [run] output exists; a bad -o must fail before touching anything.
printf 'precious\n' > keep.h5
KEEP_SHA=$(rd_sha keep.h5)
sed "s|^output = .*|output = $RD_TMP/keep.h5|" "$CFG_KERAS" > keep.cfg
mkdir -p adir && printf 'x\n' > adir/inside
PASSWD_SHA=$(rd_sha /etc/passwd)

# check_bad_output NAME PATH EXPECTED_LINE DIR_TO_SCAN
check_bad_output() {
  local name=$1 path=$2 expected=$3 dir=$4
  local before; before=$(ls -A "$dir" 2>/dev/null)
  run_capture 2 init keep.cfg -o "$path"
  local why=""
  [ "$RC" -eq 2 ] || why="$why exit $RC (expected 2);"
  once "$expected" err.txt || why="$why message not seen exactly once;"
  [ -s out.txt ] && why="$why stdout not empty;"
  [ "$(ls -A "$dir" 2>/dev/null)" = "$before" ] || why="$why files changed in $dir;"
  [ -z "$(ls -A "$RD_TMP" | grep '\.tmp\.')" ] || why="$why temporary file left;"
  [ "$(rd_sha keep.h5)" = "$KEEP_SHA" ] || why="$why existing output changed;"
  if [ -z "$why" ]; then
    rd_pass "$name: exit 2, one message naming the path, nothing touched"
  else
    rd_fail "$name:$why"; echo "  expected: $expected"; show
  fi
}
check_bad_output "nonexistent directory" "$RD_TMP/nodir/x.h5" \
  "$RD_TMP/nodir/x.h5: output directory '$RD_TMP/nodir' does not exist (No such file or directory); create it first" \
  "$RD_TMP"
rd_check "nonexistent directory was not created" test ! -e "$RD_TMP/nodir"
check_bad_output "a directory as output" "$RD_TMP/adir" \
  "$RD_TMP/adir: output path is a directory; give a file name (-o PATH)" "$RD_TMP/adir"
check_bad_output "a path below a regular file" /etc/passwd/x \
  "/etc/passwd/x: '/etc/passwd' is not a directory" /etc
rd_check "/etc/passwd untouched" test "$(rd_sha /etc/passwd)" = "$PASSWD_SHA"
# With no -o the existing [run] output is written over (the control for the above).
run_capture 2 init keep.cfg
rd_check "control: without a bad -o the [run] output is replaced" test "$RC" -eq 0 -a "$(rd_sha keep.h5)" != "$KEEP_SHA"

rd_finish
