#!/usr/bin/python3
"""summary: `reprodist summary CONFIG` prints the model as Keras' model.summary().

1. The two graphs real Keras 3.15.1 built (tests/keras/fixtures.json): rows in
   Keras' model.layers order, each layer's Keras class, its parameter count
   (the sizes of the weights Keras saved), what it is connected to (Keras'
   inbound nodes), and the totals (non-trainable: BatchNormalization's moving
   statistics).
2. Sequential configs and the test graphs: names in order and output shapes
   and parameter counts from Keras' layer definitions (check_keras_layout.py,
   not reprodist's code).
3. At np 2 the same text, printed once; a bad config exits 2.
Needs REPRODIST, RD_MPIEXEC, RD_NPFLAG, RD_MPIFLAGS. Last line: "N passed, N failed"."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdcheck import check, finish  # noqa: E402
from rdcheck import run as rd_run  # noqa: E402
import check_keras_layout as kl  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
ROW = re.compile(r"^ (\S+) \((\w+)\)\s+(\[?\(None[^)]*\)\]?)\s+([\d,]+)\s*(\S*)\s*$")
MORE = re.compile(r"^\s{10,}(\S+\[0\]\[0\])\s*$")


def summary(cfg, np_=1):
    r = rd_run(np_, ["summary", cfg])
    return r.returncode, r.stdout


def parse(text):
    """[(name, class, shape, params, [connected])], totals {Total: n, ...}"""
    rows, totals = [], {}
    for line in text.splitlines():
        m = ROW.match(line)
        if m and m.group(1) != "Layer":
            conn = [m.group(5)] if m.group(5) and m.group(5) != "[]" else []
            rows.append([m.group(1), m.group(2), m.group(3), int(m.group(4).replace(",", "")), conn])
            continue
        m = MORE.match(line)
        if m and rows:
            rows[-1][4].append(m.group(1))
            continue
        m = re.match(r"^(Total|Trainable|Non-trainable) params: ([\d,]+) ", line)
        if m:
            totals[m.group(1)] = int(m.group(2).replace(",", ""))
    return rows, totals


def keras_shape(shape):
    return "(None, %s)" % ", ".join(str(d) for d in shape)


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def fixture_graphs():
    fixtures = json.load(open(os.path.join(HERE, "keras", "fixtures.json")))
    for g, fx in sorted(fixtures.items()):
        cfg = os.path.join(HERE, "graphs", g + ".cfg")
        rc, out = summary(cfg)
        if not check(rc == 0, "%s: reprodist summary exits 0 (%d)" % (g, rc)):
            print(out)
            continue
        rows, totals = parse(out)
        kin = fx["layer_names"][0]  # Keras' input layer name in that session

        def ours(n):
            return "input_layer" if n == kin else n
        check([r[0] for r in rows] == [ours(n) for n in fx["layer_names"]],
              "%s: rows in Keras' order %s" % (g, [r[0] for r in rows]))
        total = trainable = 0
        for name, cls, shape, params, conn in rows:
            kname = kin if name == "input_layer" else name
            want = sum(numel(s) for _, s in fx["weights"].get(kname, []))
            check(params == want, "%s: %s has %d parameters, as Keras saved (%d)" % (g, name, params, want))
            check(cls == fx["class_name"][kname], "%s: %s is a %s (Keras: %s)" % (g, name, cls, fx["class_name"][kname]))
            wantc = ["%s[0][0]" % ours(n) for n in fx["connected_to"][kname]]
            check(conn == wantc, "%s: %s connected to %s (Keras: %s)" % (g, name, conn, wantc))
            total += want
            trainable += sum(numel(s) for w, s in fx["weights"].get(kname, []) if "moving_" not in w)
        check(totals.get("Total") == total and totals.get("Trainable") == trainable
              and totals.get("Non-trainable") == total - trainable,
              "%s: totals %s = %d, %d trainable" % (g, totals, total, trainable))


def from_definitions():
    cfgs = [os.path.join(SRC, "configs", c) for c in ("fashion_mnist_mlp.cfg", "fashion_mnist_cnn_bn.cfg")]
    cfgs += [os.path.join(HERE, "graphs", g) for g in ("merges.cfg", "resnet_blocks.cfg", "inception_concat.cfg")]
    for cfg in cfgs:
        name = os.path.basename(cfg)
        rc, out = summary(cfg)
        if not check(rc == 0, "%s: reprodist summary exits 0 (%d)" % (name, rc)):
            continue
        rows, totals = parse(out)
        model = kl.parse_config(cfg)
        check([r[0] for r in rows] == [l[0] for l in model["layers"]],
              "%s: the layers in Keras' order %s" % (name, [r[0] for r in rows]))
        graph = model["layers"][0][0] == "input_layer" and "input_layer" not in model["shapes"]
        check(("Model: \"functional\"" if graph else "Model: \"sequential\"") in out,
              "%s: a %s model" % (name, "functional" if graph else "sequential"))
        for (lname, tensors), r in zip(model["layers"], rows):
            if lname == "input_layer" and graph:
                continue
            want = keras_shape(model["shapes"][lname])
            check(r[2] == want and r[3] == sum(numel(s) for _, s in tensors),
                  "%s: %s output %s, %d parameters (Keras: %s, %d)"
                  % (name, lname, r[2], r[3], want, sum(numel(s) for _, s in tensors)))
        # np 2: the same text, once.
        rc2, out2 = summary(cfg, 2)
        check(rc2 == 0 and out2 == out, "%s: at np 2 the same summary, printed once" % name)


def bad_config():
    bad = os.path.join(os.environ.get("RD_TMP", "/tmp"), "summary_bad.cfg")
    with open(bad, "w") as fh:
        fh.write("[model]\ninput = 4\n[dense]\nunits = 3\n[add]\ninputs = dense, nope\n")
    rc, out = summary(bad, 2)
    lines = [l for l in out.splitlines() if "no layer is named 'nope'" in l]
    check(rc == 2 and len(lines) == 1 and lines[0].startswith(bad + ":6:"),
          "a bad graph: exit 2 (%d), one line naming the file and line" % rc)


if __name__ == "__main__":
    fixture_graphs()
    from_definitions()
    bad_config()
    sys.exit(finish())
