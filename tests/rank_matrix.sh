#!/usr/bin/env bash
# The guarantee: the trained weights file has the same sha256 for every rank
# count (1..8, including 3, 5, 6, 7 oversubscribed), for 1 and 2 OpenBLAS
# threads, and over shared memory (vader) and TCP, the path that crosses
# machines; for the MLPs, both convnets and the ResNet. Printed metrics (loss,
# accuracy) must be identical too.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
cd "$RD_TMP"

# Synthetic data, 8 shards of 8 per batch of 64; 1000 samples leave a last
# batch of 40 (5 shards), so the partial-batch rule is exercised every epoch.
SYN=(--set train.epochs=2 --set train.shard_size=8 --set train.batch_size=64)

metrics() { grep '^epoch' "$1" | sed 's/|.*//'; }

# same_sha NAME "NP..." CONFIG ARGS...: trains CONFIG at each NP (files NAME_NP.h5);
# every one must give the first one's sha256 and metrics. SREF: that sha256.
same_sha() {
  local name=$1 nps=$2 np h first=""; shift 2
  SREF=""
  for np in $nps; do
    rd_run "$np" "$@" -o "${name}_$np.h5" > "${name}_$np.log" 2>&1 \
      || { rd_fail "$name np=$np failed"; cat "${name}_$np.log"; continue; }
    h=$(rd_sha "${name}_$np.h5")
    echo "$name np=$np sha256=$h"
    if [ -z "$SREF" ]; then SREF=$h first=$np; continue; fi
    rd_check "$name np=$np identical to np=$first" [ "$h" = "$SREF" ]
    rd_check "$name np=$np metrics identical" diff <(metrics "${name}_$first.log") <(metrics "${name}_$np.log")
  done
}

ref=""
# WIDE: the rank counts of the model matrices below. Under launch/test-sanitize
# (RD_TIME_SCALE > 1) they are 1 and 3 (one rank, and shards split unevenly):
# that stage looks for memory errors, every rank count runs the same code, and
# each launch costs ~1.5 s of leak symbolizing per rank. launch/test runs them all.
WIDE="1 2 3 4 8"
if [ "${RD_TIME_SCALE:-1}" -gt 1 ]; then
  WIDE="1 3"
  echo "sanitized build: the model matrices run at np $WIDE (launch/test runs np 1 2 3 4 8)"
fi
for np in 1 2 3 4 5 6 7 8; do
  if ! rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" -o "syn$np.h5" > "syn$np.log" 2>&1; then
    rd_fail "synthetic at np=$np exited non-zero"; cat "syn$np.log"; continue
  fi
  h=$(rd_sha "syn$np.h5")
  echo "np=$np sha256=$h"
  if [ -z "$ref" ]; then ref=$h; continue; fi
  rd_check "synthetic np=$np weights identical to np=1" [ "$h" = "$ref" ]
  rd_check "synthetic np=$np metrics identical to np=1" diff <(metrics syn1.log) <(metrics "syn$np.log")
done
# Every exchange algorithm (comm.h) gives those bits; AUTO's choice is named in the log.
for algo in alltoallv halving bucketed shm; do
  for np in 3 4 6; do
    RD_ALLREDUCE=$algo RD_RUN_FLAGS="-x RD_ALLREDUCE" rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" \
      -o "x_${algo}_$np.h5" > "x_${algo}_$np.log" 2>&1 || { rd_fail "RD_ALLREDUCE=$algo np=$np failed"; cat "x_${algo}_$np.log"; }
    rd_check "RD_ALLREDUCE=$algo np=$np: the log names it" grep -q "; the $algo allreduce" "x_${algo}_$np.log"
    rd_check "RD_ALLREDUCE=$algo np=$np: weights identical to np=1" [ "$(rd_sha "x_${algo}_$np.h5")" = "$ref" ]
  done
done
# Every rank of this job shares one node, where AUTO takes shm (bucketed only
# when the ranks span nodes: multinode checks that one).
rd_check "the default at np 8 on one node is shm (below RD_XCHG_HALVING_FROM)" \
  grep -q "; the shm allreduce" syn8.log
RD_ALLREDUCE=ring RD_RUN_FLAGS="-x RD_ALLREDUCE" rd_run 2 "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" -o x_ring.h5 > x_ring.log 2>&1
rc=$?
rd_check "RD_ALLREDUCE=ring: exit 2, one message naming the variable, no output file" \
  bash -c "[ $rc = 2 ] && grep -q 'RD_ALLREDUCE=ring names no algorithm' x_ring.log && [ ! -e x_ring.h5 ]"
rd_check "np=8 warns about idle ranks only when np > shards" bash -c '! grep -q idle syn8.log && ! grep -q idle syn1.log'

# Shared memory vs TCP transport.
for btl in vader tcp; do
  RD_RUN_FLAGS="--mca btl self,$btl" rd_run 3 "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" -o "btl_$btl.h5" > "btl_$btl.log" 2>&1 \
    || { rd_fail "btl=$btl run failed"; cat "btl_$btl.log"; }
done
rd_check "btl self,vader vs self,tcp: identical weights" [ "$(rd_sha btl_vader.h5)" = "$(rd_sha btl_tcp.h5)" ]
rd_check "btl tcp: identical to the np=1 reference" [ "$(rd_sha btl_tcp.h5)" = "$ref" ]

# Other paths through the step: SGD + Nesterov momentum, mse, sigmoid/linear,
# no shuffle, drop_remainder, a batch that is not a multiple of the shard size.
OTHER=(--set train.optimizer=sgd --set train.momentum=0.9 --set train.nesterov=true --set train.loss=mse
       --set train.learning_rate=0.05 --set dense.1.activation=sigmoid --set dense.2.activation=linear
       --set train.shuffle=false --set train.drop_remainder=true --set train.batch_size=60
       --set train.shard_size=7 --set train.epochs=2)
oref=""
for np in 1 3 5 9; do
  rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${OTHER[@]}" -o "sgd$np.h5" > "sgd$np.log" 2>&1 \
    || { rd_fail "sgd/mse np=$np failed"; cat "sgd$np.log"; continue; }
  h=$(rd_sha "sgd$np.h5")
  if [ -z "$oref" ]; then oref=$h; continue; fi
  rd_check "sgd+nesterov+mse np=$np identical to np=1" [ "$h" = "$oref" ]
done
rd_check "sgd+mse config trains differently from adam+xent (the overrides took effect)" [ "$oref" != "$ref" ]

# The convnets (conv, pooling, dropout, BatchNormalization) on a Fashion-MNIST
# subset: 1000 samples leave a last batch of 40 (5 shards of 8). np 1-4 and 8,
# TCP, and a run stopped after epoch 1 and resumed at another np: the same
# file, so dropout masks and batch statistics never depend on np or on a resume.
# Each config as shipped (kernels = portable, the default) and in openblas mode.
if [ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  CNN=(--set data.limit=1000 --set data.test_limit=200 --set train.epochs=2 --set train.batch_size=64
       --set train.shard_size=8)
  for run in fashion_mnist_cnn fashion_mnist_cnn_bn fashion_mnist_cnn:openblas fashion_mnist_cnn_bn:openblas; do
    cfgfile=${run%%:*}
    KX=()
    case $run in *:openblas) KX=(--set train.kernels=openblas) ;; esac
    cfg=${run/:/_}
    same_sha "$cfg" "$WIDE" "$RD_SRC/configs/$cfgfile.cfg" "${CNN[@]}" "${KX[@]}"
    cref=$SREF
    RD_RUN_FLAGS="--mca btl self,tcp" rd_run 3 "$RD_SRC/configs/$cfgfile.cfg" "${CNN[@]}" "${KX[@]}" -o "${cfg}_tcp.h5" > "${cfg}_tcp.log" 2>&1 \
      || { rd_fail "$cfg over TCP failed"; cat "${cfg}_tcp.log"; }
    rd_check "$cfg np=3 over TCP identical to np=1" [ "$(rd_sha "${cfg}_tcp.h5")" = "$cref" ]
    rd_run 2 "$RD_SRC/configs/$cfgfile.cfg" "${CNN[@]}" "${KX[@]}" --set train.epochs=1 --set "run.checkpoint_dir=ck_$cfg" \
      -o "${cfg}_e1.h5" > "${cfg}_e1.log" 2>&1 || rd_fail "$cfg: the first epoch failed"
    rd_run 3 "$RD_SRC/configs/$cfgfile.cfg" "${CNN[@]}" "${KX[@]}" --set "run.checkpoint_dir=ck_$cfg" --resume latest \
      -o "${cfg}_res.h5" > "${cfg}_res.log" 2>&1 || { rd_fail "$cfg: the resume failed"; cat "${cfg}_res.log"; }
    rd_check "$cfg: stopped after epoch 1 at np 2, resumed at np 3: identical to np=1" [ "$(rd_sha "${cfg}_res.h5")" = "$cref" ]
  done
  # The ResNet (a graph: identity and projection shortcuts) as shipped, on a
  # smaller subset: np 1-4 and 8, TCP, and a resume at another np.
  RN=(--set data.limit=128 --set data.test_limit=32 --set train.epochs=2 --set train.batch_size=32
      --set train.shard_size=8)
  same_sha resnet "$WIDE" "$RD_SRC/configs/fashion_mnist_resnet.cfg" "${RN[@]}"
  rref=$SREF
  RD_RUN_FLAGS="--mca btl self,tcp" rd_run 3 "$RD_SRC/configs/fashion_mnist_resnet.cfg" "${RN[@]}" -o resnet_tcp.h5 \
    > resnet_tcp.log 2>&1 || { rd_fail "resnet over TCP failed"; cat resnet_tcp.log; }
  rd_check "resnet np=3 over TCP identical to np=1" [ "$(rd_sha resnet_tcp.h5)" = "$rref" ]
  rd_run 2 "$RD_SRC/configs/fashion_mnist_resnet.cfg" "${RN[@]}" --set train.epochs=1 --set run.checkpoint_dir=ck_resnet \
    -o resnet_e1.h5 > resnet_e1.log 2>&1 || rd_fail "resnet: the first epoch failed"
  rd_run 3 "$RD_SRC/configs/fashion_mnist_resnet.cfg" "${RN[@]}" --set run.checkpoint_dir=ck_resnet --resume latest \
    -o resnet_res.h5 > resnet_res.log 2>&1 || { rd_fail "resnet: the resume failed"; cat resnet_res.log; }
  rd_check "resnet: stopped after epoch 1 at np 2, resumed at np 3: identical to np=1" [ "$(rd_sha resnet_res.h5)" = "$rref" ]
  # The two recipe configs (README "Recipes"), as shipped, on the same subsets;
  # the ResNet recipe (augmentation, validation_split, early stopping) at np 1, 2 and 4.
  same_sha resnet_sgd "1 2 4" "$RD_SRC/configs/fashion_mnist_resnet_sgd.cfg" "${RN[@]}"
  same_sha cnn_adamw "1 3" "$RD_SRC/configs/fashion_mnist_cnn_adamw.cfg" "${CNN[@]}"
  # The MobileNet (depthwise and separable convs), as shipped, on the same subset.
  same_sha mobilenet "1 2 3" "$RD_SRC/configs/fashion_mnist_mobilenet.cfg" "${RN[@]}"
  rd_check "the shipped convnet config runs portable kernels (its log says so)" grep -q "portable kernels" fashion_mnist_cnn_1.log
  rd_check "--set train.kernels=openblas took effect (OpenBLAS core in the log, another file)" \
    eval 'grep -q "OpenBLAS core" fashion_mnist_cnn_openblas_1.log &&
          [ "$(rd_sha fashion_mnist_cnn_1.h5)" != "$(rd_sha fashion_mnist_cnn_openblas_1.h5)" ]'
fi

# Training recipes (issue 23): each optimizer with a schedule, weight decay and
# a clipping mode (sgd also with categorical crossentropy, label smoothing,
# weight and activity regularizers, class_weight and top-k accuracy; adamw with
# validation_split, rmsprop with a validation set of its own), on synthetic data: np 1, 2, 3 and 5 (1 and 3 sanitized),
# TCP, and a run stopped after epoch 1 at np 2 and resumed at np 3 (the
# schedule's step, every slot, nadam's carried product and the weights' moving
# average (use_ema in adamw and rmsprop) must survive it).
REC=(--set train.epochs=2 --set train.batch_size=64 --set train.shard_size=8)
RNPS="1 2 3 5"
[ "${RD_TIME_SCALE:-1}" -gt 1 ] && RNPS="1 3"
recipe() {
  case $1 in
    sgd) echo "--set train.optimizer=sgd --set train.momentum=0.9 --set train.nesterov=true --set train.weight_decay=0.0005
               --set train.loss=categorical_crossentropy --set train.label_smoothing=0.1
               --set dense.0.kernel_regularizer=l2 --set dense.0.activity_regularizer=l1_l2 --set dense.0.activity_l1=0.001
               --set train.exclude_from_weight_decay=bias --set train.clipnorm=0.5
               --set train.class_weight=0:2,3:0.5,7:1.5 --set train.metrics=accuracy,top_k_categorical_accuracy
               --set train.top_k=3
               --set train.learning_rate=piecewise_constant_decay --set piecewise_constant_decay.boundaries=5,20
               --set piecewise_constant_decay.values=0.1,0.05,0.01" ;;
    adamw) echo "--set train.optimizer=adamw --set train.global_clipnorm=1.0 --set train.use_ema=true --set data.validation_split=0.15
               --set train.ema_momentum=0.9 --set train.learning_rate=cosine_decay
               --set cosine_decay.initial_learning_rate=0.0001 --set cosine_decay.warmup_target=0.003
               --set cosine_decay.warmup_steps=6 --set cosine_decay.decay_steps=20 --set cosine_decay.alpha=0.1" ;;
    rmsprop) echo "--set train.optimizer=rmsprop --set train.centered=true --set train.momentum=0.5 --set data.val_samples=100
               --set train.use_ema=true --set train.ema_overwrite_frequency=5
               --set train.clipvalue=0.05 --set train.learning_rate=exponential_decay
               --set exponential_decay.initial_learning_rate=0.002 --set exponential_decay.decay_steps=7
               --set exponential_decay.decay_rate=0.7" ;;
    adagrad) echo "--set train.optimizer=adagrad --set train.weight_decay=0.01 --set train.learning_rate=polynomial_decay
               --set polynomial_decay.initial_learning_rate=0.05 --set polynomial_decay.decay_steps=9
               --set polynomial_decay.power=0.5 --set polynomial_decay.cycle=true" ;;
    nadam) echo "--set train.optimizer=nadam --set train.weight_decay=0.004 --set train.clipnorm=0.2
               --set train.learning_rate=inverse_time_decay --set inverse_time_decay.initial_learning_rate=0.003
               --set inverse_time_decay.decay_steps=4 --set inverse_time_decay.decay_rate=0.5" ;;
    lion) echo "--set train.optimizer=lion --set train.weight_decay=0.1 --set train.global_clipnorm=0.3
               --set train.learning_rate=cosine_decay_restarts --set cosine_decay_restarts.initial_learning_rate=0.0005
               --set cosine_decay_restarts.first_decay_steps=5 --set cosine_decay_restarts.t_mul=1.5" ;;
  esac
}
for opt in sgd adamw rmsprop adagrad nadam lion; do
  read -r -a R <<< "$(recipe $opt | tr '\n' ' ')"
  same_sha "rec_$opt" "$RNPS" "$RD_SRC/configs/synthetic.cfg" "${REC[@]}" "${R[@]}"
  rsha=$SREF
  rd_check "rec_$opt: its schedule is in use (two epochs, two rates in the log)" \
    [ "$(grep -o ' lr [^ ]*' "rec_${opt}_1.log" | sort -u | wc -l)" -eq 2 ]
  RD_RUN_FLAGS="--mca btl self,tcp" rd_run 3 "$RD_SRC/configs/synthetic.cfg" "${REC[@]}" "${R[@]}" -o "rec_${opt}_tcp.h5" \
    > "rec_${opt}_tcp.log" 2>&1 || { rd_fail "rec_$opt over TCP failed"; cat "rec_${opt}_tcp.log"; }
  rd_check "rec_$opt np=3 over TCP identical to np=1" [ "$(rd_sha "rec_${opt}_tcp.h5")" = "$rsha" ]
  rd_run 2 "$RD_SRC/configs/synthetic.cfg" "${REC[@]}" "${R[@]}" --set train.epochs=1 --set "run.checkpoint_dir=ck_rec_$opt" \
    -o "rec_${opt}_e1.h5" > "rec_${opt}_e1.log" 2>&1 || rd_fail "rec_$opt: the first epoch failed"
  rd_run 3 "$RD_SRC/configs/synthetic.cfg" "${REC[@]}" "${R[@]}" --set "run.checkpoint_dir=ck_rec_$opt" --resume latest \
    -o "rec_${opt}_res.h5" > "rec_${opt}_res.log" 2>&1 || { rd_fail "rec_$opt: the resume failed"; cat "rec_${opt}_res.log"; }
  rd_check "rec_$opt: stopped after epoch 1 at np 2, resumed at np 3: identical to np=1" \
    [ "$(rd_sha "rec_${opt}_res.h5")" = "$rsha" ]
done
# The sgd recipe stopped mid-epoch (step 10 of 16) at np 2 and resumed at np 3:
# the weights and every epoch line (loss, class-weighted accuracy, top-3, test
# metrics, rate) as the uninterrupted run's: the checkpoint's data cursor and
# metrics pieces carry the partial epoch.
read -r -a R <<< "$(recipe sgd | tr '\n' ' ')"
MID=(--set run.checkpoint_dir=ck_mid --set "run.checkpoint_every=10 steps")
rd_run 2 "$RD_SRC/configs/synthetic.cfg" "${REC[@]}" "${R[@]}" "${MID[@]}" --set train.epochs=1 -o rec_mid_e1.h5 \
  > rec_mid_e1.log 2>&1 || { rd_fail "rec_sgd: the run to step 10 failed"; cat rec_mid_e1.log; }
rd_run 3 "$RD_SRC/configs/synthetic.cfg" "${REC[@]}" "${R[@]}" "${MID[@]}" --resume ck_mid/ckpt-000000000010.h5 \
  -o rec_mid_res.h5 > rec_mid_res.log 2>&1 || { rd_fail "rec_sgd: the mid-epoch resume failed"; cat rec_mid_res.log; }
rd_check "rec_sgd: resumed mid-epoch at np 3: weights identical to np=1" [ "$(rd_sha rec_mid_res.h5)" = "$(rd_sha rec_sgd_1.h5)" ]
rd_check "rec_sgd: ... and both epoch lines too (top-3 shown)" \
  bash -c 'diff <(grep "^epoch" rec_sgd_1.log | sed "s/|.*//") <(grep "^epoch" rec_mid_res.log | sed "s/|.*//") &&
           [ "$(grep -c "^epoch .* top3 " rec_mid_res.log)" -eq 2 ]'
# Callbacks: early_stopping (restore_best_weights) and reduce_lr_on_plateau on
# validation_split. The rate is cut after epochs 2, 3 and 4 and training stops
# after epoch 4, restoring epoch 1's weights: at every np the same decisions
# (the same lines) and the same file; and stopped after epoch 2 at np 2, resumed
# at np 3, the same again (the callbacks' counters, best value, best weights
# and the cut rate are checkpoint pieces).
CBK=(--set data.validation_split=0.2 --set train.learning_rate=0.003 --set train.epochs=12
     --set early_stopping.patience=3 --set early_stopping.restore_best_weights=true
     --set reduce_lr_on_plateau.patience=1 --set reduce_lr_on_plateau.factor=0.5)
same_sha callbacks "$RNPS" "$RD_SRC/configs/synthetic.cfg" "${CBK[@]}"
decisions() { grep -E "^epoch [0-9]+: |^restoring" "$1"; }
rd_check "callbacks: 3 rate cuts, an early stop after epoch 4, epoch 1's weights restored" \
  bash -c '[ "$(grep -c "reducing the learning rate" callbacks_1.log)" -eq 3 ] &&
           grep -q "epoch 4: early stopping" callbacks_1.log && grep -q "best epoch: 1$" callbacks_1.log &&
           ! grep -q "^epoch 5/" callbacks_1.log'
for np in $RNPS; do
  rd_check "callbacks: np=$np made the same decisions" diff <(decisions callbacks_1.log) <(decisions "callbacks_$np.log")
done
rd_run 2 "$RD_SRC/configs/synthetic.cfg" "${CBK[@]}" --set train.epochs=2 --set run.checkpoint_dir=ck_cb -o cb_e2.h5 \
  > cb_e2.log 2>&1 || { rd_fail "callbacks: the first two epochs failed"; cat cb_e2.log; }
rd_run 3 "$RD_SRC/configs/synthetic.cfg" "${CBK[@]}" --set run.checkpoint_dir=ck_cb --resume latest -o cb_res.h5 \
  > cb_res.log 2>&1 || { rd_fail "callbacks: the resume failed"; cat cb_res.log; }
rd_check "callbacks: stopped after epoch 2 at np 2, resumed at np 3: identical to np=1" \
  [ "$(rd_sha cb_res.h5)" = "$(rd_sha callbacks_1.h5)" ]
rd_check "callbacks: ... with the same decisions after the resume" \
  diff <(decisions callbacks_1.log | grep -v "^epoch 2: ") <(decisions cb_res.log)
# The same run with the three logging callbacks at each np: the same CSV and
# the same model_checkpoint files, event files of the same length (their
# records carry the wall time), and the weights file of the run without them
# (their keys stay out of the config digest).
for np in $RNPS; do
  rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${CBK[@]}" --set "csv_logger.filename=cbw_$np.csv" \
    --set "model_checkpoint.filepath=cbw_ck_$np/w.{epoch:02d}-{val_loss:.4f}.h5" --set model_checkpoint.save_best_only=true \
    --set "tensorboard.log_dir=cbw_tb_$np" -o "cbw_$np.h5" > "cbw_$np.log" 2>&1 || { rd_fail "callbacks with writers np=$np failed"; cat "cbw_$np.log"; }
done
first=${RNPS%% *}
for np in $RNPS; do
  rd_check "callback files np=$np: the CSV, the checkpoints and the event files' lengths as np=$first's" \
    bash -c "cmp -s cbw_$np.csv cbw_$first.csv && [ -n \"\$(ls cbw_ck_$np)\" ] &&
             [ \"\$(cd cbw_ck_$np && sha256sum *)\" = \"\$(cd cbw_ck_$first && sha256sum *)\" ] &&
             [ \"\$(cd cbw_tb_$np && find . -type f -printf '%h %s\n' | sort)\" = \"\$(cd cbw_tb_$first && find . -type f -printf '%h %s\n' | sort)\" ]"
done
rd_check "callbacks with writers: the weights file of the run without them" [ "$(rd_sha cbw_$first.h5)" = "$(rd_sha callbacks_1.h5)" ]
# Binary crossentropy on one sigmoid unit, with label smoothing.
same_sha bce "$RNPS" "$RD_SRC/configs/synthetic.cfg" "${REC[@]}" --set dense.2.units=1 --set dense.2.activation=sigmoid \
  --set train.loss=binary_crossentropy --set train.label_smoothing=0.05
rd_check "the recipes give six different files" [ "$(for o in sgd adamw rmsprop adagrad nadam lion; do rd_sha rec_${o}_1.h5; done | sort -u | wc -l)" -eq 6 ]

# The test graphs (tests/graphs: the Inception-style block and the ResNet blocks
# real Keras built, every merge layer) on synthetic data, in both kernel modes.
GR=(--set data.source=synthetic --set data.samples=256 --set data.test_samples=64 --set train.epochs=2
    --set train.batch_size=32 --set train.shard_size=8)
for g in inception_concat resnet_blocks merges; do
  for mode in openblas portable; do
    same_sha "g_${g}_${mode}" "1 2 3" "$RD_TESTS/graphs/$g.cfg" "${GR[@]}" --set train.kernels=$mode
  done
done
# Conv2D's algorithm = winograd and winograd4 on the ResNet blocks' four 3x3
# stride-1 convs (src/layers/winograd.h): the same file at every np, and not
# the direct one's, nor each other's.
for mode in openblas portable; do
  same_sha "g_resnet_blocks_wg_${mode}" "1 2 3" "$RD_TESTS/graphs/resnet_blocks.cfg" "${GR[@]}" \
    --set train.kernels=$mode --set conv2d.0.algorithm=winograd --set conv2d.1.algorithm=winograd \
    --set conv2d.2.algorithm=winograd --set conv2d.4.algorithm=winograd
  wg=$SREF
  rd_check "resnet_blocks, kernels = $mode: winograd's file is not direct convolution's" \
    [ "$wg" != "$(rd_sha g_resnet_blocks_${mode}_1.h5)" ]
  same_sha "g_resnet_blocks_wg4_${mode}" "1 2 3" "$RD_TESTS/graphs/resnet_blocks.cfg" "${GR[@]}" \
    --set train.kernels=$mode --set conv2d.0.algorithm=winograd4 --set conv2d.1.algorithm=winograd4 \
    --set conv2d.2.algorithm=winograd4 --set conv2d.4.algorithm=winograd4
  rd_check "resnet_blocks, kernels = $mode: winograd4's file is not direct convolution's" \
    [ "$SREF" != "$(rd_sha g_resnet_blocks_${mode}_1.h5)" ]
  rd_check "resnet_blocks, kernels = $mode: winograd4's file is not winograd's" [ "$SREF" != "$wg" ]
done

# .keras archives (the weights, config.json and the optimizer's state): the same
# bytes at every np, for the ResNet blocks graph (Adam) and for a Sequential
# model with Nadam, its schedule and its carried scalar; the archive's tensors
# are the .h5 file's of the same run.
read -r -a RN <<< "$(recipe nadam | tr '\n' ' ')"
for np in 1 2 3; do
  rd_run "$np" "$RD_TESTS/graphs/resnet_blocks.cfg" "${GR[@]}" --set train.kernels=openblas -o "ka_$np.keras,ka_$np.h5" \
    > "ka_$np.log" 2>&1 \
    || { rd_fail "resnet_blocks to .keras np=$np failed"; cat "ka_$np.log"; }
  rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${REC[@]}" "${RN[@]}" -o "kn_$np.keras" > "kn_$np.log" 2>&1 \
    || { rd_fail "nadam to .keras np=$np failed"; cat "kn_$np.log"; }
  echo "keras np=$np sha256=$(rd_sha "ka_$np.keras") $(rd_sha "kn_$np.keras")"
  if [ "$np" -gt 1 ]; then
    rd_check "resnet_blocks .keras np=$np identical to np=1" [ "$(rd_sha "ka_$np.keras")" = "$(rd_sha ka_1.keras)" ]
    rd_check "nadam .keras np=$np identical to np=1" [ "$(rd_sha "kn_$np.keras")" = "$(rd_sha kn_1.keras)" ]
  fi
done
rd_check "resnet_blocks: the .keras and .h5 outputs hold the same tensors" \
  [ "$("$REPRODIST" digest ka_1.keras | tail -n 1 | cut -d' ' -f1)" = "$("$REPRODIST" digest ka_1.h5 | tail -n 1 | cut -d' ' -f1)" ]
rd_check "resnet_blocks: the .h5 written beside the .keras is the plain run's file" \
  [ "$(rd_sha ka_1.h5)" = "$(rd_sha g_resnet_blocks_openblas_1.h5)" ]

# Augmentation (tests/graphs/augment.cfg: all seven layers, each sample's draws
# keyed by (seed, iteration, global sample index)): the same file at every np,
# over TCP, in portable mode, and stopped after epoch 1 at np 2 and resumed at
# np 3; and a model that evaluates (identity, centre crop) as it must: the
# test metrics of `evaluate` on the written weights equal the run's last line.
AUG=(--set train.epochs=3)
same_sha augment "$RNPS" "$RD_TESTS/graphs/augment.cfg" "${AUG[@]}"
aref=$SREF
RD_RUN_FLAGS="--mca btl self,tcp" rd_run 3 "$RD_TESTS/graphs/augment.cfg" "${AUG[@]}" -o augment_tcp.h5 > augment_tcp.log 2>&1 \
  || { rd_fail "augment over TCP failed"; cat augment_tcp.log; }
rd_check "augment np=3 over TCP identical to np=1" [ "$(rd_sha augment_tcp.h5)" = "$aref" ]
same_sha augment_portable "1 2" "$RD_TESTS/graphs/augment.cfg" "${AUG[@]}" --set train.kernels=portable
rd_run 2 "$RD_TESTS/graphs/augment.cfg" "${AUG[@]}" --set train.epochs=1 --set run.checkpoint_dir=ck_aug -o augment_e1.h5 \
  > augment_e1.log 2>&1 || rd_fail "augment: the first epoch failed"
rd_run 3 "$RD_TESTS/graphs/augment.cfg" "${AUG[@]}" --set run.checkpoint_dir=ck_aug --resume latest -o augment_res.h5 \
  > augment_res.log 2>&1 || { rd_fail "augment: the resume failed"; cat augment_res.log; }
rd_check "augment: stopped after epoch 1 at np 2, resumed at np 3: identical to np=1" [ "$(rd_sha augment_res.h5)" = "$aref" ]
rd_run 2 evaluate "$RD_TESTS/graphs/augment.cfg" augment_1.h5 > augment_eval.log 2>&1 || rd_fail "augment: evaluate failed"
rd_check "augment: evaluate's test metrics equal the last epoch's (augmentation off in evaluation)" \
  [ "$(grep -o "test_loss [^ ]*  test_acc [^ ]*" augment_eval.log)" = "$(grep "^epoch 3/3" augment_1.log | grep -o "test_loss [^ ]*  test_acc [^ ]*")" ]

# Real data: a Fashion-MNIST subset through the IDX/gzip reader.
if [ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  FM=(--set data.limit=2048 --set data.test_limit=512 --set train.epochs=1 --set train.shard_size=8)
  fref=""
  for np in 1 4 7; do
    rd_run "$np" "$RD_SRC/configs/fashion_mnist_mlp.cfg" "${FM[@]}" -o "fm$np.h5" > "fm$np.log" 2>&1 \
      || { rd_fail "fashion-mnist np=$np failed"; cat "fm$np.log"; continue; }
    h=$(rd_sha "fm$np.h5")
    if [ -z "$fref" ]; then fref=$h; continue; fi
    rd_check "fashion-mnist subset np=$np identical to np=1" [ "$h" = "$fref" ]
    rd_check "fashion-mnist subset np=$np metrics identical" diff <(metrics fm1.log) <(metrics "fm$np.log")
  done
  # OpenBLAS threads 1 vs 2 (same np), in openblas mode. Threaded OpenBLAS GEMMs
  # change bits for these Fashion-MNIST shapes (measured: without reprodist's
  # pinning the two runs differ), so reprodist runs BLAS on one thread per rank;
  # the setting must not leak into results. --bind-to none lets OpenBLAS see
  # both cores.
  if [ -n "$fref" ]; then
    OB=(--set train.kernels=openblas)
    for t in 1 2; do
      RD_RUN_FLAGS="--bind-to none -x OPENBLAS_NUM_THREADS=$t" rd_run 1 "$RD_SRC/configs/fashion_mnist_mlp.cfg" "${FM[@]}" \
        "${OB[@]}" -o "thr$t.h5" > "thr$t.log" 2>&1 || rd_fail "threads=$t run failed"
    done
    rd_run 4 "$RD_SRC/configs/fashion_mnist_mlp.cfg" "${FM[@]}" "${OB[@]}" -o fmo4.h5 > fmo4.log 2>&1 || rd_fail "openblas np=4 failed"
    rd_check "OPENBLAS_NUM_THREADS=2 is reported as ignored" grep -q "OPENBLAS_NUM_THREADS=2 ignored" thr2.log
    rd_check "the thread runs are in openblas mode (OpenBLAS core in the log, another file than portable's)" \
      eval 'grep -q "OpenBLAS core" thr1.log && [ "$(rd_sha thr1.h5)" != "$fref" ]'
    rd_check "OpenBLAS 1 vs 2 threads: identical weights" [ "$(rd_sha thr1.h5)" = "$(rd_sha thr2.h5)" ]
    rd_check "OpenBLAS threads: identical to openblas mode at np=4" [ "$(rd_sha thr1.h5)" = "$(rd_sha fmo4.h5)" ]
  fi
else
  rd_fail "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist; launch/deps does it)"
fi
rd_finish
