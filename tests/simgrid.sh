#!/usr/bin/env bash
# simgrid: the same bits at hundreds of ranks, under SimGrid's SMPI. rd_smpi
# (tests/simgrid/smpi.c, built by tests/simgrid/build.sh with smpicc from
# reprodist's own sources) trains a model for real at each rank count, every
# rank computing its shards and the canonical allreduce (comm.h's algorithms)
# summing them on a simulated 10 Gb/s Ethernet (tests/simgrid/ethernet.xml).
# Its digests must equal rd_portable's, which computes every shard in one
# process with no MPI at all: an independent reference for every rank count.
# Covered: np 1, 3 (one pair folded first), 6 (two pairs), 64 and 256 (AUTO
# picks halving), each algorithm forced at np 64 or 100, K a power of two,
# K not a multiple of np (ranges of several tree nodes), K below np (idle
# ranks); the MLP (Nadam, clipping, a schedule) and the ResNet in miniature
# (BatchNormalization's statistics also go through the tree); and with sharded
# optimizer state (rd_smpi zero) at np 3 to 256. alltoallv stays at
# 64 ranks here: its P^2 concurrent flows make SimGrid's solver slow past ~50
# ranks (np 100 takes minutes), while halving at 256 takes seconds.
# Usage (ctest): simgrid.sh RD_PORTABLE
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
REF=${1:?the rd_portable driver}
cd "$RD_TMP" || exit 1
"$RD_SRC/launch/deps" --simgrid || { rd_fail "launch/deps --simgrid"; rd_finish; }
SMPI=$("$RD_SRC/tests/simgrid/build.sh" "$RD_TMP/build" 2> build.log) \
  && rd_pass "rd_smpi builds with smpicc" || { cat build.log; rd_fail "rd_smpi builds"; rd_finish; }
grep -q . build.log && { cat build.log; rd_fail "rd_smpi: compiler warnings (above)"; }
seq 0 4095 | sed 's/^/n/' > hosts
LIMIT=$((300 * ${RD_TIME_SCALE:-1}))

# case NAME CONFIG STEPS BATCH SHARD "NP[:ALGO] ..." [MODE]: each run's digests against rd_portable's.
# MODE zero: sharded optimizer state (src/zero.h). SMPI's own allgatherv is
# all-to-all shaped, which its solver takes minutes over at 128 ranks; Open
# MPI's selection (what a cluster runs) takes a second.
case_() {
  local name=$1 cfg=$RD_SRC/tests/portable/$2 steps=$3 B=$4 S=$5 mode=${7:-train} spec np algo
  "$REF" train "$cfg" "$steps" "$B" "$S" > "ref_$name.txt" 2> "ref_$name.err" \
    || { cat "ref_$name.err"; rd_fail "$name: rd_portable"; return; }
  for spec in $6; do
    np=${spec%%:*} algo=auto
    [ "$spec" != "$np" ] && algo=${spec#*:}
    RD_ALLREDUCE=$algo timeout -k 5 "$LIMIT" smpirun -np "$np" -platform "$RD_SRC/tests/simgrid/ethernet.xml" \
      -hostfile hosts --cfg=smpi/host-speed:1Gf --cfg=smpi/allgatherv:ompi --log=root.thres:warning \
      "$SMPI" "$mode" "$cfg" "$steps" "$B" "$S" > "$name.$np.$algo.txt" 2> "$name.$np.$algo.err" \
      || { tail -5 "$name.$np.$algo.err"; rd_fail "$name np=$np $algo: rd_smpi failed"; continue; }
    local used; used=$(sed -n 's/^rd_smpi: the \([a-z2]*\) allreduce.*$/\1/p' "$name.$np.$algo.err")
    [ "$np" = 1 ] || [ "$algo" = auto ] || [ "$used" = "$algo" ] || rd_fail "$name np=$np: ran $used, not $algo"
    [ "$np" = 1 ] && used="one process"
    [ "$mode" = zero ] && used="$used, sharded optimizer"
    rd_check "$name np=$np ($used, K=$(((B + S - 1) / S))): every tensor digest equals rd_portable's" \
      diff "ref_$name.txt" "$name.$np.$algo.txt"
  done
}
case_ mlp mlp.cfg 2 256 1 "1 3 6 64 256 64:alltoallv 100:halving"
case_ mlp_uneven mlp.cfg 2 200 2 "64:halving 256"
case_ resnet resnet.cfg 1 64 1 "3 64"
# ZeRO-1 at scale: global_clipnorm's blocks from every range, halving's balanced
# ranges at a non-power-of-two np (pairs split theirs), BatchNormalization's
# statistics from the one rank whose range holds them.
case_ mlp_zero mlp.cfg 2 256 1 "3 6 100:halving 256" zero
case_ resnet_zero resnet.cfg 1 64 1 "3 64" zero
rd_check "zero at 256 ranks: rank 0's range is named" grep -q "sharded: rank 0 keeps" mlp_zero.256.auto.err
rd_check "AUTO picks halving at 256 ranks" grep -q "the halving allreduce" mlp.256.auto.err
rd_check "AUTO picks bucketed at 3 ranks" grep -q "the bucketed allreduce" mlp.3.auto.err
rd_finish
