#!/bin/bash
# signals: stopping, crashing and diverging (src/train.c, src/fsio.c, src/cli.c).
# No check here depends on how fast the machine trains: a signal is sent once
# the metrics file shows that epoch 1 has finished, to a run of 1000 epochs of
# the full Fashion-MNIST set that is never meant to reach its end, so it lands
# mid-run on a machine 10x faster or 10x slower alike. The stop message names
# the epoch E it stopped in; the resume, and the uninterrupted reference it is
# compared with, then train to the end of epoch E (only [train] epochs may
# differ between a checkpoint and its resume).
#  a. SIGTERM to every rank process (as Slurm does): mpiexec exits 3 (src/cli.c
#     usage: "3 stopped by SIGTERM/SIGINT after writing a checkpoint"), every
#     rank is gone, a checkpoint is in OUTPUT.ckpt/, stderr says how to resume,
#     no weights are written, and the run stopped long before its end (epoch
#     E <= 100 of 1000, fewer than E epoch lines); resuming at np 3 gives the
#     uninterrupted E-epoch run's sha256, and the metrics file then holds every
#     epoch 1..E once with the uninterrupted values. The printed resume
#     command, run as printed (its config now says epochs = E), resumes.
#  b. SIGINT to every rank the same way (resume at np 1); SIGUSR1 to one rank
#     only of 3 (all stop, one checkpoint, exit 3).
#  c. RD_FAULT_ABORT_BEFORE_RENAME=1: rank 0 aborts in its first checkpoint
#     save. No hang; no ckpt-*.h5 is added, and the older checkpoints of a
#     previous run in the same directory (one of them with the very name being
#     written) are untouched; that one and the newest (--resume latest) resume.
#  d. The replica divergence guard, RD_FAULT_DIVERGE=RANK:STEP (one bit of that
#     rank's replica flipped after STEP): with check_every = 1 at np 2, exit 1
#     and "replicas diverged at step 5" naming rank 1; per epoch (default) it is
#     caught at the end of epoch 1 (step 16); at np 3 the odd rank is named; no
#     weights are written; a checkpoint is never written from diverged replicas.
#     At np 1 there is no replica to compare: RANK 1 does nothing (same
#     weights), RANK 0 silently changes the result (exit 0; a known limit).
#     These runs compare whole replicas: shard_optimizer = false. With the
#     optimizer sharded (auto, the default on one node), the next step's
#     allgather overwrites the flipped bit with its owner's value: caught at
#     the step it is made (check_every = 1, at np 2 and 3), not per epoch
#     (exit 0: the limit README states; the one step computed with the flipped
#     bit may or may not move the result).
#  e. A signal at any moment (src/sig.c): the handlers stand from the start of
#     main to the exit. Moments are made certain with RD_FAULT_PAUSE=commit:P
#     (rank 0 stops in a file commit until the test says go), never by timing.
#     e1. A rank's first signal after the job decided to stop (Slurm signals
#         each node's ranks separately; a late one killed its ranks, exit 143
#         of the whole job): SIGTERM to one rank, and when rank 0 is committing
#         the stop's checkpoint, to the other: exit 3, the one checkpoint.
#     e2. SIGTERM as soon as the ranks have their handlers (start-up): exit 3,
#         a checkpoint and the resume line.
#     e3. SIGTERM to every rank while the final weights are being committed:
#         the write finishes (the uninterrupted run's sha256, no temporary
#         left), a line says so, exit 3.
#     e4. Temporary files of a run that died while writing (its PID runs no
#         more) are removed with a warning naming them, next to the weights
#         and in the checkpoint directory; one whose PID runs is left alone.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1

cd "$RD_TMP" || exit 1
T=$RD_TMP
PY=${RD_PYTHON:-/usr/bin/python3}
FM=$RD_SRC/configs/fashion_mnist_mlp.cfg
SYN=$RD_SRC/configs/synthetic.cfg
# LONG epochs: a run that is signalled after epoch 1 and must stop long before
# its end. At 227k samples/s (0.3 s an epoch, the fastest machine measured
# here) 1000 epochs take 5 minutes, far past the first signal and past RD_LIMIT,
# so a signal that is ignored fails the test instead of passing unnoticed.
LONG=1000
# mkcfg FILE EPOCHS: the Fashion-MNIST config with [train] epochs = EPOCHS.
mkcfg() {
  sed "s/^epochs = .*/epochs = $2/" "$FM" >"$1"
  grep -qx "epochs = $2" "$1" || { rd_fail "mkcfg: no 'epochs =' line in $FM"; rd_finish; }
}
show() { echo "  exit $RC; stdout:"; sed 's/^/    /' "$T/$1.out"; echo "  stderr:"; sed 's/^/    /' "$T/$1.err"; }
# rank_pids OUT: PIDs of the reprodist rank processes writing OUT (not mpiexec
# nor timeout, whose command lines hold the same path).
rank_pids() {
  local p
  for p in $(pgrep -f -- "-o $1( |$)"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = reprodist ] && echo "$p"
  done
}
# metrics_values FILE: epoch loss accuracy test_loss test_accuracy per line.
metrics_values() {
  "$PY" -c 'import json, sys
for l in open(sys.argv[1]):
    m = json.loads(l)
    print(m["epoch"], repr(m["loss"]), repr(m["accuracy"]), repr(m["test_loss"]), repr(m["test_accuracy"]))' "$1"
}

# interrupt NAME NP SIG WHICH: trains NAME.cfg (LONG epochs) at NP with -o
# NAME.h5 and metrics NAME.jsonl, waits until the metrics file holds epoch 1's
# line (or the run ends, or RD_LIMIT passes: a hang), sends SIG to the rank
# processes (WHICH: all, or an index into their PID list), waits. Sets RC, NPIDS.
interrupt() {
  local name=$1 np=$2 sig=$3 which=$4
  mkcfg "$T/$name.cfg" "$LONG"
  rd_run "$np" "$T/$name.cfg" --set "run.metrics=$T/$name.jsonl" -o "$T/$name.h5" >"$T/$name.out" 2>"$T/$name.err" &
  local job=$! deadline=$((SECONDS + RD_LIMIT))
  until [ -s "$T/$name.jsonl" ] || ! kill -0 $job 2>/dev/null || [ $SECONDS -ge $deadline ]; do
    sleep 0.05
  done
  local pids; pids=$(rank_pids "$T/$name.h5")
  NPIDS=$(echo $pids | wc -w)
  if [ "$which" = all ]; then
    [ -n "$pids" ] && kill -"$sig" $pids
  else
    kill -"$sig" $(echo $pids | cut -d' ' -f$((which + 1)))
  fi
  wait $job
  RC=$?
}
# stopped_ok NAME NP SIG: the checks after a stop; sets CKPT to the checkpoint
# and E to the epoch the run stopped in (from the stop message).
stopped_ok() {
  local name=$1 np=$2 sig=$3
  rd_check "$sig: found $np rank processes to signal" test "$NPIDS" -eq "$np"
  if [ "$RC" -eq 3 ]; then rd_pass "$sig: mpiexec exits 3 (stopped after writing a checkpoint)"
  else rd_fail "$sig: mpiexec exit $RC, want 3"; show "$name"; fi
  rd_check "$sig: every rank process has exited" test -z "$(rank_pids "$T/$name.h5")"
  local cks; cks=$(ls "$T/$name.h5.ckpt" 2>/dev/null)
  CKPT=$T/$name.h5.ckpt/$cks
  rd_check "$sig: one checkpoint in the default directory $name.h5.ckpt/ ($cks)" \
    test "$(echo "$cks" | grep -c '^ckpt-[0-9]\{12\}\.h5$')" -eq 1 -a "$(echo "$cks" | wc -l)" -eq 1
  rd_check "$sig: stderr says how to resume (--resume $name.h5.ckpt/$cks), once" \
    test "$(grep -c "stopped by a signal after step [0-9]* (epoch [0-9]*); checkpoint $CKPT; continue with: .*--resume $CKPT" "$T/$name.err")" -eq 1
  rd_check "$sig: no weights file (nor a temporary) was written" test -z "$(ls "$T" | grep "^$name\.h5\(\.tmp.*\)\?$")"
  E=$(rd_stop_epoch "$T/$name.err")
  local lines; lines=$(grep -c '^epoch ' "$T/$name.out")
  rd_check "$sig: stopped long before the end: in epoch ${E:-?} of $LONG, after $lines epoch line(s)" \
    test "${E:-0}" -ge 2 -a "${E:-0}" -le $((LONG / 10)) -a "$lines" -eq $((${E:-0} - 1))
  [ -n "$E" ] || E=2  # (already failed; go on with the other checks)
}
# reference E: the uninterrupted E-epoch run at np 2, made once per E; sets REF
# (its sha256) and REF_JSONL (its metrics file).
reference() {
  local e=$1
  if [ ! -s "$T/ref$e.h5" ]; then
    mkcfg "$T/ref$e.cfg" "$e"
    rd_run 2 "$T/ref$e.cfg" --set "run.metrics=$T/ref$e.jsonl" -o "$T/ref$e.h5" >"$T/ref$e.out" 2>"$T/ref$e.err"
    RC=$?
    rd_check "reference: $e epochs at np 2, exit 0" test "$RC" -eq 0 -a -s "$T/ref$e.h5"
    [ "$RC" -eq 0 ] || show "ref$e"
  fi
  REF=$( [ -s "$T/ref$e.h5" ] && rd_sha "$T/ref$e.h5")
  REF_JSONL=$T/ref$e.jsonl
}
# resume_ok NAME NP WHAT: resumes NAME's checkpoint at NP with the same options,
# its config now saying epochs = E, against the E-epoch reference.
resume_ok() {
  local name=$1 np=$2 what=$3
  reference "$E"
  mkcfg "$T/$name.cfg" "$E"
  rd_run "$np" "$T/$name.cfg" --set "run.metrics=$T/$name.jsonl" -o "$T/$name.h5" --resume "$CKPT" \
    >"$T/$name.res.out" 2>"$T/$name.res.err"
  RC=$?
  if [ "$RC" -eq 0 ] && [ -s "$T/$name.h5" ] && [ "$(rd_sha "$T/$name.h5")" = "$REF" ]; then
    rd_pass "$what: resumed at np $np to the end of epoch $E, the uninterrupted run's sha256"
  else
    rd_fail "$what: resume at np $np: exit $RC, sha256 $( [ -s "$T/$name.h5" ] && rd_sha "$T/$name.h5"), want $REF"
    sed 's/^/    /' "$T/$name.res.err"
  fi
}

# ---- a. SIGTERM ---------------------------------------------------------------------------------
interrupt term 2 TERM all
stopped_ok term 2 SIGTERM
TERM_CKPT=$CKPT
resume_ok term 3 SIGTERM
rd_check "SIGTERM: the metrics file holds epochs 1-$E once each, with the uninterrupted run's values" \
  test "$(metrics_values term.jsonl)" = "$(metrics_values "$REF_JSONL")"
# The printed command, run as printed (reprodist under mpiexec at np 1, same
# cwd); term.cfg, which it names, says epochs = E since resume_ok.
# The command follows "continue with: " (a trailing "  (...)" remark is not part of it).
HINT=$(grep -o 'continue with: .*' term.err | head -n 1 | sed 's/^continue with: //; s/  (.*)$//')
# Split as a shell would (the command may quote arguments), without eval; run
# what follows the word reprodist (an mpirun prefix is replaced by rd_run).
mapfile -d '' HINT_ARGV < <("$PY" -c 'import shlex, sys
a = shlex.split(sys.argv[1])
i = next((k for k, w in enumerate(a) if w == "reprodist" or w.endswith("/reprodist")), None)
for w in ([] if i is None else a[i + 1:]): sys.stdout.write(w + "\0")' "$HINT" 2>/dev/null)
rm -f term.h5
if [ "${#HINT_ARGV[@]}" -gt 0 ]; then
  rd_run 1 "${HINT_ARGV[@]}" >hint.out 2>hint.err
  RC=$?
else
  RC=-1
fi
# The weights must land where the stopped run would have written them (its -o).
rd_check "SIGTERM: the printed resume command works as printed (exit 0, weights at term.h5 = reference)" \
  test "$RC" -eq 0 -a -s term.h5 -a "$(rd_sha term.h5 2>/dev/null)" = "$REF"
[ "$RC" -eq 0 ] || { echo "  printed: $HINT"; sed 's/^/    /' hint.err | head -3; }
echo "  [${SECONDS}s] SIGTERM"

# ---- b. SIGINT; SIGUSR1 to one rank ------------------------------------------------------------------
interrupt int 2 INT all
stopped_ok int 2 SIGINT
resume_ok int 1 SIGINT
interrupt usr1 3 USR1 1
stopped_ok usr1 3 "SIGUSR1 (to rank process 2 of 3 only)"
echo "  [${SECONDS}s] SIGINT, SIGUSR1"

# ---- c. abort before rename ----------------------------------------------------------------------------
# A previous run (another seed) leaves ckpt 4, 8, 12, 16 in A; the faulty run's
# first save is ckpt-4 again.
A=$T/A
PREV=("$SYN" --set run.seed=8 --set train.epochs=1 --set "run.checkpoint_dir=$A" --set "run.checkpoint_every=4 steps"
      --set run.keep=100)
rd_run 2 "${PREV[@]}" -o "$T/prev.h5" >prev.out 2>prev.err
rd_check "fault setup: a previous run left 4 checkpoints" test "$?" -eq 0 -a "$(ls "$A" | wc -l)" -eq 4
(cd "$A" && sha256sum ckpt-*.h5) >before.sha
RD_RUN_FLAGS="-x RD_FAULT_ABORT_BEFORE_RENAME=1" rd_run 2 "$SYN" --set "run.checkpoint_dir=$A" \
  --set "run.checkpoint_every=4 steps" -o "$T/fault.h5" >fault.out 2>fault.err
RC=$?
rd_check "abort before rename: the job fails (exit $RC), neither 0 nor a timeout" \
  test "$RC" -ne 0 -a "$RC" -ne 124 -a "$RC" -ne 137
rd_check "abort before rename: it did abort in the checkpoint save (no epoch finished)" \
  eval '! grep -q "^epoch " fault.out && grep -q "Aborted\|signal 6" fault.err'
rd_check "abort before rename: the previous run's checkpoints are exactly as they were (sha256)" \
  eval '(cd "$A" && sha256sum ckpt-*.h5) | diff before.sha - >/dev/null'
rd_check "abort before rename: no weights file" test ! -e fault.h5
# The one whose name the faulty run wrote resumes (with the previous run's
# config) to the previous run's weights.
ok=1
for f in "$A/ckpt-000000000004.h5"; do
  rd_run 1 "${PREV[@]:0:5}" --resume "$f" -o "$T/prev_res.h5" >/dev/null 2>res.err \
    && [ "$(rd_sha prev_res.h5)" = "$(rd_sha prev.h5)" ] || { ok=0; echo "  $f:"; sed 's/^/    /' res.err; }
  rm -f prev_res.h5
done
rd_check "abort before rename: the previous run's ckpt-4 (the name being written) resumes to its weights" test "$ok" -eq 1
rd_run 1 "${PREV[@]}" --resume latest -o "$T/prev_latest.h5" >latest.out 2>&1
rd_check "abort before rename: --resume latest still picks the previous run's newest (ckpt 16), not the debris" \
  eval 'grep -qF "resuming from $A/ckpt-000000000016.h5" latest.out && [ "$(rd_sha prev_latest.h5)" = "$(rd_sha prev.h5)" ]'
echo "  [${SECONDS}s] abort before rename"

# ---- d. divergence guard --------------------------------------------------------------------------------
# diverge NAME NP SPEC ARGS...: starts a synthetic training with
# RD_FAULT_DIVERGE=SPEC (empty: none) in the background; NAME.rc gets its exit
# code. The runs are small and mostly mpiexec start-up: up to 4 at once.
diverge() {
  local name=$1 np=$2 spec=$3; shift 3
  while [ "$(jobs -rp | wc -l)" -ge 4 ]; do wait -n; done
  (RD_RUN_FLAGS=${spec:+"-x RD_FAULT_DIVERGE=$spec"} rd_run "$np" "$SYN" -o "$T/$name.h5" "$@" \
     >"$T/$name.out" 2>"$T/$name.err"
   echo $? >"$T/$name.rc") &
}
diverge syn 2 ""
WHOLE=(--set train.shard_optimizer=false)
diverge div_every1 2 1:5 --set train.check_every=1 "${WHOLE[@]}"
diverge div_epoch 2 1:5 "${WHOLE[@]}"
diverge div_np3 3 2:5 --set train.check_every=1 "${WHOLE[@]}"
diverge div_every2 2 1:5 --set train.check_every=2 "${WHOLE[@]}"
# Rank 0 diverges, checked once per epoch, with a checkpoint every 4 steps: the
# checkpoints after step 5 would hold a replica the guard rejects at step 16.
diverge div_ckpt 2 0:5 --set "run.checkpoint_dir=$T/DC" --set "run.checkpoint_every=4 steps" --set run.keep=100 \
  "${WHOLE[@]}"
# The default on this node shards the optimizer.
diverge div_sh_every1 2 1:5 --set train.check_every=1
diverge div_sh_np3 3 2:5 --set train.check_every=1
diverge div_sh_epoch 2 1:5
diverge div_np1_r1 1 1:5 --set train.check_every=1
diverge div_np1_r0 1 0:5 --set train.check_every=1
wait
rd_check "divergence: the fault-free reference run succeeds" test "$(cat syn.rc)" -eq 0 -a -s syn.h5
SYN_REF=$(rd_sha syn.h5)
# expect_diverged NAME STEP RANK: exit 1, the message once, no weights.
expect_diverged() {
  local name=$1 step=$2 rank=$3
  local msg="reprodist: replicas diverged at step $step (epoch 1): rank $rank ("
  RC=$(cat "$T/$name.rc")
  if [ "$RC" -eq 1 ] && [ "$(grep -cF "$msg" "$T/$name.err")" -eq 1 ] && [ ! -e "$T/$name.h5" ]; then
    rd_pass "$name: exit 1, '$msg', no weights"
  else
    rd_fail "$name: want exit 1 and '$msg' once, no weights"; show "$name"
  fi
}
expect_diverged div_every1 5 1
expect_diverged div_epoch 16 1
rd_check "div_epoch: caught before epoch 1 is reported" test "$(grep -c '^epoch ' div_epoch.out)" -eq 0
expect_diverged div_np3 5 2
expect_diverged div_every2 6 1
expect_diverged div_sh_every1 5 1
expect_diverged div_sh_np3 5 2
rd_check "sharded, checked per epoch: the next step's allgather overwrites the flip unseen (exit 0: the stated limit)" \
  bash -c "grep -q 'optimizer state sharded' div_sh_epoch.out && [ \"\$(cat div_sh_epoch.rc)\" = 0 ] && [ -s div_sh_epoch.h5 ]"
# (Caught at step 16 by the per-epoch check, or earlier by a check before a checkpoint.)
rd_check "div_ckpt: exit 1, 'replicas diverged at step 5..16 (epoch 1): rank 1 (...)', no weights" \
  test "$(cat div_ckpt.rc)" -eq 1 -a ! -e div_ckpt.h5 \
  -a "$(grep -cE "replicas diverged at step ([5-9]|1[0-6]) \(epoch 1\): rank 1 \([0-9a-f]{16}\) differs from the other 1 rank" div_ckpt.err)" -eq 1
rd_check "div_ckpt: no checkpoint is written from diverged replicas (only ckpt-4 may exist; found: $(ls "$T/DC" 2>/dev/null | tr '\n' ' '))" \
  test -z "$(ls "$T/DC" 2>/dev/null | grep -v '^ckpt-000000000004\.h5$')"
rd_check "np 1, RD_FAULT_DIVERGE=1:5 (no rank 1): exit 0 and the normal weights" \
  test "$(cat div_np1_r1.rc)" -eq 0 -a "$(rd_sha div_np1_r1.h5 2>/dev/null)" = "$SYN_REF"
rd_check "np 1, RD_FAULT_DIVERGE=0:5: exit 0 (nothing to compare against) but other weights (the fault fired)" \
  test "$(cat div_np1_r0.rc)" -eq 0 -a -s div_np1_r0.h5 -a "$(rd_sha div_np1_r0.h5 2>/dev/null)" != "$SYN_REF"
echo "  [${SECONDS}s] divergence"

# ---- e. a signal at any moment ----------------------------------------------------------------------------
# wait_file F JOB: until F exists, or JOB ended, or RD_LIMIT passed (a hang).
wait_file() {
  local deadline=$((SECONDS + RD_LIMIT))
  until [ -e "$1" ] || ! kill -0 "$2" 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
}
# e1. late first signal on one rank
mkcfg "$T/late.cfg" "$LONG"
RD_RUN_FLAGS="-x RD_FAULT_PAUSE=commit:$T/late.pause" \
  rd_run 2 "$T/late.cfg" --set "run.metrics=$T/late.jsonl" -o "$T/late.h5" >late.out 2>late.err &
job=$!
wait_file "$T/late.jsonl" $job
read -r P1 P2 <<<"$(rank_pids "$T/late.h5" | tr '\n' ' ')"
[ -n "$P1" ] && kill -TERM "$P1"
wait_file "$T/late.pause.paused" $job
ALIVE=0
[ -n "$P2" ] && kill -0 "$P2" 2>/dev/null && ALIVE=1 && kill -TERM "$P2"
touch "$T/late.pause.go"
wait $job
RC=$?
rd_check "late signal: the other rank was alive and got its first SIGTERM after the stop was decided" test "$ALIVE" -eq 1
rd_check_out "$T/late.err" "late signal: exit 3 (not 143), one checkpoint, the resume line" \
  eval '[ "$RC" -eq 3 ] && [ "$(ls late.h5.ckpt | wc -l)" -eq 1 ] && grep -q "stopped by a signal after step" late.err'
# e2. start-up: signalled once the handlers are installed (SigCgt has SIGTERM, bit 15)
caught_term() { local m; m=$(sed -n 's/^SigCgt:\s*//p' "/proc/$1/status" 2>/dev/null); [ -n "$m" ] && (( 0x$m & 0x4000 )); }
mkcfg "$T/early.cfg" "$LONG"
rd_run 2 "$T/early.cfg" -o "$T/early.h5" >early.out 2>early.err &
job=$!
deadline=$((SECONDS + RD_LIMIT))
until [ "$(for p in $(rank_pids "$T/early.h5"); do caught_term "$p" && echo "$p"; done | wc -l)" -eq 2 ] ||
  ! kill -0 $job 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.01; done
kill -TERM $(rank_pids "$T/early.h5") 2>/dev/null
wait $job
RC=$?
rd_check_out "$T/early.err" "start-up signal: exit 3 with the resume line and a checkpoint (exit $RC)" \
  eval '[ "$RC" -eq 3 ] && grep -q "stopped by a signal after step" early.err && [ -n "$(ls early.h5.ckpt 2>/dev/null)" ]'
# e3. during the final weights write
rd_run 2 "$SYN" -o "$T/fw_ref.h5" >fw_ref.out 2>&1
RD_RUN_FLAGS="-x RD_FAULT_PAUSE=commit:$T/fw.pause" rd_run 2 "$SYN" -o "$T/fw.h5" >fw.out 2>fw.err &
job=$!
wait_file "$T/fw.pause.paused" $job
NFW=$(rank_pids "$T/fw.h5" | wc -w)
kill -TERM $(rank_pids "$T/fw.h5") 2>/dev/null
touch "$T/fw.pause.go"
wait $job
RC=$?
rd_check "final write: both ranks were signalled while the weights were being committed ($NFW)" test "$NFW" -eq 2
rd_check_out "$T/fw.err" "final write: exit 3, 'its output is complete', the uninterrupted sha256, no temporary (exit $RC)" \
  eval '[ "$RC" -eq 3 ] && grep -q "stopped by a signal after .train. had done its work: its output is complete" fw.err &&
        [ "$(rd_sha fw.h5 2>/dev/null)" = "$(rd_sha fw_ref.h5)" ] && [ -z "$(ls | grep "^fw\.h5\.tmp")" ]'
# e4. stale temporaries
DEAD=$(( $(cat /proc/sys/kernel/pid_max) + 1 ))   # no process can have it
sleep 1000 &
LIVE=$!
mkdir -p "$T/SK"
printf 'debris' >"$T/st.h5.tmp.$DEAD"
printf 'busy' >"$T/st.h5.tmp.$LIVE"
printf 'debris' >"$T/SK/ckpt-000000000004.h5.tmp.$DEAD"
rd_run 1 "$SYN" --set "run.checkpoint_dir=$T/SK" -o "$T/st.h5" >st.out 2>st.err
RC=$?
kill $LIVE 2>/dev/null
rd_check_out "$T/st.err" "stale temporaries: the dead run's are removed, each named in a warning (exit $RC)" \
  eval '[ "$RC" -eq 0 ] && [ ! -e "$T/st.h5.tmp.$DEAD" ] && [ ! -e "$T/SK/ckpt-000000000004.h5.tmp.$DEAD" ] &&
        grep -qF "removed $T/st.h5.tmp.$DEAD (6 bytes), left by an earlier run that stopped while writing it" st.err &&
        grep -qF "removed $T/SK/ckpt-000000000004.h5.tmp.$DEAD (6 bytes)" st.err'
rd_check_out "$T/st.err" "stale temporaries: one whose process runs is left alone and named" \
  eval '[ -e "$T/st.h5.tmp.$LIVE" ] && grep -qF "$T/st.h5.tmp.$LIVE is being written by process $LIVE" st.err'
echo "  [${SECONDS}s] any moment"
rd_finish
