#!/bin/bash
# multinode: reprodist across nodes for real, on an emulated cluster of 3 nodes
# (launch/cluster: each node its own network, UTS and mount namespace and IP;
# Open MPI's launcher through an agent that enters a node, and Slurm with one
# slurmd per node). Zero tolerance: every result is compared by sha256 with the
# same config trained on this host with plain mpirun.
#  1. Fashion-MNIST MLP on a subset (4096 training samples, IDX: rank 0 reads
#     the shared file) and the same data from HDF5 (every rank reads its rows
#     with parallel HDF5 from the shared file): the same sha256 on
#     1 node x 1 rank, 2 nodes x 1, 3 nodes x 2 (mpirun --host), under
#     `sbatch -N 1/2/3` (launch/slurm/train.sbatch) and `srun -N 3`, equal to
#     the single-host result; the ranks ran on 3 distinct host names, which
#     the environment fingerprint accepts. The convnet with BatchNormalization
#     and dropout, and the ResNet (a graph), give the single-host file on 3
#     nodes x 2 (mpirun, sbatch); so does the ResNet with shard_optimizer, whose
#     checkpoints are written from every node and resume unsharded on the host.
#  2. launch/slurm/repro-check.sbatch under `sbatch -N 3 --ntasks-per-node 2`:
#     every layout identical, its hosts column names n1, n2 and n3.
#  3. A dead node: every rank process of n2 SIGKILLed (by PID, found in n2's
#     namespace) in the middle of a 1000-epoch run at 3 nodes x 2: the job ends
#     within 10 s on every node, no reprodist or Open MPI process is left in
#     any node; the newest checkpoint resumes on 2 nodes to the sha256 of an
#     uninterrupted run of as many epochs.
#  4. Preemption: `scancel --signal=TERM` on a 3-node Slurm job once its epoch 1
#     is done: exit code 3, one checkpoint written and named; resumed under
#     `sbatch -N 1` it gives the uninterrupted run's sha256.
#  5. launch/cluster down, while a 3-node job is running, leaves no process in
#     any of the cluster's namespaces.
#  6. Shaped links: `up --link 1gbit` shapes both ends of every node's link
#     (tc tbf) and the ResNet across 2 shaped nodes gives the single-host file;
#     `--link RATE,DELAY` without the kernel's netem is exit 2 before anything
#     is made.
# Nothing waits a fixed time for a state: jobs are polled (scontrol), runs are
# caught by their metrics or checkpoint files. Skipped (77) without root.
# A failure explains itself: the failing run's or job's output, then the tail
# of every daemon's log and the backtrace of any core file (every node's
# processes may dump core), and the temporary directory is kept.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: network namespaces need root"; exit 77; fi
T=$RD_TMP
cd "$T" || exit 1
PY=${RD_PYTHON:-/usr/bin/python3}
CL=$RD_SRC/launch/cluster
export RD_CLUSTER_DIR=$T/cluster REPRODIST
rd_cleanup_hook() {
  if [ "$RD_FAILS" -gt 0 ] || [ "$1" -ne 0 ]; then
    echo "==== multinode diagnostics: the daemons' logs, then core files"
    if [ -s "$RD_CLUSTER_DIR/nodes" ]; then "$CL" logs 40; else cat "$T/cluster-logs.txt" 2>/dev/null; fi
    rd_core_report "$T"
  fi
  "$CL" down >/dev/null 2>&1
}
# Jobs this run starts (printed at the end): sbatch jobs, direct srun steps,
# mpirun jobs across nodes.
NSB=0 NSRUN=0 NMPI=0

t0=$(date +%s%N)
"$CL" up 3 >up.txt 2>&1
RC=$?
rd_check "launch/cluster up 3: exit 0 ($(( ($(date +%s%N) - t0) / 1000000 )) ms)" test $RC -eq 0
[ $RC -eq 0 ] || { cat up.txt; rd_finish; }
on() { local n=$1; shift; "$CL" exec "$n" "$@"; }
rd_check "the nodes have their own host names (n1 n2 n3), not the host's ($(hostname))" \
  test "$(for n in n1 n2 n3; do on "$n" hostname; done | tr '\n' ' ')" = "n1 n2 n3 "

FM=$RD_SRC/configs/fashion_mnist_mlp.cfg
SUB=(--set data.limit=4096 --set data.test_limit=1024 --set train.shard_size=8)
MPI=(timeout -k 5 "$RD_LIMIT" mpirun)
# sb_wait ID: polls the Slurm job until it has ended; sets STATE and JRC.
sb_wait() {
  local deadline=$((SECONDS + 3 * RD_LIMIT)) s
  while :; do
    s=$(on n1 scontrol show job "$1" 2>/dev/null)
    STATE=$(grep -o 'JobState=[A-Z_]*' <<<"$s" | cut -d= -f2)
    case $STATE in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;; esac
    [ $SECONDS -lt $deadline ] || { STATE="HUNG($STATE)"; on n1 scancel "$1"; break; }
    sleep 0.2
  done
  JRC=$(grep -o ' ExitCode=[0-9]*' <<<"$s" | cut -d= -f2)
}
# sbatch_run NAME SBATCH-ARGS... -- ARGS...: train.sbatch, waited for.
sbatch_run() {
  local name=$1; shift
  local sa=()
  while [ "$1" != -- ]; do sa+=("$1"); shift; done
  shift
  local id
  id=$(on n1 sbatch --parsable "${sa[@]}" -o "$T/$name.out" "$RD_SRC/launch/slurm/train.sbatch" "$@")
  NSB=$((NSB + 1))
  sb_wait "$id"
}

# ---- 1. the same bits on every layout ---------------------------------------------------
# HDF5 copy of the subset: every rank reads its own rows across nodes.
"$PY" - "$T" <<'EOF' || rd_fail "could not write the HDF5 fixture"
import gzip, sys
import h5py, numpy as np
D = "/usr/share/datasets/fashion-mnist/"
def first(name, header, n, row):
    with gzip.open(D + name) as f:
        f.read(header)
        return np.frombuffer(f.read(n * row), np.uint8).reshape(n, row)
with h5py.File(sys.argv[1] + "/fm.h5", "w") as f:
    for s, pre, n in (("train", "train", 4096), ("test", "t10k", 1024)):
        f[s + "/x"] = first(pre + "-images-idx3-ubyte.gz", 16, n, 784)
        f[s + "/y"] = first(pre + "-labels-idx1-ubyte.gz", 8, n, 1)[:, 0].astype(np.int64)
EOF
H5=(--set data.source=hdf5 --set "data.train_x=$T/fm.h5:/train/x" --set "data.train_y=$T/fm.h5:/train/y"
    --set "data.test_x=$T/fm.h5:/test/x" --set "data.test_y=$T/fm.h5:/test/y")
for src in idx hdf5; do
  A=("$FM" "${SUB[@]}" --set train.epochs=2)
  [ $src = hdf5 ] && A+=("${H5[@]}")
  rd_run 2 "${A[@]}" -o "$T/$src-host.h5" >"$T/$src-host.out" 2>&1
  REF=$( [ -s "$T/$src-host.h5" ] && rd_sha "$T/$src-host.h5")
  rd_check "$src: single-host reference at np 2 (exit 0)" test -n "$REF"
  same() { # same NAME RC WHAT
    if [ "$2" -eq 0 ] && [ -s "$T/$1.h5" ] && [ "$(rd_sha "$T/$1.h5")" = "$REF" ]; then
      rd_pass "$src: $3: the single-host sha256"
    else
      rd_fail "$src: $3: exit $2, sha256 $( [ -s "$T/$1.h5" ] && rd_sha "$T/$1.h5"), want $REF"
      rd_show "$T/$1.out"
    fi
  }
  on n1 "${MPI[@]}" --host n1 -np 1 "$REPRODIST" "${A[@]}" -o "$T/$src-1x1.h5" >"$T/$src-1x1.out" 2>&1
  same "$src-1x1" $? "mpirun --host n1, 1 node x 1 rank"
  on n1 "${MPI[@]}" --host n1,n2 -np 2 "$REPRODIST" "${A[@]}" -o "$T/$src-2x1.h5" >"$T/$src-2x1.out" 2>&1
  same "$src-2x1" $? "mpirun --host n1,n2, 2 nodes x 1 rank"
  on n1 "${MPI[@]}" --host n1:2,n2:2,n3:2 -np 6 "$REPRODIST" "${A[@]}" -o "$T/$src-3x2.h5" >"$T/$src-3x2.out" 2>&1
  same "$src-3x2" $? "mpirun --host n1:2,n2:2,n3:2, 3 nodes x 2 ranks"
  NMPI=$((NMPI + 2))
  for layout in "1 1" "2 1" "3 2"; do
    set -- $layout
    sbatch_run "$src-sb$1" -N "$1" --ntasks-per-node "$2" -- "${A[@]}" -o "$T/$src-sb$1.h5"
    r=1
    [ "$STATE" = COMPLETED ] && [ "$JRC" = 0 ] && grep -q "on $1 node(s), $(($1 * $2)) task(s)" "$T/$src-sb$1.out" && r=0
    same "$src-sb$1" $r "sbatch -N $1 --ntasks-per-node $2 train.sbatch ($STATE, exit $JRC)"
  done
  # Plain srun, as a user types it: the cluster's mpi.conf makes its PMIx
  # barriers real ones across nodes (launch/cluster, PMIxCollFence=ring).
  on n1 timeout -k 5 "$RD_LIMIT" srun -N 3 --ntasks-per-node 2 --mpi=pmix "$REPRODIST" "${A[@]}" \
    -o "$T/$src-srun.h5" >"$T/$src-srun.out" 2>&1
  same "$src-srun" $? "srun -N 3 --ntasks-per-node 2 --mpi=pmix"
  NSRUN=$((NSRUN + 1))
done
# The convnet with BatchNormalization and dropout (IDX subset): 3 nodes x 2
# ranks with mpirun and under sbatch give the single-host file.
CNN=("$RD_SRC/configs/fashion_mnist_cnn_bn.cfg" --set data.limit=1000 --set data.test_limit=200 --set train.epochs=1
     --set train.shard_size=8)
rd_run 2 "${CNN[@]}" -o "$T/cnn-host.h5" >"$T/cnn-host.out" 2>&1
CREF=$( [ -s "$T/cnn-host.h5" ] && rd_sha "$T/cnn-host.h5")
rd_check "convnet: single-host reference at np 2 (exit 0)" test -n "$CREF"
on n1 "${MPI[@]}" --host n1:2,n2:2,n3:2 -np 6 "$REPRODIST" "${CNN[@]}" -o "$T/cnn-3x2.h5" >"$T/cnn-3x2.out" 2>&1
RC=$?
NMPI=$((NMPI + 1))
rd_check_out "$T/cnn-3x2.out" "convnet: mpirun --host n1:2,n2:2,n3:2 (exit $RC): the single-host sha256" \
  bash -c "[ -s '$T/cnn-3x2.h5' ] && [ \"\$(sha256sum < '$T/cnn-3x2.h5' | cut -d' ' -f1)\" = '$CREF' ]"
sbatch_run cnn-sb3 -N 3 --ntasks-per-node 2 -- "${CNN[@]}" -o "$T/cnn-sb3.h5"
rd_check_out "$T/cnn-sb3.out" "convnet: sbatch -N 3 train.sbatch ($STATE, exit $JRC): the single-host sha256" \
  bash -c "[ '$STATE' = COMPLETED ] && [ -s '$T/cnn-sb3.h5' ] && [ \"\$(sha256sum < '$T/cnn-sb3.h5' | cut -d' ' -f1)\" = '$CREF' ]"
NMPI=$((NMPI + 1))
# The ResNet (a graph: shortcuts, BatchNormalization) on a subset, the same way.
RESNET=("$RD_SRC/configs/fashion_mnist_resnet.cfg" --set data.limit=128 --set data.test_limit=32 --set train.epochs=1
        --set train.batch_size=32 --set train.shard_size=8)
rd_run 2 "${RESNET[@]}" -o "$T/resnet-host.h5" >"$T/resnet-host.out" 2>&1
RREF=$( [ -s "$T/resnet-host.h5" ] && rd_sha "$T/resnet-host.h5")
rd_check "resnet: single-host reference at np 2 (exit 0)" test -n "$RREF"
on n1 "${MPI[@]}" --host n1:2,n2:2,n3:2 -np 6 "$REPRODIST" "${RESNET[@]}" -o "$T/resnet-3x2.h5" >"$T/resnet-3x2.out" 2>&1
RC=$?
NMPI=$((NMPI + 1))
rd_check_out "$T/resnet-3x2.out" "resnet: mpirun --host n1:2,n2:2,n3:2 (exit $RC): the single-host sha256" \
  bash -c "[ -s '$T/resnet-3x2.h5' ] && [ \"\$(sha256sum < '$T/resnet-3x2.h5' | cut -d' ' -f1)\" = '$RREF' ]"
sbatch_run resnet-sb3 -N 3 --ntasks-per-node 2 -- "${RESNET[@]}" -o "$T/resnet-sb3.h5"
rd_check_out "$T/resnet-sb3.out" "resnet: sbatch -N 3 train.sbatch ($STATE, exit $JRC): the single-host sha256" \
  bash -c "[ '$STATE' = COMPLETED ] && [ -s '$T/resnet-sb3.h5' ] && [ \"\$(sha256sum < '$T/resnet-sb3.h5' | cut -d' ' -f1)\" = '$RREF' ]"
# ZeRO-1 across nodes: the ResNet with shard_optimizer on 3 nodes x 2, a checkpoint
# every 2 steps written collectively from every node (parallel HDF5): the
# single-host sha256; its step-2 checkpoint resumes unsharded on this host to it too.
on n1 "${MPI[@]}" --host n1:2,n2:2,n3:2 -np 6 "$REPRODIST" "${RESNET[@]}" --set train.shard_optimizer=true \
  --set run.checkpoint_dir="$T/zck" --set "run.checkpoint_every=2 steps" -o "$T/resnet-zero.h5" >"$T/resnet-zero.out" 2>&1
RC=$?
NMPI=$((NMPI + 1))
rd_check_out "$T/resnet-zero.out" "resnet, shard_optimizer: 3 nodes x 2 (exit $RC): the single-host sha256" \
  bash -c "[ -s '$T/resnet-zero.h5' ] && [ \"\$(sha256sum < '$T/resnet-zero.h5' | cut -d' ' -f1)\" = '$RREF' ]"
rd_run 2 "${RESNET[@]}" --set train.shard_optimizer=false --set run.checkpoint_dir="$T/zck2" --resume "$T/zck/ckpt-000000000002.h5" \
  -o "$T/resnet-zres.h5" >"$T/resnet-zres.out" 2>&1
rd_check_out "$T/resnet-zres.out" "resnet: the 3-node sharded checkpoint resumes unsharded at np 2 to the sha256" \
  bash -c "[ -s '$T/resnet-zres.h5' ] && [ \"\$(sha256sum < '$T/resnet-zres.h5' | cut -d' ' -f1)\" = '$RREF' ]"
# shard_optimizer = auto (the default) shards on one host and not across nodes.
rd_check "resnet: the default shards the optimizer on one host (the log says auto)" \
  grep -q "optimizer state sharded (shard_optimizer = auto: every rank on one node)" "$T/resnet-host.out"
rd_check_out "$T/resnet-3x2.out" "resnet: the default does not shard across 3 nodes (the log says no sharding)" \
  bash -c "grep -q '^reprodist .*: 6 ranks' '$T/resnet-3x2.out' && ! grep -q 'optimizer state sharded' '$T/resnet-3x2.out'"
rd_check "the 3-node runs ran on 3 host names (n1 n2 n3)" \
  test "$(on n1 "${MPI[@]}" --host n1:2,n2:2,n3:2 -np 6 hostname | sort -u | tr '\n' ' ')" = "n1 n2 n3 "
echo "  [${SECONDS}s] layouts"

# ---- 2. repro-check.sbatch across 1, 2 and 3 nodes ------------------------------------------
# LAYOUTS HOSTS-OF-ALL-TASKS per node count (2 tasks per node; one node has
# no "tasks of one node" layout).
for c in "1 3 2xn1" "2 4 2xn1,2xn2" "3 4 2xn1,2xn2,2xn3"; do
  set -- $c
  N=$1 L=$2
  id=$(on n1 sbatch --parsable -N "$1" --ntasks-per-node 2 -o "$T/check$1.out" "$RD_SRC/launch/slurm/repro-check.sbatch" \
    "$FM" "${SUB[@]}" --set train.epochs=1)
  NSB=$((NSB + 1))
  sb_wait "$id"
  rd_check_out "$T/check$1.out" "repro-check.sbatch -N $1: job completed, IDENTICAL across $2 layouts ($STATE, exit $JRC)" \
    eval '[ "$STATE" = COMPLETED ] && grep -q "IDENTICAL across $L layouts" "$T/check$N.out"'
  rd_check "repro-check.sbatch -N $1: all its tasks ran on $3" grep -qE "^nall-tall .* $3\$" "$T/check$1.out"
done
rd_check "repro-check.sbatch -N 3: one task per node ran on n1, n2 and n3" \
  grep -qE "^nall-t1pn .* 1xn1,1xn2,1xn3$" "$T/check3.out"
echo "  [${SECONDS}s] repro-check.sbatch"

# Long runs (never meant to end) and their uninterrupted references.
LONG=1000
SPE=64  # steps per epoch: 4096 samples in batches of 64
ref_epochs() { # ref_epochs E: sets REF to the sha256 of an uninterrupted E-epoch host run
  [ -s "$T/ref$1.h5" ] || rd_run 2 "$FM" "${SUB[@]}" --set train.epochs="$1" -o "$T/ref$1.h5" >/dev/null 2>&1
  REF=$( [ -s "$T/ref$1.h5" ] && rd_sha "$T/ref$1.h5")
}
# rank_procs NODE: PIDs of reprodist and Open MPI processes on NODE.
rank_procs() {
  local p
  for p in $("$CL" pids "$1"); do
    case $(cat "/proc/$p/comm" 2>/dev/null) in reprodist | orted | mpirun | prted | srun) echo "$p" ;; esac
  done
}

# ---- 3. a dead node -----------------------------------------------------------------------
K=$T/K
on n1 "${MPI[@]}" --host n1:2,n2:2,n3:2 -np 6 "$REPRODIST" "$FM" "${SUB[@]}" --set train.epochs=$LONG \
  --set "run.checkpoint_dir=$K" --set "run.checkpoint_every=16 steps" -o "$T/dead.h5" >"$T/dead.out" 2>&1 &
JOB=$!
NMPI=$((NMPI + 1))
deadline=$((SECONDS + RD_LIMIT))
until [ -e "$K/ckpt-000000000032.h5" ] || ! kill -0 $JOB 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
VICTIMS=$(for p in $("$CL" pids n2); do [ "$(cat /proc/$p/comm 2>/dev/null)" = reprodist ] && echo "$p"; done)
rd_check_out "$T/dead.out" "dead node: found n2's 2 rank processes in its namespace ($(echo $VICTIMS))" test "$(echo $VICTIMS | wc -w)" -eq 2
t0=$(date +%s%N)
[ -n "$VICTIMS" ] && kill -KILL $VICTIMS
wait $JOB
RC=$?
MS=$((($(date +%s%N) - t0) / 1000000))
rd_check_out "$T/dead.out" "dead node: the job ends on every node within 10 s of the kill (exit $RC, not a timeout; ${MS} ms)" \
  test "$RC" -ne 0 -a "$RC" -ne 124 -a "$MS" -lt 10000
LEFT=$(for n in n1 n2 n3; do rank_procs $n; done)
rd_check "dead node: no reprodist or Open MPI process is left on any node (found: $(echo $LEFT))" test -z "$LEFT"
[ -z "$LEFT" ] || kill -9 $LEFT 2>/dev/null
NEWEST=$(rd_newest_ckpt "$K")
STEP=$(rd_ckpt_step "$NEWEST")
E=$(( ${STEP:-0} / SPE + 1 ))
rd_check "dead node: mid-run (newest checkpoint ${NEWEST:-none}, epoch $E of $LONG), no weights written" \
  test -n "$STEP" -a "$E" -le $((LONG / 10)) -a ! -e "$T/dead.h5"
ref_epochs "$E"
on n1 "${MPI[@]}" --host n1:2,n3:2 -np 4 "$REPRODIST" "$FM" "${SUB[@]}" --set train.epochs="$E" \
  --set "run.checkpoint_dir=$K" --resume "$K/$NEWEST" -o "$T/dead_res.h5" >"$T/dead_res.out" 2>&1
RC=$?
NMPI=$((NMPI + 1))
rd_check_out "$T/dead_res.out" "dead node: $NEWEST resumed on 2 nodes x 2 ranks gives the uninterrupted $E-epoch sha256 (exit $RC)" \
  test "$RC" -eq 0 -a -n "$REF" -a "$(rd_sha "$T/dead_res.h5" 2>/dev/null)" = "$REF"
echo "  [${SECONDS}s] dead node"

# ---- 4. preemption: scancel --signal=TERM -------------------------------------------------
P=$T/P
id=$(on n1 sbatch --parsable -N 3 --ntasks-per-node 2 -o "$T/pre.out" "$RD_SRC/launch/slurm/train.sbatch" \
  "$FM" "${SUB[@]}" --set train.epochs=$LONG --set "run.checkpoint_dir=$P" --set "run.metrics=$T/pre.jsonl" \
  -o "$T/pre.h5")
NSB=$((NSB + 1))
deadline=$((SECONDS + 3 * RD_LIMIT))
until [ -s "$T/pre.jsonl" ] || [ $SECONDS -ge $deadline ] ||
  ! on n1 scontrol show job "$id" 2>/dev/null | grep -qE 'JobState=(PENDING|CONFIGURING|RUNNING)'; do sleep 0.05; done
rd_check_out "$T/pre.out" "preemption: the 3-node job is running and has finished epoch 1 when it is signalled" \
  eval 'on n1 scontrol show job "$id" | grep -q JobState=RUNNING && [ -s "$T/pre.jsonl" ]'
on n1 scancel --signal=TERM "$id"
sb_wait "$id"
CK=$(grep -o 'checkpoint [^;]*ckpt-[0-9]*\.h5;' "$T/pre.out" | head -1 | sed 's/^checkpoint //; s/;$//')
rd_check_out "$T/pre.out" "preemption: the job exits 3 ($STATE, exit $JRC) and names its checkpoint (${CK:-none})" \
  test "$JRC" = 3 -a -n "$CK" -a -s "$CK"
E=$(rd_stop_epoch "$T/pre.out")
rd_check "preemption: stopped long before the end (epoch ${E:-?} of $LONG), no weights written" \
  test "${E:-0}" -ge 2 -a "${E:-0}" -le $((LONG / 10)) -a ! -e "$T/pre.h5"
[ -n "$E" ] || E=2
ref_epochs "$E"
sbatch_run pre_res -N 1 --ntasks-per-node 1 -- "$FM" "${SUB[@]}" --set train.epochs="$E" \
  --set "run.checkpoint_dir=$P" --set "run.metrics=$T/pre.jsonl" --resume "$CK" -o "$T/pre.h5"
rd_check_out "$T/pre_res.out" "preemption: resumed under sbatch -N 1 to the uninterrupted $E-epoch sha256 ($STATE, exit $JRC)" \
  test "$STATE" = COMPLETED -a -n "$REF" -a "$(rd_sha "$T/pre.h5" 2>/dev/null)" = "$REF"
echo "  [${SECONDS}s] preemption"

# ---- 5. down, with a job still running -----------------------------------------------------------
id=$(on n1 sbatch --parsable -N 3 --ntasks-per-node 2 -o "$T/last.out" "$RD_SRC/launch/slurm/train.sbatch" \
  "$FM" "${SUB[@]}" --set train.epochs=$LONG --set "run.metrics=$T/last.jsonl" -o "$T/last.h5")
NSB=$((NSB + 1))
deadline=$((SECONDS + 3 * RD_LIMIT))
until [ -s "$T/last.jsonl" ] || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
RUNNING=$(for n in n1 n2 n3; do rank_procs $n; done | wc -l)
rd_check_out "$T/last.out" "down: a 3-node job is running when the cluster is taken down ($RUNNING rank and launcher processes)" \
  test "$RUNNING" -ge 6
INOS=$(for n in sw n1 n2 n3; do readlink "/proc/$(cat "$RD_CLUSTER_DIR/$n/pid")/ns/net"; done)
"$CL" logs 40 >"$T/cluster-logs.txt" 2>&1   # for the diagnostics, should a check fail
"$CL" down >down.txt 2>&1
RC=$?
left=0
for q in /proc/[0-9]*; do
  i=$(readlink "$q/ns/net" 2>/dev/null) || continue
  grep -qxF "$i" <<<"$INOS" && left=$((left + 1))
done
rd_check "launch/cluster down: exit $RC, no process left in the cluster's namespaces ($left), its state removed" \
  test "$RC" -eq 0 -a "$left" -eq 0 -a ! -e "$RD_CLUSTER_DIR"

# 6. Shaped links (launch/cluster up --link): a delay needs netem, which is
# refused before anything is made when the kernel lacks it; a 1 Gbit/s rate
# puts a token bucket on both ends of every node's link, and the ResNet trained
# across the shaped nodes still gives the single-host file.
if unshare -n sh -c "ip link set lo up && tc qdisc add dev lo root netem delay 200us" 2>/dev/null; then
  echo "netem is available here: the --link delay refusal is not exercised"
else
  "$CL" up 2 --link 1gbit,200us >"$T/netem.txt" 2>&1
  RC=$?
  rd_check_out "$T/netem.txt" "up --link 1gbit,200us without netem: exit 2, says why, leaves no cluster" \
    bash -c "[ $RC = 2 ] && grep -q 'needs tc.s netem qdisc' '$T/netem.txt' && [ ! -e '$RD_CLUSTER_DIR' ]"
fi
"$CL" up 2 --link 1gbit >"$T/link-up.txt" 2>&1
RC=$?
SHAPED=$(for n in n1 n2; do nsenter -t "$(cat "$RD_CLUSTER_DIR/$n/pid")" --net tc qdisc show dev eth0; done 2>/dev/null |
         grep -c 'tbf .*rate 1Gbit')
SWITCH=$(nsenter -t "$(cat "$RD_CLUSTER_DIR/sw/pid")" --net tc qdisc show 2>/dev/null | grep -c 'tbf .*rate 1Gbit')
rd_check_out "$T/link-up.txt" "up 2 --link 1gbit: exit $RC, both nodes' eth0 and both switch ports shaped ($SHAPED + $SWITCH)" \
  test "$RC" -eq 0 -a "$SHAPED" -eq 2 -a "$SWITCH" -eq 2
on n1 "${MPI[@]}" --host n1:1,n2:1 -np 2 "$REPRODIST" "${RESNET[@]}" -o "$T/resnet-link.h5" >"$T/resnet-link.out" 2>&1
RC=$?
NMPI=$((NMPI + 1))
rd_check_out "$T/resnet-link.out" "resnet on 2 nodes over 1 Gbit/s links (exit $RC): the single-host sha256" \
  bash -c "[ -s '$T/resnet-link.h5' ] && [ \"\$(sha256sum < '$T/resnet-link.h5' | cut -d' ' -f1)\" = '$RREF' ]"
rd_check_out "$T/resnet-link.out" "resnet on 2 nodes over 1 Gbit/s links: the sum ran bucketed, behind the backward pass" \
  grep -q "; the bucketed allreduce" "$T/resnet-link.out"
"$CL" down >>down.txt 2>&1

echo "jobs started: $NSB sbatch, $NSRUN srun (3 nodes), $NMPI mpirun across nodes"
rd_finish
