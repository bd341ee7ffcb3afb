#!/usr/bin/env bash
# reprodist gradcheck CONFIG [--plugin LIB.so]: one line per layer, a verdict.
#  1. Every shipped config and every test graph (tests/graphs) passes (exit 0, an "ok" line per layer with a forward).
#  2. A plugin layer y = a x whose backward forgets a in dx (a starts at 1, so a
#     check at the initial weights cannot see it) fails: exit 1, its line says
#     FAIL and names dL/dx; the same layer written right passes.
#  3. At np 2 the verdict is the same (rank 0 checks, the others wait).
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
cd "$RD_TMP" || exit 1
GOOD=${1:?usage: gradcheck.sh GOOD.so BAD.so} BAD=${2:?}
for cfg in "$RD_SRC"/configs/*.cfg "$RD_TESTS"/graphs/*.cfg; do
  name=$(basename "$cfg" .cfg)
  "$REPRODIST" gradcheck "$cfg" > "$name.out" 2>&1
  rc=$?
  rd_check_out "$name.out" "$name: exit 0, every line ok, the verdict says passed (exit $rc)" \
    eval '[ $rc -eq 0 ] && ! grep -q "^FAIL" "$name.out" && grep -q "^gradcheck: passed: [1-9][0-9]* layers" "$name.out"'
done
cat > scale.cfg <<EOS
[run]
seed = 5
[model]
input = 6
[dense]
units = 4
[scale_layer]
[dense]
units = 3
activation = softmax
EOS
"$REPRODIST" gradcheck scale.cfg --plugin "$GOOD" > good.out 2>&1
rc=$?
rd_check_out good.out "the right scale layer passes (exit $rc)" \
  eval '[ $rc -eq 0 ] && grep -q "^ok  *scale_layer  *scale_layer " good.out'
"$REPRODIST" gradcheck scale.cfg --plugin "$BAD" > bad.out 2>&1
rc=$?
rd_check_out bad.out "the scale layer that forgets its factor fails: exit 1, its line says FAIL and names dL/dx (exit $rc)" \
  eval '[ $rc -eq 1 ] && grep -q "^FAIL  *scale_layer  *scale_layer .*first: dL/dx\[" bad.out &&
        grep -q "^gradcheck: FAILED: 1 of 3 layers" bad.out'
rd_run 2 gradcheck scale.cfg --plugin "$BAD" > bad2.out 2>&1
rc=$?
rd_check_out bad2.out "at np 2: the same verdict, printed once (exit $rc)" \
  eval '[ $rc -eq 1 ] && [ "$(grep -c "^gradcheck: FAILED" bad2.out)" -eq 1 ]'
# A custom layer's regularizer (rd->regularize, the scale layer's l2 key): its
# penalty l2 * a^2 joins the test loss, and its gradient 2 * l2 * a the step.
{ cat scale.cfg; printf '[data]\nsource = synthetic\nsamples = 32\ntest_samples = 32\n'
  printf '[train]\noptimizer = sgd\nlearning_rate = 0.1\nbatch_size = 32\nepochs = 1\n'; } > reg.cfg
PLUG=(--set "run.plugins=$GOOD")
"$REPRODIST" init reg.cfg "${PLUG[@]}" -o reg_init.h5 > reg_init.out 2>&1 || { rd_fail "init reg.cfg"; rd_show reg_init.out reg.cfg; }
"$REPRODIST" evaluate reg.cfg reg_init.h5 "${PLUG[@]}" > ev0.out 2>&1
"$REPRODIST" evaluate reg.cfg reg_init.h5 "${PLUG[@]}" --set scale_layer.l2=0.25 > ev1.out 2>&1
l0=$(sed -n 's/^test_loss \([^ ]*\) .*/\1/p' ev0.out); l1=$(sed -n 's/^test_loss \([^ ]*\) .*/\1/p' ev1.out)
rd_check_out ev1.out "a custom layer's L2(0.25) on a = 1 adds 0.25 to the test loss ($l0 -> $l1)" \
  "$RD_PYTHON" -c "import sys; sys.exit(abs(float('$l1') - float('$l0') - 0.25) > 2e-6)"
"$REPRODIST" reg.cfg "${PLUG[@]}" -o reg0.h5 > tr0.out 2>&1 &&
  "$REPRODIST" reg.cfg "${PLUG[@]}" --set scale_layer.l2=0.25 -o reg1.h5 > tr1.out 2>&1
rd_check_out tr1.out "one SGD step (lr 0.1): a moves 0.1 * 2 * 0.25 = 0.05 further with the regularizer" \
  "$RD_PYTHON" -c "
import h5py, sys
a = [float(h5py.File(f, 'r')['scale_layer/scale_layer/a:0'][0]) for f in ('reg0.h5', 'reg1.h5')]
print('a without, with:', a)
sys.exit(abs((a[0] - a[1]) - 0.05) > 1e-6)"
"$REPRODIST" train scale.cfg --plugin "$GOOD" > misuse.out 2>&1
rc=$?
rd_check_out misuse.out "--plugin outside gradcheck: exit 2, one line (exit $rc)" \
  eval '[ $rc -eq 2 ] && grep -q "^reprodist: --plugin is for gradcheck" misuse.out'
rd_finish
