#!/bin/bash
# fingerprint: ranks whose environments would compute different bits are refused
# (src/fingerprint.c, rd_fp_check_ranks). The environments differ here by
# OpenBLAS core type, set per rank in an MPMD launch:
#   mpiexec -n 1 -x OPENBLAS_CORETYPE=Prescott reprodist CFG : -n 1 -x OPENBLAS_CORETYPE=Core2 reprodist CFG
#  1. two core types: exit 2, one message naming openblas_core, both ranks and
#     their values; no weights file, and an existing one is untouched.
#  2. the same with --allow-mixed: exit 0, a warning, the weights written.
#  3. the same core on both ranks: exit 0, no warning; the file's
#     reprodist_fingerprint names openblas_core=Prescott and holds no host name,
#     and the weights equal those of np 1 with that core.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1

cd "$RD_TMP" || exit 1
PY=${RD_PYTHON:-/usr/bin/python3}
CFG=$RD_SRC/configs/synthetic.cfg
ARGS=("$CFG" --set train.epochs=1 --set train.kernels=openblas)  # OpenBLAS's core type matters only in openblas mode

# mpmd CORE0 CORE1 ARGS...: one rank per core type; sets RC; out.txt/err.txt.
mpmd() {
  local c0=$1 c1=$2; shift 2
  timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_NPFLAG 1 $RD_MPIFLAGS -x OPENBLAS_CORETYPE="$c0" "$REPRODIST" "$@" \
    : $RD_NPFLAG 1 -x OPENBLAS_CORETYPE="$c1" "$REPRODIST" "$@" >out.txt 2>err.txt
  RC=$?
}
show() { echo "  exit $RC; stdout:"; sed 's/^/    /' out.txt; echo "  stderr:"; sed 's/^/    /' err.txt; }
expect() {
  local name=$1; shift
  if "$@"; then rd_pass "$name"; else rd_fail "$name"; show; fi
}

# ---- 1. mixed core types are refused ---------------------------------------------------------
mkdir fresh
mpmd Prescott Core2 "${ARGS[@]}" -o fresh/w.h5
expect "Prescott + Core2: exit 2" test "$RC" -eq 2
MSG="reprodist: ranks differ in openblas_core (their results would differ): rank 0 ("
expect "the message names openblas_core, once" test "$(grep -cF "$MSG" err.txt)" -eq 1
expect "the message names both ranks and their values (rank 0 ... Prescott; rank 1 ... Core2)" \
  grep -qE 'rank 0 \([^)]*\) Prescott; rank 1 \([^)]*\) Core2;' err.txt
expect "the message says what to do (OPENBLAS_CORETYPE, --allow-mixed)" \
  eval 'grep -F "$MSG" err.txt | grep -qF "OPENBLAS_CORETYPE" && grep -F "$MSG" err.txt | grep -qF -- "--allow-mixed"'
expect "refused before training: no epoch line" eval '! grep -q "^epoch " out.txt'
expect "no weights file nor temporary written" test -z "$(ls -A fresh)"
mkdir old
cp /dev/null old/keep.h5
echo "previous weights" >old/w.h5
OLD_SHA=$(rd_sha old/w.h5)
mpmd Core2 Prescott "${ARGS[@]}" -o old/w.h5
expect "Core2 + Prescott (order swapped): exit 2, values named the other way round" \
  eval '[ "$RC" -eq 2 ] && grep -qE "rank 0 \([^)]*\) Core2; rank 1 \([^)]*\) Prescott;" err.txt'
expect "an existing output is untouched and nothing is added" \
  test "$(rd_sha old/w.h5)" = "$OLD_SHA" -a "$(ls -A old | tr '\n' ' ')" = "keep.h5 w.h5 "

# ---- 2. --allow-mixed --------------------------------------------------------------------------
mpmd Prescott Core2 "${ARGS[@]}" --allow-mixed -o mixed.h5
expect "--allow-mixed: exit 0 and the weights written" test "$RC" -eq 0 -a -s mixed.h5
expect "--allow-mixed: one warning naming openblas_core and --allow-mixed" \
  eval '[ "$(grep -c "ranks differ in openblas_core" err.txt)" -eq 1 ] &&
        grep "ranks differ in openblas_core" err.txt | grep -qF -- "--allow-mixed"'
expect "--allow-mixed: the file records rank 0's core" test "$(rd_h5attr mixed.h5 reprodist_openblas_core)" = Prescott

# ---- 3. the same core on every rank -------------------------------------------------------------
mpmd Prescott Prescott "${ARGS[@]}" -o same.h5
expect "Prescott + Prescott: exit 0, no warning about ranks" \
  eval '[ "$RC" -eq 0 ] && [ -s same.h5 ] && ! grep -q "ranks differ" err.txt'
rd_h5attr same.h5 reprodist_fingerprint >fp.txt
expect "reprodist_fingerprint has the line openblas_core=Prescott" grep -qxF openblas_core=Prescott fp.txt
expect "reprodist_fingerprint has reprodist=, compiler=, libc=, hdf5= lines" \
  eval '(for k in reprodist compiler libc hdf5 fp_rounding; do grep -q "^$k=" fp.txt || exit 1; done)'
HOSTS=$( (hostname; hostname -s; hostname -f; uname -n) 2>/dev/null | sort -u)
nohost=1
for h in $HOSTS; do grep -qwF -- "$h" fp.txt && { echo "  host name '$h' found in the fingerprint"; nohost=0; }; done
grep -qi '^host' fp.txt && nohost=0
expect "reprodist_fingerprint holds no host name ($(echo $HOSTS))" test "$nohost" -eq 1
expect "reprodist_openblas_core is Prescott" test "$(rd_h5attr same.h5 reprodist_openblas_core)" = Prescott
RD_RUN_FLAGS="-x OPENBLAS_CORETYPE=Prescott" rd_run 1 "${ARGS[@]}" -o np1.h5 >out.txt 2>err.txt
RC=$?
expect "np 1 with the same core writes the same bytes as the 2-rank MPMD job" \
  test "$RC" -eq 0 -a "$(rd_sha np1.h5)" = "$(rd_sha same.h5)"
rd_finish
