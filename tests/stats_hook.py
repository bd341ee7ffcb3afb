#!/usr/bin/python3
"""stats_hook: the batch-statistics hook of the layer interface, end to end.

tests/plugins/running_mean.c (a plugin built with this build) keeps a
non-trainable "mean" updated from batch statistics: every training shard
contributes its inputs' column sums and row count, reprodist sums them over
the batch's shards along its canonical tree, and stats_apply updates
    mean = momentum * mean + (1 - momentum) * batch column mean
once per step. This test trains synthetic data through it (batches of 20 in
shards of 3, so uneven shards and a partial last batch) and checks:
  - the weights file has the same sha256 at np 1, 2, 3 and 5, and a resumed
    run continues the statistics to the same bits;
  - the mean equals an independent float64 computation of that recurrence
    from docs/SEEDS.md's synthetic data and shuffles (spec_reimpl.py), to
    float32 rounding (1e-5), while the trainable weights trained too.
Needs REPRODIST, RD_MPIEXEC, RD_NPFLAG, RD_MPIFLAGS (ctest) and the plugin's path.
Last line: "N passed, N failed"."""
import hashlib
import os
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdcheck import check, finish  # noqa: E402
from rdcheck import run as rd_run  # noqa: E402
import spec_reimpl as spec  # noqa: E402  (written from docs/SEEDS.md, not from the C code)

SEED, INPUT, SAMPLES, BATCH, SHARD, EPOCHS, MOMENTUM = 5, 6, 110, 20, 3, 3, 0.8

CONFIG = """[run]
seed = %d
plugins = %s
[model]
input = %d
[running_mean]
momentum = %r
[dense]
units = 5
activation = relu
[dense]
units = 3
activation = softmax
[data]
source = synthetic
samples = %d
test_samples = 30
[train]
epochs = %d
batch_size = %d
shard_size = %d
learning_rate = 0.01
"""


def run(np_, args, log):
    r = rd_run(np_, args)
    with open(log, "w") as f:
        f.write(r.stdout)
    return r.returncode


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def expected_mean():
    """The recurrence in float64 from the spec's data and shuffles."""
    x = spec.synthetic_x(SEED, "x", SAMPLES, INPUT).astype(np.float64)
    m = np.zeros(INPUT)
    for e in range(EPOCHS):
        perm = spec.permutation(SEED, e, SAMPLES)
        for b0 in range(0, SAMPLES, BATCH):
            m = MOMENTUM * m + (1 - MOMENTUM) * x[perm[b0:b0 + BATCH]].mean(axis=0)
    return m


def main(plugin):
    tmp = tempfile.mkdtemp(prefix="rdstats.")
    cfg = os.path.join(tmp, "c.cfg")
    with open(cfg, "w") as f:
        f.write(CONFIG % (SEED, plugin, INPUT, MOMENTUM, SAMPLES, EPOCHS, BATCH, SHARD))
    hashes = {}
    for np_ in (1, 2, 3, 5):
        out = os.path.join(tmp, "np%d.h5" % np_)
        rc = run(np_, [cfg, "-o", out], out + ".log")
        if check(rc == 0, "train with the running_mean plugin at np %d (exit %d)" % (np_, rc)):
            hashes[np_] = sha(out)
        else:
            print(open(out + ".log").read())
    for np_, h in hashes.items():
        if np_ != 1 and 1 in hashes:
            check(h == hashes[1], "np %d: the same sha256 as np 1" % np_)
    # Stop after epoch 1 (a checkpoint), resume at np 3: the statistics continue bit for bit.
    ck = os.path.join(tmp, "ck")
    rc1 = run(2, [cfg, "--set", "train.epochs=1", "--set", "run.checkpoint_dir=" + ck, "-o", os.path.join(tmp, "e1.h5")],
              os.path.join(tmp, "e1.log"))
    rc2 = run(3, [cfg, "--set", "run.checkpoint_dir=" + ck, "--resume", "latest", "-o", os.path.join(tmp, "res.h5")],
              os.path.join(tmp, "res.log"))
    check(rc1 == 0 and rc2 == 0 and 1 in hashes and sha(os.path.join(tmp, "res.h5")) == hashes[1],
          "a run stopped after epoch 1 and resumed at np 3 gives the uninterrupted sha256")
    if 1 not in hashes:
        return
    with h5py.File(os.path.join(tmp, "np1.h5"), "r") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        check(names == ["running_mean", "dense", "dense_1"], "layer_names %s" % names)
        wn = [n.decode() for n in f["running_mean"].attrs["weight_names"]]
        check(wn == ["running_mean/mean:0"], "the non-trainable tensor is the layer's weight: %s" % wn)
        got = f["/running_mean/running_mean/mean:0"][()].astype(np.float64)
    want = expected_mean()
    err = float(np.max(np.abs(got - want)))
    check(np.all(np.isfinite(got)) and err < 1e-5,
          "moving mean = float64 reference within 1e-5 (max |diff| %.2e; mean[0] %.6f)" % (err, got[0]))
    # The trainable weights trained: they differ from `reprodist init`'s.
    init = os.path.join(tmp, "init.h5")
    run(1, ["init", cfg, "-o", init], init + ".log")
    with h5py.File(init, "r") as a, h5py.File(os.path.join(tmp, "np1.h5"), "r") as b:
        k = "/dense/dense/kernel:0"
        check(not np.array_equal(a[k][()], b[k][()]), "the dense kernel trained (differs from its initial values)")
        check(np.all(a["/running_mean/running_mean/mean:0"][()] == 0), "the mean starts at zero (init)")


if __name__ == "__main__":
    if len(sys.argv) != 2 or "REPRODIST" not in os.environ:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1])
    finish()
