# Shared helpers for reprodist's script tests. Source it: . "$RD_TESTS/lib.sh"
# Environment (set by tests/CMakeLists.txt): REPRODIST RD_MPIEXEC RD_NPFLAG
# RD_MPIFLAGS RD_PYTHON RD_SRC RD_TESTS.
set -u
: "${REPRODIST:?run through ctest}" "${RD_MPIEXEC:?}" "${RD_SRC:?}"
RD_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rdtest.XXXXXX")
trap 'rm -rf "$RD_TMP"' EXIT
RD_FAILS=0
RD_PASSES=0

# RD_LIMIT: seconds after which a reprodist run counts as hung (set by
# tests/CMakeLists.txt, RD_RUN_LIMIT: scaled in sanitized builds). Exported:
# some tests run rd_run in bash -c.
export RD_LIMIT=${RD_LIMIT:-$((120 * ${RD_TIME_SCALE:-1}))}

# rd_run NP ARGS...: reprodist under mpiexec with NP ranks, RD_LIMIT hard limit
# (a hang is a failure, not a stuck test run). Extra mpiexec flags: $RD_RUN_FLAGS.
rd_run() {
  local np=$1; shift
  timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_NPFLAG "$np" $RD_MPIFLAGS ${RD_RUN_FLAGS:-} "$REPRODIST" "$@"
}

rd_pass() { RD_PASSES=$((RD_PASSES + 1)); echo "ok: $*"; }
rd_fail() { RD_FAILS=$((RD_FAILS + 1)); echo "FAIL: $*"; }

# rd_check COND_DESCRIPTION COMMAND...: passes when COMMAND succeeds.
rd_check() {
  local what=$1; shift
  if "$@"; then rd_pass "$what"; else rd_fail "$what"; fi
}

rd_sha() { sha256sum "$1" | cut -d' ' -f1; }

# rd_newest_ckpt DIR: the name of the newest checkpoint in DIR (ckpt-<12 digits>.h5), or nothing.
rd_newest_ckpt() { (cd "$1" 2>/dev/null && ls ckpt-[0-9]*.h5 2>/dev/null | grep -x 'ckpt-[0-9]\{12\}\.h5' | sort | tail -1); }
# rd_ckpt_step NAME: the step of checkpoint NAME (ckpt-000000000064.h5 -> 64).
rd_ckpt_step() { echo "$1" | sed -n 's/^ckpt-0*\([0-9][0-9]*\)\.h5$/\1/p'; }
# rd_stop_epoch FILE: the epoch named by the first "stopped by a signal" message in FILE.
rd_stop_epoch() { sed -n 's/.*stopped by a signal after step [0-9]* (epoch \([0-9]*\));.*/\1/p' "$1" | head -n 1; }

# Prints the summary line ctest and CI read, and exits non-zero on any failure.
rd_finish() {
  echo "$RD_PASSES passed, $RD_FAILS failed"
  [ "$RD_FAILS" -eq 0 ]
  exit $?
}
