#!/usr/bin/python3
"""callback_files: the files [csv_logger], [tensorboard] and [model_checkpoint]
write, at any np and across a resume, against Keras' definitions.

1. One run (synthetic data, validation_split, reduce_lr_on_plateau before
   csv_logger, model_checkpoint with save_best_only and a formatted path,
   tensorboard) at np 1 and np 3: the CSV bytes, the checkpoint files and the
   TensorBoard scalars (every record's framing checked with python3-crc32c,
   decoded with python3-protobuf) are identical.
2. The CSV as keras/src/callbacks/csv_logger.py writes it: the header
   "epoch" + sorted log names (learning_rate included: reduce_lr_on_plateau
   came first), rows epoch from 0, each value repr() of the float32 log
   (equal to the metrics JSON's value rounded to float32), lines ending \\r\\n.
   The other order (csv_logger first) has no learning_rate column; without
   validation data, each log gets a val_ column of NA; append = true adds rows
   without a second header; a separator of ';' is used.
3. TensorBoard as keras/src/callbacks/tensorboard.py writes it: train/ and
   validation/ files starting with file_version "brain.Event:2", then per
   epoch (step = epoch from 0) epoch_loss, epoch_accuracy and
   epoch_learning_rate in train/, the val_ logs without their prefix in
   validation/, equal to the CSV's values.
4. model_checkpoint: files named by str.format (epoch from 1, {val_loss:.4f}),
   written only when val_loss improved (the epochs checked against the CSV),
   each holding exactly the weights of a run of that many epochs.
5. A run checkpointed after epoch 2 that went on to epoch 3, resumed from the
   checkpoint at another np: the CSV and the TensorBoard files are cut back to
   their length at the checkpoint and continue: byte-identical CSV and the
   same scalars as the uninterrupted run, and the same checkpoint files.
6. model_checkpoint with save_freq = 3 (steps): files after global steps 3, 6,
   9, ... named with {epoch} and {batch} as Keras' _should_save_on_batch counts
   them across epochs (checked with Keras 3.15.1: e1-b03, e1-b06, e2-b01, ...),
   the same at np 1 and 3 and after a resume mid-epoch at another np; the
   step-3 file holds the weights, and its {loss} the running loss, of a run of
   3 steps.
7. Callbacks that only log may come or go at a resume (their state is an
   optional checkpoint piece): a csv_logger added when resuming starts its file
   at the resumed epoch; one removed is simply gone.
Needs REPRODIST, RD_MPIEXEC, RD_NPFLAG, RD_MPIFLAGS. Last line: "N passed, N failed"."""
import csv
import glob
import hashlib
import io
import json
import os
import shutil
import struct
import sys
import tempfile

import crc32c
import h5py
import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdcheck import check, finish  # noqa: E402
from rdcheck import run as rd_run  # noqa: E402

BASE = """[run]
seed = 7
[model]
input = 24
[dense]
units = 16
activation = relu
[dense]
units = 10
activation = softmax
[data]
source = synthetic
samples = 480
test_samples = 96
validation_split = 0.25
[train]
epochs = 6
batch_size = 64
shard_size = 8
optimizer = adam
learning_rate = 0.002
"""

CALLBACKS = """[reduce_lr_on_plateau]
patience = 1
factor = 0.5
[csv_logger]
filename = logs/run.csv
[model_checkpoint]
filepath = ck/w.{epoch:02d}-{val_loss:.4f}.h5
save_best_only = true
[tensorboard]
log_dir = tb
"""


# ---- TensorBoard's records, read with an independent CRC and protobuf ----------------------

def event_class():
    """Event and Summary from their field numbers (tensorflow/core/util/event.proto,
    framework/summary.proto), built as descriptors: no generated code."""
    fdp = descriptor_pb2.FileDescriptorProto(name="rd_event_test.proto", package="rdtest", syntax="proto3")
    F = descriptor_pb2.FieldDescriptorProto
    val = fdp.message_type.add(name="Value")
    val.field.add(name="tag", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    val.field.add(name="simple_value", number=2, type=F.TYPE_FLOAT, label=F.LABEL_OPTIONAL)
    summ = fdp.message_type.add(name="Summary")
    summ.field.add(name="value", number=1, type=F.TYPE_MESSAGE, type_name=".rdtest.Value", label=F.LABEL_REPEATED)
    ev = fdp.message_type.add(name="Event")
    ev.field.add(name="wall_time", number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    ev.field.add(name="step", number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    ev.field.add(name="file_version", number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    ev.field.add(name="summary", number=5, type=F.TYPE_MESSAGE, type_name=".rdtest.Summary", label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("rdtest.Event")
    return message_factory.GetMessageClass(desc) if hasattr(message_factory, "GetMessageClass") \
        else message_factory.MessageFactory(pool).GetPrototype(desc)


EVENT = event_class()


def masked(data):
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_events(path):
    """[(step, tag, value) or ("version", text)], or None if a record's framing is wrong."""
    raw = open(path, "rb").read()
    out, o = [], 0
    while o < len(raw):
        if o + 12 > len(raw):
            return None
        n = struct.unpack("<Q", raw[o:o + 8])[0]
        if struct.unpack("<I", raw[o + 8:o + 12])[0] != masked(raw[o:o + 8]) or o + 16 + n > len(raw):
            return None
        data = raw[o + 12:o + 12 + n]
        if struct.unpack("<I", raw[o + 12 + n:o + 16 + n])[0] != masked(data):
            return None
        e = EVENT()
        e.ParseFromString(data)
        if e.file_version:
            out.append(("version", e.file_version))
        for v in e.summary.value:
            out.append((e.step, v.tag, v.simple_value))
        o += 16 + n
    return out


def tb_scalars(d):
    """{"train": [...], "validation": [...]} of the one event file in each."""
    res = {}
    for sub in ("train", "validation"):
        files = glob.glob(os.path.join(d, "tb", sub, "events.out.tfevents.*.v2"))
        res[sub] = read_events(files[0]) if len(files) == 1 else None
    return res


# ---- running ------------------------------------------------------------------------------

def train(d, np_, text, extra=()):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "c.cfg"), "w") as f:
        f.write(text)
    cwd = os.getcwd()
    os.chdir(d)
    try:
        r = rd_run(np_, ["c.cfg", "-o", "w.h5"] + list(extra))
    finally:
        os.chdir(cwd)
    return r


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def weights(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


def f32(x):
    return float(np.float32(x))


SAVE_FREQ = BASE.replace("validation_split = 0.25\n", "").replace("epochs = 6", "epochs = 2") + \
    "[model_checkpoint]\nfilepath = s/e{epoch}-b{batch:02d}-{loss:.4f}.h5\nsave_freq = 3\n"


def saved(d):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "s", "*.h5")))


def save_freq(tmp):
    """6. save_freq = 3 steps: 480 samples / 64 = 8 steps an epoch, 16 in all."""
    runs = {}
    for np_ in (1, 3):
        d = os.path.join(tmp, "sf%d" % np_)
        r = train(d, np_, SAVE_FREQ)
        check(r.returncode == 0, "6. save_freq = 3 at np %d (exit %d)" % (np_, r.returncode))
        runs[np_] = saved(d)
    keras_steps = [(s // 8 + 1, s % 8 + 1) for s in range(2, 16, 3)]  # steps 3, 6, ... as (epoch, batch) from 1
    check([n.split("-")[:2] for n in runs[1]] == [["e%d" % e, "b%02d" % b] for e, b in keras_steps],
          "6. saved after steps 3, 6, 9, 12, 15: %s" % ", ".join(runs[1]))
    check(runs[1] == runs[3] and all(sha(os.path.join(tmp, "sf1", "s", n)) == sha(os.path.join(tmp, "sf3", "s", n))
                                     for n in runs[1]), "6. the same files, byte for byte, at np 1 and 3")
    d = os.path.join(tmp, "sf_short")
    r = train(d, 2, SAVE_FREQ.replace("[train]\n", "[train]\nsteps_per_epoch = 3\n").replace("epochs = 2", "epochs = 1"))
    if check(r.returncode == 0 and runs[1], "6. a run of 3 steps"):
        wa, wb = weights(os.path.join(tmp, "sf1", "s", runs[1][0])), weights(os.path.join(d, "w.h5"))
        loss = [line.split()[3] for line in r.stdout.splitlines() if line.startswith("epoch 1/")]
        check(wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa) and loss and
              runs[1][0].endswith("-%.4f.h5" % f32(float(loss[0]))),
              "6. %s holds that run's weights, and its epoch loss (%s) in the name" % (runs[1][0], loss[0] if loss else "?"))
    d = os.path.join(tmp, "sf_res")
    r = train(d, 3, SAVE_FREQ, ["--set", "run.checkpoint_dir=ckpt", "--set", "run.checkpoint_every=5 steps",
                                "--set", "train.epochs=1"])
    ck = sorted(glob.glob(os.path.join(d, "ckpt", "*.h5")))
    if check(r.returncode == 0 and ck, "6. a run to step 5 at np 3, checkpointed"):
        r = train(d, 2, SAVE_FREQ, ["--set", "run.checkpoint_dir=ckpt", "--resume", ck[0]])
        check(r.returncode == 0 and saved(d) == runs[1] and
              all(sha(os.path.join(d, "s", n)) == sha(os.path.join(tmp, "sf1", "s", n)) for n in runs[1][1:]),
              "6. resumed at step 5 at np 2: the later files as the uninterrupted run's (the step count came through)")


def come_and_go(tmp):
    d = os.path.join(tmp, "cg")
    plain = BASE.replace("epochs = 6", "epochs = 3")
    ck = ["--set", "run.checkpoint_dir=ckpt", "--set", "run.checkpoint_every=2 epochs"]
    r = train(d, 2, plain.replace("epochs = 3", "epochs = 2"), ck)
    r2 = train(d, 3, plain + "[csv_logger]\nfilename = late.csv\n", ck + ["--resume", "latest"])
    rows = open(os.path.join(d, "late.csv")).read().splitlines() if os.path.exists(os.path.join(d, "late.csv")) else []
    check(r.returncode == 0 and r2.returncode == 0 and len(rows) == 2 and rows[1].startswith("2,"),
          "7. a csv_logger added at the resume: its file starts at the resumed epoch (%s)" % " | ".join(rows))
    shutil.rmtree(os.path.join(d, "ckpt"))
    r = train(d, 2, plain.replace("epochs = 3", "epochs = 2") + "[csv_logger]\nfilename = gone.csv\n", ck)
    r2 = train(d, 3, plain, ck + ["--resume", "latest"])
    check(r.returncode == 0 and r2.returncode == 0, "7. a csv_logger removed at the resume: the run goes on (exit %d)"
          % r2.returncode)


def main():
    tmp = tempfile.mkdtemp(prefix="rdcbf.")
    try:
        runs = {}
        for np_ in (1, 3):
            d = os.path.join(tmp, "np%d" % np_)
            r = train(d, np_, BASE + CALLBACKS)
            check(r.returncode == 0, "np %d: the run with the four callbacks (exit %d) %s" % (np_, r.returncode,
                                                                                            r.stdout[-300:] if r.returncode else ""))
            runs[np_] = d
        a, b = runs[1], runs[3]
        csv_a = open(os.path.join(a, "logs/run.csv"), "rb").read()
        check(csv_a == open(os.path.join(b, "logs/run.csv"), "rb").read(), "1. the CSV is identical at np 1 and 3")
        cks = sorted(os.path.basename(p) for p in glob.glob(os.path.join(a, "ck/*.h5")))
        check(cks and cks == sorted(os.path.basename(p) for p in glob.glob(os.path.join(b, "ck/*.h5"))) and
              all(sha(os.path.join(a, "ck", c)) == sha(os.path.join(b, "ck", c)) for c in cks),
              "1. the same checkpoint files, byte for byte, at np 1 and 3 (%s)" % ", ".join(cks))
        tb_a, tb_b = tb_scalars(a), tb_scalars(b)
        check(tb_a["train"] is not None and tb_a["validation"] is not None,
              "3. one train/ and one validation/ event file, every record's length and data CRC-32C right")
        check(tb_a == tb_b, "1. the TensorBoard scalars are identical at np 1 and 3")

        # 2. The CSV, against Keras' CSVLogger and the metrics JSON.
        check(csv_a.endswith(b"\r\n") and csv_a.count(b"\r\n") == csv_a.count(b"\n"), "2. CSV lines end with \\r\\n")
        rows = list(csv.reader(io.StringIO(csv_a.decode())))
        want_head = ["epoch", "accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]
        check(rows[0] == want_head, "2. header: epoch + sorted logs, learning_rate included (%s)" % ",".join(rows[0]))
        js = [json.loads(line) for line in open(os.path.join(a, "w.metrics.jsonl"))]
        ok = len(rows) == 1 + len(js) == 7
        for i, (row, j) in enumerate(zip(rows[1:], js)):
            want = [str(i), repr(f32(j["accuracy"])), repr(f32(j["learning_rate"])), repr(f32(j["loss"])),
                    repr(f32(j["val_accuracy"])), repr(f32(j["val_loss"]))]
            ok &= row == want
        check(ok, "2. 6 rows: the epoch from 0, each log as repr() of its float32 value (= the metrics JSON's)")
        lrs = [float(r[2]) for r in rows[1:]]
        check(len(set(lrs)) > 1, "2. the learning_rate column follows the cuts (%s)" % ", ".join(r[2] for r in rows[1:]))

        # 3. TensorBoard's scalars against the CSV.
        tr, va = tb_a["train"], tb_a["validation"]
        want_tr = [("version", "brain.Event:2")]
        want_va = [("version", "brain.Event:2")]
        for row in rows[1:]:
            e = int(row[0])
            want_tr += [(e, "epoch_loss", float(row[3])), (e, "epoch_accuracy", float(row[1])),
                        (e, "epoch_learning_rate", float(row[2]))]
            want_va += [(e, "epoch_loss", float(row[5])), (e, "epoch_accuracy", float(row[4]))]
        check(tr == want_tr, "3. train/: the version record, then epoch_loss, epoch_accuracy, epoch_learning_rate "
                             "per epoch, step = epoch, values = the CSV's")
        check(va == want_va, "3. validation/: epoch_loss and epoch_accuracy of the validation data per epoch")

        # 4. model_checkpoint: saved exactly on improvements of val_loss, named by str.format.
        best, want_ck = None, []
        for row in rows[1:]:
            v = float(row[5])
            if best is None or v < best:
                best = v
                want_ck.append("w.{epoch:02d}-{val_loss:.4f}.h5".format(epoch=int(row[0]) + 1, val_loss=v))
        check(cks == sorted(want_ck) and len(want_ck) < 6,
              "4. checkpoints exactly at the epochs val_loss improved (%d of 6), named as str.format names them"
              % len(want_ck))
        pick = cks[(len(cks) - 1) // 2]  # a checkpoint from the middle of the run
        e1 = train(os.path.join(tmp, "e_short"), 1, BASE.replace("epochs = 6", "epochs = %d" % int(pick[2:4])) +
                   CALLBACKS.replace("[model_checkpoint]", "[model_checkpoint]\nverbose = 1"))
        if check(e1.returncode == 0, "4. a run of %d epochs" % int(pick[2:4])):
            wa, wb = weights(os.path.join(a, "ck", pick)), weights(os.path.join(tmp, "e_short", "w.h5"))
            check(wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa),
                  "4. %s holds exactly that run's final weights" % pick)
            check("improved from" in e1.stdout and "saving model to ck/w." in e1.stdout,
                  "4. verbose = 1 says what it saves, as Keras' verbose=1")

        # 2. Order and absent validation data: csv_logger before reduce_lr, monitor = loss.
        other = (BASE.replace("validation_split = 0.25\n", "") + "[csv_logger]\nfilename = o.csv\nseparator = ;\n"
                 "[reduce_lr_on_plateau]\nmonitor = loss\npatience = 1\n")
        r = train(os.path.join(tmp, "other"), 2, other)
        if check(r.returncode == 0, "2. csv_logger before reduce_lr_on_plateau, no validation data (exit %d)"
                 % r.returncode):
            lines = open(os.path.join(tmp, "other", "o.csv")).read().splitlines()
            check(lines[0] == "epoch;accuracy;loss;val_accuracy;val_loss" and
                  all(line.endswith(";NA;NA") for line in lines[1:]) and len(lines) == 7,
                  "2. no learning_rate column (Keras adds it after csv_logger ran), a NA val_ column per log, "
                  "';' separator (%s)" % lines[0])
            r = train(os.path.join(tmp, "other"), 1, other.replace("separator = ;", "separator = ;\nappend = true"))
            lines2 = open(os.path.join(tmp, "other", "o.csv")).read().splitlines()
            check(r.returncode == 0 and len(lines2) == 13 and lines2[:7] == lines and lines2[7:] == lines[1:],
                  "2. append = true: the second run's rows follow, without a second header")

        # 5. Checkpointed after epoch 2, went on to epoch 3, resumed at np 2 from the checkpoint.
        d = os.path.join(tmp, "resumed")
        r = train(d, 3, BASE.replace("epochs = 6", "epochs = 3") + CALLBACKS,
                  ["--set", "run.checkpoint_dir=ckpt", "--set", "run.checkpoint_every=2 epochs"])
        ck2 = sorted(glob.glob(os.path.join(d, "ckpt", "*.h5")))
        check(r.returncode == 0 and len(ck2) == 1, "5. three epochs at np 3 with a checkpoint after epoch 2")
        rows3 = open(os.path.join(d, "logs/run.csv"), "rb").read().count(b"\r\n")
        check(rows3 == 4, "5. ... whose CSV has 3 rows then")
        if ck2:
            r = train(d, 2, BASE + CALLBACKS, ["--set", "run.checkpoint_dir=ckpt", "--set",
                                               "run.checkpoint_every=2 epochs", "--resume", ck2[0]])
            check(r.returncode == 0, "5. resumed from the epoch-2 checkpoint at np 2 to 6 epochs (exit %d) %s"
                  % (r.returncode, r.stdout[-300:] if r.returncode else ""))
            check(open(os.path.join(d, "logs/run.csv"), "rb").read() == csv_a,
                  "5. the CSV is cut back to epoch 2 and goes on: identical to the uninterrupted run's")
            check(tb_scalars(d) == tb_a, "5. so are the TensorBoard scalars (no epoch twice)")
            same = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "ck/*.h5"))) == cks
            for c in cks if same else []:  # tensors: the files' provenance names each run's epochs
                wa, wd = weights(os.path.join(a, "ck", c)), weights(os.path.join(d, "ck", c))
                same &= wa.keys() == wd.keys() and all(np.array_equal(wa[k], wd[k]) for k in wa)
            check(same, "5. and the same checkpoint files with the same weights: the best value so far came through "
                        "the checkpoint")
        save_freq(tmp)
        come_and_go(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if "REPRODIST" not in os.environ:
        print(__doc__)
        sys.exit(2)
    main()
    finish()
