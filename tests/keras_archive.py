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
ek = run(["evaluate", cfg, "trained.keras"]).stdout.strip().split("(")[0]
eh = run(["evaluate", cfg, "trained.h5"]).stdout.strip().split("(")[0]
check(ek == eh and "test_acc" in ek, "evaluate reads the archive: %s, as from the .h5 file" % ek.strip())

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

# ---- 4. in: Keras JSON and archives as the model ---------------------------------------------------------
TAIL = "[data]\nsource = synthetic\nsamples = 256\ntest_samples = 64\n[train]\nepochs = 2\nbatch_size = 32\nshard_size = 8\n"
SYN = ["--set", "data.source=synthetic", "--set", "data.samples=256", "--set", "data.test_samples=64", "--set",
       "train.epochs=2", "--set", "train.batch_size=32", "--set", "train.shard_size=8"]


def imported(name, keras_file, extra=""):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write("[run]\nseed = 42\n[model]\nkeras = %s\n%s%s" % (keras_file, extra, TAIL))
    return path


def layer_names(h5):
    with h5py.File(os.path.join(WORK, h5), "r") as f:
        return [x.decode() if isinstance(x, bytes) else str(x) for x in f.attrs["layer_names"]]


def digest(path):
    return run(["digest", path]).stdout.splitlines()[-1].split()[0]


# Keras-written JSON (the fixtures' config.json) and a Keras-written archive, imported: Keras' layer order and names.
FIXN = json.load(open(os.path.join(SRC, "tests", "keras", "fixtures.json")))
for name in ("resnet_blocks", "inception_concat"):
    js = os.path.join(WORK, name + "_keras.json")
    with open(js, "w") as f:
        json.dump(FIX[name]["config"], f)
    run(["init", imported(name + "_imp.cfg", js), "-o", name + "_imp.h5"])
    got = layer_names(name + "_imp.h5")
    want = [SESSION.sub(lambda m: m.group(1), x) for x in FIXN[name]["layer_names"]]  # input_layer_1: input_layer
    check(got == want, "%s: Keras' model JSON imported: its %d layers, names and order (%s ...)" % (
        name, len(got), ", ".join(got[:5])))
    run(["train", imported(name + "_imp.cfg", js), "-o", name + "_imp_trained.h5"])
small = os.path.join(SRC, "tests", "keras", "small_graph.keras")
cfg = imported("small.cfg", small, "keras_weights = %s\n" % small)
run(["init", cfg, "-o", "small0.h5"])
with zipfile.ZipFile(small) as z:
    conf = json.loads(z.read("config.json"))
    with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as kw, h5py.File(os.path.join(WORK, "small0.h5"), "r") as f:
        n = bad = 0
        counts = {}
        for e in conf["config"]["layers"]:  # Keras' archive layout: layers/<class in snake case>[_N]/vars/<i>
            cls = e["class_name"]
            sn = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", cls)).lower()
            k = counts.get(cls, 0)
            counts[cls] = k + 1
            grp = "layers/%s%s/vars" % (sn, "_%d" % k if k else "")
            if e["class_name"] == "InputLayer":
                continue
            names = [x.decode() if isinstance(x, bytes) else x for x in f[e["name"]].attrs["weight_names"]]
            for i, wn in enumerate(names):
                n += 1
                bad += not (kw[grp][str(i)][()].tobytes() == f[e["name"]][wn][()].tobytes())
check(n == 9 and bad == 0, "small_graph.keras (written by Keras) with keras_weights: the initial weights file equals "
      "Keras' weights, tensor for tensor (%d tensors, %d differ)" % (n, bad))
run(["train", cfg, "-o", "small_ft.h5"])
plain = imported("small_plain.cfg", small)
run(["init", plain, "-o", "small_plain0.h5"])
check(digest("small0.h5") != digest("small_plain0.h5"), "keras_weights changes the start (seeded initializers otherwise)")
ck = open(os.path.join(WORK, "small_ft.h5"), "rb").read()
with h5py.File(os.path.join(WORK, "small_ft.h5"), "r") as f:
    canon = f.attrs["reprodist_config"]
    canon = canon.decode() if isinstance(canon, bytes) else canon
h = "%016x" % 0
check(re.search(r"keras_weights = xxh64:[0-9a-f]{16}", canon) is not None and small not in canon,
      "keras_weights enters the run's identity as the file's XXH64: %s" % re.search(r"keras_weights = \S+", canon).group(0))

# A checkpoint knows which weights the run started from: resuming with another keras_weights file is refused.
ckcfg = imported("small_ck.cfg", small, "keras_weights = %s\n" % small)
run(["train", ckcfg, "--set", "train.epochs=1", "--set", "run.checkpoint_dir=ck_small", "-o", "small_e1.h5"])
run(["init", imported("small_other.cfg", small), "-o", "small_other.keras"])
other = imported("small_ck2.cfg", small, "keras_weights = %s\n" % os.path.join(WORK, "small_other.keras"))
p = run(["train", other, "--set", "run.checkpoint_dir=ck_small", "--resume", "latest", "-o", "small_e2.h5"], code=2)
check("keras_weights" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
      "resuming with another keras_weights file: exit 2, one line naming it: %s" % p.stderr.strip()[:300])
same = imported("small_ck3.cfg", small, "keras_weights = %s\n" % small)
run(["train", same, "--set", "run.checkpoint_dir=ck_small", "--resume", "latest", "-o", "small_e2.h5"])
check(digest("small_e2.h5") == digest("small_ft.h5"), "resumed with the same keras_weights: the uninterrupted run's tensors")

# Round trips: config -> keras-config -> [model] keras -> the same tensors at the start and after training; the same
# canonical text (the whole file's sha256) for configs that write no key at its Keras default.
RT = {"configs/fashion_mnist_mlp.cfg": 1, "configs/fashion_mnist_mobilenet.cfg": 1, "tests/graphs/augment.cfg": 1,
      "tests/graphs/roundtrip.cfg": 1, "configs/fashion_mnist_cnn_bn.cfg": 0, "configs/keras_seeded_init.cfg": 0,
      "tests/graphs/merges.cfg": 0, "tests/graphs/resnet_blocks.cfg": 0, "tests/graphs/inception_concat.cfg": 0}
FIXED = {"run", "model", "data", "train"}
for rel, canonical in RT.items():
    b = os.path.basename(rel)[:-4]
    src = os.path.join(SRC, rel)
    js = os.path.join(WORK, "rt_%s.json" % b)
    with open(js, "w") as f:
        f.write(run(["keras-config", src]).stdout)
    keep, sec = [], None
    for line in open(src).read().splitlines():  # the config without its layers and input: [model] keras instead
        m = re.match(r"\s*\[([a-z0-9_]+)\]", line)
        if m:
            sec = m.group(1)
        layer = sec is not None and sec not in FIXED and "_" + sec not in ("_cosine_decay",)
        if sec == "model" and re.match(r"\s*input\s*=", line):
            continue
        if sec is None or not layer:
            keep.append(line)
            if m and sec == "model":
                keep.append("keras = " + js)
    imp = os.path.join(WORK, "rt_%s_imp.cfg" % b)
    with open(imp, "w") as f:
        f.write("\n".join(keep) + "\n")
    run(["init", src, "-o", "rt_%s_a.h5" % b])
    run(["init", imp, "-o", "rt_%s_b.h5" % b])
    text = open(src).read()
    short = SYN if "source = synthetic" in text or "[data]" not in text else [  # Fashion-MNIST: a subset
        "--set", "data.limit=512", "--set", "data.test_limit=128", "--set", "train.epochs=1"]
    run(["train", src, "-o", "rt_%s_ta.h5" % b] + short)
    run(["train", imp, "-o", "rt_%s_tb.h5" % b] + short)
    same_init = digest("rt_%s_a.h5" % b) == digest("rt_%s_b.h5" % b)
    same_trained = digest("rt_%s_ta.h5" % b) == digest("rt_%s_tb.h5" % b)
    sha = lambda p: hashlib.sha256(open(os.path.join(WORK, p), "rb").read()).hexdigest()  # noqa: E731
    same_file = sha("rt_%s_ta.h5" % b) == sha("rt_%s_tb.h5" % b)
    check(same_init and same_trained and (same_file or not canonical),
          "round trip %s: the same tensors at the start and after training%s" % (
              rel, "; the same canonical config (trained file sha256 equal)" if canonical else
              " (its config writes keys at their defaults, or a graph's sections in another order than Keras')"))

# Bad input: one line naming the file, the layer, the argument and the value, and what is supported; exit 2.
base = FIX["inception_concat"]["config"]


def mutated(tag, fn, want):
    c = json.loads(json.dumps(base))
    fn(c)
    js = os.path.join(WORK, "bad_%s.json" % tag)
    with open(js, "w") as f:
        json.dump(c, f)
    p = run(["init", imported("bad_%s.cfg" % tag, js), "-o", "bad.h5"], code=2)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    check(len(lines) == 1 and all(w in lines[0] for w in want) and not os.path.exists(os.path.join(WORK, "bad.h5")),
          "import %s: exit 2, one line: %s" % (tag, lines[0] if lines else "(nothing)"))


def conv(c):
    return next(e for e in c["config"]["layers"] if e["class_name"] == "Conv2D")["config"]


mutated("dilation", lambda c: conv(c).update(dilation_rate=[2, 2]),
        ["bad_dilation.json: layer 'conv2d_6' (Conv2D): dilation_rate = [2, 2] is not supported", "supports [1, 1]"])
mutated("channels_first", lambda c: conv(c).update(data_format="channels_first"),
        ["(Conv2D): data_format = \"channels_first\" is not supported", "channels_last"])
mutated("groups", lambda c: conv(c).update(groups=2), ["groups = 2 is not supported", "supports 1"])
mutated("class", lambda c: c["config"]["layers"][1].update(class_name="Conv3D"),
        ["(Conv3D): class Conv3D is not supported", "Dense, Conv2D"])
mutated("dtype", lambda c: conv(c).update(dtype={"module": "keras", "class_name": "DTypePolicy",
                                                 "config": {"name": "mixed_float16"}, "registered_name": None}),
        ["dtype = ", "mixed_float16", "supports float32"])
mutated("argument", lambda c: conv(c).update(lora_rank=4), ["argument lora_rank = 4 is not supported", "Conv2D takes"])
with open(os.path.join(WORK, "bad_syntax.json"), "w") as f:
    f.write('{"class_name": "Functional",\n "config": {"layers": [}\n')
p = run(["init", imported("bad_syntax.cfg", os.path.join(WORK, "bad_syntax.json")), "-o", "bad.h5"], code=2)
check("bad_syntax.json:2:" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
      "malformed JSON: exit 2, one line with its line and column: %s" % p.stderr.strip())
rezip("trunc_cfg.keras", [])
write("trunc_cfg.keras", good[:100])
p = run(["init", imported("bad_zip.cfg", os.path.join(WORK, "trunc_cfg.keras")), "-o", "bad.h5"], code=2)
check("trunc_cfg.keras" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
      "a truncated .keras as [model] keras: exit 2, one line: %s" % p.stderr.strip())
small_cfg = imported("bad_shape.cfg", small, "keras_weights = %s\n" % os.path.join(WORK, "mlp.keras"))
p = run(["init", small_cfg, "-o", "bad.h5"], code=2)
check("mlp.keras" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
      "keras_weights of another model: exit 2, one line: %s" % p.stderr.strip())

both = os.path.join(WORK, "both.cfg")
with open(both, "w") as f:
    f.write("[run]\nseed = 1\n[model]\nkeras = %s\n[dense]\nunits = 3\n%s" % (small, TAIL))
p = run(["init", both, "-o", "bad.h5"], code=2)
check(p.stderr.strip().startswith(both + ":4: [model] keras = ") and "[dense]" in p.stderr,
      "[model] keras and layer sections together: exit 2, one line: %s" % p.stderr.strip())
p = run(["init", imported("withinput.cfg", small, "input = 8,8,1\n"), "-o", "bad.h5"], code=2)
check("remove [model] input" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
      "[model] keras with [model] input: exit 2, one line: %s" % p.stderr.strip())
p = run(["init", os.path.join(SRC, "configs", "synthetic.cfg"), "-o", "a.keras,"], code=2)
check(p.stderr.strip() == "-o a.keras,: an empty path (write one path, or several separated by commas)",
      "-o with an empty path: exit 2: %s" % p.stderr.strip())

if failures:
    print("\n%d check(s) failed" % len(failures))
    sys.exit(1)
print("\nall checks passed")
