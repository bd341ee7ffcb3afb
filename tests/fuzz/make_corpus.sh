#!/bin/bash
# Remakes the binary seed files of the fuzz corpus (the text seeds in
# corpus/cfg/ are written by hand). Run from anywhere:
#   REPRODIST=build/reprodist tests/fuzz/make_corpus.sh
# corpus/idx/  16 images of 28x28 and 16 labels, as IDX and IDX.gz; regressions:
#              headers claiming 2^32-1 images, and dimensions whose product overflows
# corpus/h5/   tiny.cfg's initial weights, a checkpoint of it after 2 steps, and
#              a Keras-style weights file with variable-length string attributes;
#              regressions: a kernel claiming 16 TiB, stored whole and in chunks
# corpus/keras/ .keras archives (reprodist's and Keras') and model JSON
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${REPRODIST:?set REPRODIST to a built reprodist binary}"
PY=${RD_PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PY" - "$here/corpus/idx" <<'PYEOF'
import gzip, struct, sys
d = sys.argv[1] + "/"
n = 16
x = bytes((i * 7) % 256 for i in range(n * 784))
y = bytes(i % 10 for i in range(n))
def idx(dims, body, magic):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", k) for k in dims) + body
files = {"x16.idx": idx((n, 28, 28), x, 0x803), "y16.idx": idx((n,), y, 0x801),
         "x16-2d.idx": idx((n, 784), x, 0x802)}
for name, data in files.items():
    open(d + name, "wb").write(data)
open(d + "x16.idx.gz", "wb").write(gzip.compress(files["x16.idx"], mtime=0))
open(d + "y16.idx.gz", "wb").write(gzip.compress(files["y16.idx"], mtime=0))
open(d + "huge-header.idx", "wb").write(struct.pack(">IIII", 0x803, 0xFFFFFFFF, 28, 28) + x)
open(d + "overflow.idx", "wb").write(struct.pack(">IIIII", 0x804, n, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + x)
def npy(descr, shape, body):  # .npy version 1.0, header padded to 64 bytes
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    h += " " * (63 - (10 + len(h)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + body
open(d + "x16.npy", "wb").write(npy("|u1", "(16, 28, 28)", x))
open(d + "x2-f4.npy", "wb").write(npy("<f4", "(2, 784)", struct.pack("<1568f", *[i / 1568 for i in range(1568)])))
PYEOF

H=$here/corpus/h5
run() { "$REPRODIST" "$@" >/dev/null; }
run init "$here/tiny.cfg" -o "$H/tiny-init.h5"
run "$here/tiny.cfg" --set train.steps_per_epoch=2 --set "run.checkpoint_dir=$tmp/ck" \
  --set "run.checkpoint_every=2 steps" -o "$tmp/w.h5"
cp "$tmp/ck/ckpt-000000000002.h5" "$H/tiny-ckpt.h5"
"$PY" - "$H/keras-vlen.h5" <<'PYEOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:           # as h5py-based Keras writers do
    f.attrs["layer_names"] = np.array(["dense"], dtype=h5py.string_dtype())
    f.attrs["backend"] = "tensorflow"
    g = f.create_group("dense")
    g.attrs["weight_names"] = np.array(["dense/kernel:0", "dense/bias:0"], dtype=h5py.string_dtype())
    g2 = g.create_group("dense")
    g2["kernel:0"] = np.arange(12, dtype=np.float32).reshape(4, 3)
    g2["bias:0"] = np.zeros(3, np.float32)
for name, chunks in (("huge.h5", None), ("huge-chunked.h5", (1024, 1024))):
    with h5py.File(sys.argv[1].replace("keras-vlen.h5", name), "w") as f:
        f.attrs["layer_names"] = [b"dense"]
        g = f.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0"]
        g.create_dataset("dense/kernel:0", shape=(1 << 21, 1 << 21), dtype="f4", chunks=chunks)
PYEOF
# corpus/keras/: tiny.cfg's archive (reprodist's, with its optimizer) and its model JSON,
# and real Keras' small_graph.keras (tests/keras/) with its config.json alone
K=$here/corpus/keras
mkdir -p "$K"
run init "$here/tiny.cfg" -o "$K/tiny.keras"
"$REPRODIST" keras-config "$here/tiny.cfg" > "$K/tiny.json"
cp "$here/../keras/small_graph.keras" "$K/small_graph.keras"
unzip -p "$K/small_graph.keras" config.json > "$K/small_graph.json"
ls -l "$here"/corpus/*/
