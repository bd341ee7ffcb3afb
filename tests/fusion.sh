#!/bin/bash
# fusion: the fused passes change no bit. An Activation layer fused into its
# source (model.c, fuse_activations), a convolution computed in row blocks
# or read from x in place without im2col (forward, and the kernel's gradient
# where the output is at least 16 wide: tests/graphs/implicit_conv.cfg) in
# portable mode (layer.h, gemm_chains), an MLP's forward pass over a rank's
# shards at once (shard.h's forward groups: tests/graphs/forward_groups.cfg),
# and Dense's kernel gradients folded into the canonical tree as they are
# computed (kern.h's fold: every case with a Dense layer, in portable mode)
# must give the same tensors as the passes run as written (RD_UNFUSED=1), in
# both kernel modes, at np 2 against np 1: every tensor digest of the trained
# file is compared exactly. The RD_PROFILE lines must name exactly the
# Activation layers that the rule fuses, worked out by hand for
# tests/graphs/fusion.cfg (a case of each rule) and
# tests/graphs/resnet_blocks.cfg, and none under RD_UNFUSED=1; and report
# forward groups (of 2 shards: a rank's share of 4) for the MLP in portable
# mode alone: not in openblas mode, not under RD_UNFUSED=1, and never for a
# model with convolutions or BatchNormalization.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
cd "$RD_TMP" || exit 1
T=$RD_TMP
FU=$RD_SRC/tests/graphs/fusion.cfg
RB=$RD_SRC/tests/graphs/resnet_blocks.cfg
MN=$RD_SRC/configs/fashion_mnist_mobilenet.cfg
IC=$RD_SRC/tests/graphs/implicit_conv.cfg
FG=$RD_SRC/tests/graphs/forward_groups.cfg
FM="--set data.limit=256 --set data.test_limit=64 --set train.epochs=1 --set train.batch_size=64"

# case NAME CONFIG ARGS...
CASES=(
  "fusion $FU"
  "resnet_blocks $RB $FM"
  "mobilenet $MN $FM"
  "implicit_conv $IC $FM"
  "forward_groups $FG --set data.limit=256 --set data.test_limit=64"
)

# train NAME NP UNFUSED KERNELS CONFIG ARGS...: the file's tensor lines in $T/NAME.dig
train() {
  local name=$1 np=$2 unfused=$3 kern=$4; shift 4
  RD_UNFUSED=$unfused RD_PROFILE=1 rd_run "$np" "$@" --set train.kernels="$kern" -o "$T/$name.h5" \
    >"$T/$name.out" 2>&1
  local rc=$?
  if [ $rc -ne 0 ] || [ ! -s "$T/$name.h5" ]; then
    rd_fail "$name: exit $rc"; rd_show "$T/$name.out"; return 1
  fi
  timeout -k 5 "$RD_LIMIT" "$REPRODIST" digest "$T/$name.h5" 2>&1 | sed "s|$T/$name.h5|FILE|" >"$T/$name.dig"
}

# fused_names FILE: the layers the profile says are fused, sorted, one line
fused_names() { sed -n 's/.*\[rank 0\/[0-9]*\] profile: layer \([^ ]*\) *fused into \([^:]*\):.*/\1>\2/p' "$1" | sort | tr '\n' ' '; }

for kern in portable openblas; do
  for c in "${CASES[@]}"; do
    w=($c)
    name=${w[0]} cfg=${w[1]}
    train "${name}_${kern}_fused" 2 0 "$kern" "$cfg" "${w[@]:2}" || continue
    train "${name}_${kern}_unfused" 1 1 "$kern" "$cfg" "${w[@]:2}" || continue
    a=$T/${name}_${kern}_fused b=$T/${name}_${kern}_unfused
    n=$(grep -c '^[0-9a-f]\{16\} ' "$a.dig")
    rd_check "$name, kernels = $kern: fused at np 2 and as written at np 1 give the same $((n - 1)) tensor digests" \
      test "$n" -gt 1 -a "$(cat "$a.dig")" = "$(cat "$b.dig")"
    rd_check "$name, kernels = $kern: RD_UNFUSED=1 fuses nothing" test -z "$(fused_names "$b.out")"
    case $name in
      fusion) want="activation>conv2d activation_4>add activation_5>batch_normalization_1 " ;;
      implicit_conv) want="" ;; # no Activation layer
      forward_groups) want="activation>dense_1 " ;;
      resnet_blocks) want="activation>batch_normalization activation_1>batch_normalization_1 activation_2>add activation_3>batch_normalization_3 activation_4>add_1 " ;;
      mobilenet) # each of its ten Activation layers follows its BatchNormalization
        want=$(for i in "" _1 _2 _3 _4 _5 _6 _7 _8 _9; do echo "activation$i>batch_normalization$i"; done | sort | tr '\n' ' ') ;;
    esac
    got=$(fused_names "$a.out")
    rd_check "$name, kernels = $kern: the fused layers are exactly [$want] (got [$got])" test "$got" = "$want"
    groups=$(grep -c '\[rank [01]/2\] profile: forward passes over up to 2 shards at once' "$a.out")
    wantg=0
    [ "$name,$kern" = forward_groups,portable ] && wantg=2
    rd_check "$name, kernels = $kern: $wantg ranks report forward groups of 2 shards (got $groups)" \
      test "$groups" = "$wantg" -a "$(grep -c 'forward groups' "$a.out")" = "$wantg"
    rd_check "$name, kernels = $kern: RD_UNFUSED=1 groups nothing" test "$(grep -c 'forward groups' "$b.out")" = 0
    # the test set's passes run in groups too: its loss and accuracy, as logged, are the same
    ma=$(sed -n 's/^epoch \(.*test_acc [0-9.]*\).*/\1/p' "$a.out")
    mb=$(sed -n 's/^epoch \(.*test_acc [0-9.]*\).*/\1/p' "$b.out")
    rd_check "$name, kernels = $kern: the same logged metrics ($ma)" test -n "$ma" -a "$ma" = "$mb"
  done
done
# The profile's step line splits the shards' time: data reads and tree pushes
# are parts of it, so together they are below it; every pass reads data (at np
# 2 a rank's one plain push adds nothing: its last shard's is overlapped).
for f in "$T"/fusion_portable_fused.out "$T"/fusion_portable_unfused.out; do
  line=$(grep -m1 '\[rank 0/[0-9]*\] profile: .* steps, ms per step: shards' "$f")
  rd_check "$(basename "$f" .out): the profile splits the shards' time ($line)" \
    awk -v l="$line" 'BEGIN { if (match(l, /shards [0-9.]+ .*data [0-9.]+, pushes [0-9.]+\)$/) == 0) exit 1
      n = split(l, w, /[ ,()]+/); for (i = 1; i < n; i++) v[w[i]] = w[i + 1]
      exit !(v["data"] > 0 && v["pushes"] >= 0 && v["data"] + v["pushes"] < v["shards"]) }'
done
rd_finish
