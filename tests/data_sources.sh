# The data sources agree, scale with the rank count and honour the [data] keys.
#   1. the first 512/256 Fashion-MNIST samples as raw IDX, gzipped IDX, HDF5 uint8
#      (same scale) and HDF5 float32 (scaled in python, scale unset) train to
#      bit-identical tensors
#   2. HDF5 at np 1, 2, 3, 4: the same file, byte for byte
#   3. limit and test_limit choose the first rows, and only those
#   4. HDF5 is read out of core: peak RSS does not grow with the rows trained
#      on, while the same rows as IDX (loaded whole) do grow it
#   5. images for a convnet ([model] input = 28,28,1): IDX (N, 28, 28), HDF5
#      (N, 28, 28, 1) and flat HDF5 (N, 784) through [reshape] train to
#      bit-identical tensors
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
T=$RD_TMP
SCALE=0.00392156862745098 # 1/255 in shortest round-trip form

# ---- fixtures -----------------------------------------------------------------------
"$RD_PYTHON" - "$T" "$SCALE" <<'EOF' || { echo "FAIL: could not build the fixtures"; exit 1; }
import gzip, struct, sys
import h5py, numpy as np
T, scale = sys.argv[1] + "/", float(sys.argv[2])
assert scale == 1 / 255
D = "/usr/share/datasets/fashion-mnist/"

def first(name, header, n, row):
    with gzip.open(D + name) as f:  # reads only what it needs
        f.read(header)
        return np.frombuffer(f.read(n * row), np.uint8).reshape(n, row)

sets = {"train": 512, "test": 256}
xs = {s: first({"train": "train", "test": "t10k"}[s] + "-images-idx3-ubyte.gz", 16, n, 784) for s, n in sets.items()}
ys = {s: first({"train": "train", "test": "t10k"}[s] + "-labels-idx1-ubyte.gz", 8, n, 1)[:, 0] for s, n in sets.items()}

def idx_bytes(a, shape):
    return struct.pack(">I", 0x800 | len(shape)) + b"".join(struct.pack(">I", d) for d in shape) + a.tobytes()

for s, n in sets.items():
    for kind, a, shape in (("x", xs[s], (n, 28, 28)), ("y", ys[s], (n,))):
        b = idx_bytes(a, shape)
        open(f"{T}{s}-{kind}.idx", "wb").write(b)
        open(f"{T}{s}-{kind}.idx.gz", "wb").write(gzip.compress(b, mtime=0))
with h5py.File(T + "u8.h5", "w") as f:
    for s in sets:
        f[f"{s}/x"] = xs[s]
        f[f"{s}/y"] = ys[s].astype(np.int64)
with h5py.File(T + "img.h5", "w") as f:
    for s in sets:
        f[f"{s}/x"] = xs[s].reshape(-1, 28, 28, 1)
        f[f"{s}/y"] = ys[s].astype(np.int64)
with h5py.File(T + "f32.h5", "w") as f:
    for s in sets:
        # What the product does for uint8: float32(raw * scale), the product in double.
        f[f"{s}/x"] = (xs[s].astype(np.float64) * scale).astype(np.float32)
        f[f"{s}/y"] = ys[s].astype(np.int64)
EOF

# mkcfg NAME DATA-LINES: 784 -> 16 relu -> 10 softmax, one epoch, batch 32.
mkcfg() {
  cat >"$T/$1.cfg" <<EOF
[run]
seed = 11
[model]
input = 784
[dense]
units = 16
activation = relu
[dense]
units = 10
activation = softmax
[data]
$2
[train]
epochs = 1
batch_size = 32
shard_size = 8
EOF
}
idx_data() { # SUFFIX: idx or idx.gz
  printf 'source = idx\ntrain_x = %s\ntrain_y = %s\ntest_x = %s\ntest_y = %s\nscale = %s\n' \
    "$T/train-x.$1" "$T/train-y.$1" "$T/test-x.$1" "$T/test-y.$1" "$SCALE"
}
h5_data() { # FILE [EXTRA-LINE]
  printf 'source = hdf5\ntrain_x = %s:/train/x\ntrain_y = %s:/train/y\ntest_x = %s:/test/x\ntest_y = %s:/test/y\n%s\n' \
    "$1" "$1" "$1" "$1" "${2-}"
}

# train NAME NP: trains $T/NAME.cfg into $T/NAME.h5; stdout in $T/NAME.log.
train() {
  rd_run "$2" "$T/$1.cfg" -o "$T/$1.h5" >"$T/$1.log" 2>"$T/$1.err"
  local rc=$?
  [ $rc -eq 0 ] || { echo "  $1 at np $2 exited $rc:"; sed 's/^/  | /' "$T/$1.err" | head -20; }
  return $rc
}

# same_tensors A.h5 B.h5: every dataset (the weights) equal as raw bytes; the
# same dataset names, shapes and dtypes. Prints what differs.
same_tensors() {
  "$RD_PYTHON" - "$1" "$2" <<'EOF'
import sys, h5py
def tensors(p):
    out = {}
    with h5py.File(p, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, (o.dtype.str, o.shape, o[()].tobytes()))
                     if isinstance(o, h5py.Dataset) else None)
    return out
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
bad = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
for k in bad:
    print(f"  tensor {k} differs")
sys.exit(1 if bad or not a else 0)
EOF
}

# root_attr_diff A.h5 B.h5: names of the root attributes whose values differ.
root_attr_diff() {
  "$RD_PYTHON" - "$1" "$2" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    keys = sorted(set(a.attrs) | set(b.attrs))
    print(" ".join(k for k in keys if k not in a.attrs or k not in b.attrs
                   or a.attrs[k].tobytes() != b.attrs[k].tobytes()))
EOF
}

# ---- 1. four sources, one set of weights ------------------------------------------------
mkcfg idx "$(idx_data idx)"
mkcfg gz "$(idx_data idx.gz)"
mkcfg h5u8 "$(h5_data "$T/u8.h5" "scale = $SCALE")"
mkcfg h5f32 "$(h5_data "$T/f32.h5")"
for c in idx gz h5u8 h5f32; do
  train $c 2
  rd_check "$c: trains at np 2 (exit 0)" test $? -eq 0
done
rd_check "the run logs 512 training samples in 16 batches" grep -qF "512 training samples in 16 batches" "$T/idx.log"
rd_check "idx.gz: tensors bit-identical to raw idx" same_tensors "$T/idx.h5" "$T/gz.h5"
# Paths are left out of the canonical config, so nothing in the file differs.
rd_check "idx.gz: the whole file equals raw idx's (sha256; paths are not in the config)" \
  test "$(rd_sha "$T/idx.h5")" = "$(rd_sha "$T/gz.h5")"
rd_check "hdf5 uint8: tensors bit-identical to idx" same_tensors "$T/idx.h5" "$T/h5u8.h5"
# source = hdf5 vs idx is a canonical key (the file records it), so only the
# recorded config and its digest may differ.
rd_check "hdf5 uint8 vs idx: only reprodist_config and its xxh64 differ" \
  test "$(root_attr_diff "$T/idx.h5" "$T/h5u8.h5")" = "reprodist_config reprodist_config_xxh64"
rd_check "hdf5 float32 (python's float32(raw*scale), scale unset): tensors bit-identical to idx" \
  same_tensors "$T/idx.h5" "$T/h5f32.h5"

# Validation data (Keras' fit(validation_data=...) and validation_split): val_x,
# val_y naming the test files evaluate the same samples as the test set, so each
# epoch's val_loss and val_acc equal its test_loss and test_acc, and training
# is untouched (the tensors of the run without them). validation_split = 0.25
# takes the last 128 of the 512 training samples, in both sources alike.
mkcfg idxval "$(idx_data idx)
val_x = $T/test-x.idx
val_y = $T/test-y.idx"
mkcfg h5val "$(h5_data "$T/u8.h5" "scale = $SCALE
val_x = $T/u8.h5:/test/x
val_y = $T/u8.h5:/test/y")"
mkcfg idxsplit "$(idx_data idx)
validation_split = 0.25"
mkcfg h5split "$(h5_data "$T/u8.h5" "scale = $SCALE
validation_split = 0.25")"
for c in idxval h5val idxsplit h5split; do
  train $c 2
  rd_check "$c: trains at np 2 (exit 0)" test $? -eq 0
done
val_is_test() { # LOG: every epoch line's val_loss/val_acc are its test_loss/test_acc
  awk '/^epoch/ { n++; for (i = 1; i < NF; i++) v[$i] = $(i + 1); if (v["val_loss"] == "" || v["val_loss"] != v["test_loss"] || v["val_acc"] != v["test_acc"]) bad++ }
       END { exit !(n > 0 && bad == 0) }' "$1"
}
for c in idxval h5val; do
  rd_check "$c: val_loss and val_acc equal test_loss and test_acc (the same samples)" val_is_test "$T/$c.log"
  rd_check "$c: training is untouched: tensors bit-identical to idx" same_tensors "$T/idx.h5" "$T/$c.h5"
done
rd_check "validation_split = 0.25: 384 training samples, 128 for validation" \
  grep -qF "384 training samples (128 validation samples) in 12 batches" "$T/idxsplit.log"
rd_check "validation_split: hdf5 tensors bit-identical to idx's" same_tensors "$T/idxsplit.h5" "$T/h5split.h5"
rd_check "validation_split: the same epoch lines from hdf5 as from idx" \
  diff <(grep "^epoch" "$T/idxsplit.log" | sed 's/|.*//') <(grep "^epoch" "$T/h5split.log" | sed 's/|.*//')

echo "  [${SECONDS}s]"
# ---- 2. HDF5 at np 1..4 -------------------------------------------------------------
H5SHA=$(rd_sha "$T/h5u8.h5")
for np in 1 3 4; do
  cp "$T/h5u8.cfg" "$T/h5u8_np$np.cfg"
  train h5u8_np$np $np
  rd_check "hdf5 at np $np: sha256 equals np 2's" test "$(rd_sha "$T/h5u8_np$np.h5")" = "$H5SHA"
done

echo "  [${SECONDS}s]"
# ---- 3. limit and test_limit ----------------------------------------------------------
mkcfg lim256 "$(h5_data "$T/u8.h5" "scale = $SCALE
limit = 256")"
train lim256 2
rd_check "limit = 256: the log reports 256 training samples in 8 batches" \
  grep -qF "256 training samples in 8 batches" "$T/lim256.log"
rd_check "limit = 256: weights differ from all 512" bash -c '! cmp -s "$1" "$2"' _ "$T/lim256.h5" "$T/h5u8.h5"
# The first 256 rows of the same source: a 256-row HDF5 must give the same tensors.
"$RD_PYTHON" -c '
import sys, h5py
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "w") as b:
    for s in ("train", "test"):
        b[s + "/x"] = a[s + "/x"][: 256 if s == "train" else None]
        b[s + "/y"] = a[s + "/y"][: 256 if s == "train" else None]
' "$T/u8.h5" "$T/u8_256.h5"
mkcfg cut256 "$(h5_data "$T/u8_256.h5" "scale = $SCALE")"
train cut256 2
rd_check "limit = 256: the same tensors as a file holding only the first 256 rows" \
  same_tensors "$T/lim256.h5" "$T/cut256.h5"
mkcfg limbig "$(h5_data "$T/u8.h5" "scale = $SCALE
limit = 100000")"
train limbig 2
rd_check "limit above the row count: the log reports all 512 training samples" \
  grep -qF "512 training samples in 16 batches" "$T/limbig.log"
rd_check "limit above the row count: tensors equal the 512-row run" same_tensors "$T/limbig.h5" "$T/h5u8.h5"

# test_limit = 100: the weights are untouched (the test set does not train) and
# the logged accuracy is exactly that of the trained weights on the first 100
# test rows, recomputed here in numpy.
mkcfg tlim "$(h5_data "$T/u8.h5" "scale = $SCALE
test_limit = 100")"
sed -i 's/^\[run\]$/[run]\nmetrics = '"${T//\//\\/}"'\/tlim.jsonl/' "$T/tlim.cfg"
train tlim 2
rd_check "test_limit = 100: training tensors unchanged" same_tensors "$T/tlim.h5" "$T/h5u8.h5"
acc_of_first() { # WEIGHTS N: test accuracy of the first N test rows, as count/N
  "$RD_PYTHON" - "$1" "$T/u8.h5" "$2" "$SCALE" <<'EOF'
import sys, h5py, numpy as np
w, d, n, scale = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
with h5py.File(w, "r") as f:
    names = [x.decode() for x in f.attrs["layer_names"]]
    p = [(f[f"{l}/{l}/kernel:0"][()], f[f"{l}/{l}/bias:0"][()]) for l in names]
with h5py.File(d, "r") as f:
    x = (f["test/x"][:n].astype(np.float64) * scale).astype(np.float32)
    y = f["test/y"][:n]
h = np.maximum(x @ p[0][0] + p[0][1], 0)
z = h @ p[1][0] + p[1][1]
print(f"{int((z.argmax(1) == y).sum())}/{n}")
EOF
}
logged_acc() { # JSONL: test_accuracy * 100 as count/100
  "$RD_PYTHON" -c 'import json,sys; a=json.loads(open(sys.argv[1]).readlines()[-1])["test_accuracy"]; print(f"{round(a*100)}/100")' "$1"
}
got=$(logged_acc "$T/tlim.jsonl" 2>&1) want=$(acc_of_first "$T/tlim.h5" 100 2>&1)
echo "  test_limit = 100: logged $got, numpy on the first 100 rows $want"
rd_check "test_limit = 100: logged test accuracy is the first 100 test rows' ($want)" test "$got" = "$want"
rd_check "test_limit = 100: the test metrics differ from the full 256-row test set" \
  bash -c '! diff -q <(grep -o "test_loss [0-9.]*" "$1") <(grep -o "test_loss [0-9.]*" "$2") >/dev/null' _ \
  "$T/tlim.log" "$T/h5u8.log"

echo "  [${SECONDS}s]"
# ---- 4. out of core ------------------------------------------------------------------
# 200,000 x 784 uint8 (157 MB) vs 8,192 rows, trained in full (epochs 1,
# batch 8192, in order: the claim is about memory, not order). HDF5 reads only
# each rank's shard, so peak RSS (the largest process, GNU time %M) must not grow
# by a quarter of the data. The same rows as raw IDX, which rank 0 loads and
# broadcasts whole, show that the probe sees in-core data when there is some.
BIG=200000 SMALL=8192
"$RD_PYTHON" - "$T" $BIG $SMALL <<'EOF' || { echo "FAIL: could not build the big fixtures"; exit 1; }
import struct, sys
import h5py, numpy as np
T, big, small = sys.argv[1] + "/", int(sys.argv[2]), int(sys.argv[3])
row = (np.arange(784) * 7 % 256).astype(np.uint8)
x = (row[None, :] + np.arange(big, dtype=np.uint8)[:, None]).astype(np.uint8)  # fast, not constant
y = (np.arange(big) % 10).astype(np.int64)
for name, n in (("big", big), ("small", small)):
    with h5py.File(f"{T}{name}.h5", "w") as f:
        f["train/x"], f["train/y"] = x[:n], y[:n]
        f["test/x"], f["test/y"] = x[:256], y[:256]
with open(T + "big-x.idx", "wb") as f:
    f.write(struct.pack(">IIII", 0x803, big, 28, 28) + x.tobytes())
with open(T + "big-y.idx", "wb") as f:
    f.write(struct.pack(">II", 0x801, big) + y.astype(np.uint8).tobytes())
open(T + "small-x.idx", "wb").write(struct.pack(">IIII", 0x803, small, 28, 28) + x[:small].tobytes())
open(T + "small-y.idx", "wb").write(struct.pack(">II", 0x801, small) + y[:small].astype(np.uint8).tobytes())
EOF
mem_cfg() { # NAME DATA-LINES
  mkcfg "$1" "$2"
  sed -i 's/^batch_size = 32$/batch_size = 8192/; s/^shard_size = 8$/shard_size = 4096\nshuffle = false/' "$T/$1.cfg"
}
export -f rd_run
# Under AddressSanitizer (launch/test-sanitize) freed memory waits in a 256 MB
# quarantine before reuse, so peak RSS would count every row ever read; without
# it RSS follows live memory again. Other builds ignore ASAN_OPTIONS.
peak_kb() { # NAME: trains $T/NAME.cfg at np 2, prints the peak RSS in kB, or 0 on failure
  if ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" /usr/bin/time -f %M -o "$T/$1.rss" bash -c 'rd_run 2 "$1" -o "$2"' _ "$T/$1.cfg" "$T/$1.h5" \
    >"$T/$1.log" 2>"$T/$1.err"; then
    tail -1 "$T/$1.rss"
  else
    echo "  $1 failed:" >&2
    sed 's/^/  | /' "$T/$1.err" | head -20 >&2
    echo 0
  fi
}
mem_cfg mem_h5_small "$(h5_data "$T/small.h5")"
mem_cfg mem_h5_big "$(h5_data "$T/big.h5")"
mem_idx() { printf 'source = idx\ntrain_x = %s\ntrain_y = %s\ntest_x = %s\ntest_y = %s\ntest_limit = 256\n' \
  "$T/$1-x.idx" "$T/$1-y.idx" "$T/small-x.idx" "$T/small-y.idx"; }
mem_cfg mem_idx_small "$(mem_idx small)"
mem_cfg mem_idx_big "$(mem_idx big)"
mem_cfg mem_idx_big_lim "$(mem_idx big)
limit = $SMALL"
declare -A KB
echo "  [${SECONDS}s] big fixtures written"
for c in mem_h5_small mem_h5_big mem_idx_small mem_idx_big mem_idx_big_lim; do KB[$c]=$(peak_kb $c); done
DATA_KB=$((BIG * 784 / 1024))
echo "  peak RSS kB: hdf5 ${KB[mem_h5_small]} ($SMALL rows) -> ${KB[mem_h5_big]} ($BIG rows);" \
  "idx ${KB[mem_idx_small]} -> ${KB[mem_idx_big]}, with limit = $SMALL ${KB[mem_idx_big_lim]}; the big data is $DATA_KB kB"
rd_check "out of core: the $BIG-row HDF5 trained in full ($BIG training samples logged)" \
  grep -qF "$BIG training samples" "$T/mem_h5_big.log"
grows() { # A B: kB growth from A to B, or a huge number if a run failed
  if [ "$1" -gt 0 ] && [ "$2" -gt 0 ]; then echo $(($2 - $1)); else echo 999999999; fi
}
IDX_GROWTH=$(grows "${KB[mem_idx_small]}" "${KB[mem_idx_big]}")
H5_GROWTH=$(grows "${KB[mem_h5_small]}" "${KB[mem_h5_big]}")
rd_check "probe: IDX (loaded whole) grows peak RSS by at least 3/4 of the data" \
  test "$IDX_GROWTH" -ge $((DATA_KB * 3 / 4)) -a "$IDX_GROWTH" -ne 999999999
rd_check "out of core: HDF5 peak RSS grows by less than a quarter of the data" test "$H5_GROWTH" -lt $((DATA_KB / 4))
# limit cuts what IDX keeps: the big file's first $SMALL rows cost what the
# $SMALL-row file does (the rest is read and checked, not stored), and train
# the same weights.
LIM_GROWTH=$(grows "${KB[mem_idx_small]}" "${KB[mem_idx_big_lim]}")
rd_check "IDX limit = $SMALL: the log reports $SMALL training samples" \
  grep -qF "$SMALL training samples" "$T/mem_idx_big_lim.log"
rd_check "IDX limit = $SMALL: peak RSS within a quarter of the big data of the $SMALL-row file's" \
  test "$LIM_GROWTH" -lt $((DATA_KB / 4)) -a "$LIM_GROWTH" -gt $((-DATA_KB / 4))
rd_check "IDX limit = $SMALL: the same tensors as the $SMALL-row file" \
  same_tensors "$T/mem_idx_big_lim.h5" "$T/mem_idx_small.h5"

echo "  [${SECONDS}s]"
# ---- 5. images for a convnet -------------------------------------------------------------
cnncfg() { # NAME INPUT EXTRA-SECTIONS DATA-LINES
  cat >"$T/$1.cfg" <<EOF
[run]
seed = 11
[model]
input = $2
$3
[conv2d]
filters = 4
kernel_size = 3
activation = relu
[max_pooling2d]
[flatten]
[dense]
units = 10
activation = softmax
[data]
$4
[train]
epochs = 1
batch_size = 32
shard_size = 8
EOF
}
cnncfg cnn_idx 28,28,1 "" "$(idx_data idx)"
cnncfg cnn_h5 28,28,1 "" "$(h5_data "$T/img.h5" "scale = $SCALE")"
cnncfg cnn_flat 784 "$(printf '[reshape]\ntarget_shape = 28,28,1')" "$(h5_data "$T/u8.h5" "scale = $SCALE")"
for c in cnn_idx cnn_h5 cnn_flat; do
  train $c 2
  rd_check "$c: trains at np 2 (exit 0)" test $? -eq 0
done
rd_check "convnet: IDX 28x28 images and HDF5 (N, 28, 28, 1) give bit-identical tensors" \
  same_tensors "$T/cnn_idx.h5" "$T/cnn_h5.h5"
rd_check "convnet: flat HDF5 through [reshape] gives them too (the reshape layer holds no tensor)" \
  same_tensors "$T/cnn_idx.h5" "$T/cnn_flat.h5"
rd_finish
