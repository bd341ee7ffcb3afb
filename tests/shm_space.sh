#!/usr/bin/env bash
# shm's window is a file in Open MPI's backing directory (/dev/shm, or
# OMPI_MCA_osc_sm_backing_directory), and Open MPI aborts the run when that
# file does not fit there. Where the window would take more than half of the
# directory's filesystem, AUTO takes alltoallv instead, with the same bits, and
# RD_ALLREDUCE=shm is refused by one message (exit 2). The small filesystem is
# a tmpfs mounted for the test: it needs root (exit 77, a skip, without).
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
cd "$RD_TMP"

small=$RD_TMP/small big=$RD_TMP/big
mkdir -p "$small" "$big"
# The synthetic MLP's window at np 3: about 0.7 MB; half of 512 kB is too little, half of 64 MB plenty.
if ! mount -t tmpfs -o size=512k tmpfs "$small" 2>mount.err || ! mount -t tmpfs -o size=64m tmpfs "$big" 2>>mount.err; then
  echo "SKIP: cannot mount a tmpfs here ($(head -1 mount.err)): needs root with CAP_SYS_ADMIN"
  umount "$small" 2>/dev/null
  trap - EXIT
  cd / && rm -rf "$RD_TMP"
  exit 77
fi
rd_cleanup_hook() { umount "$small" "$big" 2>/dev/null; }

SYN=(--set train.epochs=1 --set train.shard_size=8 --set train.batch_size=64)
rd_run 1 "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" -o ref.h5 > ref.log 2>&1 || { rd_fail "np 1 failed"; cat ref.log; }
ref=$(rd_sha ref.h5)

# on DIR NAME [RD_ALLREDUCE=X]: the synthetic MLP at np 3 with the window's file in DIR.
on() {
  local dir=$1 name=$2; shift 2
  (
    export OMPI_MCA_osc_sm_backing_directory="$dir"
    flags="-x OMPI_MCA_osc_sm_backing_directory"
    if [ $# -gt 0 ]; then export "$1"; flags="$flags -x RD_ALLREDUCE"; fi
    RD_RUN_FLAGS="$flags" rd_run 3 "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" -o "$name.h5" > "$name.log" 2>&1
  )
}

on "$big" big
rd_check "64 MB backing directory: AUTO takes shm" grep -q "; the shm allreduce" big.log
rd_check "64 MB backing directory: weights identical to np 1" [ "$(rd_sha big.h5)" = "$ref" ]

on "$small" small
rc=$?
rd_check "512 kB backing directory: the run succeeds (Open MPI would abort it under shm)" [ "$rc" = 0 ]
rd_check "512 kB backing directory: AUTO takes alltoallv" grep -q "; the alltoallv allreduce" small.log
rd_check "512 kB backing directory: weights identical to np 1" [ "$(rd_sha small.h5)" = "$ref" ]

on "$small" forced RD_ALLREDUCE=shm
rc=$?
rd_check "RD_ALLREDUCE=shm in 512 kB: exit 2, one message naming the directory, no output file" \
  bash -c "[ $rc = 2 ] && grep -q \"would take more than half of $small\" forced.log && [ ! -e forced.h5 ]"
rd_check "RD_ALLREDUCE=shm in 512 kB: no Open MPI abort" bash -c '! grep -q "MPI_ABORT\|not enough space" forced.log'
rd_finish
