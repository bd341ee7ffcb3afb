#!/usr/bin/env bash
# [train] shard_optimizer (ZeRO stage 1): each rank keeps and updates its range
# of the optimizer state, and the parameters are allgathered after the update.
# - The weights file has the unsharded np=1 run's sha256 for every optimizer,
#   with each clipping mode (clipnorm, global_clipnorm: canonical norms over
#   every rank's blocks), weight decay and the moving average, at np 1-4 and
#   with both canonical exchanges; a model with BatchNormalization too.
# - Each rank keeps about 1/np of the state (the log says rank 0's share).
# - Sharded checkpoints are written collectively: the same bytes at np 1-4, the
#   same datasets as an unsharded checkpoint; a resume at any np in either mode
#   gives the uninterrupted run's sha256; a damaged one is refused (exit 2).
# - A .keras archive (which stores the optimizer's state) is the unsharded one.
# - auto, the default, shards at np > 1 when every rank runs on one node and the
#   exchange has halves, and says so in the log (multinode.sh: not across nodes).
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
cd "$RD_TMP"
SYN=(--set train.epochs=2 --set train.shard_size=8)
PY=${RD_PYTHON:-/usr/bin/python3}
# sha FILE: its sha256, or a string no other file's can equal when it is missing or empty.
sha() { if [ -s "$1" ]; then rd_sha "$1"; else echo "missing:$1"; fi; }
SH=(--set train.shard_optimizer=true)
metrics() { grep '^epoch' "$1" | sed 's/|.*//'; }

# same NAME "NP[:ALGO]..." ARGS...: the unsharded np=1 run, then the sharded
# runs at each NP (with RD_ALLREDUCE=ALGO when given) must all give its sha256.
same() {
  local name=$1 nps=$2 spec np algo ref; shift 2
  rd_run 1 "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" "$@" -o "${name}_ref.h5" > "${name}_ref.log" 2>&1 \
    || { rd_fail "$name: the unsharded run failed"; rd_show "${name}_ref.log"; return; }
  ref=$(sha "${name}_ref.h5")
  for spec in $nps; do
    np=${spec%%:*} algo=auto
    [ "$spec" != "$np" ] && algo=${spec#*:}
    RD_ALLREDUCE=$algo RD_RUN_FLAGS="-x RD_ALLREDUCE" rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" "$@" \
      "${SH[@]}" -o "${name}_$spec.h5" > "${name}_$spec.log" 2>&1 \
      || { rd_fail "$name np=$spec sharded failed"; rd_show "${name}_$spec.log"; continue; }
    rd_check "$name: sharded np=$np ($algo) = unsharded np=1" [ "$(sha "${name}_$spec.h5")" = "$ref" ]
    rd_check "$name: sharded np=$np ($algo) metrics identical" diff <(metrics "${name}_ref.log") <(metrics "${name}_$spec.log")
  done
}

# Under launch/test-sanitize (RD_TIME_SCALE > 1) the other optimizers run at np 3
# only: that stage looks for memory errors, and every optimizer runs the same code.
OTHER_NPS="3 2:halving"
[ "${RD_TIME_SCALE:-1}" -gt 1 ] && OTHER_NPS="3"
same adam_global "1 2 3 4 3:halving 4:halving 5" --set train.global_clipnorm=0.05 --set train.use_ema=true \
  --set train.ema_overwrite_frequency=5
same adamw_clipnorm "2 3 3:halving" --set train.optimizer=adamw --set train.clipnorm=0.02
same sgd_nesterov "3 4:halving" --set train.optimizer=sgd --set train.momentum=0.9 --set train.nesterov=true \
  --set train.clipvalue=0.01 --set train.weight_decay=0.001
for opt in rmsprop adagrad nadam lion; do
  same "$opt" "$OTHER_NPS" --set train.optimizer=$opt
done

# Clipping must bite in these runs, or a wrong norm could pass unseen.
rd_run 1 "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" -o noclip.h5 > noclip.log 2>&1
rd_check "global_clipnorm changes the weights (the norm test can fail)" \
  bash -c "[ -s noclip.h5 ] && [ -s adam_global_ref.h5 ] && [ '$(sha noclip.h5)' != '$(sha adam_global_ref.h5)' ]"

# Its share: rank 0 keeps its range of 4522 parameters' state (cut at a 256-float block of the norm).
rd_check "np=4: rank 0 keeps about a quarter of the state" \
  grep -Eq "optimizer state sharded: rank 0 keeps 1[01][0-9][0-9] of 4522" adam_global_4.log

# A model with batch statistics (they travel after the gradient, in one rank's range).
cat > bn.cfg <<'CFG'
[run]
seed = 3
[model]
input = 6,6,2
[conv2d]
filters = 4
kernel_size = 3
use_bias = false
[batch_normalization]
[activation]
activation = relu
[flatten]
[dense]
units = 10
activation = softmax
[data]
source = synthetic
samples = 300
test_samples = 50
[train]
epochs = 2
batch_size = 32
shard_size = 8
CFG
rd_run 1 bn.cfg -o bn_ref.h5 > bn_ref.log 2>&1 || { rd_fail "bn unsharded failed"; rd_show bn_ref.log; }
for np in 2 3; do
  rd_run "$np" bn.cfg "${SH[@]}" -o "bn_$np.h5" > "bn_$np.log" 2>&1 || { rd_fail "bn np=$np failed"; rd_show "bn_$np.log"; }
  rd_check "BatchNormalization model: sharded np=$np = unsharded np=1" [ "$(sha "bn_$np.h5")" = "$(sha bn_ref.h5)" ]
done

# Checkpoints: one per epoch of 3, sharded at np 1-4 and unsharded at np 1.
CK=(--set train.epochs=3 --set train.global_clipnorm=0.05 --set train.use_ema=true --set "run.checkpoint_every=1 epochs")
rd_run 1 "$RD_SRC/configs/synthetic.cfg" "${CK[@]}" --set run.checkpoint_dir=cku -o ck_ref.h5 > cku.log 2>&1 \
  || { rd_fail "unsharded checkpointed run failed"; rd_show cku.log; }
for np in 1 2 3 4; do
  rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${CK[@]}" "${SH[@]}" --set run.checkpoint_dir=ck$np -o "ck_$np.h5" \
    > "ck$np.log" 2>&1 || { rd_fail "sharded checkpointed run np=$np failed"; rd_show "ck$np.log"; continue; }
  rd_check "checkpointed sharded np=$np = unsharded" [ "$(sha "ck_$np.h5")" = "$(sha ck_ref.h5)" ]
  for c in ckpt-000000000016.h5 ckpt-000000000032.h5; do
    rd_check "sharded $c: the same bytes at np=$np as at np=1" [ "$(sha "ck$np/$c")" = "$(sha "ck1/$c")" ]
  done
done
rd_check "a sharded checkpoint holds the unsharded one's datasets" h5diff ck3/ckpt-000000000016.h5 cku/ckpt-000000000016.h5
ref=$(sha ck_ref.h5)
resume() { # NAME NP CKPT ARGS...
  local name=$1 np=$2 ck=$3; shift 3
  rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${CK[@]}" "$@" --set "run.checkpoint_dir=ckr_$name" --resume "$ck" \
    -o "$name.h5" > "$name.log" 2>&1 \
    || { rd_fail "resume $name failed"; rd_show "$name.log"; return; }
  rd_check "resume $name: the uninterrupted sha256" [ "$(sha "$name.h5")" = "$ref" ]
}
resume sharded3_to_unsharded2 2 ck3/ckpt-000000000016.h5 --set train.shard_optimizer=false
resume sharded1_to_sharded4 4 ck1/ckpt-000000000032.h5 "${SH[@]}"
resume unsharded_to_sharded3 3 cku/ckpt-000000000016.h5 "${SH[@]}"
RD_ALLREDUCE=halving RD_RUN_FLAGS="-x RD_ALLREDUCE" resume sharded2_to_sharded3_halving 3 ck2/ckpt-000000000016.h5 "${SH[@]}"

# A damaged sharded checkpoint is refused: a flipped byte anywhere fails the
# header's hash of the file; a flipped byte in a sharded slot, with the header
# re-sealed, fails the pieces' checksum, which rank 0 streams from the file.
cp ck2/ckpt-000000000016.h5 bad.h5
size=$(stat -c %s bad.h5)
printf '\x5a' | dd of=bad.h5 bs=1 seek=$((size - 4000)) conv=notrunc status=none
rd_run 2 "$RD_SRC/configs/synthetic.cfg" "${CK[@]}" "${SH[@]}" --set run.checkpoint_dir=ckbad --resume bad.h5 \
  -o bad_out.h5 > bad.log 2>&1
rc=$?
rd_check "a damaged sharded checkpoint: exit 2, named, no output" \
  bash -c "[ $rc = 2 ] && grep -q 'bad.h5: checksum mismatch' bad.log && [ ! -e bad_out.h5 ]"
# reseal FILE XOR: XORs the last float's first byte of optimizer/momentums with XOR, then
# rewrites the header's hash of the file (python xxhash, independent of reprodist).
reseal() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, h5py, xxhash
path, flip = sys.argv[1], int(sys.argv[2])
with h5py.File(path, "r") as f:  # the last float of the sharded momentums (rank 1's slab at np 2)
    d = f["optimizer/momentums"]
    off = d.id.get_offset() + 4 * (d.shape[0] - 1)  # (the userblock is part of the offset)
with open(path, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ flip]))
    f.seek(0); head = f.read(512).split(b"\0")[0].decode().split("\n")
    body = f.read()
    head[2] = "xxh64 %016x" % xxhash.xxh64(body, seed=0).intdigest()
    f.seek(0); f.write("\n".join(head).encode().ljust(512, b"\0"))
PYEOF
}
cp ck2/ckpt-000000000016.h5 resealed0.h5 && reseal resealed0.h5 0
resume resealed_unchanged 2 resealed0.h5 "${SH[@]}"  # the resealing itself keeps a checkpoint valid
cp ck2/ckpt-000000000016.h5 resealed.h5 && reseal resealed.h5 64
rd_run 2 "$RD_SRC/configs/synthetic.cfg" "${CK[@]}" "${SH[@]}" --set run.checkpoint_dir=ckbad --resume resealed.h5 \
  -o resealed_out.h5 > resealed.log 2>&1
rc=$?
rd_check "a sharded slot changed under a valid header: exit 2, checksum mismatch, no output" \
  bash -c "[ $rc = 2 ] && grep -q 'resealed.h5: checksum mismatch' resealed.log && [ ! -e resealed_out.h5 ]"

# A checkpoint directory rank 1 does not share (its own tmpfs over it, in a
# mount namespace of its own): refused at start-up, exit 2, naming the rank;
# nothing is written. Needs unshare and mount (root); otherwise said, not passed.
mkdir -p notshared
if unshare -m true 2>/dev/null; then
  NS=(--set train.epochs=2 --set run.checkpoint_dir="$RD_TMP/notshared" --set "run.checkpoint_every=1 epochs" "${SH[@]}")
  q=$(printf '%q ' "$REPRODIST" "$RD_SRC/configs/synthetic.cfg" "${NS[@]}" -o ns.h5)
  timeout -k 5 "$RD_LIMIT" "$RD_MPIEXEC" $RD_MPIFLAGS $RD_NPFLAG 1 "$REPRODIST" "$RD_SRC/configs/synthetic.cfg" "${NS[@]}" \
    -o ns.h5 : $RD_NPFLAG 1 unshare -m sh -c "mount -t tmpfs none '$RD_TMP/notshared' && exec $q" > ns.log 2>&1
  rc=$?
  rd_check_out ns.log "a checkpoint_dir rank 1 does not share: exit 2 at start-up, named, no output, no file" \
    bash -c "[ $rc = 2 ] && grep -q 'notshared: checkpoint_dir is not shared with rank 1' ns.log && ! grep -q '^epoch' ns.log \
             && [ ! -e ns.h5 ] && [ -z \"\$(ls -A notshared)\" ]"
else
  echo "not run: unshare -m is not permitted here (the unshared-directory check needs it)"
fi

# A .keras archive stores the optimizer's state: sharded runs gather it.
KA=(--set train.clipnorm=0.05 --set train.use_ema=true)
rd_run 1 "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" "${KA[@]}" -o k1.keras > k1.log 2>&1 || rd_show k1.log
for spec in 3 4:halving; do
  np=${spec%%:*} algo=auto
  [ "$spec" != "$np" ] && algo=${spec#*:}
  RD_ALLREDUCE=$algo RD_RUN_FLAGS="-x RD_ALLREDUCE" rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" "${KA[@]}" \
    "${SH[@]}" -o "k$np.keras" > "k$np.log" 2>&1 || rd_show "k$np.log"
  rd_check ".keras archive: sharded np=$np ($algo) = unsharded np=1" [ "$(sha "k$np.keras")" = "$(sha k1.keras)" ]
done

# auto, the default: sharded when there are ranks to share the state, all on
# one node (every rank of this job is), and the exchange has halves; the log
# says which. Never at np 1, nor with false, nor under RD_ALLREDUCE=bucketed
# (no halves). Every run gives the np 1 file.
auto_run() { # NAME NP ARGS...
  local name=$1 np=$2; shift 2
  rd_run "$np" "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" "$@" -o "auto_$name.h5" > "auto_$name.log" 2>&1 \
    || { rd_fail "auto $name failed"; rd_show "auto_$name.log"; }
  rd_check "auto $name: the np 1 file" [ "$(sha "auto_$name.h5")" = "$(sha auto_np1.h5)" ]
}
rd_run 1 "$RD_SRC/configs/synthetic.cfg" "${SYN[@]}" -o auto_np1.h5 > auto_np1.log 2>&1 || rd_show auto_np1.log
rd_check "auto at np 1: not sharded" bash -c "[ -s auto_np1.h5 ] && ! grep -q 'optimizer state sharded' auto_np1.log"
auto_run np2 2
rd_check "auto at np 2 on one node: sharded, and the log says why" \
  grep -q "optimizer state sharded (shard_optimizer = auto: every rank on one node): rank 0 keeps 22[0-9][0-9] of 4522" \
  auto_np2.log
auto_run np3 3 --set train.shard_optimizer=auto
rd_check "auto at np 3 (written out): sharded" grep -q "optimizer state sharded (shard_optimizer = auto" auto_np3.log
auto_run off2 2 --set train.shard_optimizer=false
rd_check "false at np 2: not sharded" bash -c "grep -q '2 ranks' auto_off2.log && ! grep -q 'optimizer state sharded' auto_off2.log"
RD_ALLREDUCE=bucketed RD_RUN_FLAGS="-x RD_ALLREDUCE" auto_run bucketed2 2
rd_check "auto under RD_ALLREDUCE=bucketed (no halves): the bucketed allreduce, not sharded" \
  bash -c "grep -q '; the bucketed allreduce' auto_bucketed2.log && ! grep -q 'optimizer state sharded' auto_bucketed2.log"

# A bad value: exit 2, one message naming the key.
rd_run 2 "$RD_SRC/configs/synthetic.cfg" --set train.shard_optimizer=maybe -o nope.h5 > nope.log 2>&1
rc=$?
rd_check "shard_optimizer = maybe: exit 2 naming it and its values, no output" \
  bash -c "[ $rc = 2 ] && grep -q \"unknown shard_optimizer 'maybe' (one of: false, true, auto)\" nope.log && [ ! -e nope.h5 ]"
rd_finish
