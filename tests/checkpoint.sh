#!/bin/bash
# checkpoint: checkpoints resume to the same bits at any rank count (src/ckpt.c,
# src/train.c). Fashion-MNIST, first 4096 training and 512 test samples, 3
# epochs of 64 batches (192 steps), shard_size 8 (8 shards per batch).
#  1. an uninterrupted run at np 2: the reference sha256 and epoch lines.
#  2. checkpoint_every = 50 steps, keep = 2: exactly the 2 newest (steps 100,
#     150) are left, other files in the directory are left alone, and the
#     weights are the reference's. Pruning never deletes the checkpoint just
#     written, even when an older run left checkpoints of later steps.
#  3. resume from the mid-epoch checkpoint of step 100 at np 1, 3 and 4 and
#     `--resume latest` (step 150) at np 3: the reference sha256 each time, and
#     the epoch lines (loss/acc, timing stripped) equal the reference's for
#     those epochs. A checkpoint rewritten by a resumed run at another np is
#     byte-identical to the original. A checkpoint whose fingerprint differs
#     only warns.
#  4. checkpoint_every = 1 epochs (default keep 3): resume from the end of epoch
#     1 at np 3 and from the end of training at np 1; and a step checkpoint that
#     falls on the last batch of epoch 1 (every 32 steps): the reference each time.
#  5. refusals at np 2, exit 2, one message naming the checkpoint, no weights:
#     truncated, a flipped byte in the params data or in HDF5's metadata (refused
#     by the header's checksum before HDF5 parses it), a damaged header, a
#     changed state attribute,
#     another config, another model, a directory, a missing file, a weights file,
#     --resume latest without checkpoint_dir or in an empty dir; bad
#     checkpoint_every values (exit 2, naming the config line or the --set).
#  6. a checkpoint of 0.1.0 (default kernels openblas, no kernels key) is refused
#     under the new default with a message saying what to do, and resumes with
#     kernels = openblas to the uninterrupted run's tensors.
#  7. no temporary files left in any checkpoint directory.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1

cd "$RD_TMP" || exit 1
T=$RD_TMP
PY=${RD_PYTHON:-/usr/bin/python3}
CFG=$RD_SRC/configs/fashion_mnist_mlp.cfg
BASE=("$CFG" --set data.limit=4096 --set data.test_limit=512 --set train.epochs=3 --set train.shard_size=8
      --set "run.metrics=$T/metrics.jsonl")
EVERY50=(--set "run.checkpoint_every=50 steps" --set run.keep=2)
ck() { printf 'ckpt-%012d.h5' "$1"; }

# train NAME NP ARGS...: trains with BASE ARGS -o NAME.h5; NAME.out/.err/RC.
train() {
  local name=$1 np=$2; shift 2
  rd_run "$np" "${BASE[@]}" -o "$T/$name.h5" "$@" >"$T/$name.out" 2>"$T/$name.err"
  RC=$?
}
show() { echo "  exit $RC; stdout:"; sed 's/^/    /' "$T/$1.out"; echo "  stderr:"; sed 's/^/    /' "$T/$1.err"; }
# epochs NAME: the epoch lines without their timing part.
epochs() { grep '^epoch ' "$T/$1.out" | sed 's/ *|.*//'; }
# expect_same NAME WHAT: exit 0, the reference sha256, and epoch lines equal to
# the reference's for the epochs this run printed (at least MIN of them).
expect_same() {
  local name=$1 what=$2 min=${3:-1}
  local lines; lines=$(epochs "$name")
  local n; n=$(printf '%s' "$lines" | grep -c '^epoch ')
  if [ "$RC" -eq 0 ] && [ -s "$T/$name.h5" ] && [ "$(rd_sha "$T/$name.h5")" = "$REF" ]; then
    rd_pass "$what: exit 0, the reference sha256"
  else
    rd_fail "$what: exit $RC, sha256 $( [ -s "$T/$name.h5" ] && rd_sha "$T/$name.h5"), want $REF"; show "$name"
  fi
  # The reference's lines for the same epoch numbers.
  local want; want=$(printf '%s\n' "$lines" | awk '{print $2}' | while read -r e; do grep "^epoch $e " <<<"$REF_LINES"; done)
  if [ "$n" -ge "$min" ] && [ "$lines" = "$want" ]; then
    rd_pass "$what: $n epoch line(s) equal the uninterrupted run's"
  else
    rd_fail "$what: epoch lines differ from the uninterrupted run's (or fewer than $min)"
    diff <(echo "$want") <(echo "$lines") | sed 's/^/    /'
  fi
}
resumed_from() { grep -qF "reprodist: resuming from $2 at epoch $3, step $4" "$T/$1.out"; }

# ---- 1. reference -------------------------------------------------------------------------
train ref 2
REF=$( [ -s ref.h5 ] && rd_sha ref.h5)
REF_LINES=$(epochs ref)
rd_check "reference run: exit 0, 3 epoch lines" test "$RC" -eq 0 -a -n "$REF" -a "$(echo "$REF_LINES" | grep -c '^epoch')" -eq 3
[ -n "$REF" ] || { show ref; rd_finish; }

# ---- 2. periodic checkpoints, keep ------------------------------------------------------------
D=$T/D
mkdir "$D"
echo "not a checkpoint" >"$D/notes.txt"
echo "not ours" >"$D/ckpt-foo.h5"
train every50 2 --set "run.checkpoint_dir=$D" "${EVERY50[@]}"
expect_same every50 "np 2 with checkpoints every 50 steps" 3
rd_check "keep = 2 leaves exactly the 2 newest: $(ck 100) $(ck 150)" \
  test "$(cd "$D" && ls ckpt-0*.h5 | tr '\n' ' ')" = "$(ck 100) $(ck 150) "
rd_check "other files in the checkpoint directory are left alone" \
  test "$(cat "$D/notes.txt")" = "not a checkpoint" -a "$(cat "$D/ckpt-foo.h5")" = "not ours"
# A fresh run in a directory that holds a previous run's checkpoints of later
# steps: pruning must not delete the checkpoint it has just written (else a
# signal's checkpoint, whose path the stop message prints, is gone at once).
P=$T/P
SYNP=("$RD_SRC/configs/synthetic.cfg" --set "run.checkpoint_dir=$P" --set "run.checkpoint_every=4 steps" --set run.keep=2)
rd_run 2 "${SYNP[@]}" -o "$T/p1.h5" >/dev/null 2>&1                              # steps 4..48
rd_run 2 "${SYNP[@]}" --set run.seed=9 --set train.epochs=1 -o "$T/p2.h5" >/dev/null 2>&1  # steps 4..16
rd_check "a fresh run's newest checkpoint survives the previous run's later ones (found: $(ls "$P" | tr '\n' ' '))" \
  test -s "$P/$(ck 16)"
CK100=$D/$(ck 100)
CK150=$D/$(ck 150)
CK150_SHA=$(rd_sha "$CK150")
SAVED=$T/saved
mkdir "$SAVED"
cp "$CK100" "$CK150" "$SAVED/"
echo "  [${SECONDS}s] reference and periodic checkpoints"

# ---- 3. resume from the middle of epoch 2 at other rank counts ----------------------------------
for np in 1 4; do
  train res100_np$np $np --resume "$CK100"
  expect_same res100_np$np "resume from step 100 (epoch 2, batch 37) at np $np" 2
done
# At np 3, writing checkpoints again (into another directory): ckpt-150 must
# come out as the np-2 run's.
R=$T/R3
train res100_np3 3 --resume "$CK100" --set "run.checkpoint_dir=$R" "${EVERY50[@]}"
expect_same res100_np3 "resume from step 100 at np 3, writing checkpoints" 2
rd_check "the resumed run says where it resumes: epoch 2, step 100" resumed_from res100_np3 "$CK100" 2 100
same_ckpt() {
  "$PY" - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
bad = sorted(set(a.attrs) ^ set(b.attrs)) + [k for k in a.attrs if k in b.attrs and not np.array_equal(a.attrs[k], b.attrs[k])]
def names(f):  # every piece: params, optimizer/..., data/..., metrics/...
    out = []
    f.visit(out.append)
    return sorted(n for n in out if isinstance(f[n], h5py.Dataset))
bad += [("datasets", names(a), names(b))] if names(a) != names(b) else []
bad += [d for d in names(a) if d in b and a[d][()].tobytes() != b[d][()].tobytes()]
if bad: print("  differ:", bad)
sys.exit(1 if bad else 0)
EOF
}
rd_check "a checkpoint written after resuming at np 3 holds the np-2 run's values ($(ck 150): datasets, attributes)" \
  same_ckpt "$R/$(ck 150)" "$CK150"
# Checkpoints are files like the weights: the same state gives the same bytes.
rd_check "... and is byte-identical to it (no timestamps in the file)" \
  test -s "$R/$(ck 150)" -a "$(rd_sha "$R/$(ck 150)")" = "$CK150_SHA"
L=$T/L
mkdir "$L"
cp "$SAVED"/* "$L/"
train latest 3 --resume latest --set "run.checkpoint_dir=$L" "${EVERY50[@]}"
expect_same latest "--resume latest (step 150, epoch 3) at np 3" 1
rd_check "--resume latest picks the newest, $(ck 150)" resumed_from latest "$L/$(ck 150)" 3 150
rd_check "resuming does not touch the checkpoint it read" test "$(rd_sha "$L/$(ck 150)")" = "$CK150_SHA"
# Another environment's checkpoint (the fingerprint attribute edited, then the
# header's length and checksum redone as that environment would have written
# them; format in src/ckpt.c): a warning, not a refusal.
cp "$CK100" fp_ck.h5
"$PY" - fp_ck.h5 <<'EOF'
import sys, h5py, xxhash
with h5py.File(sys.argv[1], "r+") as f:
    v = f.attrs["fingerprint"]
    w = v.replace(b"reprodist=", b"reprodist=X")
    assert w != v, "the fingerprint names no reprodist= line: %r" % v
    f.attrs.modify("fingerprint", w)
b = open(sys.argv[1], "rb").read()
fmt, _, _, config = b[:512].rstrip(b"\0").decode().splitlines()
body = b[512:]
head = "%s\nbytes %d\nxxh64 %016x\n%s\n" % (fmt, len(body), xxhash.xxh64_intdigest(body), config)
open(sys.argv[1], "wb").write(head.encode().ljust(512, b"\0") + body)
EOF
train fp 2 --resume "$T/fp_ck.h5"
expect_same fp "a checkpoint from another environment" 2
rd_check "... with one warning that it was written in another environment" \
  test "$(grep -c "fp_ck.h5 was written in another environment" "$T/fp.err")" -eq 1
echo "  [${SECONDS}s] resumes"

# ---- 4. epoch checkpoints and a step checkpoint on an epoch boundary ---------------------------------
E=$T/E
train epochs 2 --set "run.checkpoint_dir=$E" --set "run.checkpoint_every=1 epochs"
expect_same epochs "np 2 with a checkpoint every epoch" 3
rd_check "epoch checkpoints at steps 64, 128, 192 (default keep 3)" \
  test "$(cd "$E" && ls | tr '\n' ' ')" = "$(ck 64) $(ck 128) $(ck 192) "
train res64e 3 --resume "$E/$(ck 64)"
expect_same res64e "resume from the end of epoch 1 at np 3" 2
rd_check "... it starts at epoch 2, step 64" resumed_from res64e "$E/$(ck 64)" 2 64
train res192e 1 --resume "$E/$(ck 192)"
expect_same res192e "resume from the end of training at np 1 (nothing left to do)" 0
rd_check "... and prints no epoch line" test "$(grep -c '^epoch' res192e.out)" -eq 0
S=$T/S
train every32 1 --set "run.checkpoint_dir=$S" --set "run.checkpoint_every=32 steps" --set run.keep=100
expect_same every32 "np 1 with a checkpoint every 32 steps" 3
rd_check "every 32 steps: 6 checkpoints" test "$(ls "$S" | wc -l)" -eq 6
train res64s 4 --resume "$S/$(ck 64)"
expect_same res64s "resume at np 4 from the step checkpoint on epoch 1's last batch (prints epoch 1)" 3
echo "  [${SECONDS}s] epoch checkpoints"

# ---- 5. refusals ---------------------------------------------------------------------------------
# refuse NAME MESSAGE ARGS...: starts a training at np 2 with ARGS in the
# background, -o into the empty dir NAME.d; check_refusals then waits and expects
# exit 2, MESSAGE exactly once, no epoch trained, nothing written into NAME.d.
# (A refused mpiexec job spends about a second in its error path, mostly idle,
# so up to 6 run at once.)
CASES=()
declare -A MSG
refuse() {
  local name=$1
  CASES+=("$name")
  MSG[$name]=$2
  shift 2
  mkdir -p "$T/$name.d"
  while [ "$(jobs -rp | wc -l)" -ge 6 ]; do wait -n; done
  (rd_run 2 "${BASE[@]}" -o "$T/$name.d/w.h5" "$@" >"$T/$name.out" 2>"$T/$name.err"; echo $? >"$T/$name.rc") &
}
check_refusals() {
  wait
  local name msg n
  for name in "${CASES[@]}"; do
    msg=${MSG[$name]}
    RC=$(cat "$T/$name.rc")
    n=$(grep -cF -- "$msg" "$T/$name.err")
    if [ "$RC" -eq 2 ] && [ "$n" -eq 1 ] && ! grep -qE 'HDF5-DIAG|MPI_ABORT|Segmentation|Aborted' "$T/$name.err" &&
       ! grep -q '^epoch ' "$T/$name.out"; then
      rd_pass "$name: exit 2, one message: $msg"
    else
      rd_fail "$name: exit $RC, message found $n times: $msg"; show "$name"
    fi
    rd_check "$name: no weights file or temporary written" test -z "$(ls -A "$T/$name.d")"
  done
}
# Damaged copies of the step-100 checkpoint.
"$PY" - "$CK100" "$T" <<'EOF' || rd_fail "could not make the damaged checkpoints"
import shutil, sys, h5py, numpy as np
src, T = sys.argv[1], sys.argv[2] + "/"
data = open(src, "rb").read()
open(T + "trunc_half.h5", "wb").write(data[: len(data) // 2])
open(T + "trunc_tail.h5", "wb").write(data[:-64])           # only the end missing
with h5py.File(src, "r") as f:
    d = f["params"]
    off, n = d.id.get_offset(), d.shape[0]
    assert off is not None and d.dtype == np.float32, "params must be contiguous float32"
    assert n == 101770, n
pos = off + 4 * 5000 + 2                                    # inside element 5000
b = bytearray(data); b[pos] ^= 0x10
open(T + "flip.h5", "wb").write(bytes(b))
m = bytearray(data); m[512 + 100] ^= 0x01                  # HDF5 metadata, which HDF5 would parse
open(T + "meta.h5", "wb").write(bytes(m))
h = bytearray(data); h[0:9] = b"REPRODIST"                  # the 512-byte header itself
open(T + "header.h5", "wb").write(bytes(h))
with h5py.File(T + "flip.h5", "r") as f:                    # still readable, one float differs
    x, y = f["params"][()], h5py.File(src, "r")["params"][()]
    assert (x != y).sum() == 1 and (x != y).nonzero()[0][0] == 5000
shutil.copy(src, T + "attr.h5")
with h5py.File(T + "attr.h5", "r+") as f:                   # the batch position edited
    f["data/batch"][0] += 1
# Pieces missing or resized, in files whose 512-byte header is made valid
# again (length and XXH64 of the rest, as src/ckpt.c writes it): only the
# piece check can refuse them, by name.
import xxhash
def reseal(path):
    body = open(path, "rb").read()[512:]
    head = open(path, "rb").read(512).split(b"\n")
    text = b"%s\nbytes %d\nxxh64 %016x\n%s\n" % (head[0], len(body), xxhash.xxh64_intdigest(body), head[3])
    open(path, "r+b").write(text.ljust(512, b"\0"))
shutil.copy(src, T + "nopiece.h5")
with h5py.File(T + "nopiece.h5", "r+") as f:
    del f["optimizer/velocities"]
reseal(T + "nopiece.h5")
shutil.copy(src, T + "resized.h5")
with h5py.File(T + "resized.h5", "r+") as f:
    del f["data/seen"]
    f["data/seen"] = np.zeros(2, np.int64)
reseal(T + "resized.h5")
EOF
for cut in half tail; do
  refuse trunc_$cut "$T/trunc_$cut.h5: cannot open checkpoint (corrupt or truncated file: " --resume "$T/trunc_$cut.h5"
done
refuse flip "$T/flip.h5: checksum mismatch" --resume "$T/flip.h5"
refuse meta "$T/meta.h5: checksum mismatch" --resume "$T/meta.h5"
refuse header "$T/header.h5: not a reprodist checkpoint (no reprodist-checkpoint-3 header" --resume "$T/header.h5"
refuse attr "$T/attr.h5: checksum mismatch" --resume "$T/attr.h5"
refuse nopiece "$T/nopiece.h5: piece 'optimizer/velocities' (101770 float32) is missing, of another size or unreadable" \
  --resume "$T/nopiece.h5"
refuse resized "$T/resized.h5: piece 'data/seen' (1 64-bit values) is missing, of another size or unreadable" \
  --resume "$T/resized.h5"
refuse other_config "$CK100: this checkpoint belongs to another config: [run] seed: 42 in the checkpoint, 8 now; resume with" \
  --resume "$CK100" --set run.seed=8
# The message names every changed key (a layer's by its occurrence), as the user wrote the value.
refuse other_config_keys "$CK100: this checkpoint belongs to another config: [dense] activation: relu in the checkpoint, tanh now; [train] learning_rate: 0.001 in the checkpoint, 0.0025 now; [train] beta_1: not set in the checkpoint, 0.8 now; resume with" \
  --resume "$CK100" --set dense.0.activation=tanh --set train.learning_rate=0.0025 --set train.beta_1=0.8
# The canonical text names the kernels even when the config does not (the default, portable since 0.2.0).
refuse other_kernels "$CK100: this checkpoint belongs to another config: [train] kernels: portable in the checkpoint, openblas now; resume with" \
  --resume "$CK100" --set train.kernels=openblas
refuse other_model "$CK100: this checkpoint belongs to another model" --resume "$CK100" --set dense.0.units=64
refuse other_model_layer "$CK100: this checkpoint belongs to another model" --resume "$CK100" --set dense.1.name=out
refuse directory "$D: is a directory, not a checkpoint" --resume "$D"
refuse missing "$T/nothing.h5: cannot open checkpoint (No such file or directory)" --resume "$T/nothing.h5"
refuse weights_file "$T/ref.h5: not a reprodist checkpoint" --resume "$T/ref.h5"
refuse latest_nodir "--resume latest: no [run] checkpoint_dir" --resume latest
mkdir "$T/empty"
refuse latest_empty "$T/empty: --resume latest found no checkpoint" --resume latest --set "run.checkpoint_dir=$T/empty"
refuse latest_missing_dir "$T/nodir: --resume latest found no checkpoint" --resume latest --set "run.checkpoint_dir=$T/nodir"
refuse resume_no_value "reprodist: --resume needs a value" --resume
# checkpoint_every: bad values name the config line (a file) or the --set.
refuse every_without_dir "--set run.checkpoint_every=5 steps: checkpoint_every needs [run] checkpoint_dir" \
  --set "run.checkpoint_every=5 steps"
for v in 10 "0 steps" "10 minutes" "1.5 epochs"; do
  refuse "every_$(echo "$v" | tr -c 'a-z0-9' _)" \
    "--set run.checkpoint_every=$v: checkpoint_every = '$v': write 'N steps' or 'N epochs' (N >= 1)" \
    --set "run.checkpoint_dir=$T/bad_every" --set "run.checkpoint_every=$v"
done
check_refusals
{ sed -n '1,/^\[run\]/p' "$CFG"; echo "checkpoint_dir = $T/bad_every"; echo "checkpoint_every = 10"; sed -n '/^\[run\]/,$p' "$CFG" | tail -n +2; } >every.cfg
LINE=$(grep -n '^checkpoint_every' every.cfg | cut -d: -f1)
mkdir -p every_cfg.d
rd_run 2 "$T/every.cfg" --set data.limit=4096 --set data.test_limit=512 --set "run.metrics=$T/metrics.jsonl" \
  -o "$T/every_cfg.d/w.h5" >every_cfg.out 2>every_cfg.err
RC=$?
rd_check "checkpoint_every = 10 in a file: exit 2, 'every.cfg:$LINE: checkpoint_every = '10': ...' once" \
  test "$RC" -eq 2 -a "$(grep -cF "$T/every.cfg:$LINE: checkpoint_every = '10': write 'N steps' or 'N epochs' (N >= 1)" every_cfg.err)" -eq 1
rd_check "no checkpoint directory was created by the refused runs" test ! -e "$T/bad_every"
rd_check "the refusals left the checkpoints they read untouched" \
  test "$(rd_sha "$CK100")" = "$(rd_sha "$SAVED/$(ck 100)")" -a "$(rd_sha "$CK150")" = "$CK150_SHA"
echo "  [${SECONDS}s] refusals"

# ---- 6. a checkpoint of reprodist 0.1.0, whose default kernels were openblas -------------------------
# tests/fixtures/ckpt-0.1.0-tiny.h5 (README there): tests/fuzz/tiny.cfg, epochs 2, step 4 of 8, written by
# 0.1.0 (3d089c9) without a kernels key (a step checkpoint on the last batch of epoch 1: it resumes in epoch 1). Under today's default (portable) it is refused with a message that
# says what to do; with kernels = openblas it resumes (at np 3) to the uninterrupted openblas run's bits.
TINY=$RD_SRC/tests/fuzz/tiny.cfg
cp "$RD_SRC/tests/fixtures/ckpt-0.1.0-tiny.h5" old_ck.h5
rd_run 2 "$TINY" --set train.epochs=2 --resume "$T/old_ck.h5" -o "$T/old_default.h5" >old_default.out 2>old_default.err
RC=$?
rd_check "a 0.1.0 checkpoint under the new default: exit 2, one message naming openblas, 0.2.0 and the --set" \
  eval '[ $RC -eq 2 ] && [ ! -e old_default.h5 ] && [ "$(grep -cF "$T/old_ck.h5: this checkpoint was made with kernels = openblas, the default before reprodist 0.2.0 (CHANGELOG.md); this run'"'"'s is portable ([train] kernels: not set in the checkpoint, portable now); resume with --set train.kernels=openblas" old_default.err)" -eq 1 ]'
rd_run 1 "$TINY" --set train.epochs=2 --set train.kernels=openblas -o "$T/tiny_ref.h5" >tiny_ref.out 2>tiny_ref.err
rd_run 3 "$TINY" --set train.epochs=2 --set train.kernels=openblas --resume "$T/old_ck.h5" -o "$T/old_res.h5" \
  >old_res.out 2>old_res.err
RC=$?
rd_check "... with --set train.kernels=openblas it resumes at step 4 (exit $RC), in openblas mode" \
  eval '[ $RC -eq 0 ] && grep -qF "reprodist: resuming from $T/old_ck.h5 at epoch 1, step 4" old_res.out &&
        [ "$(rd_h5attr old_res.h5 reprodist_openblas_core)" != "none (kernels = portable)" ]'
rd_check "... to the tensors of an uninterrupted openblas run at np 1" \
  eval '[ -s tiny_ref.h5 ] && [ "$("$REPRODIST" digest old_res.h5 | tail -1 | cut -d" " -f1)" = "$("$REPRODIST" digest tiny_ref.h5 | tail -1 | cut -d" " -f1)" ]'
rd_check "... and leaves the old checkpoint as it was" test "$(rd_sha old_ck.h5)" = "$(rd_sha "$RD_SRC/tests/fixtures/ckpt-0.1.0-tiny.h5")"

# ---- 7. no temporaries --------------------------------------------------------------------------
left=$(find "$D" "$R" "$L" "$E" "$S" -name '*tmp*' -o -name '*.h5.*' | sed "s|$T/||")
rd_check "no temporary files left in the checkpoint directories${left:+ (found: $left)}" test -z "$left"
rd_check "only ckpt-*.h5 in the directories reprodist created" \
  test -z "$(find "$R" "$E" "$S" -type f ! -name 'ckpt-[0-9]*.h5')"
rd_finish
