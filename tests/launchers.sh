#!/usr/bin/env bash
# launch/run, launch/repro-check and launch/plot, as a user runs them.
#  launch/run: a config error and a rank SIGKILLed end the job within 10 s of
#  the message / the kill (it waited mpirun's odls_base_sigkill_timeout of 10 s
#  twice: 20 s), plain mpirun measured beside it; Ctrl-C typed into a terminal
#  (tests/pty_ctrlc.py) once epoch 1 is done: the ranks say they stop, write a
#  checkpoint and exit 3; a second Ctrl-C while the stop's checkpoint is being
#  committed (RD_FAULT_PAUSE) aborts at once (not exit 3).
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
cd "$RD_TMP"
export REPRODIST

PY=${RD_PYTHON:-/usr/bin/python3}
SYN=$RD_SRC/configs/synthetic.cfg
FM=$RD_SRC/configs/fashion_mnist_mlp.cfg
printf '[run]\nseed = 1\n[model]\ninput = 4\n[dense]\nunit = 3\n' > bad.cfg
# timed NAME CMD...: runs CMD; MS = milliseconds from its first stderr byte to its exit.
timed() {
  local name=$1; shift
  "$@" > "$name.out" 2> "$name.err" &
  local job=$! t_err=
  while kill -0 $job 2>/dev/null; do
    [ -z "$t_err" ] && [ -s "$name.err" ] && t_err=$(date +%s%N)
    sleep 0.02
  done
  wait $job
  RC=$?
  MS=$((($(date +%s%N) - ${t_err:-$(date +%s%N)}) / 1000000))
}
timed err_plain timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_MPIFLAGS $RD_NPFLAG 2 "$REPRODIST" bad.cfg -o e.h5
PLAIN_MS=$MS
timed err_run timeout -k 5 "$RD_LIMIT" "$RD_SRC/launch/run" 2 bad.cfg -o e.h5
rd_check_out err_run.err "launch/run: a config error exits 2 within 10 s of its message (${MS} ms; plain mpirun ${PLAIN_MS} ms)" \
  test "$RC" -eq 2 -a "$MS" -lt 10000
# launch/run 1, with OPENBLAS_NUM_THREADS unset and fewer ranks than cores: no warning from mpirun
# (it warned 'could not find environment variable "OPENBLAS_NUM_THREADS"').
env -u OPENBLAS_NUM_THREADS timeout -k 5 "$RD_LIMIT" "$RD_SRC/launch/run" 1 "$SYN" --set train.epochs=1 -o one.h5 \
  > one.out 2> one.err
RC=$?
rd_check_out one.err "launch/run 1 without OPENBLAS_NUM_THREADS: exit 0, nothing on stderr (exit $RC)" \
  test "$RC" -eq 0 -a ! -s one.err
# A reader that goes away: `launch/run ... | head -2` (and `| true`, which reads nothing) must not
# end the run (mpirun died of SIGPIPE, or crashed with SIGPIPE ignored): exit 0, the weights written,
# the same as the run printed in full.
timeout -k 5 "$RD_LIMIT" "$RD_SRC/launch/run" 2 "$SYN" --set train.epochs=200 --set run.metrics= -o full.h5 \
  > full.out 2>&1
for r in "head -2" true; do
  f=pipe_${r%% *}
  timeout -k 5 "$RD_LIMIT" "$RD_SRC/launch/run" 2 "$SYN" --set train.epochs=200 --set run.metrics= -o "$f.h5" 2>&1 | $r > "$f.txt"
  rc=${PIPESTATUS[0]}
  rd_check "launch/run ... | $r: exit 0, the full run's weights (exit $rc)" \
    eval '[ "$rc" = 0 ] && [ -s full.h5 ] && [ "$(rd_sha "$f.h5")" = "$(rd_sha full.h5)" ]'
done
# A rank killed in a run never meant to end.
timeout -k 5 "$RD_LIMIT" "$RD_SRC/launch/run" 2 "$FM" --set train.epochs=1000 --set run.metrics=dead.jsonl -o dead.h5 \
  > dead.out 2> dead.err &
job=$!
deadline=$((SECONDS + RD_LIMIT))
until [ -s dead.jsonl ] || ! kill -0 $job 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
victim=$(pgrep -f -- "-o dead.h5" | while read -r p; do [ "$(cat /proc/$p/comm)" = reprodist ] && echo $p; done | head -1)
t0=$(date +%s%N)
[ -n "$victim" ] && kill -KILL "$victim"
wait $job
RC=$?
MS=$((($(date +%s%N) - t0) / 1000000))
rd_check_out dead.err "launch/run: a rank SIGKILLed ends the job within 10 s (exit $RC, ${MS} ms)" \
  test -n "$victim" -a "$RC" -ne 0 -a "$RC" -ne 124 -a "$MS" -lt 10000
# Ctrl-C in a terminal, once, after epoch 1 (cc.cfg: 1000 epochs, a run never meant to end).
sed 's/^epochs = .*/epochs = 1000/' "$FM" > cc.cfg
timeout -k 5 "$RD_LIMIT" "$PY" "$RD_TESTS/pty_ctrlc.py" cc.tty file:cc.jsonl -- \
  "$RD_SRC/launch/run" 2 cc.cfg --set run.metrics=cc.jsonl -o cc.h5 > cc.res
rd_check_out cc.tty "launch/run, Ctrl-C: the ranks say they stop, write a checkpoint, say how to resume, exit 3 ($(tail -2 cc.res | tr '\n' ' '))" \
  eval 'grep -qx "exit 3" cc.res && grep -q "reprodist: SIGINT: stopping after this step, with a checkpoint (again: abort now)" cc.tty &&
        grep -q "stopped by a signal after step" cc.tty && [ "$(ls cc.h5.ckpt | wc -l)" -eq 1 ] && [ ! -e cc.h5 ]'
# Its resume hint names launch/run (as root, a bare mpirun would refuse to start) and works as printed,
# with cc.cfg cut to the epoch it stopped in.
HINT=$(tr -d '\r' < cc.tty | grep -o 'continue with: .*' | head -1 | sed 's/^continue with: //; s/  (any N)$//')
E=$(tr -d '\r' < cc.tty | sed -n 's/.*stopped by a signal after step [0-9]* (epoch \([0-9]*\));.*/\1/p' | head -1)
sed -i "s/^epochs = .*/epochs = ${E:-2}/" cc.cfg
rd_check "launch/run, Ctrl-C: the hint starts with launch/run and the binary ($HINT)" \
  eval '[[ "$HINT" == "REPRODIST=$REPRODIST $RD_SRC/launch/run N cc.cfg --set run.metrics=cc.jsonl -o cc.h5 --resume cc.h5.ckpt/ckpt-"* ]]'
timeout -k 5 "$RD_LIMIT" bash -c "${HINT/ N / 1 }" > hint.out 2>&1
rd_check_out hint.out "launch/run, Ctrl-C: the hint, run as printed (N = 1), finishes epoch $E and writes cc.h5 (exit $?)" \
  test -s cc.h5
# Ctrl-C twice: the second while the stop's checkpoint is being committed.
RD_FAULT_PAUSE=commit:$RD_TMP/cc2.pause timeout -k 5 "$RD_LIMIT" "$PY" \
  "$RD_TESTS/pty_ctrlc.py" cc2.tty file:cc2.jsonl file:cc2.pause.paused -- \
  "$RD_SRC/launch/run" 2 "$FM" --set train.epochs=1000 --set run.metrics=cc2.jsonl -o cc2.h5 > cc2.res
rc2=$(sed -n 's/^exit //p' cc2.res)
rd_check_out cc2.tty "launch/run, Ctrl-C twice: the second aborts at once (exit $rc2, not 3 nor a timeout)" \
  eval '[ -n "$rc2" ] && [ "$rc2" != 3 ] && [ "$rc2" != 0 ] && [ "$rc2" != 124 ] && [ "$rc2" != 137 ] && grep -qx "ctrl-c typed 2" cc2.res' 
rd_check "launch/run, Ctrl-C twice: no rank is left" test -z "$(pgrep -f -- '-o cc2.h5')"
# The terminal closes (SIGHUP to launch/run): the ranks stop as for SIGTERM, with a checkpoint, none is left.
timeout -k 5 "$RD_LIMIT" "$RD_SRC/launch/run" 2 "$FM" --set train.epochs=1000 --set run.metrics=hup.jsonl -o hup.h5 \
  > hup.out 2>&1 &
job=$!
deadline=$((SECONDS + RD_LIMIT))
until [ -s hup.jsonl ] || ! kill -0 $job 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
kill -HUP "$(pgrep -P $job)" 2>/dev/null  # launch/run, the child of timeout
wait $job
RC=$?
rd_check_out hup.out "launch/run, SIGHUP: the ranks write a checkpoint and exit 3 (exit $RC)" \
  eval '[ "$RC" = 3 ] && grep -q "reprodist: SIGTERM: stopping after this step" hup.out && [ "$(ls hup.h5.ckpt | wc -l)" -eq 1 ]'
rd_check "launch/run, SIGHUP: no rank is left" test -z "$(pgrep -f -- '-o hup.h5')"

# repro-check agrees with itself on a quick config (one that names its metrics file, which a
# user's earlier run wrote here: repro-check must leave it alone)...
sed 's/^output = .*/&\nmetrics = user.metrics.jsonl/' "$RD_SRC/configs/synthetic.cfg" > syn_m.cfg
echo '{"written": "by the user"}' > user.metrics.jsonl
"$RD_SRC/launch/repro-check" syn_m.cfg 1 2 3 --set train.epochs=1 --out same > same.txt 2>&1
rc=$?
cat same.txt
rd_check "repro-check: identical runs exit 0" [ $rc -eq 0 ]
rd_check "repro-check: the table has a row per rank count, all identical" \
  [ "$(grep -cE '^[123] +[0-9a-f]{64} +[0-9.]+ +yes$' same.txt)" -eq 3 ]
rd_check "repro-check: --set reached the runs (1 epoch logged)" grep -q "epoch 1/1" same/np2.log
rd_check "repro-check: one named verdict per pair (np1.h5 vs np2.h5: IDENTICAL, np1.h5 vs np3.h5: ...)" \
  eval '[ "$(grep -c "IDENTICAL" same.txt)" -eq 2 ] && grep -qx "np1.h5 vs np2.h5: IDENTICAL" same.txt &&
        grep -qx "np1.h5 vs np3.h5: IDENTICAL" same.txt'
rd_check "repro-check: the user's metrics file is untouched, each run's metrics are in its directory" \
  eval '[ "$(cat user.metrics.jsonl)" = "{\"written\": \"by the user\"}" ] &&
        [ "$(cat same/np1.metrics.jsonl same/np2.metrics.jsonl same/np3.metrics.jsonl | wc -l)" -eq 3 ]'

# ...and catches a difference: a wrapper that lets np leak into the seed.
cat > leaky <<EOS
#!/usr/bin/env bash
exec "$REPRODIST" "\$@" --set run.seed=\${OMPI_COMM_WORLD_SIZE:-1}
EOS
chmod +x leaky
REPRODIST=$PWD/leaky "$RD_SRC/launch/repro-check" "$RD_SRC/configs/synthetic.cfg" 1 2 --set train.epochs=1 --out leak > leak.txt 2>&1
rc=$?
cat leak.txt
rd_check "repro-check: np-dependent results exit 1" [ $rc -eq 1 ]
rd_check "repro-check: the differing row says NO" grep -qE '^2 +[0-9a-f]{64} +[0-9.]+ +NO$' leak.txt
rd_check "repro-check: reprodist check's verdict is shown" grep -q "DIFFERENT" leak.txt

"$RD_SRC/launch/repro-check" /nonexistent.cfg > bad.txt 2>&1
rd_check "repro-check: unreadable config exits 2" [ $? -eq 2 ]
"$RD_SRC/launch/repro-check" "$RD_SRC/configs/synthetic.cfg" x > bad.txt 2>&1
rd_check "repro-check: a bad rank count exits 2" [ $? -eq 2 ]

# plot: learning curves from a metrics file.
if command -v gnuplot > /dev/null; then
  rd_run 2 "$RD_SRC/configs/synthetic.cfg" --set train.epochs=3 --set run.metrics=m.jsonl -o p.h5 > p.log 2>&1
  rd_check "metrics file has one line per epoch" [ "$(wc -l < m.jsonl)" -eq 3 ]
  # Without [run] metrics they go next to the weights; an empty value turns them off.
  mkdir -p mdef && rd_run 2 "$RD_SRC/configs/synthetic.cfg" --set train.epochs=2 -o mdef/w.h5 > mdef.log 2>&1
  rd_check "metrics default: -o mdef/w.h5 writes mdef/w.metrics.jsonl, 2 epochs ($(ls mdef | tr '\n' ' '))" \
    eval '[ "$(ls mdef | tr "\n" " ")" = "w.h5 w.metrics.jsonl " ] && [ "$(wc -l < mdef/w.metrics.jsonl)" -eq 2 ]'
  mkdir -p moff && rd_run 2 "$RD_SRC/configs/synthetic.cfg" --set train.epochs=2 --set run.metrics= -o moff/w.h5 \
    > moff.log 2>&1
  rd_check "metrics off: --set run.metrics= writes only the weights (exit $?; $(ls moff | tr '\n' ' '))" \
    eval '[ "$(ls moff | tr "\n" " ")" = "w.h5 " ]'
  "$RD_SRC/launch/plot" m.jsonl -o curves.png > plot.txt 2>&1
  rd_check "plot exits 0" [ $? -eq 0 ]
  rd_check "plot wrote a 1000x420 PNG" "$RD_PYTHON" -c '
import struct, sys
b = open("curves.png", "rb").read(24)
sys.exit(0 if b[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", b[16:24]) == (1000, 420) else 1)'
  echo '{"not": "metrics"}' > junk.jsonl
  "$RD_SRC/launch/plot" junk.jsonl -o junk.png > junk.txt 2>&1
  rd_check "plot refuses a file that is not metrics (exit 2)" [ $? -eq 2 ]
  rd_check "plot names the bad line" grep -q "line 1 is not a reprodist metrics line" junk.txt
else
  echo "SKIP: gnuplot is not installed; the plot checks did not run"
  rd_fail "gnuplot missing (launch/deps --test installs gnuplot-nox)"
fi
rd_finish
