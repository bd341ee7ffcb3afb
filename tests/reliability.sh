#!/bin/bash
# reliability: outputs that cannot be written, bad inputs that must end every
# rank quickly, and a rank killed in the middle of an epoch (src/h5io.c,
# src/ckpt.c, src/fsio.c, src/comm.c, src/train.c).
#  1. outputs, at np 2 on configs/synthetic.cfg (1 epoch), each: exit 2, one
#     line from reprodist naming the path (mpiexec's own boxed notice aside),
#     no epoch trained when the path is checked up front, no temporary left:
#     a. -o under a regular file (a file where a directory should be);
#     b. -o onto an existing weights file in a read-only tmpfs (root only);
#        the file keeps its sha256;
#     c. -o onto an existing directory; the directory and its file untouched;
#     d. a full disk: -o onto a valid weights file in a 256 KiB tmpfs whose free
#        space is filled (root only): the file keeps its sha256;
#     e. a full disk under checkpoint_dir (root only): an older checkpoint with
#        the very name of the first new one keeps its sha256 and still resumes
#        (np 1) to the uninterrupted run's weights.
#     f. a disk that fills up in the middle of a run (a small tmpfs under
#        checkpoint_dir, a checkpoint every 4 steps): exit 2, "not enough free
#        space ... for the checkpoint" (space is checked before HDF5 writes),
#        no crash, no temporary; the newest checkpoint left resumes to the
#        uninterrupted weights;
#     g. the disk fills while HDF5 is writing a checkpoint (RD_FAULT_PAUSE=
#        ckpt_write: the test fills the tmpfs at that moment), np 1: exit 2,
#        "writing the checkpoint failed", no crash (HDF5 1.10 segfaulted in
#        H5close / MPI_Finalize after its failed close), no temporary;
#     h. SIGTERM with checkpoint_dir on a full tmpfs: the stop's checkpoint
#        cannot be written: exit 2 with the message, no crash.
#     Without root or when mount fails, b, d-h print a SKIP line (not a pass).
#  2. ranks started with different arguments (an MPMD command line): -o, a
#     --set on one rank only, different --set values, --resume on one rank:
#     exit 2, one line naming the option and both values, nothing written,
#     every rank gone within 10 s (it hung in MPI_File_open, or reported
#     replicas diverging).
#  2b. an output on an input or on another output (src/paths.c): -o onto an
#     existing checkpoint, onto a checkpoint's name in checkpoint_dir, onto
#     the training HDF5 file, the IDX file, the config, the --resume
#     checkpoint; [run] metrics onto -o: exit 2, one line naming both, every
#     file byte-identical, nothing written.
#  3. timing: every bad-input run above and a config error, a data error
#     (truncated IDX) and a checkpoint error (truncated checkpoint), all at
#     np 2: every rank is gone within 10 s of reprodist's message (measured
#     from the message, so the machine's speed does not enter), and no rank
#     process is left.
#  4. a rank killed: full Fashion-MNIST at np 2, 1000 epochs (a run never meant
#     to end, so the kill lands mid-run on any machine), checkpoint_every = 100
#     steps. Once ckpt-100 exists, SIGKILL goes to rank 1's process (found
#     with pgrep -f on the run's unique -o path; not mpiexec): mpiexec exits
#     non-zero within 10 s of the kill, no rank is left, the run was far from
#     its end (the newest checkpoint in epoch E <= 100), no weights; --resume
#     latest at np 3 with epochs = E picks the newest checkpoint and gives the
#     sha256 of an uninterrupted E-epoch run.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1

cd "$RD_TMP" || exit 1
T=$RD_TMP
SYN=$RD_SRC/configs/synthetic.cfg
FM=$RD_SRC/configs/fashion_mnist_mlp.cfg
LIMIT_MS=10000

# Mounts made here are undone before lib.sh's cleanup removes (or keeps) the directory.
MOUNTS=()
rd_cleanup_hook() {
  local m
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
}
# tmpfs DIR OPTIONS: mounts a tmpfs at DIR; fails (and says why) when not root.
tmpfs() {
  mkdir -p "$1"
  [ "$(id -u)" -eq 0 ] || { WHY="not root"; return 1; }
  mount -t tmpfs -o "$2" tmpfs "$1" 2>"$T/mount.err" || { WHY="mount failed: $(head -1 "$T/mount.err")"; return 1; }
  MOUNTS+=("$1")
}
skip() { echo "SKIP: $*"; }

# rank_pids OUT: PIDs of the reprodist rank processes writing OUT (not mpiexec
# nor timeout, whose command lines hold the same path).
rank_pids() {
  local p
  for p in $(pgrep -f -- "-o $1( |$)"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = reprodist ] && echo "$p"
  done
}
# run NAME NP OUT ARGS...: reprodist at NP ranks with ARGS -o OUT (RD_LIMIT
# hard limit, a hang); NAME.out/.err, RC; MS = milliseconds from the first
# line on stderr (reprodist's message, printed once every rank has agreed on
# the failure) to mpiexec's exit, i.e. how long the ranks took to go once the
# error was known, whatever the machine's speed; LEFT = rank processes of OUT
# still alive afterwards.
run() {
  local name=$1 np=$2 out=$3; shift 3
  rd_run "$np" "$@" -o "$out" >"$T/$name.out" 2>"$T/$name.err" &
  local job=$! t_err=
  while kill -0 $job 2>/dev/null; do
    [ -z "$t_err" ] && [ -s "$T/$name.err" ] && t_err=$(date +%s%N)
    sleep 0.02
  done
  wait $job
  RC=$?
  local t_end; t_end=$(date +%s%N)
  MS=$(((t_end - ${t_err:-$t_end}) / 1000000))
  LEFT=$(rank_pids "$out")
  [ -z "$LEFT" ] || kill -9 $LEFT 2>/dev/null
}
show() { echo "  exit $RC, ${MS} ms; stdout:"; sed 's/^/    /' "$T/$1.out"; echo "  stderr:"; sed 's/^/    /' "$T/$1.err"; }
# ours NAME: stderr without mpiexec's boxed notices (between lines of dashes).
ours() { awk '/^-----+$/ { box = !box; next } !box' "$T/$1.err"; }
# quick NAME: the ranks were gone within LIMIT_MS of the message, none is left.
quick() {
  rd_check "$1: all ranks gone within 10 s of the message (${MS} ms)" test "$MS" -lt "$LIMIT_MS" -a -z "$LEFT"
}
# refused NAME MESSAGE [trained|signalled]: exit 2, reprodist's stderr is exactly
# one line and holds MESSAGE, no internal error or HDF5 stack; no epoch line
# unless the third argument says training ran; "signalled": it ran and was
# sent a signal, whose notice ("SIGTERM: stopping after this step...") comes
# first and is not counted; then quick.
refused() {
  local name=$1 msg=$2 trained=${3:-}
  local lines; lines=$(ours "$name")
  if [ "$trained" = signalled ]; then
    rd_check "$name: the signal's notice comes first" eval 'head -1 <<<"$lines" | grep -q "^reprodist: SIG[A-Z0-9]*: stopping after this step"'
    lines=$(tail -n +2 <<<"$lines")
  fi
  if [ "$RC" -eq 2 ] && [ "$(printf '%s\n' "$lines" | grep -c .)" -eq 1 ] && grep -qF -- "$msg" <<<"$lines" &&
     ! grep -qE 'HDF5-DIAG|internal error|MPI_ABORT|Segmentation|Aborted|Sanitizer' "$T/$name.err" &&
     { [ -n "$trained" ] || ! grep -q '^epoch ' "$T/$name.out"; }; then
    rd_pass "$name: exit 2, one line: $lines"
  else
    rd_fail "$name: want exit 2 and one line with: $msg"; show "$name"
  fi
  quick "$name"
}
# only_files DIR NAME...: DIR holds exactly these names (no temporary).
only_files() {
  local dir=$1; shift
  [ "$(cd "$dir" && ls -A | sort | tr '\n' ' ')" = "$(printf '%s\n' "$@" | sort | tr '\n' ' ')" ]
}
# fill DIR: fills the file system of DIR (a tmpfs) to the last block.
fill() {
  dd if=/dev/zero of="$1/fill" bs=4096 >/dev/null 2>&1
  dd if=/dev/zero of="$1/fill.tail" bs=512 >/dev/null 2>&1
  [ "$(df --output=avail "$1" | tail -1)" -eq 0 ]
}

# ---- fixtures: an uninterrupted synthetic run and its checkpoint at step 4 ------------------
SYN1=("$SYN" --set train.epochs=1)
EVERY4=(--set "run.checkpoint_every=4 steps" --set run.keep=1)
run ref_syn 2 "$T/ref_syn.h5" "${SYN1[@]}"
SYN_REF=$( [ -s ref_syn.h5 ] && rd_sha ref_syn.h5)
rd_check "fixture: synthetic reference at np 2 (exit 0)" test "$RC" -eq 0 -a -n "$SYN_REF"
run old_ck 1 "$T/old_ck.h5" "${SYN1[@]}" --set "run.checkpoint_dir=$T/old" --set "run.checkpoint_every=4 steps" \
  --set run.keep=100
OLD_CK=$T/old/ckpt-000000000004.h5
rd_check "fixture: a checkpoint at step 4 (exit 0)" test "$RC" -eq 0 -a -s "$OLD_CK"
[ -n "$SYN_REF" ] && [ -s "$OLD_CK" ] || { show ref_syn; show old_ck; rd_finish; }
echo "  [${SECONDS}s] fixtures"

# ---- 1. outputs -------------------------------------------------------------------------
# a. a file where the output's directory should be.
echo "a regular file" >"$T/afile"
run file_as_dir 2 "$T/afile/w.h5" "${SYN1[@]}"
refused file_as_dir "$T/afile/w.h5: '$T/afile' is not a directory"
rd_check "file_as_dir: the file is untouched" test "$(cat "$T/afile")" = "a regular file"

# b. a read-only file system holding the existing output.
RO=$T/ro
if tmpfs "$RO" size=1m && cp ref_syn.h5 "$RO/w.h5" && mount -o remount,ro "$RO"; then
  run readonly 2 "$RO/w.h5" "${SYN1[@]}"
  refused readonly "$RO/w.h5: cannot create a file in '$RO' (Read-only file system)"
  rd_check "readonly: the existing weights keep their sha256, nothing else appears" \
    eval '[ "$(rd_sha "$RO/w.h5")" = "$SYN_REF" ] && only_files "$RO" w.h5'
else
  skip "read-only output directory: ${WHY:-could not prepare the tmpfs}"
fi

# c. an existing directory at the output path.
mkdir "$T/out.h5"
echo keep >"$T/out.h5/inside"
run dir_at_output 2 "$T/out.h5" "${SYN1[@]}"
refused dir_at_output "$T/out.h5: output path is a directory"
rd_check "dir_at_output: the directory and its file are untouched" \
  eval 'only_files "$T/out.h5" inside && [ "$(cat "$T/out.h5/inside")" = keep ]'
rd_check "dir_at_output: nothing written beside it" eval '! ls "$T" | grep -q "^out\.h5\..*tmp"'

# d. a full disk under the weights file (found only when writing, after training).
FULL=$T/full
if tmpfs "$FULL" size=256k && cp ref_syn.h5 "$FULL/w.h5" && fill "$FULL"; then
  run full_weights 2 "$FULL/w.h5" "${SYN1[@]}" --set run.seed=8 --set "run.metrics=$T/full_weights.jsonl"
  refused full_weights "$FULL/w.h5: " trained
  rd_check "full_weights: the message says the disk is full or out of space" \
    eval 'ours full_weights | grep -F "$FULL/w.h5: " | grep -qiE "disk full|free space|no space"'
  rd_check "full_weights: the existing weights keep their sha256" test "$(rd_sha "$FULL/w.h5")" = "$SYN_REF"
  rd_check "full_weights: no temporary file left (found: $(ls -A "$FULL" | tr '\n' ' '))" \
    only_files "$FULL" w.h5 fill fill.tail
else
  skip "full disk under the weights: ${WHY:-could not fill the tmpfs}"
fi

# d2. a full disk under the metrics file: the run goes on without it, says so once, and its
# weights (elsewhere) are the reference's.
MFULL=$T/mfull
if tmpfs "$MFULL" size=64k && fill "$MFULL"; then
  run mfull 2 "$T/mfull.h5" "${SYN1[@]}" --set "run.metrics=$MFULL/m.jsonl"
  rd_check_out "$T/mfull.err" "mfull: exit 0 and one warning naming the metrics file (exit $RC)" \
    eval '[ "$RC" -eq 0 ] && [ "$(ours mfull | grep -c .)" -eq 1 ] &&
          ours mfull | grep -qF "reprodist: cannot write the metrics file $MFULL/m.jsonl (No space left on device); going on without it"'
  rd_check "mfull: the weights are the uninterrupted run's" test "$(rd_sha "$T/mfull.h5")" = "$SYN_REF"
else
  skip "full disk under the metrics file: ${WHY:-could not fill the tmpfs}"
fi

# e. a full disk under checkpoint_dir, holding an older ckpt-4 (the first new name).
CKF=$T/ckfull
if tmpfs "$CKF" size=256k && cp "$OLD_CK" "$CKF/" && fill "$CKF"; then
  # Unsharded: rank 0 writes each checkpoint, so the disk is found full at the first.
  run full_ckpt 2 "$T/full_ckpt.h5" "${SYN1[@]}" --set "run.checkpoint_dir=$CKF" "${EVERY4[@]}" \
    --set train.shard_optimizer=false
  refused full_ckpt "$CKF/ckpt-000000000004.h5: not enough free space in '$CKF' for the checkpoint (" trained
  rd_check "full_ckpt: the older checkpoint keeps its sha256" \
    test "$(rd_sha "$CKF/ckpt-000000000004.h5")" = "$(rd_sha "$OLD_CK")"
  rd_check "full_ckpt: no temporary file left (found: $(ls -A "$CKF" | tr '\n' ' '))" \
    only_files "$CKF" ckpt-000000000004.h5 fill fill.tail
  rd_check "full_ckpt: no weights written" test ! -e "$T/full_ckpt.h5"
  run full_ckpt_resume 1 "$T/resumed_syn.h5" "${SYN1[@]}" --resume "$CKF/ckpt-000000000004.h5"
  rd_check "full_ckpt: the older checkpoint resumes at np 1 to the uninterrupted weights" \
    test "$RC" -eq 0 -a "$(rd_sha "$T/resumed_syn.h5" 2>/dev/null)" = "$SYN_REF"
  # Sharded (as by default on one node), every rank writes its part: the
  # directory is tried at start-up, and the full disk refused before training.
  run full_ckpt_sharded 2 "$T/full_ckpt_sh.h5" "${SYN1[@]}" --set "run.checkpoint_dir=$CKF" "${EVERY4[@]}" \
    --set train.shard_optimizer=true
  refused full_ckpt_sharded "$CKF: not enough free space in the checkpoint directory for a checkpoint (No space left on device;"
  rd_check "full_ckpt_sharded: the older checkpoint keeps its sha256, no temporary is left (found: $(ls -A "$CKF" | tr '\n' ' '))" \
    eval '[ "$(rd_sha "$CKF/ckpt-000000000004.h5")" = "$(rd_sha "$OLD_CK")" ] && only_files "$CKF" ckpt-000000000004.h5 fill fill.tail'
else
  skip "full disk under checkpoint_dir: ${WHY:-could not fill the tmpfs}"
fi

# f. the disk fills up mid-run (each synthetic checkpoint is about 60 KB).
MID=$T/midrun
if tmpfs "$MID" size=256k; then
  run midrun 2 "$T/midrun.h5" "${SYN1[@]}" --set "run.checkpoint_dir=$MID" --set "run.checkpoint_every=4 steps" \
    --set run.keep=100
  refused midrun "for the checkpoint" trained
  rd_check "midrun: the message names the checkpoint and the free space" \
    eval 'ours midrun | grep -qE "^$MID/ckpt-[0-9]{12}\.h5: not enough free space in .$MID. for the checkpoint \([0-9]+ bytes\); older ones are intact$"'
  rd_check "midrun: no temporary file left (found: $(ls -A "$MID" | tr '\n' ' '))" \
    eval '! ls -A "$MID" | grep -q tmp'
  NEWEST=$(rd_newest_ckpt "$MID")
  rd_check "midrun: some checkpoints were written before the disk filled (${NEWEST:-none})" test -n "$NEWEST"
  run midrun_resume 1 "$T/midrun_res.h5" "${SYN1[@]}" --resume "$MID/$NEWEST"
  rd_check "midrun: the newest checkpoint left resumes to the uninterrupted weights" \
    test "$RC" -eq 0 -a "$(rd_sha "$T/midrun_res.h5" 2>/dev/null)" = "$SYN_REF"
else
  skip "disk filling mid-run: ${WHY:-could not mount the tmpfs}"
fi

# g. the disk fills while HDF5 writes a checkpoint, at np 1.
WR=$T/inwrite
if tmpfs "$WR" size=1m && cp "$OLD_CK" "$WR/"; then
  RD_RUN_FLAGS="-x RD_FAULT_PAUSE=ckpt_write:$T/inwrite.pause" rd_run 1 "${SYN1[@]}" --set "run.checkpoint_dir=$WR" \
    --set "run.checkpoint_every=8 steps" --set run.keep=100 -o "$T/inwrite.h5" >inwrite.out 2>inwrite.err &
  job=$!
  deadline=$((SECONDS + RD_LIMIT))
  until [ -e "$T/inwrite.pause.paused" ] || ! kill -0 $job 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
  fill "$WR"
  FILLED=$?
  touch "$T/inwrite.pause.go"
  wait $job
  RC=$?
  MS=0 LEFT=
  rd_check "inwrite: the tmpfs was full while HDF5 wrote the checkpoint" test "$FILLED" -eq 0
  refused inwrite "$WR/ckpt-000000000008.h5: writing the checkpoint failed (disk full or I/O error); older ones are intact" trained
  rd_check "inwrite: the older checkpoint keeps its sha256, no temporary is left (found: $(ls -A "$WR" | tr '\n' ' '))" \
    eval '[ "$(rd_sha "$WR/ckpt-000000000004.h5")" = "$(rd_sha "$OLD_CK")" ] && only_files "$WR" ckpt-000000000004.h5 fill fill.tail'
else
  skip "disk filling during a checkpoint write: ${WHY:-could not mount the tmpfs}"
fi

# h. a signal's checkpoint on a full disk.
SF=$T/sigfull
if tmpfs "$SF" size=64k && fill "$SF"; then
  # (Unsharded: sharded, the full directory is refused at start-up, above.)
  rd_run 2 "$SYN" --set train.epochs=100000 --set "run.checkpoint_dir=$SF" --set "run.checkpoint_every=1000000 steps" \
    --set train.shard_optimizer=false --set "run.metrics=$T/sigfull.jsonl" -o "$T/sigfull.h5" >sigfull.out 2>sigfull.err &
  job=$!
  deadline=$((SECONDS + RD_LIMIT))
  until [ -s "$T/sigfull.jsonl" ] || ! kill -0 $job 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
  kill -TERM $(rank_pids "$T/sigfull.h5") 2>/dev/null
  wait $job
  RC=$?
  MS=0 LEFT=
  refused sigfull "for the checkpoint" signalled
  rd_check "sigfull: no temporary file left (found: $(ls -A "$SF" | tr '\n' ' '))" only_files "$SF" fill fill.tail
else
  skip "a signal's checkpoint on a full disk: ${WHY:-could not fill the tmpfs}"
fi
echo "  [${SECONDS}s] outputs"

# ---- 2. ranks started with different arguments ---------------------------------------------------
# mpmd NAME "ARGS OF RANK 0" "ARGS OF RANK 1": one rank each; like run (RC, MS, LEFT).
mpmd() {
  local name=$1 a0=$2 a1=$3
  # shellcheck disable=SC2086
  timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_MPIFLAGS $RD_NPFLAG 1 "$REPRODIST" $a0 : $RD_NPFLAG 1 "$REPRODIST" $a1 \
    >"$T/$name.out" 2>"$T/$name.err" &
  local job=$! t_err=
  while kill -0 $job 2>/dev/null; do
    [ -z "$t_err" ] && [ -s "$T/$name.err" ] && t_err=$(date +%s%N)
    sleep 0.02
  done
  wait $job
  RC=$?
  local t_end; t_end=$(date +%s%N)
  MS=$(((t_end - ${t_err:-$t_end}) / 1000000))
  LEFT=$(pgrep -f -- "$T/mp/" | while read -r p; do [ "$(cat /proc/$p/comm 2>/dev/null)" = reprodist ] && echo $p; done)
}
mkdir -p "$T/mp"
DIFF="reprodist: the ranks were started with different arguments:"
SAME="give every rank the same command line"
mpmd mp_output "$SYN -o $T/mp/a.h5" "$SYN -o $T/mp/b.h5"
refused mp_output "$DIFF -o is '$T/mp/a.h5' on rank 0 but '$T/mp/b.h5' on rank 1; $SAME"
mpmd mp_extra_set "$SYN -o $T/mp/a.h5" "$SYN -o $T/mp/a.h5 --set train.epochs=3"
refused mp_extra_set "$DIFF --set is (none) on rank 0 but 'train.epochs=3' on rank 1; $SAME"
mpmd mp_set_value "$SYN --set train.learning_rate=0.001 -o $T/mp/a.h5" "$SYN --set train.learning_rate=0.002 -o $T/mp/a.h5"
refused mp_set_value "$DIFF --set is 'train.learning_rate=0.001' on rank 0 but 'train.learning_rate=0.002' on rank 1; $SAME"
mpmd mp_resume "$SYN -o $T/mp/a.h5" "$SYN -o $T/mp/a.h5 --resume $OLD_CK"
refused mp_resume "$DIFF --resume is (none) on rank 0 but '$OLD_CK' on rank 1; $SAME"
rd_check "different arguments: nothing was written (found: $(ls -A "$T/mp" | tr '\n' ' '))" test -z "$(ls -A "$T/mp")"
echo "  [${SECONDS}s] arguments"

# ---- 2b. outputs onto inputs --------------------------------------------------------------------
mkdir -p "$T/clash"
cp "$OLD_CK" "$T/clash/old.h5"
cp "$SYN" "$T/clash/s.cfg"
printf '\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02' >"$T/clash/y.idx"
"${RD_PYTHON:-/usr/bin/python3}" -c 'import h5py, numpy as np, sys
with h5py.File(sys.argv[1], "w") as f:
    f["x"] = np.zeros((64, 32), np.float32); f["y"] = np.zeros(64, np.int64)' "$T/clash/d.h5"
(cd "$T/clash" && sha256sum old.h5 s.cfg y.idx d.h5) >"$T/clash.sha"
CL=$T/clash
H5SET=(--set data.source=hdf5 --set "data.train_x=$CL/d.h5:/x" --set "data.train_y=$CL/d.h5:/y"
       --set "data.test_x=$CL/d.h5:/x" --set "data.test_y=$CL/d.h5:/y")
run clash_ckpt 2 "$CL/old.h5" "${SYN1[@]}"
refused clash_ckpt "$CL/old.h5: -o (the weights) would overwrite a reprodist checkpoint; choose another output"
mkdir -p "$CL/K"
run clash_ckname 2 "$CL/K/ckpt-000000000008.h5" "${SYN1[@]}" --set "run.checkpoint_dir=$CL/K"
refused clash_ckname "$CL/K/ckpt-000000000008.h5: -o (the weights) is a checkpoint's name in checkpoint_dir '$CL/K', where checkpoints are written; choose another output"
# (synthetic.cfg's samples and test_samples do not apply to other sources)
sed '/^samples =/d; /^test_samples =/d' "$SYN" >"$T/syn_nodata.cfg"
run clash_h5 2 "$CL/d.h5" "$T/syn_nodata.cfg" --set train.epochs=1 "${H5SET[@]}"
refused clash_h5 "$CL/d.h5: -o (the weights) would overwrite [data] train_x (--set data.train_x=$CL/d.h5:/x) ('$CL/d.h5', the same file); choose another output"
run clash_idx 2 "$CL/y.idx" "$FM" --set "data.test_y=$CL/y.idx"
refused clash_idx "$CL/y.idx: -o (the weights) would overwrite [data] test_y (--set data.test_y=$CL/y.idx) ('$CL/y.idx', the same file); choose another output"
run clash_cfg 2 "$CL/s.cfg" "$CL/s.cfg"
refused clash_cfg "$CL/s.cfg: -o (the weights) would overwrite the config file ('$CL/s.cfg', the same file); choose another output"
run clash_resume 2 "$CL/old.h5" "${SYN1[@]}" --resume "$CL/old.h5"
refused clash_resume "$CL/old.h5: -o (the weights) would overwrite --resume ('$CL/old.h5', the same file); choose another output"
run clash_metrics 2 "$CL/w.h5" "${SYN1[@]}" --set "run.metrics=$CL/w.h5"
refused clash_metrics "$CL/w.h5: [run] metrics (--set run.metrics=$CL/w.h5) and -o (the weights) name the same file; give each its own"
rd_check "clashes: every input is byte-identical, nothing was written (found: $(ls -A "$CL" | tr '\n' ' '))" \
  eval '(cd "$CL" && sha256sum -c --quiet "$T/clash.sha") && only_files "$CL" old.h5 s.cfg y.idx d.h5 K && [ -z "$(ls -A "$CL/K")" ]'
echo "  [${SECONDS}s] clashes"

# ---- 3. timing of bad inputs at np 2 ----------------------------------------------------------
mkdir "$T/bad"
# A config error: a misspelt key.
sed '0,/^units = 64/s//unit = 64/' "$SYN" >bad.cfg
LINE=$(grep -n '^unit = 64' bad.cfg | cut -d: -f1)
run config_error 2 "$T/bad/w.h5" "$T/bad.cfg"
refused config_error "$T/bad.cfg:$LINE: unknown key 'unit' in [dense]"
# A data error: an IDX file of 16 2x2 images whose data stops after 10 bytes.
printf '\x00\x00\x08\x03\x00\x00\x00\x10\x00\x00\x00\x02\x00\x00\x00\x02' >x.idx
head -c 10 /dev/zero >>x.idx
printf '\x00\x00\x08\x01\x00\x00\x00\x10' >y.idx
head -c 16 /dev/zero >>y.idx
run data_error 2 "$T/bad/w.h5" "$T/syn_nodata.cfg" --set model.input=4 --set data.source=idx --set "data.train_x=$T/x.idx" \
  --set "data.train_y=$T/y.idx" --set "data.test_x=$T/x.idx" --set "data.test_y=$T/y.idx"
refused data_error "$T/x.idx: truncated"
# A checkpoint error: the older checkpoint cut in half.
head -c $(($(stat -c %s "$OLD_CK") / 2)) "$OLD_CK" >half.h5
run ckpt_error 2 "$T/bad/w.h5" "${SYN1[@]}" --resume "$T/half.h5"
refused ckpt_error "$T/half.h5: "
# A model whose buffers no machine here holds (a 4096x4096 convnet: about 1.6 TB
# of workspace per rank): refused before allocating, naming the largest part.
printf '[run]\nseed = 1\n[model]\ninput = 4096,4096,3\n[conv2d]\nfilters = 32\nkernel_size = 11\n[global_average_pooling2d]\n[dense]\nunits = 10\nactivation = softmax\n[data]\nsource = synthetic\nsamples = 64\ntest_samples = 64\n[train]\nbatch_size = 64\nshard_size = 64\n' >huge.cfg
run too_big 2 "$T/bad/w.h5" "$T/huge.cfg"
refused too_big "the largest part is layer 'conv2d' ([conv2d]): its output and workspace for a shard of 64 samples"
rd_check "too_big: the message says how much it needs and what is available" \
  eval 'ours too_big | grep -qE "^reprodist: training needs about [0-9.]+ GB per rank \(2 on this node: [0-9.]+ GB\), more than the [0-9.]+ GB available; "'
rd_check "timing: the refused runs wrote nothing" test -z "$(ls -A "$T/bad")"
echo "  [${SECONDS}s] timing"

# ---- 4. a rank killed in the middle of a run -------------------------------------------------
# A run of LONG epochs, never meant to end: the kill lands mid-run however fast
# the machine trains. The resume and its uninterrupted reference then train to
# the end of the epoch the newest checkpoint lies in (only [train] epochs may
# differ between a checkpoint and its resume).
LONG=1000
SPE=938  # steps per epoch: 60000 samples in batches of 64
K=$T/K
OUT=$T/killed.h5
FMK=("$FM" --set "run.metrics=$T/fm.jsonl" --set "run.checkpoint_dir=$K" --set "run.checkpoint_every=100 steps")
rd_run 2 "${FMK[@]}" --set train.epochs=$LONG -o "$OUT" >killed.out 2>killed.err &
JOB=$!
deadline=$((SECONDS + RD_LIMIT))
until [ -e "$K/ckpt-000000000100.h5" ] || ! kill -0 $JOB 2>/dev/null || [ $SECONDS -ge $deadline ]; do
  sleep 0.05
done
VICTIM=
for p in $(rank_pids "$OUT"); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1' && VICTIM=$p
done
if [ -n "$VICTIM" ]; then
  t0=$(date +%s%N)
  kill -KILL "$VICTIM"
  wait $JOB
  RC=$?
  MS=$((($(date +%s%N) - t0) / 1000000))
  LEFT=$(rank_pids "$OUT")
  [ -z "$LEFT" ] || kill -9 $LEFT 2>/dev/null
  rd_check "kill: mpiexec exits non-zero (exit $RC, not a timeout) within 10 s of SIGKILL to rank 1 (${MS} ms)" \
    test "$RC" -ne 0 -a "$RC" -ne 124 -a "$MS" -lt "$LIMIT_MS"
  rd_check "kill: no rank process is left" test -z "$LEFT"
  NEWEST=$(rd_newest_ckpt "$K")
  STEP=$(rd_ckpt_step "$NEWEST")
  E=$(( ${STEP:-0} / SPE + 1 ))
  rd_check "kill: it was in the middle of the run (newest checkpoint ${NEWEST:-none}, in epoch $E of $LONG; $(grep -c '^epoch ' killed.out) epoch line(s))" \
    test -n "$STEP" -a "$E" -le $((LONG / 10)) -a "$(grep -c '^epoch ' killed.out)" -lt "$E"
  rd_check "kill: no weights written" test ! -e "$OUT"
  run fm_ref 2 "$T/fm_ref.h5" "$FM" --set train.epochs=$E
  FM_REF=$( [ -s fm_ref.h5 ] && rd_sha fm_ref.h5)
  rd_check "Fashion-MNIST reference, $E epoch(s) at np 2 (exit 0)" test "$RC" -eq 0 -a -n "$FM_REF"
  run resumed 3 "$T/resumed.h5" "${FMK[@]}" --set train.epochs=$E --resume latest
  rd_check "kill: --resume latest at np 3 starts from the newest checkpoint ($NEWEST)" \
    grep -qF "resuming from $K/$NEWEST " resumed.out
  if [ "$RC" -eq 0 ] && [ -n "$FM_REF" ] && [ "$(rd_sha resumed.h5 2>/dev/null)" = "$FM_REF" ]; then
    rd_pass "kill: the resumed run's weights have the uninterrupted run's sha256"
  else
    rd_fail "kill: resumed run: exit $RC, sha256 $(rd_sha resumed.h5 2>/dev/null), want $FM_REF"; show resumed
  fi
else
  kill $JOB 2>/dev/null
  wait $JOB
  RC=$?
  rd_fail "kill: found no rank-1 process to kill after ckpt-100 (exit $RC; checkpoints: $(ls "$K" 2>/dev/null | tr '\n' ' '))"
  MS=0; show killed
fi
echo "  [${SECONDS}s] rank killed"
rd_finish
