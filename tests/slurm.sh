#!/usr/bin/env bash
# A real Slurm on this machine: starts munged, slurmctld and slurmd (Debian's
# packages) with a minimal config in a temporary directory, submits
# launch/slurm/train.sbatch and launch/slurm/repro-check.sbatch with sbatch,
# waits for them, checks their results against a plain mpirun run, and stops
# the daemons it started, by their PIDs. A failure prints the daemons' logs and
# the backtrace of any core file, and keeps the temporary directory. Skipped (exit 77, shown by ctest as
# "Skipped") when the Slurm or munge packages are missing; launch/deps --test
# installs them, so CI runs it.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
for b in munged slurmctld slurmd sbatch sinfo squeue; do
  if ! command -v "$b" > /dev/null && [ ! -x "/usr/sbin/$b" ]; then
    echo "SKIP: $b is not installed (apt-get install slurmctld slurmd slurm-client munge)"
    exit 77
  fi
done
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: starting slurmd needs root"; exit 77; fi
export PATH=$PATH:/usr/sbin
T=$RD_TMP
chmod 700 "$T"
mkdir -p "$T/state" "$T/spool" "$T/munge"
host=$(hostname -s)

# stop_daemons: SIGTERM to each daemon this test started (by the PID in its
# pid file), then waits until each is gone; one still running after 30 s (hung)
# gets SIGKILL.
stop_daemons() {
  local p pids=()
  for p in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munge/munged.pid"; do
    [ -s "$p" ] && pids+=("$(cat "$p")")
  done
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2> /dev/null
  local deadline=$((SECONDS + 30))
  for p in "${pids[@]}"; do
    while kill -0 "$p" 2> /dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -9 "$p" 2> /dev/null
  done
}
rd_cleanup_hook() {
  if [ "$RD_FAILS" -gt 0 ] || [ "$1" -ne 0 ]; then
    echo "==== slurm diagnostics: the daemons' logs, then core files"
    for f in "$T/slurmctld.log" "$T/slurmd.log" "$T/munge/munged.log"; do
      echo "---- $f (last 40 lines)"
      tail -n 40 "$f" 2> /dev/null
    done
    rd_core_report "$T"
  fi
  [ -n "${RD_KEEP:-}" ] || stop_daemons
}
# Every process this test starts may dump core (Slurm passes the limit on to jobs).
ulimit -c unlimited 2> /dev/null

# munge with its own key and socket, so a system munged is left alone.
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
munged --force --key-file="$T/munge/munge.key" --socket="$T/munge/munge.sock" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" --seed-file="$T/munge/seed" \
  || { rd_fail "munged did not start"; cat "$T/munge/munged.log"; rd_finish; }

# The node claims 4 CPUs whatever nproc says (config_overrides: slurmd does not
# check), so that a 2- and a 3-task job fit on a machine, or under a taskset,
# with fewer cores.
# Two adjacent ports that nothing holds, away from Slurm's defaults (a system
# Slurm is left alone) and below the kernel's ephemeral range: a port in that
# range can be taken at any moment by an outgoing connection (Open MPI's TCP
# transport in a test running beside this one did, and slurmctld died with
# "Address already in use" after it had daemonized). Each candidate pair is
# checked by binding both ports; the first free one is used.
port=$("$RD_PYTHON" - "$$" <<'EOP'
import socket, sys
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
top = min(lo, 32768) - 2
start = 20000 + (int(sys.argv[1]) * 2) % (top - 20000)
def free(p):
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
n = (top - 20000) // 2
for i in range(n):
    p = 20000 + ((start - 20000) // 2 + i) % n * 2
    if free(p) and free(p + 1):
        print(p)
        sys.exit(0)
sys.exit("no two free adjacent ports below %d" % lo)
EOP
) || { rd_fail "finding two free ports for slurmctld and slurmd"; rd_finish; }
cat > "$T/slurm.conf" <<EOC
ClusterName=rdtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=rd Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
EOC
export SLURM_CONF=$T/slurm.conf
slurmctld -f "$SLURM_CONF" || { rd_fail "slurmctld did not start"; cat "$T/slurmctld.log"; rd_finish; }
slurmd -f "$SLURM_CONF" || { rd_fail "slurmd did not start"; cat "$T/slurmd.log"; rd_finish; }
# Polled until the node reports idle; 120 s without it means the daemons hung.
up=0
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  if sinfo -h -o '%T' 2> /dev/null | grep -qE '^(idle|mixed)'; then up=1; break; fi
  # A daemon that died (its log says why) will not come up: no need to wait.
  for d in slurmctld slurmd; do
    if [ -s "$T/$d.pid" ] && ! kill -0 "$(cat "$T/$d.pid")" 2> /dev/null; then
      echo "$d exited; the last lines of its log:"; tail -n 5 "$T/$d.log"
      deadline=0
    fi
  done
  sleep 0.2
done
rd_check "the Slurm node comes up idle" [ $up -eq 1 ]
[ $up -eq 1 ] || { sinfo; tail -n 20 "$T/slurmctld.log" "$T/slurmd.log"; rd_finish; }

work=$T/work
mkdir -p "$work"
cd "$work"
CFG=$RD_SRC/configs/synthetic.cfg
SETS=(--set train.epochs=2)

# Reference: a plain mpirun run outside Slurm.
rd_run 1 "$CFG" "${SETS[@]}" -o ref.h5 > ref.log 2>&1 || { rd_fail "reference run failed"; cat ref.log; }

# train.sbatch with 2 tasks.
REPRODIST=$REPRODIST timeout $((3 * RD_LIMIT)) sbatch --wait -n 2 --export=ALL -o train-%j.out "$RD_SRC/launch/slurm/train.sbatch" "$CFG" \
  "${SETS[@]}" -o slurm.h5 > sbatch1.txt 2>&1
rc=$?
cat sbatch1.txt train-*.out
rd_check "sbatch train.sbatch: the job succeeded" [ $rc -eq 0 ]
rd_check "train.sbatch ran reprodist on the allocation's 2 tasks" grep -q "2 ranks" train-*.out
rd_check "Slurm result identical to the plain mpirun run" [ -f slurm.h5 ] && [ "$(rd_sha slurm.h5)" = "$(rd_sha ref.h5)" ]

# The cross-node check template (one node here: 1 task, 1 per node, all tasks).
REPRODIST=$REPRODIST timeout $((3 * RD_LIMIT)) sbatch --wait -n 3 --overcommit --export=ALL -o check-%j.out "$RD_SRC/launch/slurm/repro-check.sbatch" "$CFG" \
  "${SETS[@]}" > sbatch2.txt 2>&1
rc=$?
cat sbatch2.txt check-*.out
rd_check "sbatch repro-check.sbatch: the job succeeded" [ $rc -eq 0 ]
rd_check "repro-check.sbatch compared 3 layouts and found them identical" grep -q "IDENTICAL across 3 layouts" check-*.out
f=$(ls repro-check-*/nall-tall.h5 2> /dev/null | head -1)
rd_check "repro-check.sbatch result identical to the plain mpirun run" [ -n "$f" ] && [ "$(rd_sha "$f")" = "$(rd_sha ref.h5)" ]
rd_finish
