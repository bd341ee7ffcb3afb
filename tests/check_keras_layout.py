#!/usr/bin/python3
"""check_keras_layout: is a reprodist weights file a Keras 2 legacy weights file?

Checks a file written by `reprodist init` (or train) against the rules Keras 2's
legacy loader (hdf5_format.load_weights_from_hdf5_group) relies on, and against
the model its config describes:

  root attrs   layer_names: fixed-length, NULLPAD, ASCII strings in model order;
               backend; keras_version (2.x; without it Keras assumes Keras 1)
  /<layer>     attr weight_names = ["<layer>/kernel:0", "<layer>/bias:0"] (empty,
               and no objects in the group, for a layer without weights)
  datasets     /<layer>/<layer>/<tensor>:0 in Keras' shapes (Dense: kernel (in,
               units), bias (units,)): '<f4',
               contiguous, no filters; the bytes on disk hash (XXH64, seed 0) to
               the dataset's reprodist_xxh64 attribute; finite values
  loader       names decoded with .decode('utf8') (old Keras: bytes required),
               layers with weights matched by order, counts and shapes exact
  provenance   reprodist_seed = [run] seed; reprodist_config_xxh64 = XXH64 of
               reprodist_config

Usage:
  check_keras_layout.py FILE.h5 CONFIG.cfg        check a file against a config
  check_keras_layout.py FILE.h5 --layers NAME:TENSOR=D0xD1,TENSOR=D0 ... (NAME: for no weights)
  check_keras_layout.py --run CONFIG.cfg ...      (ctest) run `reprodist init` at
        np 2 on each config and on a built-in one, check every file, then check
        that deliberately broken copies are rejected. Needs REPRODIST, RD_MPIEXEC,
        RD_NPFLAG, RD_MPIFLAGS (set by tests/CMakeLists.txt).
Last line: "N passed, N failed"; exit status 1 on any failure.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import xxhash


# ---- the expected model, from a config -------------------------------------------
# A model is {"seed": S or None, "layers": [(layer name, [(tensor, shape), ...])]},
# every layer in model order, with its tensors in Keras order (trainable first).
# Shapes come from Keras' definitions of the layers, not from reprodist.

FIXED = ("run", "model", "data", "train")


def read_sections(path):
    sections = []
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\r\n")
            for i, ch in enumerate(line):  # '#' at the start or after white space
                if ch == "#" and (i == 0 or line[i - 1].isspace()):
                    line = line[:i]
                    break
            line = line.strip()
            if not line:
                continue
            if line.startswith("["):
                sections.append((line.strip("[]").strip(), {}))
            else:
                key, _, value = line.partition("=")
                sections[-1][1][key.strip()] = value.strip()
    return sections


def _ints(text, n):
    v = [int(p) for p in str(text).split(",")]
    return v * n if len(v) == 1 else v


def _out_len(n, k, s, same):
    return -(-n // s) if same else (n - k) // s + 1


def keras_layer(kind, kv, shape):
    """(tensors, output shape) of a Keras layer on a per-sample input shape."""
    if kind == "dense":  # keras.layers.Dense: kernel (in, units) on the last axis, bias (units,)
        units = int(kv["units"])
        tensors = [("kernel", (shape[-1], units))]
        if kv.get("use_bias", "true") == "true":
            tensors.append(("bias", (units,)))
        return tensors, shape[:-1] + (units,)
    if kind == "conv2d":  # Conv2D, channels_last: kernel (kh, kw, in, filters), bias (filters,)
        f, (kh, kw), (sh, sw) = int(kv["filters"]), _ints(kv["kernel_size"], 2), _ints(kv.get("strides", "1"), 2)
        same = kv.get("padding", "valid") == "same"
        tensors = [("kernel", (kh, kw, shape[-1], f))]
        if kv.get("use_bias", "true") == "true":
            tensors.append(("bias", (f,)))
        return tensors, (_out_len(shape[0], kh, sh, same), _out_len(shape[1], kw, sw, same), f)
    if kind in ("max_pooling2d", "average_pooling2d"):  # no weights; strides default to pool_size
        ps = _ints(kv.get("pool_size", "2"), 2)
        st = _ints(kv["strides"], 2) if "strides" in kv else ps
        same = kv.get("padding", "valid") == "same"
        return [], (_out_len(shape[0], ps[0], st[0], same), _out_len(shape[1], ps[1], st[1], same), shape[2])
    if kind == "global_average_pooling2d":
        return [], (shape[-1],)
    if kind == "flatten":
        n = 1
        for d in shape:
            n *= d
        return [], (n,)
    if kind == "reshape":
        return [], tuple(_ints(kv["target_shape"], 1))
    if kind in ("dropout", "activation", "random_flip", "random_translation", "random_rotation", "random_zoom",
                "random_contrast", "random_erasing"):  # Keras 3's augmentation layers: no weights, same shape
        return [], shape
    if kind == "random_crop":  # RandomCrop(height, width): no weights
        return [], (int(kv["height"]), int(kv["width"]), shape[2])
    if kind in ("depthwise_conv2d", "separable_conv2d"):
        # DepthwiseConv2D: kernel (kh, kw, in, dm), bias (in * dm,); SeparableConv2D: depthwise_kernel
        # (kh, kw, in, dm), pointwise_kernel (1, 1, in * dm, filters), bias (filters,)
        (kh, kw), (sh, sw) = _ints(kv["kernel_size"], 2), _ints(kv.get("strides", "1"), 2)
        dm, same, c = int(kv.get("depth_multiplier", "1")), kv.get("padding", "valid") == "same", shape[-1]
        f = int(kv["filters"]) if kind == "separable_conv2d" else c * dm
        if kind == "depthwise_conv2d":
            tensors = [("kernel", (kh, kw, c, dm))]
        else:
            tensors = [("depthwise_kernel", (kh, kw, c, dm)), ("pointwise_kernel", (1, 1, c * dm, f))]
        if kv.get("use_bias", "true") == "true":
            tensors.append(("bias", (f,)))
        return tensors, (_out_len(shape[0], kh, sh, same), _out_len(shape[1], kw, sw, same), f)
    if kind == "zero_padding2d":  # ZeroPadding2D: padding int, (h, w) or ((top, bottom), (left, right))
        v = [int(a) for a in kv.get("padding", "1").split(",")]
        t, b, l, r = v * 4 if len(v) == 1 else (v[0], v[0], v[1], v[1]) if len(v) == 2 else v
        return [], (shape[0] + t + b, shape[1] + l + r, shape[2])
    if kind == "global_max_pooling2d":
        return [], (shape[-1],)
    if kind == "layer_normalization":  # gamma, beta over the last axis
        c = (shape[-1],)
        return (([("gamma", c)] if kv.get("scale", "true") == "true" else []) +
                ([("beta", c)] if kv.get("center", "true") == "true" else [])), shape
    if kind in MERGES:  # Add, Subtract, ...: inputs of one shape, no weights
        return [], shape
    if kind == "concatenate":  # the inputs' axes summed (shape is the list of input shapes)
        ax = int(kv.get("axis", "-1"))
        nd = len(shape[0])
        a = nd + ax if ax < 0 else ax - 1
        out = list(shape[0])
        out[a] = sum(s[a] for s in shape)
        return [], tuple(out)
    if kind == "batch_normalization":  # gamma, beta (trainable), moving_mean, moving_variance
        c = (shape[-1],)
        tensors = ([("gamma", c)] if kv.get("scale", "true") == "true" else []) + \
                  ([("beta", c)] if kv.get("center", "true") == "true" else [])
        return tensors + [("moving_mean", c), ("moving_variance", c)], shape
    raise ValueError("no Keras definition here for layer type [%s]; describe it with --layers" % kind)


MERGES = ("add", "subtract", "multiply", "average", "maximum", "minimum")


def keras_order(names, sources):
    """Keras 3's model.layers order for a graph, from keras/src/ops/function.py
    (map_graph and _build_map): a depth-first walk from the output over each
    layer's inputs in order numbers layers as first met; a layer's depth is the
    longest path to the output; sorted by decreasing depth, ties by number.
    names: the layers in file order (the last is the output); sources: for each,
    the indices of its inputs (-1: the model input). Returns indices."""
    index, post = {}, []

    def walk(l):
        if l in index:
            return
        index[l] = len(index)
        for s in sources[l]:
            if s >= 0:
                walk(s)
        post.append(l)

    walk(len(names) - 1)
    depth = {l: 0 for l in post}
    for l in reversed(post):
        for s in sources[l]:
            if s >= 0:
                depth[s] = max(depth[s], depth[l] + 1)
    return sorted(post, key=lambda l: (-depth[l], index[l]))


def parse_config(path):
    """Minimal reading of a reprodist config: [run] seed, [model] input and the
    layer sections, with Keras' automatic names per type (dense, dense_1, ...).
    A config whose sections name `inputs` is a graph (a Keras Functional model):
    its layers are in Keras' order, after the input layer."""
    sections = read_sections(path)
    seed, shape = 0, None
    for name, kv in sections:
        if name == "run" and "seed" in kv:
            seed = int(kv["seed"])
        elif name == "model":
            shape = tuple(int(v) for v in kv["input"].split(","))
    graph = any("inputs" in kv for kind, kv in sections if kind not in FIXED)
    layers, unnamed, shapes, sources = [], {}, [], []
    for kind, kv in sections:
        if kind in FIXED:
            continue
        if "name" in kv:
            lname = kv["name"]
        else:
            k = unnamed.get(kind, 0)
            lname = kind if k == 0 else "%s_%d" % (kind, k)
            unnamed[kind] = k + 1
        names = [l[0] for l in layers]
        if "inputs" in kv:
            src = [-1 if n.strip() == "input" else names.index(n.strip()) for n in kv["inputs"].split(",")]
        else:
            src = [len(layers) - 1]
        ins = [shape if s < 0 else shapes[s] for s in src]
        tensors, out = keras_layer(kind, kv, ins if kind == "concatenate" else ins[0])
        layers.append((lname, tensors))
        shapes.append(out)
        sources.append(src)
    out_shapes = {l[0]: sh for l, sh in zip(layers, shapes)}
    if graph:
        layers = [("input_layer", [])] + [layers[i] for i in keras_order([l[0] for l in layers], sources)]
    return {"seed": seed, "layers": layers, "shapes": out_shapes}


def parse_layers(specs):
    """--layers NAME:TENSOR=D0xD1,TENSOR=D0 ... (NAME: alone for a layer without weights)."""
    layers = []
    for s in specs:
        name, _, rest = s.partition(":")
        tensors = []
        for t in filter(None, rest.split(",")):
            tname, _, dims = t.partition("=")
            tensors.append((tname, tuple(int(d) for d in dims.split("x"))))
        layers.append((name, tensors))
    return {"seed": None, "layers": layers}


# ---- checking one file ----------------------------------------------------------------

class Report:
    def __init__(self, verbose=True):
        self.passed = 0
        self.failed = 0
        self.errors = []
        self.verbose = verbose

    def check(self, ok, what):
        if ok:
            self.passed += 1
            if self.verbose:
                print("ok: " + what)
        else:
            self.failed += 1
            self.errors.append(what)
            if self.verbose:
                print("FAIL: " + what)
        return ok


def fixed_ascii_nullpad(attr_id):
    t = attr_id.get_type()
    return (t.get_class() == h5py.h5t.STRING and not t.is_variable_str()
            and t.get_strpad() == h5py.h5t.STR_NULLPAD and t.get_cset() == h5py.h5t.CSET_ASCII)


def keras_decode_list(group, name):
    """hdf5_format.load_attributes_from_hdf5_group as old Keras 2 has it:
    [n.decode('utf8') for n in group.attrs[name]] (chunked name0, name1, ... too)."""
    if name in group.attrs:
        return [n.decode("utf8") for n in group.attrs[name]]
    data, chunk = [], 0
    while "%s%d" % (name, chunk) in group.attrs:
        data.extend(n.decode("utf8") for n in group.attrs["%s%d" % (name, chunk)])
        chunk += 1
    return data


def keras_load(f, model_layers):
    """load_weights_from_hdf5_group, topological (by order). Returns the list of
    (layer, [arrays]) it would assign, or raises ValueError like Keras does."""
    version = f.attrs["keras_version"] if "keras_version" in f.attrs else "1"
    if hasattr(version, "decode"):
        version = version.decode("utf8")
    backend = f.attrs["backend"] if "backend" in f.attrs else None
    if hasattr(backend, "decode"):
        backend = backend.decode("utf8")
    if not str(version).startswith("2."):
        raise ValueError("keras_version %r: Keras 2 would convert these weights as Keras %s weights"
                         % (version, version))
    layer_names = keras_decode_list(f, "layer_names")
    filtered = [n for n in layer_names if keras_decode_list(f[n], "weight_names")]
    with_weights = [l for l in model_layers if l[1]]  # Keras: [l for l in layers if l.weights]
    if len(filtered) != len(with_weights):
        raise ValueError("You are trying to load a weight file containing %d layers into a model with %d layers."
                         % (len(filtered), len(with_weights)))
    assigned = []
    for k, name in enumerate(filtered):
        g = f[name]
        weight_names = keras_decode_list(g, "weight_names")
        values = [np.asarray(g[wn]) for wn in weight_names]
        lname, tensors = with_weights[k]
        symbolic = [shape for _, shape in tensors]
        if len(values) != len(symbolic):
            raise ValueError("Layer #%d (named %s) expects %d weight(s), but the saved weights have %d element(s)."
                             % (k, lname, len(symbolic), len(values)))
        for v, shape in zip(values, symbolic):
            if v.shape != shape:
                raise ValueError("Layer %s: shape %s of the saved weight is incompatible with %s"
                                 % (lname, v.shape, shape))
        assigned.append((lname, values))
    return assigned


def check_file(path, model, rep):
    """All checks on one file; results go to rep."""
    name = os.path.basename(path)
    layers = model["layers"]
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        rep.check(False, "%s: opens as HDF5 (%s)" % (name, e))
        return
    with f:
        for a in ("layer_names", "backend", "keras_version"):
            rep.check(a in f.attrs, "%s: root attribute %s present" % (name, a))
        if "layer_names" not in f.attrs:
            return
        for a in ("layer_names", "backend", "keras_version"):
            if a in f.attrs:
                rep.check(fixed_ascii_nullpad(f.attrs.get_id(a)),
                          "%s: %s is fixed-length, NULLPAD, ASCII" % (name, a))
        raw = f.attrs["layer_names"]
        rep.check(all(isinstance(n, bytes) for n in raw), "%s: layer_names elements have .decode" % name)
        names = [n.decode("utf8") if isinstance(n, bytes) else n for n in raw]
        expected_names = [l[0] for l in layers]
        rep.check(names == expected_names,
                  "%s: layer_names %s = model order %s" % (name, names, expected_names))
        if "backend" in f.attrs:
            b = f.attrs["backend"]
            rep.check(isinstance(b, bytes) and b.decode("utf8") == "tensorflow",
                      "%s: backend = 'tensorflow' (%r)" % (name, b))
        if "keras_version" in f.attrs:
            v = f.attrs["keras_version"]
            rep.check(isinstance(v, bytes) and v.decode("utf8").startswith("2."),
                      "%s: keras_version is 2.x (%r)" % (name, v))
        stray = sorted(set(f.keys()) - set(names))
        rep.check(not stray, "%s: no objects at / besides the layers (%s)" % (name, stray))

        # Raw bytes on disk, for the contiguous datasets.
        with open(path, "rb") as fh:
            blob = fh.read()

        for lname, tensors in layers:
            if lname not in f or not isinstance(f[lname], h5py.Group):
                rep.check(False, "%s: group /%s exists" % (name, lname))
                continue
            g = f[lname]
            if not rep.check("weight_names" in g.attrs, "%s: /%s has weight_names" % (name, lname)):
                continue
            wn = [n.decode("utf8") if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
            if tensors:
                rep.check(fixed_ascii_nullpad(g.attrs.get_id("weight_names")),
                          "%s: /%s weight_names is fixed-length, NULLPAD, ASCII" % (name, lname))
            else:  # save_weights: an empty list, and nothing inside the group
                rep.check(list(g.keys()) == [], "%s: /%s (no weights) holds no objects" % (name, lname))
            want = ["%s/%s:0" % (lname, t) for t, _ in tensors]
            rep.check(wn == want, "%s: /%s weight_names %s = %s" % (name, lname, wn, want))
            for (tname, shape), w in zip(tensors, want):
                dpath = "/%s/%s" % (lname, w)
                if not rep.check(dpath in f and isinstance(f[dpath], h5py.Dataset), "%s: %s exists" % (name, dpath)):
                    continue
                d = f[dpath]
                rep.check(d.shape == shape, "%s: %s shape %s = %s" % (name, dpath, d.shape, shape))
                rep.check(d.dtype.str == "<f4", "%s: %s dtype %s is '<f4'" % (name, dpath, d.dtype.str))
                plist = d.id.get_create_plist()
                rep.check(d.chunks is None and plist.get_layout() == h5py.h5d.CONTIGUOUS,
                          "%s: %s is contiguous (chunks %s)" % (name, dpath, d.chunks))
                rep.check(d.compression is None and plist.get_nfilters() == 0,
                          "%s: %s has no filters" % (name, dpath))
                data = d[()]
                rep.check(bool(np.all(np.isfinite(data))), "%s: %s values are finite" % (name, dpath))
                claim = d.attrs.get("reprodist_xxh64")
                claim = claim.decode("ascii") if isinstance(claim, bytes) else claim
                got = "%016x" % xxhash.xxh64_intdigest(np.ascontiguousarray(data, dtype="<f4").tobytes())
                rep.check(claim == got, "%s: %s reprodist_xxh64 %s = XXH64 of its values %s" % (name, dpath, claim, got))
                off = d.id.get_offset()
                ondisk = None
                if off is not None:
                    ondisk = "%016x" % xxhash.xxh64_intdigest(blob[off:off + data.size * 4])
                rep.check(ondisk == got, "%s: %s bytes on disk hash to the same %s" % (name, dpath, ondisk))
        try:
            assigned = keras_load(f, layers)
            rep.check(len(assigned) == len([l for l in layers if l[1]]),
                      "%s: load_weights_from_hdf5_group assigns %d layers" % (name, len(assigned)))
        except (ValueError, KeyError, AttributeError, TypeError) as e:
            rep.check(False, "%s: load_weights_from_hdf5_group: %s: %s" % (name, type(e).__name__, e))

        if model["seed"] is not None:
            s = f.attrs.get("reprodist_seed")
            rep.check(s is not None and int(s) == model["seed"],
                      "%s: reprodist_seed %s = [run] seed %s" % (name, s, model["seed"]))
        text, digest = f.attrs.get("reprodist_config"), f.attrs.get("reprodist_config_xxh64")
        if isinstance(text, bytes) and isinstance(digest, bytes):
            got = "%016x" % xxhash.xxh64_intdigest(text)
            rep.check(digest.decode("ascii") == got,
                      "%s: reprodist_config_xxh64 %s = XXH64 of reprodist_config %s" % (name, digest.decode(), got))
        else:
            rep.check(False, "%s: reprodist_config and reprodist_config_xxh64 present" % name)


# ---- --run: the ctest entry --------------------------------------------------------------

ALL_LAYERS_CONFIG = """# every built-in layer type, with options that change their weights or shapes
[run]
seed = 5
[model]
input = 432
[reshape]
target_shape = 12,12,3
[random_flip]
[random_translation]
height_factor = 0.1
width_factor = 0.1
[random_rotation]
factor = 0.1
[random_zoom]
height_factor = 0.1
[random_contrast]
factor = 0.1
[random_erasing]
[random_crop]
height = 11
width = 12
[zero_padding2d]
padding = 1,0
[conv2d]
filters = 4
kernel_size = 3,2
strides = 2
padding = same
[batch_normalization]
[activation]
activation = relu
[average_pooling2d]
pool_size = 2
strides = 1
[max_pooling2d]
pool_size = 3
padding = same
[dropout]
rate = 0.25
[conv2d]
name = pointwise
filters = 6
kernel_size = 1
use_bias = false
[batch_normalization]
center = false
[layer_normalization]
scale = false
[depthwise_conv2d]
kernel_size = 2
depth_multiplier = 2
[separable_conv2d]
filters = 5
kernel_size = 1,2
padding = same
[global_average_pooling2d]
[dense]
units = 3
activation = softmax
"""


EXTRA_CONFIG = """# named layers, a layer without bias, three layers
[run]
seed = 99
[model]
input = 20
[dense]
name = hidden
units = 16
activation = relu
[dense]
units = 8
use_bias = false
[dense]
name = out_layer
units = 3
activation = softmax
"""


# Graphs whose Keras order was worked out by hand from keras/src/ops/function.py
# (map_graph), with each config: (text, expected layer_names).
HAND_GRAPHS = {
    # A diamond with branches of unequal length; add lists the short one (d)
    # first. Walk from out: s, d, a, c, b (numbers 1..5); depths out 0, s 1,
    # d 2, c 2, b 3, a 4 (via b). So d (number 2) comes before c (number 4),
    # although c is written first.
    "diamond": ("""[run]
seed = 11
[model]
input = 6
[dense]
name = a
units = 8
[dense]
name = b
units = 8
[dense]
name = c
units = 8
inputs = b
[dense]
name = d
units = 8
inputs = a
[add]
name = s
inputs = d, c
[dense]
name = out
units = 3
activation = softmax
""", ["input_layer", "a", "b", "d", "c", "s", "out"]),
    # An output used twice in one layer (sq = diff * diff) and h used by p and
    # by the concatenation. Walk from out: cat 1, q 2, sq 3, diff 4, p 5, h 6;
    # depths cat 1, sq 2, diff 3, p 4, q 4 (via diff, not 2 via cat), h 5.
    "reuse": ("""[run]
seed = 12
[model]
input = 5
[dense]
name = h
units = 4
[dense]
name = p
units = 4
[dense]
name = q
units = 4
inputs = input
[subtract]
name = diff
inputs = p, q
[multiply]
name = sq
inputs = diff, diff
[concatenate]
name = cat
inputs = q, sq, h
[dense]
name = out
units = 2
activation = softmax
""", ["input_layer", "h", "q", "p", "diff", "sq", "cat", "out"]),
}


def check_keras_fixtures(rep, tmp, here):
    """The graphs real Keras 3.15.1 saved (tests/keras/fixtures.json, their
    layer_names and weight shapes): reprodist's file of the same graph lists the
    same layers in the same order, with the same weights. Keras named its input
    layer input_layer_1 in the second model; reprodist always input_layer."""
    with open(os.path.join(here, "keras", "fixtures.json")) as fh:
        fixtures = json.load(fh)
    for g, fx in sorted(fixtures.items()):
        cfg = os.path.join(here, "graphs", g + ".cfg")
        out = os.path.join(tmp, g + ".h5")
        rc, text = run_init(cfg, out, 2)
        if not rep.check(rc == 0, "reprodist init %s at np 2 (exit %d)" % (cfg, rc)):
            print(text)
            continue
        check_file(out, parse_config(cfg), rep)
        with h5py.File(out, "r") as f:
            names = [n.decode("utf8") for n in f.attrs["layer_names"]]
            rep.check(names[1:] == fx["layer_names"][1:] and names[0] == "input_layer",
                      "%s: layer_names %s = Keras' %s" % (g, names, fx["layer_names"]))
            for n in names[1:]:
                ws = [[w.decode("utf8").replace(":0", ""), list(f[n][w.decode("utf8")].shape)]
                      for w in f[n].attrs["weight_names"]]
                rep.check(ws == fx["weights"].get(n), "%s: /%s weights %s = Keras' %s" % (g, n, ws, fx["weights"].get(n)))


def check_hand_graphs(rep, tmp):
    for g, (text, order) in sorted(HAND_GRAPHS.items()):
        cfg = os.path.join(tmp, g + ".cfg")
        with open(cfg, "w") as fh:
            fh.write(text)
        model = parse_config(cfg)
        rep.check([l[0] for l in model["layers"]] == order,
                  "%s: this checker's Keras order %s = the one worked out by hand %s"
                  % (g, [l[0] for l in model["layers"]], order))
        out = os.path.join(tmp, g + ".h5")
        rc, log = run_init(cfg, out, 2)
        if not rep.check(rc == 0, "reprodist init %s at np 2 (exit %d)" % (g, rc)):
            print(log)
            continue
        check_file(out, model, rep)


def run_init(cfg, out, np_):
    env = os.environ
    limit = env.get("RD_LIMIT", "120")  # a hang, never "too slow": tests/CMakeLists.txt, RD_RUN_LIMIT
    cmd = (["timeout", "-k", "5", limit, env["RD_MPIEXEC"]] + shlex.split(env.get("RD_NPFLAG", "-n")) + [str(np_)]
           + shlex.split(env.get("RD_MPIFLAGS", "")) + [env["REPRODIST"], "init", cfg, "-o", out])
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stdout + r.stderr


def mutants():
    """(name, function(file)) pairs that break one rule each."""

    def ds_replace(f, dpath, data, **kw):
        old = f[dpath]
        attrs = dict(old.attrs)
        parent, leaf = dpath.rsplit("/", 1)
        del f[dpath]
        d = f[parent].create_dataset(leaf, data=data, **kw)
        for k, v in attrs.items():
            d.attrs[k] = v

    def first_kernel(f):
        n = f.attrs["layer_names"][0].decode()
        return "/%s/%s/kernel:0" % (n, n)

    def vlen_names(f):
        names = [n.decode() for n in f.attrs["layer_names"]]
        del f.attrs["layer_names"]
        f.attrs.create("layer_names", names, dtype=h5py.string_dtype("utf-8"))

    def nullterm_names(f):
        names = list(f.attrs["layer_names"])
        w = max(len(n) for n in names) + 1
        t = h5py.h5t.C_S1.copy()
        t.set_size(w)
        t.set_strpad(h5py.h5t.STR_NULLTERM)
        del f.attrs["layer_names"]
        sid = h5py.h5s.create_simple((len(names),))
        a = h5py.h5a.create(f.id, b"layer_names", t, sid)
        a.write(np.array(names, dtype="S%d" % w), mtype=t)

    def reversed_names(f):
        names = list(f.attrs["layer_names"])[::-1]
        f.attrs["layer_names"] = np.array(names, dtype="S%d" % max(len(n) for n in names))

    def no_keras_version(f):
        del f.attrs["keras_version"]

    def keras1(f):
        f.attrs["keras_version"] = np.bytes_(b"1.2.2")

    def chunked(f):
        k = first_kernel(f)
        ds_replace(f, k, f[k][()], chunks=True)

    def gzip(f):
        k = first_kernel(f)
        ds_replace(f, k, f[k][()], compression="gzip")

    def float64(f):
        k = first_kernel(f)
        ds_replace(f, k, f[k][()].astype("<f8"))

    def big_endian(f):
        k = first_kernel(f)
        ds_replace(f, k, f[k][()].astype(">f4"))

    def transposed(f):
        k = first_kernel(f)
        ds_replace(f, k, np.ascontiguousarray(f[k][()].T))

    def tampered(f):
        k = first_kernel(f)
        f[k][0, 0] = f[k][0, 0] + np.float32(1)

    def swapped_weight_names(f):
        n = f.attrs["layer_names"][0].decode()
        wn = list(f[n].attrs["weight_names"])[::-1]
        f[n].attrs["weight_names"] = np.array(wn, dtype="S%d" % max(len(x) for x in wn))

    def no_weight_names(f):
        n = f.attrs["layer_names"][0].decode()
        del f[n].attrs["weight_names"]

    def stray_group(f):
        f.create_group("extra")

    def config_digest(f):
        f.attrs["reprodist_config_xxh64"] = np.bytes_(b"0000000000000000")

    return [("variable-length layer_names", vlen_names), ("NULLTERM layer_names", nullterm_names),
            ("layer_names out of order", reversed_names), ("no keras_version", no_keras_version),
            ("keras_version 1.x", keras1), ("chunked kernel", chunked), ("gzip kernel", gzip),
            ("float64 kernel", float64), ("big-endian kernel", big_endian), ("transposed kernel", transposed),
            ("kernel value changed", tampered), ("weight_names bias first", swapped_weight_names),
            ("weight_names missing", no_weight_names), ("stray group at /", stray_group),
            ("wrong config digest", config_digest)]


def layer_mutants():
    """Breaks of the every-layer file: layers without weights, BatchNormalization's order."""

    def names(f):
        return [n.decode() for n in f.attrs["layer_names"]]

    def set_names(f, v):
        f.attrs["layer_names"] = np.array(v, dtype="S%d" % max(len(n) for n in v))

    def weightless_left_out(f):  # Keras' loader would accept it; save_weights lists every layer
        set_names(f, [n for n in names(f) if n != "dropout"])

    def weightless_gets_names(f):
        f["dropout"].attrs["weight_names"] = np.array([b"dropout/kernel:0"])

    def bn_moving_first(f):
        wn = list(f["batch_normalization"].attrs["weight_names"])
        f["batch_normalization"].attrs["weight_names"] = np.array(wn[2:] + wn[:2], dtype="S%d" % max(len(x) for x in wn))

    def conv_kernel_channels_first(f):
        k = "/conv2d/conv2d/kernel:0"
        v = f[k][()]
        del f[k]
        f["conv2d/conv2d"].create_dataset("kernel:0", data=np.ascontiguousarray(v.transpose(3, 2, 0, 1)))

    return [("a layer without weights left out of layer_names", weightless_left_out),
            ("a layer without weights lists a weight", weightless_gets_names),
            ("BatchNormalization's moving statistics before gamma and beta", bn_moving_first),
            ("conv kernel stored (filters, in, kh, kw)", conv_kernel_channels_first)]


def reject_all(rep, tmp, src, model, breaks):
    """Each broken copy of the good file src must be caught."""
    for what, mutate in breaks:
        bad = os.path.join(tmp, "mutant.h5")
        shutil.copy(src, bad)
        with h5py.File(bad, "r+") as f:
            mutate(f)
        sub = Report(verbose=False)
        check_file(bad, model, sub)
        rep.check(sub.failed > 0, "broken copy rejected: %s (%s)" % (what, sub.errors[0] if sub.errors else "no check failed"))


def main_run(configs):
    rep = Report()
    tmp = tempfile.mkdtemp(prefix="rdkeras.")
    try:
        extra, every = os.path.join(tmp, "extra.cfg"), os.path.join(tmp, "every_layer.cfg")
        with open(extra, "w") as fh:
            fh.write(EXTRA_CONFIG)
        with open(every, "w") as fh:
            fh.write(ALL_LAYERS_CONFIG)
        good = []
        for cfg in list(configs) + [extra, every]:
            out = os.path.join(tmp, os.path.basename(cfg).replace(".cfg", ".h5"))
            rc, text = run_init(cfg, out, 2)
            if not rep.check(rc == 0 and os.path.exists(out), "reprodist init %s at np 2 (exit %d)" % (cfg, rc)):
                print(text)
                continue
            model = parse_config(cfg)
            check_file(out, model, rep)
            good.append((out, model))
        check_keras_fixtures(rep, tmp, os.path.dirname(os.path.abspath(__file__)))
        check_hand_graphs(rep, tmp)
        # Each broken copy of a good file must be caught; otherwise the checks above prove nothing.
        if good:
            src, model = good[0]
            reject_all(rep, tmp, src, model, mutants())
            # Layers without weights and BatchNormalization's four tensors, on the every-layer file.
            reject_all(rep, tmp, good[-1][0], good[-1][1], layer_mutants())
            # And the --layers form agrees with the config form.
            sub = Report(verbose=False)
            check_file(src, {"seed": None, "layers": model["layers"]}, sub)
            rep.check(sub.failed == 0 and sub.passed > 0, "explicit --layers model passes too")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rep


def main(argv):
    if len(argv) >= 2 and argv[1] == "--run":
        for v in ("REPRODIST", "RD_MPIEXEC"):
            if v not in os.environ:
                print("%s is not set: run through ctest" % v)
                return 2
        rep = main_run(argv[2:])
    elif len(argv) >= 3 and argv[2] == "--layers":
        rep = Report()
        check_file(argv[1], parse_layers(argv[3:]), rep)
    elif len(argv) == 3:
        rep = Report()
        check_file(argv[1], parse_config(argv[2]), rep)
    else:
        print(__doc__)
        return 2
    print("%d passed, %d failed" % (rep.passed, rep.failed))
    return 1 if rep.failed or rep.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
