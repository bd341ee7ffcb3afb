#!/bin/bash
# pinned: the tensor digests of a few trained (and one initialized) Dense
# configs, pinned in tests/pinned_digests.txt from main at 80e5299, before the
# layer interface (issue 12) was built. Any change to how Dense initializes,
# computes, reduces or updates shows here as a digest that moved: the bits of
# every existing config must stay the same. Those cases run in openblas mode,
# the default until 0.2.0; their _portable twins (added at 0.2.0, and checked
# then against 0.1.0's own kernels = portable runs) pin today's default.
#   Each case runs `reprodist train` (or `init`) at the np it names, then
#   `reprodist digest` on the result; every tensor line (XXH64 of its
#   little-endian float32 bytes, the name and the shape) and the file's digest
#   must equal the pinned lines exactly.
# On a failure it prints got/expected and the command that regenerates the
# file (only when a change of bits is intended and said in the commit):
#   cd BUILD && RD_PIN_REGENERATE=1 ctest -R '^pinned$'
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
cd "$RD_TMP" || exit 1
T=$RD_TMP
PINS=$RD_SRC/tests/pinned_digests.txt
SYN=$RD_SRC/configs/synthetic.cfg
FM=$RD_SRC/configs/fashion_mnist_mlp.cfg

# case NAME NP COMMAND ARGS...: one line per case; ARGS are reprodist's.
# The train cases were pinned in openblas mode, the default until 0.2.0
# (CHANGELOG.md); they say kernels = openblas now, and each has a twin in
# portable mode, today's default (NAME_portable, the same arguments without it).
OB="--set train.kernels=openblas"
CASES=(
  "synth_adam 2 train $SYN $OB"
  "synth_adam_np3 3 train $SYN --set run.seed=11 --set train.epochs=2 $OB"
  "fm_adam 2 train $FM --set data.limit=3000 --set data.test_limit=500 --set train.epochs=2 $OB"
  "synth_sgd_mse 2 train $SYN --set train.optimizer=sgd --set train.learning_rate=0.05 --set train.momentum=0.9
     --set train.nesterov=true --set train.loss=mse --set train.shuffle=false --set train.drop_remainder=true
     --set dense.0.use_bias=false --set dense.0.kernel_initializer=he_normal
     --set dense.1.activation=sigmoid --set dense.1.kernel_initializer=orthogonal
     --set dense.2.kernel_initializer=lecun_uniform --set dense.2.bias_initializer=random_normal $OB"
  "synth_sgd_batch 1 train $SYN --set train.optimizer=sgd --set train.batch_size=100 --set train.shard_size=16
     --set train.steps_per_epoch=5 --set train.epochs=4 --set dense.1.activation=linear $OB"
)
for c in "${CASES[@]}"; do
  name=${c%% *}
  CASES+=("${name}_portable ${c#* }")
  CASES[-1]=${CASES[-1]% $OB}
done
CASES+=("keras_init 2 init $RD_SRC/configs/keras_seeded_init.cfg")
# The graph models, portable mode (their configs set it), pinned from main at
# 13a3b2d: BatchNormalization with relu, depthwise and separable convolutions,
# Add and projection shortcuts. A change to their layers' passes shows here.
# The ResNet's config runs its 16 3x3 stride-1 convs with algorithm =
# winograd4 (pinned when the config took it, after tests/reference_layers.py
# held the algorithm against float64); resnet_winograd sets them to winograd
# (F(2x2, 3x3)) and keeps the digests pinned for the config at 5d9b7f8, and
# resnet_direct sets them to direct and keeps those pinned at 13a3b2d.
GRAPH="--set data.limit=256 --set data.test_limit=64 --set train.epochs=1"
RN=$RD_SRC/configs/fashion_mnist_resnet.cfg
rn_algo() { for i in 1 2 3 4 5 6 8 10 11 12 13 15 17 18 19 20; do echo "--set conv2d.$i.algorithm=$1"; done; }
CASES+=("mobilenet 2 train $RD_SRC/configs/fashion_mnist_mobilenet.cfg $GRAPH"
        "resnet 2 train $RN $GRAPH"
        "resnet_winograd 2 train $RN $GRAPH $(rn_algo winograd)"
        "resnet_direct 2 train $RN $GRAPH $(rn_algo direct)")

got=$T/got.txt
: >"$got"
for c in "${CASES[@]}"; do
  w=($c)  # words across the case's lines (no path here holds a space)
  name=${w[0]} np=${w[1]} cmd=${w[2]}
  rd_run "$np" "$cmd" "${w[@]:3}" -o "$T/$name.h5" >"$T/$name.out" 2>"$T/$name.err"
  rc=$?
  if [ $rc -ne 0 ] || [ ! -s "$T/$name.h5" ]; then
    rd_fail "$name: reprodist $cmd at np $np exit $rc"; sed 's/^/    /' "$T/$name.err" | head -5
    continue
  fi
  timeout -k 5 "$RD_LIMIT" "$REPRODIST" digest "$T/$name.h5" 2>&1 | sed "s|$T/$name.h5|$name.h5|; s|^|$name |" >>"$got"
done

if [ -n "${RD_PIN_REGENERATE:-}" ]; then
  { echo "# tests/pinned.sh: tensor digests (reprodist digest) of its cases. Regenerate only for an intended"
    echo "# change of bits: cd BUILD && RD_PIN_REGENERATE=1 ctest -R '^pinned\$'"
    cat "$got"; } >"$PINS"
  echo "wrote $PINS ($(wc -l <"$got") lines); commit it with the reason the bits changed"
fi

want=$T/want.txt
grep -v '^#' "$PINS" >"$want" 2>/dev/null
for c in "${CASES[@]}"; do
  name=${c%% *}
  g=$(grep "^$name " "$got") e=$(grep "^$name " "$want")
  if [ -n "$e" ] && [ "$g" = "$e" ]; then
    rd_pass "$name: $(echo "$e" | grep -vc '(all ') tensor digests and the file digest as pinned"
  else
    rd_fail "$name: digests differ from tests/pinned_digests.txt"
    diff <(echo "$e") <(echo "$g") | sed 's/^</    expected/; s/^>/    got     /'
    echo "    regenerate (only for an intended change of bits): cd BUILD && RD_PIN_REGENERATE=1 ctest -R '^pinned\$'"
  fi
done
rd_check "every pinned case is still run (none left over in the file)" \
  test "$(cut -d' ' -f1 "$want" | sort -u | tr '\n' ' ')" = "$(for c in "${CASES[@]}"; do echo "${c%% *}"; done | sort -u | tr '\n' ' ')"
rd_finish
