# Bad data is a user error, never a crash, a hang or a half-written file.
# Each case trains (`reprodist CONFIG`) at np 2 on a crafted file and expects:
#   exit code 2 (within rd_run's 60 s: no hang); the one message naming the file
#   (and dataset) exactly once on stderr, with no HDF5 error stack and no abort;
#   no weights file nor temporary created; a pre-existing -o file byte for byte.
# The messages checked are those of src/data.c and src/train.c.
. "${RD_TESTS:?run through ctest}/lib.sh" || exit 1
T=$RD_TMP

# ---- fixtures ------------------------------------------------------------------
# Small valid data (64 samples of 28x28 uint8, labels in [0, 10)) and, next to
# it, one broken variant per case.
"$RD_PYTHON" - "$T" <<'EOF' || { echo "FAIL: could not build the fixtures"; exit 1; }
import gzip, struct, sys
import h5py, numpy as np
T = sys.argv[1] + "/"
rng = np.random.default_rng(1)
n = 64
x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
y = rng.integers(0, 10, n).astype(np.uint8)

def idx(name, a, magic=None, ndims=None, data=None):
    magic = magic if magic is not None else 0x800 | a.ndim
    with open(T + name, "wb") as f:
        f.write(struct.pack(">I", magic))
        for d in a.shape:
            f.write(struct.pack(">I", d))
        f.write(a.tobytes() if data is None else data)

idx("x.idx", x)
idx("y.idx", y)
idx("x16.idx", x[:16])
idx("y16.idx", y[:16])
idx("y63.idx", y[:63])                                   # one label short
idx("x_magic.idx", x, magic=0x00000D03)                  # float32 IDX type
idx("x_trunc.idx", x, data=x.tobytes()[:-100])           # header says 64, data short
with open(T + "x_huge.idx", "wb") as f:                  # header says 2^32-1 items (3.4 TB)
    f.write(struct.pack(">IIII", 0x803, 0xFFFFFFFF, 28, 28) + x.tobytes())
open(T + "x_huge.idx.gz", "wb").write(gzip.compress(open(T + "x_huge.idx", "rb").read(), mtime=0))
with open(T + "x_ovf.idx", "wb") as f:                   # dimensions whose product overflows
    f.write(struct.pack(">IIIII", 0x804, 64, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + x.tobytes())
bad = y.copy(); bad[5] = 10
idx("y_10.idx", bad)                                     # label 10, 10 classes
with open(T + "x_raw.gz", "wb") as f:                    # IDX bytes, .gz name
    f.write(open(T + "x.idx", "rb").read())
gz = gzip.compress(open(T + "x.idx", "rb").read(), mtime=0)
open(T + "x_cut.idx.gz", "wb").write(gz[: len(gz) // 2])  # a real .gz cut in half
bad = bytearray(gz); bad[len(gz) // 2 : len(gz) // 2 + 64] = bytes(64)
open(T + "x_bad.idx.gz", "wb").write(bytes(bad))       # a .gz with a zeroed block
open(T + "x_good.idx.gz", "wb").write(gz)

x2 = x.reshape(n, 784)
def h5(name, **sets):
    with h5py.File(T + name, "w") as f:
        for k, v in sets.items():
            f[k] = v
h5("ok.h5", x=x2, y=y.astype(np.int64))
h5("x3d.h5", x=x, y=y.astype(np.int64))
h5("x5d.h5", x=x.reshape(n, 1, 28, 28, 1), y=y.astype(np.int64))
h5("xi32.h5", x=x2.astype(np.int32), y=y.astype(np.int64))
h5("xf64.h5", x=x2.astype(np.float64), y=y.astype(np.int64))
h5("yf32.h5", x=x2, y=y.astype(np.float32))
h5("yneg.h5", x=x2, y=np.where(np.arange(n) == 7, -1, y).astype(np.int64))
h5("y63.h5", x=x2, y=y[:63].astype(np.int64))
h5("empty.h5", x=np.zeros((0, 784), np.uint8), y=np.zeros((0,), np.int64))
xf = (x2.astype(np.float32) / 255)                      # float32 features, one NaN
xf[40, 7] = np.nan
h5("nan.h5", x=xf, y=y.astype(np.int64))
with h5py.File(T + "lzf.h5", "w") as f:                  # a filter libhdf5 lacks; h5py
    # marks LZF optional and stores chunks it cannot shrink raw: use compressible rows
    f.create_dataset("x", data=(np.arange(n * 784) % 7).astype(np.uint8).reshape(n, 784),
                     chunks=(8, 784), compression="lzf")
    f["y"] = y.astype(np.int64)
ok = open(T + "ok.h5", "rb").read()
open(T + "trunc.h5", "wb").write(ok[: len(ok) // 2])
xf = (x2.astype(np.float32) / 255)                      # inf in sample 20, which rank 1 of 2
xf[20, 13] = np.inf                                     # reads (batch 0, unshuffled: shards 2-3)
h5("inf20.h5", x=xf, y=y.astype(np.int64))
h5("ybig.h5", x=x2, y=np.where(np.arange(n) == 9, 2**63 + 5, y).astype(np.uint64))  # a uint64 label of 2^63+5
with h5py.File(T + "grp.h5", "w") as f:                 # datasets in a group, then its B-tree's
    g = f.create_group("train"); g["x"] = x2; g["y"] = y.astype(np.int64)  # signature overwritten
b = bytearray(open(T + "grp.h5", "rb").read())
trees = [i for i in range(len(b) - 4) if b[i:i + 4] == b"TREE"]
assert len(trees) == 2, trees                            # the root group's, then /train's
c = bytearray(b); c[trees[0]:trees[0] + 4] = b"XXXX"
open(T + "grp_bad.h5", "wb").write(bytes(c))
open(T + "text.h5", "wb").write(b"this is not an HDF5 file\n" * 100)
EOF

# mkcfg NAME INPUT DATA-LINES: the small model on the given [data] section.
mkcfg() {
  cat >"$T/$1.cfg" <<EOF
[run]
seed = 3
[model]
input = $2
[flatten]
[dense]
units = 16
activation = relu
[dense]
units = 10
activation = softmax
[data]
$3
[train]
epochs = 1
batch_size = 32
shard_size = 8
EOF
}
# idx_data TRAIN_X TRAIN_Y: [data] lines with the valid test set.
idx_data() {
  printf 'source = idx\ntrain_x = %s\ntrain_y = %s\ntest_x = %s\ntest_y = %s\nlimit = 64\ntest_limit = 32\nscale = 0.00392156862745098\n' \
    "$1" "$2" "$T/x.idx" "$T/y.idx"
}
h5_data() {
  printf 'source = hdf5\ntrain_x = %s\ntrain_y = %s\ntest_x = %s\ntest_y = %s\nlimit = 64\ntest_limit = 32\n' \
    "$1" "$2" "$T/ok.h5:x" "$T/ok.h5:y"
}

# ---- controls: the fixtures are good, so each failure below is its own --------------
PRE=$T/pre.h5
mkcfg good_idx 784 "$(idx_data "$T/x.idx" "$T/y.idx")"
rd_run 2 "$T/good_idx.cfg" -o "$PRE" >/dev/null 2>"$T/good.err"
rd_check "control: valid IDX trains (exit 0) and writes the weights" test $? -eq 0 -a -s "$PRE"
mkcfg good_gz 784 "$(idx_data "$T/x_good.idx.gz" "$T/y.idx")"
rd_run 2 "$T/good_gz.cfg" -o "$T/good_gz.h5" >/dev/null 2>"$T/good.err"
rd_check "control: the uncut .gz trains (exit 0)" test $? -eq 0 -a -s "$T/good_gz.h5"
mkcfg good_h5 784 "$(h5_data "$T/ok.h5:x" "$T/ok.h5:y")"
rd_run 2 "$T/good_h5.cfg" -o "$T/good_h5.h5" >/dev/null 2>"$T/good.err"
rd_check "control: valid HDF5 trains (exit 0)" test $? -eq 0 -a -s "$T/good_h5.h5"
PRE_SHA=$(rd_sha "$PRE")
echo "  [${SECONDS}s] fixtures and controls"

# expect_error CASE MESSAGE: starts two np-2 trainings on $T/CASE.cfg in the
# background, one with -o into the empty dir $T/CASE.new/, one with -o onto a
# copy of $PRE alone in $T/CASE.old/. check_errors then waits and checks them.
# (A failing mpiexec spends about a second in its error path, mostly idle, so
# the runs overlap: at most 6 at once.)
CASES=()
declare -A MSG
expect_error() {
  local name=$1
  CASES+=("$name")
  MSG[$name]=$2
  mkdir -p "$T/$name.new" "$T/$name.old"
  cp "$PRE" "$T/$name.old/pre.h5"
  local run
  for run in new old; do
    while [ "$(jobs -rp | wc -l)" -ge 6 ]; do wait -n; done
    local out=$T/$name.new/weights.h5
    [ $run = old ] && out=$T/$name.old/pre.h5
    (rd_run 2 "$T/$name.cfg" -o "$out" >"$T/$name.$run.stdout" 2>"$T/$name.$run.stderr"
     echo $? >"$T/$name.$run.rc") &
  done
}

check_errors() {
  wait
  local name run n ok
  for name in "${CASES[@]}"; do
    local msg=${MSG[$name]}
    ok=1
    for run in new old; do
      local rc e=$T/$name.$run.stderr
      rc=$(cat "$T/$name.$run.rc")
      n=$(grep -cF -- "$msg" "$e")
      [ "$rc" -eq 2 ] || { echo "  $run: exit code $rc (want 2)"; ok=0; }
      [ "$n" -eq 1 ] || { echo "  $run: message found $n times (want 1): $msg"; ok=0; }
      if grep -qE 'HDF5-DIAG|MPI_ABORT|\[rank [0-9]+/|Segmentation|Aborted|Killed' "$e"; then
        echo "  $run: an HDF5 error stack, abort or crash on stderr"
        ok=0
      fi
    done
    [ "$ok" -eq 1 ] || grep -v '^\[[^]]*\] \[ *[0-9]' "$T/$name.new.stderr" | sed 's/^/  | /' # no backtraces
    rd_check "$name: exit 2 and one message: $msg" test "$ok" -eq 1
    rd_check "$name: -o to a fresh path creates no file (nor a temporary)" test -z "$(ls -A "$T/$name.new")"
    rd_check "$name: -o onto an existing file leaves it (and only it) untouched" \
      test "$(ls -A "$T/$name.old")" = pre.h5 -a "$(rd_sha "$T/$name.old/pre.h5")" = "$PRE_SHA"
  done
}

# ---- IDX ---------------------------------------------------------------------------
mkcfg missing 784 "$(idx_data "$T/missing-images.idx" "$T/y.idx")"
expect_error missing "$T/missing-images.idx: cannot open data file (No such file or directory; [data] train_x, $T/missing.cfg:14)"

mkcfg magic 784 "$(idx_data "$T/x_magic.idx" "$T/y.idx")"
# (The text after the expected magic says "with 2 dimensions", which 0x803 is
# not; it is left unchecked here and reported.)
expect_error magic "$T/x_magic.idx: wrong IDX magic 0x00000d03 (expected 0x00000803"

mkcfg swapped 784 "$(idx_data "$T/y.idx" "$T/x.idx")"
expect_error swapped "$T/y.idx: wrong IDX magic 0x00000801 (expected 0x00000803"

mkcfg truncated 784 "$(idx_data "$T/x_trunc.idx" "$T/y.idx")"
expect_error truncated "$T/x_trunc.idx: truncated: expected 50176 bytes of data after the header, found 50076"

# A header promising more than the file holds: refused before anything is
# allocated for it (was: an attempt to allocate 3.4 TB, then an abort).
mkcfg huge 784 "$(idx_data "$T/x_huge.idx" "$T/y.idx")"
expect_error huge "$T/x_huge.idx: truncated: expected 3367254359280 bytes of data after the header, found 50176"
mkcfg gz_huge 784 "$(idx_data "$T/x_huge.idx.gz" "$T/y.idx")"
expect_error gz_huge "$T/x_huge.idx.gz: truncated: the gzip stream ends after 50176 decompressed bytes of data after the header, 3367254359280 expected"
mkcfg overflow 784 "$(idx_data "$T/x_ovf.idx" "$T/y.idx")"
expect_error overflow "$T/x_ovf.idx: corrupt IDX header: 64 items of 4294967295x4294967295x4294967295 bytes exceed 2^63 bytes"

mkcfg gz_cut 784 "$(idx_data "$T/x_cut.idx.gz" "$T/y.idx")"
expect_error gz_cut "$T/x_cut.idx.gz: truncated: the gzip stream ends after "

# (zlib's own message repeats the path inside the parentheses; reported.)
mkcfg gz_bad 784 "$(idx_data "$T/x_bad.idx.gz" "$T/y.idx")"
expect_error gz_bad "$T/x_bad.idx.gz: corrupt gzip stream while reading the data after the header ("

mkcfg gz_not 784 "$(idx_data "$T/x_raw.gz" "$T/y.idx")"
expect_error gz_not "$T/x_raw.gz: not a gzip stream (the name ends in .gz but the file does not start with 1f 8b); re-download or decompress it"

mkcfg label10 784 "$(idx_data "$T/x.idx" "$T/y_10.idx")"
expect_error label10 "$T/y_10.idx: label 10 at index 5 is outside [0, 10) (the last layer has 10 units)"

mkcfg width 100 "$(idx_data "$T/x.idx" "$T/y.idx")"
expect_error width "$T/x.idx: samples have 28x28 = 784 features, but [model] input = 100"

mkcfg count 784 "$(idx_data "$T/x.idx" "$T/y63.idx")"
expect_error count "$T/y63.idx: 63 labels, but $T/x.idx has 64 samples; the two files must match"

mkcfg small 784 "$(idx_data "$T/x16.idx" "$T/y16.idx")"
expect_error small "$T/x16.idx: 16 training samples are fewer than one batch (batch_size = 32)"

# The test set is checked as strictly as the training set.
mkcfg test_missing 784 "$(idx_data "$T/x.idx" "$T/y.idx" | sed "s|^test_y = .*|test_y = $T/no-test-labels.idx|")"
expect_error test_missing "$T/no-test-labels.idx: cannot open data file (No such file or directory; [data] test_y, $T/test_missing.cfg:17)"

# ---- HDF5 --------------------------------------------------------------------------
mkcfg h5_nodset 784 "$(h5_data "$T/ok.h5:/images" "$T/ok.h5:y")"
expect_error h5_nodset "$T/ok.h5: dataset '/images' not found"

mkcfg h5_5d 784 "$(h5_data "$T/x5d.h5:x" "$T/x5d.h5:y")"
expect_error h5_5d "$T/x5d.h5:x: features must be 2-D to 4-D (samples, ...), found 5-D"

# Shapes: images (N, 28, 28) fit input 784 and 28,28,1, not 28,14,2 or 32,32,3;
# flat features (N, 784) fit 784 only.
mkcfg idx_shape 32,32,3 "$(idx_data "$T/x.idx" "$T/y.idx")"
expect_error idx_shape "$T/x.idx: samples are 28x28 (784 values), but [model] input = 32,32,3 (3072 values)"
mkcfg idx_shape_same_size 28,14,2 "$(idx_data "$T/x.idx" "$T/y.idx")"
expect_error idx_shape_same_size "$T/x.idx: samples are 28x28 (784 values), but [model] input = 28,14,2 (784 values)"
mkcfg h5_flat_into_image 28,28,1 "$(h5_data "$T/ok.h5:x" "$T/ok.h5:y")"
expect_error h5_flat_into_image "$T/ok.h5:x: samples are 784 (784 values), but [model] input = 28,28,1 (784 values)"
mkcfg h5_image_shape 28,27,1 "$(h5_data "$T/x3d.h5:x" "$T/x3d.h5:y")"
expect_error h5_image_shape "$T/x3d.h5:x: samples are 28x28 (784 values), but [model] input = 28,27,1 (756 values)"

mkcfg h5_i32 784 "$(h5_data "$T/xi32.h5:x" "$T/xi32.h5:y")"
expect_error h5_i32 "$T/xi32.h5:x: features must be uint8 or float32, found signed integer"

mkcfg h5_f64 784 "$(h5_data "$T/xf64.h5:x" "$T/xf64.h5:y")"
expect_error h5_f64 "$T/xf64.h5:x: features must be uint8 or float32, found float64"

mkcfg h5_yfloat 784 "$(h5_data "$T/yf32.h5:x" "$T/yf32.h5:y")"
expect_error h5_yfloat "$T/yf32.h5:y: labels must be integers, found float32"

mkcfg h5_yneg 784 "$(h5_data "$T/yneg.h5:x" "$T/yneg.h5:y")"
expect_error h5_yneg "$T/yneg.h5:y: label -1 at index 7 is outside [0, 10) (the last layer has 10 units)"

mkcfg h5_count 784 "$(h5_data "$T/y63.h5:x" "$T/y63.h5:y")"
expect_error h5_count "$T/y63.h5:y: 63 labels, but $T/y63.h5:x has 64 samples; they must match"

mkcfg h5_empty 784 "$(h5_data "$T/empty.h5:x" "$T/empty.h5:y")"
expect_error h5_empty "$T/empty.h5:x: the dataset is empty"

mkcfg h5_width 100 "$(h5_data "$T/ok.h5:x" "$T/ok.h5:y")"
expect_error h5_width "$T/ok.h5:x: samples have 784 features, but [model] input = 100"

mkcfg h5_text 784 "$(h5_data "$T/text.h5:x" "$T/text.h5:y")"
expect_error h5_text "$T/text.h5: not an HDF5 file"

mkcfg h5_trunc 784 "$(h5_data "$T/trunc.h5:x" "$T/trunc.h5:y")"
expect_error h5_trunc "$T/trunc.h5: HDF5 could not open the file (corrupt or truncated?)"

# A file on which Debian 12's HDF5 1.10.8 itself crashes (SIGSEGV inside
# H5Fopen; found by fuzz_h5): the crash guard turns that into the one message.
cp "$RD_SRC/tests/fuzz/findings/h5fopen-segv.h5" "$T/segv.h5"
mkcfg h5_segv 784 "$(h5_data "$T/segv.h5:x" "$T/ok.h5:y")"
expect_error h5_segv "$T/segv.h5: HDF5 crashed reading it: the file's HDF5 structure is corrupt (HDF5 1.10 cannot read such files safely); restore the file or write it again"

# The message must name the key the user wrote (train_x), not an internal "x", and where.
mkcfg h5_nocolon 784 "$(h5_data "$T/ok.h5" "$T/ok.h5:y")"
expect_error h5_nocolon "$T/h5_nocolon.cfg:14: train_x = '$T/ok.h5': for source = hdf5 write FILE:DATASET, e.g. data.h5:/train/x"

mkcfg h5_missing 784 "$(h5_data "$T/missing.h5:x" "$T/missing.h5:y")"
expect_error h5_missing "$T/missing.h5: cannot open data file (No such file or directory; [data] train_x, $T/h5_missing.cfg:14)"
# A directory where a file belongs, named with its line too.
mkcfg h5_dir 784 "$(h5_data "$T/ok.h5:x" "$T:y")"
expect_error h5_dir "$T: is a directory, not a data file ([data] train_y, $T/h5_dir.cfg:15)"

# The x chunks need the LZF filter, which libhdf5 does not ship: refused when
# the dataset is opened, before training, not half-way through.
mkcfg h5_filter 784 "$(h5_data "$T/lzf.h5:x" "$T/lzf.h5:y")"
expect_error h5_filter "$T/lzf.h5:x: compressed with HDF5 filter 32000"

# A NaN feature is found only while reading the batch that holds it: every
# rank must stop in the same step, with exit 2 (this path once segfaulted).
mkcfg h5_nan 784 "$(h5_data "$T/nan.h5:x" "$T/nan.h5:y")"
expect_error h5_nan "$T/nan.h5:x: sample 40 has a non-finite feature (nan at column 7); clean the data"

# The rank that found the bad sample is not rank 0: its exact message still wins
# over the other ranks' "reading training samples failed".
mkcfg h5_inf_rank1 784 "$(h5_data "$T/inf20.h5:x" "$T/inf20.h5:y")"
sed -i 's/^\[train\]$/[train]\nshuffle = false/' "$T/h5_inf_rank1.cfg"
expect_error h5_inf_rank1 "$T/inf20.h5:x: sample 20 has a non-finite feature (inf at column 13); clean the data"

mkcfg h5_ybig 784 "$(h5_data "$T/ybig.h5:x" "$T/ybig.h5:y")"
expect_error h5_ybig "$T/ybig.h5:y: label 9223372036854775813 at index 9 is outside [0, 10) (the last layer has 10 units)"

# A path through a group that does not exist, and a file whose group structure is corrupt.
mkcfg h5_nogroup 784 "$(h5_data "$T/grp.h5:/test/x" "$T/grp.h5:/train/y")"
expect_error h5_nogroup "$T/grp.h5: dataset '/test/x' not found"
mkcfg h5_corrupt 784 "$(h5_data "$T/grp_bad.h5:/train/x" "$T/grp.h5:/train/y")"
expect_error h5_corrupt "$T/grp_bad.h5: HDF5 could not read the file's structure at '/train' (corrupt or truncated file?)"

mkcfg h5_small 784 "$(h5_data "$T/ok.h5:x" "$T/ok.h5:y" | sed 's/^limit = 64/limit = 31/')"
expect_error h5_small "$T/ok.h5:x: 31 training samples are fewer than one batch (batch_size = 32)"

echo "  [${SECONDS}s] all cases started"
check_errors
echo "  [${SECONDS}s]"
rd_finish
