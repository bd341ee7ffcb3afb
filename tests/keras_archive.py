#!/usr/bin/python3
"""ctest keras_archive: the .keras archives reprodist writes, against archives real Keras 3.15.1 wrote for the
same models (tests/keras/archives.json, made by tests/keras/extract_archives.py), and their bad input.

  keras_archive.py [REPRODIST SRC_DIR WORK_DIR]   (default: ctest's REPRODIST, RD_SRC and a temporary directory)

1. Layout, for the three fixture models (a compiled Functional ResNet block graph, a compiled Sequential MLP, an
   uncompiled inception block written by reprodist with its compile_config): the same zip members in the same
   order, stored; metadata.json's keys; config.json equal to Keras' value for value (numbers as float32, Python's
   object ids left out); model.weights.h5 with the same groups, datasets, shapes, dtype kinds and vars names.
   Documented differences: jit_compile is "auto" (Keras records what its backend resolved); an uncompiled
   fixture has no compile_config to compare; and Keras numbers the default names of the objects it made
   earlier in the same Python session (input_layer_1, functional_1, adam_1), which count as their base names.
2. Values: each tensor of the archive equals the legacy .h5 file's (reprodist digest, whole-file digest and
   every tensor line), and the archive's bytes do not depend on when it was written.
3. Bad input: a truncated archive, a zip without model.weights.h5, malformed config.json, and a file that is not
   a zip each give one line naming the file, and exit 2.
"""
import hashlib
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile

import h5py

if len(sys.argv) == 4:
    RD, SRC, WORK = sys.argv[1:4]
else:
    RD, SRC, WORK = os.environ["REPRODIST"], os.environ["RD_SRC"], tempfile.mkdtemp(prefix="rd_keras_archive.")
os.makedirs(WORK, exist_ok=True)
FIX = json.load(open(os.path.join(SRC, "tests", "keras", "archives.json")))
MODELS = {"resnet_blocks": "tests/graphs/resnet_blocks.cfg", "mlp": "configs/fashion_mnist_mlp.cfg",
          "inception_concat": "tests/graphs/inception_concat.cfg"}
ALLOWED = {"/compile_config/jit_compile"}
failures = []


def check(ok, what):
    print(("ok      " if ok else "FAILED  ") + what)
    if not ok:
        failures.append(what)


def run(args, code=0):
    p = subprocess.run([RD] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=WORK)
    if p.returncode != code:
        raise SystemExit("reprodist %s: exit %d, expected %d\n%s%s" % (" ".join(args), p.returncode, code, p.stdout,
                                                                        p.stderr))
    return p


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


SESSION = re.compile(r"^(input_layer|functional|sequential|adam|sgd)_\d+$")


def diff(a, b, path, out):
    """Differences of b (ours) from a (Keras'), as 'path: ...' lines."""
    if path in ALLOWED:
        return
    if isinstance(a, str) and SESSION.match(a):
        a = a.rsplit("_", 1)[0]
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None or isinstance(a, str):
        if a != b or type(a) is not type(b):
            out.append("%s: Keras %r, reprodist %r" % (path, a, b))
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if type(a) is not type(b) or f32(a) != f32(b):
            out.append("%s: Keras %r, reprodist %r" % (path, a, b))
    elif isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            out.append("%s: keys Keras %s, reprodist %s" % (path, list(a), list(b)))
        for k in a:
            if k in b:
                diff(a[k], b[k], path + "/" + k, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: %d entries in Keras', %d in reprodist's" % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (path, i), out)
    else:
        out.append("%s: Keras %r, reprodist %r" % (path, a, b))


sys.path.insert(0, os.path.join(SRC, "tests", "keras"))
from extract_archives import archive  # noqa: E402

# ---- 1. layout ------------------------------------------------------------------------------------
for name, cfg in MODELS.items():
    out = os.path.join(WORK, name + ".keras")
    h5 = os.path.join(WORK, name + ".h5")
    run(["init", os.path.join(SRC, cfg), "-o", out + "," + h5])
    ours, ref = archive(out), FIX[name]
    check(ours["members"] == ref["members"], "%s: members %s, stored, in Keras' order" % (
        name, [m["name"] for m in ours["members"]]))
    check(ours["metadata_keys"] == ref["metadata_keys"], "%s: metadata.json keys %s" % (name, ours["metadata_keys"]))
    a, b = dict(ref["config"]), dict(ours["config"])
    if not a.get("compile_config"):  # an uncompiled fixture: nothing to compare there
        a.pop("compile_config", None), b.pop("compile_config", None)
    d = []
    diff(a, b, "", d)
    check(not d, "%s: config.json equals Keras' (%d layers)%s" % (name, len(b["config"]["layers"]),
                                                                    "".join("\n        " + x for x in d[:12])))
    ko = {o[0]: o[1:] for o in ref["weights_h5"]}
    oo = {o[0]: o[1:] for o in ours["weights_h5"]}
    if not a.get("compile_config"):  # reprodist always writes its optimizer; the uncompiled fixture has none
        oo = {k: v for k, v in oo.items() if not k.startswith("optimizer")}
    miss = sorted(set(ko) - set(oo))
    extra = sorted(set(oo) - set(ko))
    same = lambda x, y: x[:2] == y[:2] and (x[2] == y[2] or (isinstance(x[2], str) and SESSION.match(x[2]) and
                                                              x[2].rsplit("_", 1)[0] == y[2]))  # noqa: E731
    wrong = sorted(k for k in ko if k in oo and not same(ko[k], oo[k]))
    check(not miss and not extra and not wrong,
          "%s: model.weights.h5 has Keras' %d objects (%d datasets)%s" % (
              name, len(ko), sum(1 for v in ko.values() if v[0] == "dataset"),
              "".join("\n        %s: Keras %s, reprodist %s" % (k, ko.get(k), oo.get(k))
                      for k in (miss + extra + wrong)[:12])))

# ---- 2. values ----------------------------------------------------------------------------------------
for name in MODELS:
    k = run(["digest", name + ".keras"]).stdout.splitlines()
    h = run(["digest", name + ".h5"]).stdout.splitlines()
    same = len(k) == len(h) and all(x.split()[0] == y.split()[0] for x, y in zip(k, h))
    check(same, "%s: every tensor of the archive equals the .h5 file's (%d tensors, digest %s)" % (
        name, len(k) - 1, k[-1].split()[0] if k else "?"))
first = hashlib.sha256(open(os.path.join(WORK, "mlp.keras"), "rb").read()).hexdigest()
run(["init", os.path.join(SRC, MODELS["mlp"]), "-o", "mlp_again.keras"])
again = hashlib.sha256(open(os.path.join(WORK, "mlp_again.keras"), "rb").read()).hexdigest()
check(first == again, "the archive's bytes are the config's alone: written twice, sha256 %s both times" % first[:16])
with zipfile.ZipFile(os.path.join(WORK, "mlp.keras")) as z:
    meta = json.loads(z.read("metadata.json"))
    dates = {i.date_time for i in z.infolist()}
check(meta == {"keras_version": "3.15.1", "date_saved": "1980-01-01@00:00:00"} and dates == {(1980, 1, 1, 0, 0, 0)},
      "metadata.json %s; every member dated %s" % (meta, sorted(dates)))

# ---- 2b. after training: model_checkpoint's .keras and the run's own -------------------------------------
cfg = os.path.join(WORK, "ck.cfg")
with open(cfg, "w") as f:
    f.write(open(os.path.join(SRC, "configs", "synthetic.cfg")).read() +
            "\n[model_checkpoint]\nfilepath = ck{epoch}.keras\n")
run(["train", cfg, "--set", "train.epochs=2", "-o", "trained.keras,trained.h5"])
steps = 2 * ((1000 + 63) // 64)
with zipfile.ZipFile(os.path.join(WORK, "ck2.keras")) as z:
    with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
        it = int(f["optimizer/vars/0"][()])
        nvars = len(f["optimizer/vars"])
check(it == steps and nvars == 2 + 2 * 6, "model_checkpoint's ck2.keras: Adam's iteration %d (%d steps), %d variables "
      "(iteration, learning_rate, a momentum and a velocity for each of 6 tensors)" % (it, steps, nvars))
d1 = run(["digest", "ck2.keras"]).stdout.splitlines()[-1].split()[0]
d2 = run(["digest", "trained.h5"]).stdout.splitlines()[-1].split()[0]
check(d1 == d2, "ck2.keras holds the run's final weights (digest %s)" % d1)
check(open(os.path.join(WORK, "ck2.keras"), "rb").read() == open(os.path.join(WORK, "trained.keras"), "rb").read(),
      "the run's own trained.keras is byte-identical to its last model_checkpoint archive")

# ---- 3. bad input --------------------------------------------------------------------------------------
good = open(os.path.join(WORK, "mlp.keras"), "rb").read()


def write(name, data):
    with open(os.path.join(WORK, name), "wb") as f:
        f.write(data)


def rezip(name, members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, d in members:
            z.writestr(n, d)
    write(name, buf.getvalue())


with zipfile.ZipFile(io.BytesIO(good)) as z:
    parts = {n: z.read(n) for n in z.namelist()}
write("truncated.keras", good[: len(good) // 2])
write("notzip.keras", b"this is not a zip archive\n" * 10)
rezip("noweights.keras", [("metadata.json", parts["metadata.json"]), ("config.json", parts["config.json"])])
rezip("badjson.keras", [("metadata.json", parts["metadata.json"]), ("config.json", b'{"class_name": "Sequential",\n  "config": [1, 2'),
                        ("model.weights.h5", parts["model.weights.h5"])])
for bad, want in [("truncated.keras", "truncated.keras: "), ("notzip.keras", "notzip.keras: "),
                  ("noweights.keras", "no member model.weights.h5"), ("badjson.keras", "config.json:2:")]:
    p = run(["digest", bad], code=2)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    check(len(lines) == 1 and want in lines[0] and bad in lines[0], "%s: exit 2, one line: %s" % (
        bad, lines[0] if lines else "(nothing)"))

if failures:
    print("\n%d check(s) failed" % len(failures))
    sys.exit(1)
print("\nall checks passed")
