#!/usr/bin/python3
"""reprodist evaluate CONFIG W.h5: the test set's loss and accuracy of a weights file;
reprodist predict CONFIG W.h5 INPUT -o OUT: the model's outputs for an input file (W.h5 or W.keras).

1. Trains the Fashion-MNIST MLP on a subset (1 epoch, np 2) to w.h5.
2. `evaluate` at np 1, 2 and 3 prints the same line, byte for byte (fixed
   shards, canonical sums), and its numbers are the ones training printed after
   its last epoch for the same weights.
3. An independent reference: numpy, float64, reads the test IDX file itself
   (gzip + the IDX header), runs 784-128 relu-10 softmax with the file's
   tensors (h5py), and computes the mean crossentropy and the accuracy:
   reprodist (float32) agrees to 1e-5 relative and within one sample.
4. Bad input: weights of another model (names the dataset and both shapes), a
   missing file, a missing operand: exit 2, one line.
5. predict: 300 test images as a uint8 .npy give the same .npy bytes at np 1,
   2 and 3; each row is numpy float64's softmax output to 1e-5; the same
   images as an HDF5 uint8 dataset (output .h5) give the same float bits; the
   whole IDX test file agrees to 1e-5 on those rows; float32 images with
   data.scale = 1 agree to 1e-5. An input of another shape, an output onto the
   input, and no -o: exit 2, one line.
"""
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

REPRODIST = os.environ["REPRODIST"]
SRC = os.environ["RD_SRC"]
LIMIT = os.environ.get("RD_LIMIT", "600")
MPI = [os.environ["RD_MPIEXEC"]] + os.environ.get("RD_MPIFLAGS", "").split()
NPFLAG = os.environ.get("RD_NPFLAG", "-np")
FM = os.path.join(SRC, "configs", "fashion_mnist_mlp.cfg")
SYN = os.path.join(SRC, "configs", "synthetic.cfg")
SUB = ["--set", "data.limit=2048", "--set", "data.test_limit=1000"]
passes = fails = 0


def check(ok, what, detail=""):
    global passes, fails
    if ok:
        passes += 1
        print("ok:", what)
    else:
        fails += 1
        print("FAIL:", what)
        if detail:
            print("   ", detail.replace("\n", "\n    "))


def run(np_, *args):
    cmd = ["timeout", "-k", "5", LIMIT] + MPI + [NPFLAG, str(np_), REPRODIST] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True)


def ours(stderr):
    """reprodist's own stderr lines (not Open MPI's boxes)."""
    return [l for l in stderr.splitlines() if l and not l.startswith("-") and not l.startswith(" ")
            and "Primary job" not in l and "mpiexec" not in l and "mpirun" not in l and "Process name" not in l
            and "Exit code" not in l and "a non-zero exit code" not in l and "the job to be terminated" not in l
            and "thus causing" not in l]


def idx_images(path, n):
    with gzip.open(path, "rb") as f:
        b = f.read()
    assert b[:4] == b"\x00\x00\x08\x03", "not an IDX uint8 image file"
    count, rows, cols = (int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(3))
    x = np.frombuffer(b, dtype=np.uint8, offset=16, count=count * rows * cols).reshape(count, rows * cols)
    return x[:n]


def idx_labels(path, n):
    with gzip.open(path, "rb") as f:
        b = f.read()
    assert b[:4] == b"\x00\x00\x08\x01", "not an IDX label file"
    return np.frombuffer(b, dtype=np.uint8, offset=8)[:n]


def main():
    tmp = tempfile.mkdtemp(prefix="rdeval.")
    os.chdir(tmp)
    r = run(2, FM, *SUB, "--set", "train.epochs=1", "--set", "run.metrics=", "-o", "w.h5,w.keras")
    check(r.returncode == 0, "training the subset at np 2 (exit %d)" % r.returncode, r.stderr[-2000:])
    last = [l for l in r.stdout.splitlines() if l.startswith("epoch 1/1")]
    m = re.search(r"test_loss (\S+)  test_acc (\S+)", last[0]) if last else None
    check(m is not None, "training printed its test metrics")
    lines = {}
    for np_ in (1, 2, 3):
        e = run(np_, "evaluate", FM, "w.h5", *SUB)
        lines[np_] = e.stdout.strip()
        check(e.returncode == 0 and lines[np_].startswith("test_loss "),
              "evaluate at np %d: exit 0, one line (%s)" % (np_, lines[np_]), e.stderr[-2000:])
    check(lines[1] == lines[2] == lines[3], "evaluate prints the same line at np 1, 2 and 3")
    got = re.search(r"test_loss (\S+)  test_acc (\S+)  \((\d+) test samples", lines[1])
    check(got is not None and m is not None and (got.group(1), got.group(2)) == (m.group(1), m.group(2)),
          "evaluate's numbers are training's after its last epoch (%s vs %s)" %
          (got.groups() if got else None, m.groups() if m else None))
    # numpy, float64, from the files alone.
    d = "/usr/share/datasets/fashion-mnist/"
    x = idx_images(d + "t10k-images-idx3-ubyte.gz", 1000).astype(np.float64) * 0.00392156862745098
    y = idx_labels(d + "t10k-labels-idx1-ubyte.gz", 1000)
    with h5py.File("w.h5", "r") as f:
        k0, b0 = f["dense/dense/kernel:0"][()].astype(np.float64), f["dense/dense/bias:0"][()].astype(np.float64)
        k1, b1 = f["dense_1/dense_1/kernel:0"][()].astype(np.float64), f["dense_1/dense_1/bias:0"][()].astype(np.float64)
    z = np.maximum(x @ k0 + b0, 0) @ k1 + b1
    z -= z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ref_loss = -logp[np.arange(len(y)), y].mean()
    ref_correct = int((z.argmax(axis=1) == y).sum())
    if got:
        loss, acc, n = float(got.group(1)), float(got.group(2)), int(got.group(3))
        check(n == 1000, "evaluate used the 1000 test samples of test_limit (%d)" % n)
        check(abs(loss - ref_loss) <= 1e-5 * abs(ref_loss) + 1e-6,
              "test loss %.6f against numpy float64 %.8f" % (loss, ref_loss))
        check(abs(acc * 1000 - ref_correct) <= 1.0,
              "test accuracy %.4f against numpy float64 %d/1000" % (acc, ref_correct))
    # predict
    x300 = idx_images(d + "t10k-images-idx3-ubyte.gz", 300).reshape(300, 28, 28)
    np.save("in.npy", x300)
    with h5py.File("in.h5", "w") as f:
        f["images"] = x300
    np.save("in_f4.npy", (x300.astype(np.float64) / 255.0).astype(np.float32))
    shas = set()
    for np_ in (1, 2, 3):
        e = run(np_, "predict", FM, "w.h5", "in.npy", "-o", "p%d.npy" % np_)
        check(e.returncode == 0, "predict at np %d: exit 0 (%s)" % (np_, e.stdout.strip()), e.stderr[-2000:])
        if os.path.exists("p%d.npy" % np_):
            shas.add(open("p%d.npy" % np_, "rb").read())
    check(len(shas) == 1, "predict writes the same .npy bytes at np 1, 2 and 3")
    if os.path.exists("p1.npy"):
        p = np.load("p1.npy")
        zz = np.maximum(x300.reshape(300, 784).astype(np.float64) * 0.00392156862745098 @ k0 + b0, 0) @ k1 + b1
        zz = np.exp(zz - zz.max(axis=1, keepdims=True))
        ref = zz / zz.sum(axis=1, keepdims=True)
        check(p.shape == (300, 10) and p.dtype == np.float32 and np.abs(p - ref).max() < 1e-5,
              "predict's rows are numpy float64's softmax outputs (shape %s, max |diff| %.2e)" %
              (p.shape, np.abs(p - ref).max() if p.shape == ref.shape else -1))
        e = run(2, "predict", FM, "w.keras", "in.npy", "-o", "pk.npy")
        check(e.returncode == 0 and os.path.exists("pk.npy") and open("pk.npy", "rb").read() == open("p1.npy", "rb").read(),
              "predict reads the .keras archive of the same run: the same .npy bytes")
        ek = run(2, "evaluate", FM, "w.keras", *SUB).stdout.strip().split("(")[0]
        check(ek == lines[1].split("(")[0], "evaluate reads the .keras archive: %s" % ek)
        e = run(2, "predict", FM, "w.h5", "in.h5:images", "-o", "p.h5")
        with h5py.File("p.h5", "r") as f:
            ph = f["predictions"][()]
        check(e.returncode == 0 and ph.shape == p.shape and (ph.view(np.uint32) == p.view(np.uint32)).all(),
              "an HDF5 uint8 input, output .h5: the same float bits as the .npy run")
        e = run(2, "predict", FM, "w.h5", d + "t10k-images-idx3-ubyte.gz", "-o", "idx.npy")
        pi = np.load("idx.npy") if os.path.exists("idx.npy") else np.zeros((0, 10))
        check(e.returncode == 0 and pi.shape == (10000, 10) and np.abs(pi[:300] - ref).max() < 1e-5,
              "the whole IDX test file: 10000 rows, its first 300 as numpy's (shape %s)" % (pi.shape,))
        e = run(2, "predict", FM, "w.h5", "in_f4.npy", "--set", "data.scale=1", "-o", "f4.npy")
        pf = np.load("f4.npy") if os.path.exists("f4.npy") else np.zeros((0, 10))
        check(e.returncode == 0 and pf.shape == p.shape and np.abs(pf - ref).max() < 1e-5,
              "float32 images with data.scale = 1 give the same outputs to 1e-5")
    e = run(2, "predict", SYN, "w.h5", "in.npy", "-o", "bad.npy")
    msg = ours(e.stderr)
    check(e.returncode == 2 and len(msg) == 1 and not os.path.exists("bad.npy"),
          "predict with weights of another model: exit 2, one line, no output (%s)" % msg)
    x_bad = np.zeros((5, 10, 10), np.uint8)
    np.save("x_bad.npy", x_bad[:, :, :9])
    e = run(2, "predict", FM, "w.h5", "x_bad.npy", "-o", "bad.npy")
    msg = ours(e.stderr)
    check(e.returncode == 2 and len(msg) == 1 and msg[0] == "x_bad.npy: samples have 10x9 = 90 features, but [model] input = 784" and
          not os.path.exists("bad.npy"), "an input of another shape: exit 2, one line naming it (%s)" % msg)
    before = open("in.npy", "rb").read()
    e = run(2, "predict", FM, "w.h5", "in.npy", "-o", "in.npy")
    msg = ours(e.stderr)
    check(e.returncode == 2 and len(msg) == 1 and open("in.npy", "rb").read() == before,
          "-o onto the input: exit 2, one line, the input untouched (%s)" % msg)
    e = run(1, "predict", FM, "w.h5", "in.npy")
    msg = ours(e.stderr)
    check(e.returncode == 2 and len(msg) == 1 and "needs a config, a weights file, an input file and -o" in msg[0],
          "predict without -o: exit 2, usage line (%s)" % msg)
    # bad input
    e = run(2, "evaluate", SYN, "w.h5")
    msg = ours(e.stderr)
    check(e.returncode == 2 and len(msg) == 1 and
          "w.h5: dataset /dense/dense/kernel:0 has shape (784, 128), the config's model needs (32, 64)" in msg[0],
          "weights of another model: exit 2, one line naming the dataset and both shapes (exit %d: %s)" %
          (e.returncode, msg))
    e = run(2, "evaluate", FM, "missing.h5", *SUB)
    msg = ours(e.stderr)
    check(e.returncode == 2 and len(msg) == 1 and msg[0].startswith("missing.h5: "),
          "a missing weights file: exit 2, one line (exit %d: %s)" % (e.returncode, msg))
    e = run(1, "evaluate", FM)
    msg = ours(e.stderr)
    check(e.returncode == 2 and msg == ["reprodist: 'evaluate' needs a config and a weights file (see --help)"],
          "evaluate without the weights file: exit 2, usage line (exit %d: %s)" % (e.returncode, msg))
    print("%d passed, %d failed" % (passes, fails))
    if fails:
        print("kept %s for inspection (a check failed)" % tmp)
    else:
        shutil.rmtree(tmp)
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
