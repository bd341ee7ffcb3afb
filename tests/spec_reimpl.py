#!/usr/bin/python3
"""An independent reimplementation of docs/SEEDS.md, written from that page alone.

It recomputes reprodist's seeds, draws and initial weights in Python (numpy for
speed, xxhash for XXH64) and checks the C program against them:

  spec_reimpl.py compare   runs `$REPRODIST init` and `$REPRODIST seeds` on small
                           configs and compares every tensor bit for bit
                           (RD_VERBOSE=1 lists every check; RD_ORTHO_TOL=1e-6
                           compares orthogonal to a tolerance instead of bits)
  spec_reimpl.py kat       prints the known-answer digests that tests/test_init.c
                           checks the library against:
                           /usr/bin/python3 tests/spec_reimpl.py kat > tests/init_kat.txt
  spec_reimpl.py katcheck FILE  fails unless FILE is exactly what `kat` prints
  spec_reimpl.py selftest  only checks the fast (numpy) paths against the literal,
                           scalar transcription of the page

Needs Debian's python3-numpy, python3-xxhash and (compare only) python3-h5py:
run it with /usr/bin/python3.

Two implementations of each draw live here: `scalar_*` transcribes the page line
by line with Python floats and xxhash.xxh64_intdigest; the vectorised `v_*` do the
same with numpy (one IEEE double operation per numpy operation, no FMA) and are
checked against the scalar ones on samples of every tensor they produce.
"""
import math
import os
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np
import xxhash

M64 = (1 << 64) - 1
SQRT2 = 1.4142135623730951
LN2 = 0.6931471805599453
TRUNC_CORR = 0.87962566103423978


# ---- §1 tensor seeds -----------------------------------------------------------

def le32(x):
    return struct.pack("<I", x)


def le64(x):
    return struct.pack("<Q", x)


def tensor_seed(g, layer, tensor):
    lb, tb = layer.encode("ascii"), tensor.encode("ascii")
    return xxhash.xxh64_intdigest(le64(g) + le32(len(lb)) + lb + le32(len(tb)) + tb, 0)


def explicit_seed(s):
    return tensor_seed(s, "", "")


# ---- §2 words and uniforms (scalar, literal) -----------------------------------

def scalar_word(s, i, j):
    return xxhash.xxh64_intdigest(le64(i) + le64(j), s)


def scalar_uniform(w):
    return float(w >> 11) * 2.0 ** -53


# ---- §3 log and normals (scalar, literal) --------------------------------------

def scalar_log(x):
    bits = struct.unpack("<Q", struct.pack("<d", x))[0]
    e = ((bits >> 52) & 0x7FF) - 1023
    m = struct.unpack("<d", struct.pack("<Q", (bits & ((1 << 52) - 1)) | (1023 << 52)))[0]
    if m > SQRT2:
        m = m * 0.5
        e = e + 1
    f = (m - 1.0) / (m + 1.0)
    f2 = f * f
    p = 1.0 / 23.0
    for k in range(10, -1, -1):
        p = p * f2 + 1.0 / (2 * k + 1)
    return float(e) * LN2 + (2.0 * f) * p


def scalar_normal(s, i, truncated=False):
    """Returns (z, next unused draw index)."""
    j = 0
    while True:
        u1 = 2.0 * scalar_uniform(scalar_word(s, i, j)) - 1.0
        u2 = 2.0 * scalar_uniform(scalar_word(s, i, j + 1)) - 1.0
        j += 2
        q = u1 * u1 + u2 * u2
        if q >= 1.0 or q == 0.0:
            continue
        z = u1 * math.sqrt(-2.0 * scalar_log(q) / q)
        if truncated and not abs(z) <= 2.0:
            continue
        return z, j


# ---- vectorised versions ---------------------------------------------------------

P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)


def _u(x):
    return np.uint64(x)


def _rotl(x, r):
    return (x << _u(r)) | (x >> _u(64 - r))


def v_word(s, i, j):
    """XXH64(le64(i) || le64(j), s) for arrays i, j (the 16-byte path of XXH64).
    Checked against xxhash.xxh64_intdigest by the self-tests."""
    i = np.asarray(i, dtype=np.uint64)
    j = np.asarray(j, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = np.full(np.broadcast(i, j).shape, (s + P5 + 16) & M64, dtype=np.uint64)
        for lane in (i, j):
            k1 = _rotl(lane * _u(P2), 31) * _u(P1)
            h = h ^ k1
            h = _rotl(h, 27) * _u(P1) + _u(P4)
        h ^= h >> _u(33)
        h *= _u(P2)
        h ^= h >> _u(29)
        h *= _u(P3)
        h ^= h >> _u(32)
    return h


def v_uniform(w):
    return (w >> _u(11)).astype(np.float64) * 2.0 ** -53


def v_log(x):
    x = np.asarray(x, dtype=np.float64)
    bits = x.view(np.uint64)
    e = ((bits >> _u(52)) & _u(0x7FF)).astype(np.int64) - 1023
    m = ((bits & _u((1 << 52) - 1)) | _u(1023 << 52)).view(np.float64)
    big = m > SQRT2
    m = np.where(big, m * 0.5, m)
    e = np.where(big, e + 1, e)
    f = (m - 1.0) / (m + 1.0)
    f2 = f * f
    p = np.full_like(f, 1.0 / 23.0)
    for k in range(10, -1, -1):
        p = p * f2 + 1.0 / (2 * k + 1)
    return e.astype(np.float64) * LN2 + (2.0 * f) * p


def v_normal(s, n, truncated=False):
    """Standard normals for elements 0..n-1 of stream s; returns (z, next draw index)."""
    z = np.empty(n, dtype=np.float64)
    j = np.zeros(n, dtype=np.uint64)
    todo = np.arange(n, dtype=np.uint64)
    while todo.size:
        jj = j[todo]
        u1 = 2.0 * v_uniform(v_word(s, todo, jj)) - 1.0
        u2 = 2.0 * v_uniform(v_word(s, todo, jj + _u(1))) - 1.0
        j[todo] = jj + _u(2)
        q = u1 * u1 + u2 * u2
        ok = (q < 1.0) & (q != 0.0)
        qs = np.where(ok, q, 0.5)  # keeps log finite where the draw is rejected anyway
        zz = u1 * np.sqrt(-2.0 * v_log(qs) / qs)
        if truncated:
            ok &= np.abs(zz) <= 2.0
        z[todo[ok]] = zz[ok]
        todo = todo[~ok]
    return z, j


# ---- §4 initializers -------------------------------------------------------------

KINDS = ["zeros", "ones", "constant", "random_uniform", "random_normal", "truncated_normal",
         "variance_scaling", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
         "lecun_uniform", "lecun_normal", "orthogonal"]

DEFAULTS = {
    "constant": {"value": 0.0},
    "random_uniform": {"minval": -0.05, "maxval": 0.05},
    "random_normal": {"mean": 0.0, "stddev": 0.05},
    "truncated_normal": {"mean": 0.0, "stddev": 0.05},
    "variance_scaling": {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
    "orthogonal": {"gain": 1.0},
}
VS_ALIASES = {
    "glorot_uniform": (1.0, "fan_avg", "uniform"),
    "glorot_normal": (1.0, "fan_avg", "truncated_normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
    "he_normal": (2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": (1.0, "fan_in", "uniform"),
    "lecun_normal": (1.0, "fan_in", "truncated_normal"),
}
RANDOM_KINDS = set(KINDS) - {"zeros", "ones", "constant"}


def uniform_values(s, n, minval, maxval):
    u = v_uniform(v_word(s, np.arange(n, dtype=np.uint64), 0))
    return minval + (maxval - minval) * u


def orthogonal_q(s, R, C):
    """Q (R x C, R >= C) from modified Gram-Schmidt, two passes over the previous
    columns, sums taken in index order (see the note in compare's report)."""
    a, _ = v_normal(s, R * C)
    A = a.reshape(R, C)
    Q = np.empty((R, C), dtype=np.float64)
    for b in range(C):
        v = A[:, b].copy()
        for _pass in range(2):
            for k in range(b):
                d = np.cumsum(Q[:, k] * v)[-1]  # left-to-right sum, as a C loop would
                v = v - d * Q[:, k]
        nrm = math.sqrt(np.cumsum(v * v)[-1])
        Q[:, b] = v / nrm
    return Q


def fans(shape):
    """SEEDS.md section 4: Keras' compute_fans."""
    if len(shape) <= 2:
        return float(shape[0]), float(shape[-1])
    rf = int(np.prod(shape[:-2]))
    return float(shape[-2] * rf), float(shape[-1] * rf)


def init_values_f64(kind, params, s, shape):
    """Returns the double values (before f32) in C order."""
    n = int(np.prod(shape))
    p = dict(DEFAULTS.get(kind, {}))
    p.update(params)
    if kind == "zeros":
        return np.zeros(n)
    if kind == "ones":
        return np.ones(n)
    if kind == "constant":
        return np.full(n, float(p["value"]))
    if kind == "random_uniform":
        return uniform_values(s, n, float(p["minval"]), float(p["maxval"]))
    if kind in ("random_normal", "truncated_normal"):
        z, _ = v_normal(s, n, truncated=(kind == "truncated_normal"))
        return float(p["mean"]) + float(p["stddev"]) * z
    if kind in VS_ALIASES or kind == "variance_scaling":
        if kind in VS_ALIASES:
            scale, mode, dist = VS_ALIASES[kind]
        else:
            scale, mode, dist = float(p["scale"]), p["mode"], p["distribution"]
        fan_in, fan_out = fans(shape)
        nf = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
        sc = scale / max(1.0, nf)
        if dist == "uniform":
            limit = math.sqrt(3.0 * sc)
            return uniform_values(s, n, -limit, limit)
        if dist in ("truncated_normal", "normal"):
            z, _ = v_normal(s, n, truncated=True)
            return 0.0 + (math.sqrt(sc) / TRUNC_CORR) * z
        if dist == "untruncated_normal":
            z, _ = v_normal(s, n, truncated=False)
            return 0.0 + math.sqrt(sc) * z
        raise ValueError(dist)
    if kind == "orthogonal":
        if len(shape) < 2:
            raise ValueError("orthogonal needs 2-D or more")
        r, c = int(np.prod(shape[:-1])), shape[-1]
        Q = orthogonal_q(s, max(r, c), min(r, c))
        g = float(p["gain"])
        return (g * (Q if r >= c else Q.T)).reshape(-1)
    raise ValueError(kind)


def init_values(kind, params, s, shape):
    return init_values_f64(kind, params, s, shape).astype(np.float32).reshape(shape)


def scalar_init_element(kind, params, s, shape, i):
    """The page's formula for one element, literally (not for orthogonal)."""
    p = dict(DEFAULTS.get(kind, {}))
    p.update(params)
    if kind == "zeros":
        return 0.0
    if kind == "ones":
        return 1.0
    if kind == "constant":
        return float(p["value"])
    if kind == "random_uniform":
        return float(p["minval"]) + (float(p["maxval"]) - float(p["minval"])) * scalar_uniform(scalar_word(s, i, 0))
    if kind in ("random_normal", "truncated_normal"):
        return float(p["mean"]) + float(p["stddev"]) * scalar_normal(s, i, kind == "truncated_normal")[0]
    if kind in VS_ALIASES:
        scale, mode, dist = VS_ALIASES[kind]
    else:
        scale, mode, dist = float(p["scale"]), p["mode"], p["distribution"]
    fan_in, fan_out = float(shape[0]), float(shape[-1])
    if len(shape) >= 3:  # a kernel (..., in, out): times the receptive field
        rf = 1
        for d in shape[:-2]:
            rf *= d
        fan_in, fan_out = float(shape[-2] * rf), float(shape[-1] * rf)
    nf = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
    sc = scale / max(1.0, nf)
    if dist == "uniform":
        limit = math.sqrt(3.0 * sc)
        return -limit + (limit - (-limit)) * scalar_uniform(scalar_word(s, i, 0))
    if dist == "untruncated_normal":
        return 0.0 + math.sqrt(sc) * scalar_normal(s, i, False)[0]
    return 0.0 + (math.sqrt(sc) / TRUNC_CORR) * scalar_normal(s, i, True)[0]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0] if math.isfinite(x) else x


def self_check(kind, params, s, shape, values, samples=24):
    """Checks the vectorised values against the literal transcription on a sample;
    returns None or what differs. (Orthogonal is covered through v_normal.)"""
    flat = values.reshape(-1)
    n = flat.size
    if kind == "orthogonal":
        return None
    idx = sorted(set([0, n - 1] + [(k * 7919 + 13) % n for k in range(samples)]))
    for i in idx:
        want = np.float32(f32(scalar_init_element(kind, params, s, shape, i)))
        if want.view(np.uint32) != flat[i].view(np.uint32):
            return "%s element %d: numpy %r, scalar %r" % (kind, i, flat[i], want)
    return None


def digest(arr):
    return "%016x" % xxhash.xxh64_intdigest(np.ascontiguousarray(arr).tobytes(), 0)


# ---- §5 other streams --------------------------------------------------------------

def permutation(g, epoch, n):
    s = tensor_seed(g, "", "shuffle")
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        k = (scalar_word(s, epoch, i) * (i + 1)) >> 64
        perm[i], perm[k] = perm[k], perm[i]
    return np.array(perm, dtype="<u4")


def synthetic_x(g, name, rows, inp):
    s = tensor_seed(g, "data", name)
    w = v_word(s, np.arange(rows * inp, dtype=np.uint64), 0)
    return v_uniform(w).astype(np.float32).reshape(rows, inp)


def synthetic_y(g, name, rows, classes):
    s = tensor_seed(g, "data", name)
    return np.array([(scalar_word(s, r, 0) * classes) >> 64 for r in range(rows)], dtype="<u4")


# ---- known-answer vectors ------------------------------------------------------------

# Log KAT inputs: x_k = ((word(7, k, 0) >> 11) + 1) * 2^-53 * 2^((k mod 121) - 60),
# k = 0..n-1: finite x > 0 over many binades (none subnormal).
def log_kat_inputs(n):
    w = v_word(7, np.arange(n, dtype=np.uint64), 0)
    x = ((w >> _u(11)) + _u(1)).astype(np.float64) * 2.0 ** -53
    return np.ldexp(x, (np.arange(n) % 121) - 60)


INIT_CASES = [
    # (kind, seeding, shape, params); seeding = (G, layer, tensor) or ("explicit", S)
    ("glorot_uniform", (42, "dense", "kernel"), (784, 128), {}),
    ("glorot_uniform", ("explicit", 42), (784, 128), {}),
    ("glorot_uniform", ("explicit", 42), (128, 10), {}),
    ("glorot_uniform", (0, "dense_1", "kernel"), (128, 10), {}),
    ("glorot_uniform", (7, "dense", "bias"), (33,), {}),
    ("glorot_normal", (42, "dense", "kernel"), (784, 128), {}),
    ("he_uniform", (42, "dense", "kernel"), (300, 100), {}),
    ("he_normal", (42, "dense", "kernel"), (300, 100), {}),
    ("lecun_uniform", (42, "hidden", "kernel"), (100, 300), {}),
    ("lecun_normal", (42, "hidden", "kernel"), (100, 300), {}),
    ("lecun_normal", (18446744073709551615, "dense_7", "bias"), (17,), {}),
    ("zeros", (42, "dense", "bias"), (128,), {}),
    ("ones", (42, "dense", "bias"), (128,), {}),
    ("constant", (42, "dense", "bias"), (128,), {}),
    ("constant", (42, "dense", "kernel"), (3, 5), {"value": 0.1}),
    ("constant", (42, "dense", "kernel"), (2, 3), {"value": -2.5e-3}),
    ("random_uniform", (42, "dense", "kernel"), (256, 64), {}),
    ("random_uniform", (1, "dense", "bias"), (1000,), {"minval": 2.0, "maxval": 5.0}),
    ("random_uniform", ("explicit", 0), (10, 10), {"minval": -1.0, "maxval": 1.0}),
    ("random_normal", (42, "dense", "kernel"), (256, 64), {}),
    ("random_normal", (3, "dense_2", "kernel"), (64, 32), {"mean": 1.5, "stddev": 2.0}),
    ("truncated_normal", (42, "dense", "kernel"), (256, 64), {}),
    ("truncated_normal", (3, "dense_2", "bias"), (500,), {"mean": -1.0, "stddev": 0.5}),
    ("variance_scaling", (42, "dense", "kernel"), (120, 80), {}),
]
for _mode in ("fan_in", "fan_out", "fan_avg"):
    for _dist in ("truncated_normal", "untruncated_normal", "uniform"):
        INIT_CASES.append(("variance_scaling", (5, "vs", "kernel"), (90, 31),
                           {"scale": 2.5, "mode": _mode, "distribution": _dist}))
INIT_CASES += [
    ("variance_scaling", (5, "vs", "bias"), (40,), {"scale": 0.5, "mode": "fan_out", "distribution": "uniform"}),
    ("variance_scaling", (5, "vs", "kernel"), (1, 1), {"scale": 0.1, "mode": "fan_avg", "distribution": "uniform"}),
    ("orthogonal", (42, "dense", "kernel"), (64, 16), {}),
    ("orthogonal", (42, "dense", "kernel"), (16, 64), {}),
    ("orthogonal", (42, "dense", "kernel"), (32, 32), {"gain": 2.0}),
    ("orthogonal", ("explicit", 9), (100, 30), {"gain": -0.5}),
    ("orthogonal", (42, "dense", "kernel"), (1, 7), {}),
    # Convolution kernels (kh, kw, in, out): fans count the receptive field.
    ("glorot_uniform", (42, "conv2d", "kernel"), (3, 3, 1, 32), {}),
    ("he_normal", (42, "conv2d_1", "kernel"), (3, 3, 32, 64), {}),
    ("variance_scaling", (7, "c", "kernel"), (2, 2, 3, 5), {"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"}),
    ("lecun_uniform", (7, "c", "kernel"), (5, 4, 3), {}),
    ("orthogonal", (42, "conv2d", "kernel"), (3, 3, 4, 8), {}),
    ("orthogonal", (42, "conv2d", "kernel"), (2, 2, 1, 16), {"gain": 1.5}),
]


def case_seed(seeding):
    if seeding[0] == "explicit":
        return explicit_seed(seeding[1])
    return tensor_seed(*seeding)


def fmt_param(v):
    return repr(float(v)) if isinstance(v, float) else str(v)


def kat_lines():
    out = ["# reprodist known-answer vectors, generated from docs/SEEDS.md by tests/spec_reimpl.py",
           "# (not by the C code). Regenerate: /usr/bin/python3 tests/spec_reimpl.py kat > tests/init_kat.txt",
           "# Each line: KIND key=value ... HEX. Digests are XXH64 (seed 0) of the little-endian bytes:",
           "# float32 values for tensors, float64 for log/normal, uint32 for permutations and labels."]
    for g, layer, tensor in [(0, "dense", "kernel"), (0, "dense", "bias"), (42, "dense", "kernel"),
                             (42, "dense_1", "bias"), (18446744073709551615, "my-layer_2", "kernel"),
                             (42, "", "shuffle"), (42, "data", "x"), (42, "data", "test_y")]:
        out.append("seed G=%d layer=%s tensor=%s %016x" % (g, layer, tensor, tensor_seed(g, layer, tensor)))
    for s in (0, 42, 18446744073709551615):
        out.append("explicit S=%d %016x" % (s, explicit_seed(s)))
    for s, i, j in [(0, 0, 0), (42, 1, 2), (0x3DB7297ACF5ABB38, 100351, 5), (M64, M64, M64)]:
        out.append("word s=%d i=%d j=%d %016x" % (s, i, j, scalar_word(s, i, j)))
    n = 200000
    out.append("log seed=7 n=%d %s" % (n, digest(v_log(log_kat_inputs(n)).astype("<f8"))))
    for trunc in (0, 1):
        s = tensor_seed(42, "dense", "kernel")
        z, j = v_normal(s, 50000, bool(trunc))
        out.append("normal G=42 layer=dense tensor=kernel n=50000 truncated=%d %s"
                   % (trunc, digest(np.concatenate([z.astype("<f8").view("<u8"), j.astype("<u8")]))))
    for kind, seeding, shape, params in INIT_CASES:
        s = case_seed(seeding)
        vals = init_values(kind, params, s, shape)
        err = self_check(kind, params, s, shape, vals)
        if err:
            raise AssertionError("spec self-check: " + err)
        where = ("explicit_seed=%d" % seeding[1]) if seeding[0] == "explicit" else \
            "seed=%d layer=%s tensor=%s" % seeding
        ps = "".join(" %s=%s" % (k, fmt_param(v)) for k, v in params.items())
        out.append("%s %s shape=%s%s %s" % (kind, where, "x".join(map(str, shape)), ps,
                                             digest(vals.astype("<f4"))))
    for g, e, n in [(42, 0, 1000), (42, 1, 1000), (0, 0, 60000), (7, 3, 2), (7, 0, 1)]:
        out.append("permutation G=%d epoch=%d n=%d %s" % (g, e, n, digest(permutation(g, e, n))))
    for g, name, rows, inp in [(42, "x", 64, 784), (42, "test_x", 16, 20)]:
        out.append("synthetic_x G=%d tensor=%s rows=%d input=%d %s" % (g, name, rows, inp,
                                                                         digest(synthetic_x(g, name, rows, inp))))
    for g, name, rows, classes in [(42, "y", 1000, 10), (42, "test_y", 100, 3)]:
        out.append("synthetic_y G=%d tensor=%s rows=%d classes=%d %s" % (g, name, rows, classes,
                                                                           digest(synthetic_y(g, name, rows, classes))))
    return out


# ---- self-tests of the fast paths -----------------------------------------------------

def selftest():
    fails = 0
    rng = np.random.default_rng(1)
    # XXH64 of 16 bytes, vectorised vs the library.
    for s in (0, 1, 42, M64, 0x3DB7297ACF5ABB38):
        ii = rng.integers(0, 2**63, 64, dtype=np.uint64)
        jj = rng.integers(0, 2**63, 64, dtype=np.uint64)
        got = v_word(s, ii, jj)
        for a, b, w in zip(ii, jj, got):
            if scalar_word(s, int(a), int(b)) != int(w):
                fails += 1
    # log, vectorised vs scalar; and close to math.log.
    x = log_kat_inputs(5000)
    vl = v_log(x)
    for xi, li in zip(x, vl):
        if scalar_log(float(xi)) != float(li):
            fails += 1
        if abs(li - math.log(xi)) > 4e-16 * max(1.0, abs(math.log(xi))):
            fails += 1
    # normals, vectorised vs scalar.
    s = tensor_seed(1, "a", "b")
    for trunc in (False, True):
        z, j = v_normal(s, 300, trunc)
        for i in range(300):
            zs, js = scalar_normal(s, i, trunc)
            if zs != z[i] or js != int(j[i]):
                fails += 1
    print("selftest: %d failures" % fails)
    return fails


# ---- compare with the C program ----------------------------------------------------------

class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    verbose = bool(os.environ.get("RD_VERBOSE"))

    def check(self, ok, what, always=False):
        if ok:
            self.passed += 1
            if self.verbose or always:
                print("ok: " + what)
        else:
            self.failed += 1
            print("FAIL: " + what)
        return ok


def write_cfg(path, seed, inp, layers):
    lines = (["[run]", "seed = %d" % seed, ""] if seed is not None else []) + ["[model]", "input = %d" % inp]
    for L in layers:
        lines += ["", "[dense]"]
        for k, v in L.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            lines.append("%s = %s" % (k, fmt_param(v) if isinstance(v, float) else v))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def model_tensors(seed, inp, layers):
    """[(layer, tensor, shape, kind, params, tensor_seed, explicit)] in Keras order."""
    out, unnamed, prev = [], 0, inp
    seed = 0 if seed is None else seed  # §1: [run] seed defaults to 0
    for L in layers:
        if "name" in L:
            name = L["name"]
        else:
            name = "dense" if unnamed == 0 else "dense_%d" % unnamed
            unnamed += 1
        units = L["units"]
        specs = [("kernel", (prev, units), "glorot_uniform")]
        if L.get("use_bias", True):
            specs.append(("bias", (units,), "zeros"))
        for tname, shape, dflt in specs:
            kind = L.get(tname + "_initializer", dflt)
            params = {k[len(tname) + 1:]: v for k, v in L.items()
                      if k.startswith(tname + "_") and k not in (tname + "_initializer", tname + "_seed")}
            if tname + "_seed" in L:
                s, ex = explicit_seed(L[tname + "_seed"]), True
            else:
                s, ex = tensor_seed(seed, name, tname), False
            out.append((name, tname, shape, kind, params, s, ex))
        prev = units
    return out


def run_c(args):
    exe = os.environ.get("REPRODIST")
    if not exe:
        sys.exit("REPRODIST is not set (run through ctest, or REPRODIST=build/reprodist)")
    cmd = [exe] + args
    limit = int(os.environ.get("RD_LIMIT", "120"))  # a hang, never "too slow": tests/CMakeLists.txt, RD_RUN_LIMIT
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    if r.returncode != 0 and os.environ.get("RD_MPIEXEC"):
        # Fall back to one rank under mpiexec if the singleton start is not possible here.
        mpi = [os.environ["RD_MPIEXEC"], os.environ.get("RD_NPFLAG", "-n"), "1"] + \
            os.environ.get("RD_MPIFLAGS", "").split()
        r = subprocess.run(mpi + cmd, capture_output=True, text=True, timeout=limit)
    return r


SEED_LINE = re.compile(r"^(\S+)/(kernel|bias):0\s+\(([^)]*)\)\s+(\S+)\s+([0-9a-f]{16})\s+(.*?)\s*$")


def parse_seeds(text):
    rows = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = SEED_LINE.match(line)
        if not m:
            raise RuntimeError("unparsed seeds line: %r" % line)
        shape = tuple(int(x) for x in m.group(3).replace(" ", "").split(",") if x)
        rows[(m.group(1), m.group(2))] = (shape, m.group(4), int(m.group(5), 16), m.group(6))
    return rows


def read_weights(path):
    import h5py
    w = {}
    with h5py.File(path, "r") as f:
        for lname in f.keys():
            for tname in ("kernel", "bias"):
                ds = "%s/%s/%s:0" % (lname, lname, tname)
                if ds in f:
                    w[(lname, tname)] = np.array(f[ds])
    return w


def run_configs(tmp, configs):
    """Writes every config and runs `reprodist seeds` and `reprodist init` on each,
    concurrently (each singleton MPI start costs about a second). Returns
    {tag: (seeds process, init process, h5 path)}."""
    from concurrent.futures import ThreadPoolExecutor
    jobs = {}
    with ThreadPoolExecutor(max_workers=6) as pool:
        for tag, seed, inp, layers in configs:
            cfg = os.path.join(tmp, tag + ".cfg")
            h5 = os.path.join(tmp, tag + ".h5")
            write_cfg(cfg, seed, inp, layers)
            jobs[tag] = (pool.submit(run_c, ["seeds", cfg]), pool.submit(run_c, ["init", cfg, "-o", h5]), h5)
        return {tag: (a.result(), b.result(), h5) for tag, (a, b, h5) in jobs.items()}


ORTHO_NOTE = ("orthogonal compared bit for bit under this reading of §4: two full MGS passes over "
              "all previous columns, dot products and norms summed left to right in row order, "
              "v[a] = v[a] - d*q[a], then v[a] / norm")


def compare_config(rep, runs, tag, seed, inp, layers, ortho_tol):
    want = model_tensors(seed, inp, layers)
    failed_before = rep.failed
    rs, ri, h5 = runs[tag]
    if not rep.check(rs.returncode == 0 and ri.returncode == 0,
                     "%s: reprodist seeds / init exit %d / %d %s%s" % (tag, rs.returncode, ri.returncode,
                                                                      rs.stderr.strip(), ri.stderr.strip())):
        return {}, {}
    try:
        seeds = parse_seeds(rs.stdout)
        weights = read_weights(h5)
    except (RuntimeError, OSError) as e:
        rep.check(False, "%s: reading C's output: %s" % (tag, e))
        return {}, {}
    rep.check(len(seeds) == len(want) and len(weights) == len(want),
              "%s: C has %d seed lines and %d datasets, spec %d tensors" % (tag, len(seeds), len(weights), len(want)))
    mine = {}
    for lname, tname, shape, kind, params, s, ex in want:
        key = (lname, tname)
        label = "%s %s/%s %s %s" % (tag, lname, tname, kind, "x".join(map(str, shape)))
        row = seeds.get(key)
        if rep.check(row is not None, label + ": listed by seeds"):
            rep.check(row[0] == shape and row[1] == kind, label + ": seeds shows shape %s kind %s" % (row[0], row[1]))
            rep.check(row[2] == s, label + ": seed C %016x spec %016x" % (row[2], s))
            rep.check(row[3].startswith("explicit") == ex,
                      label + ": source '%s' (explicit seed: %s)" % (row[3], ex))
        vals = init_values(kind, params, s, shape)
        err = self_check(kind, params, s, shape, vals)
        rep.check(err is None, label + ": spec self-check (numpy = literal transcription)%s"
                  % ("" if err is None else ": " + err))
        mine[key] = vals
        got = weights.get(key)
        if not rep.check(got is not None and got.dtype == np.float32 and got.shape == shape,
                         label + ": dataset present, float32, shape %s" % (None if got is None else got.shape,)):
            continue
        same = np.array_equal(got.view(np.uint32), vals.view(np.uint32))
        if kind == "orthogonal" and ortho_tol is not None:
            diff = float(np.max(np.abs(got.astype(np.float64) - vals.astype(np.float64))))
            rep.check(diff <= ortho_tol, label + ": [TOLERANCE %g, not bits] max |C - spec| = %.3g (bit-equal: %s)"
                      % (ortho_tol, diff, same))
        else:
            nd = int(np.count_nonzero(got.view(np.uint32) != vals.view(np.uint32)))
            rep.check(same, label + ": bit-identical to the spec (%d of %d elements differ)" % (nd, vals.size))
    if rep.failed == failed_before:
        kinds = sorted(set(w[3] for w in want))
        print("ok: %s: %d tensors, seeds and values bit-identical to the spec%s (%s)"
              % (tag, len(want), "" if ortho_tol is None else " (orthogonal: to %g)" % ortho_tol,
                 ", ".join(kinds)))
    return weights, mine


def compare_configs():
    """The configs compare() runs: (tag, global seed or None for the default, input, layers)."""
    # 1. Every initializer kind, defaults and parameters, default and explicit names and seeds.
    every = [
        {"units": 9, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"},
        {"units": 8, "kernel_initializer": "glorot_normal", "bias_initializer": "ones"},
        {"name": "hidden", "units": 7, "kernel_initializer": "he_uniform", "bias_initializer": "constant",
         "bias_value": 0.25},
        {"units": 11, "kernel_initializer": "he_normal", "bias_initializer": "random_uniform"},
        {"units": 6, "kernel_initializer": "lecun_uniform", "bias_initializer": "random_normal",
         "bias_mean": 0.5, "bias_stddev": 2.0},
        {"units": 13, "kernel_initializer": "lecun_normal", "bias_initializer": "truncated_normal"},
        {"units": 5, "kernel_initializer": "random_uniform", "kernel_minval": -3.0, "kernel_maxval": 1.0,
         "bias_initializer": "variance_scaling"},
        {"units": 12, "kernel_initializer": "random_normal", "bias_initializer": "glorot_uniform",
         "bias_seed": 3},
        {"units": 4, "kernel_initializer": "truncated_normal", "kernel_mean": -1.0, "kernel_stddev": 0.3,
         "bias_initializer": "he_normal"},
        {"units": 20, "kernel_initializer": "orthogonal", "bias_initializer": "lecun_uniform"},
        {"units": 6, "kernel_initializer": "orthogonal", "kernel_gain": -1.5, "use_bias": False},
        {"units": 6, "kernel_initializer": "orthogonal", "kernel_seed": 77},
        {"units": 3, "kernel_initializer": "constant", "use_bias": False},
        {"units": 10, "kernel_initializer": "zeros", "bias_initializer": "random_uniform",
         "bias_minval": 0.0, "bias_maxval": 1e-3},
        {"units": 10, "kernel_initializer": "ones", "bias_initializer": "glorot_normal"},
        {"units": 10, "kernel_initializer": "glorot_uniform", "kernel_seed": 42},
    ]
    # 2. variance_scaling: every mode x distribution (incl. the "normal" spelling), uneven fans.
    vs = []
    for mode in ("fan_in", "fan_out", "fan_avg"):
        for dist in ("truncated_normal", "normal", "untruncated_normal", "uniform"):
            vs.append({"units": 7 if len(vs) % 2 else 30, "kernel_initializer": "variance_scaling",
                       "kernel_scale": 3.5, "kernel_mode": mode, "kernel_distribution": dist,
                       "bias_initializer": "variance_scaling", "bias_mode": mode, "bias_distribution": dist})
    vs.append({"units": 7, "kernel_initializer": "variance_scaling"})  # all defaults
    # 3. Explicit seeds: Keras' GlorotUniform(seed=42) recipe; seeds 2^64-1 and 0.
    ks = [{"units": 128, "kernel_seed": 42, "activation": "relu"},
          {"units": 10, "kernel_seed": 42, "activation": "softmax"},
          {"units": 10, "kernel_seed": 18446744073709551615, "bias_seed": 0, "bias_initializer": "random_normal"}]
    same = [{"units": 10, "kernel_seed": 5}, {"units": 10, "kernel_seed": 5}, {"units": 10}]
    # 4. Layer insertion: append at the end; insert an unnamed layer before the named 'head'.
    base = [{"units": 16}, {"name": "head", "units": 8, "bias_initializer": "random_normal"}]
    appended = base + [{"units": 4, "kernel_initializer": "he_normal"}]
    inserted = [{"units": 16}, {"units": 16}] + base[1:]
    # 5. Global seed changes derived tensors, not explicit ones.
    s1 = [{"units": 5, "kernel_seed": 9}, {"units": 5}]
    return [("every_kind", 42, 15, every), ("variance_scaling", 3, 50, vs),
            ("explicit_seed", 18446744073709551615, 784, ks), ("same_explicit", 1, 10, same),
            ("base", 11, 16, base), ("appended", 11, 16, appended), ("inserted", 11, 16, inserted),
            ("seed1", 1, 5, s1), ("seed2", 2, 5, s1),
            ("default_seed", None, 6, [{"units": 4, "bias_initializer": "he_uniform"}])]  # 6. G = 0


def compare():
    import h5py  # noqa: F401  (fail early with a clear message if missing)
    rep = Report()
    rep.check(selftest() == 0, "spec self-test: numpy paths equal the literal transcription", always=True)
    # Orthogonal is compared bit for bit; RD_ORTHO_TOL=1e-6 switches to a tolerance.
    ortho_tol = float(os.environ["RD_ORTHO_TOL"]) if os.environ.get("RD_ORTHO_TOL") else None
    print("note: " + (ORTHO_NOTE if ortho_tol is None else
                      "orthogonal compared to %g only (RD_ORTHO_TOL)" % ortho_tol))
    configs = compare_configs()
    with tempfile.TemporaryDirectory(prefix="rdspec.") as tmp:
        runs = run_configs(tmp, configs)
        w = {tag: compare_config(rep, runs, tag, seed, inp, layers, ortho_tol)[0]
             for tag, seed, inp, layers in configs}

    def equal(a, b, key):
        return key in w[a] and key in w[b] and np.array_equal(w[a][key].view(np.uint32), w[b][key].view(np.uint32))

    se = w["same_explicit"]
    rep.check(("dense", "kernel") in se and ("dense_1", "kernel") in se and
              np.array_equal(se[("dense", "kernel")].view(np.uint32), se[("dense_1", "kernel")].view(np.uint32)),
              "same_explicit: two layers with kernel_seed = 5 and shape (10, 10) have equal kernels", always=True)
    rep.check(("dense", "kernel") in se and ("dense_2", "kernel") in se and
              not np.array_equal(se[("dense", "kernel")], se[("dense_2", "kernel")]),
              "same_explicit: a derived-seed layer of the same shape differs from them", always=True)
    for key in (("dense", "kernel"), ("dense", "bias"), ("head", "kernel"), ("head", "bias")):
        rep.check(equal("base", "appended", key), "append a layer: %s/%s unchanged" % key, always=True)
        rep.check(equal("base", "inserted", key), "insert a layer before 'head': %s/%s unchanged" % key,
                  always=True)
    # Not a claim of the spec, a sanity check that the property above is not vacuous.
    rep.check(("dense_1", "kernel") in w["inserted"] and ("dense_1", "kernel") not in w["base"],
              "insert: the inserted unnamed layer got the next default name dense_1", always=True)
    rep.check(equal("seed1", "seed2", ("dense", "kernel")),
              "global seed 1 vs 2: explicit kernel_seed tensor unchanged", always=True)
    rep.check(("dense_1", "kernel") in w["seed1"] and not equal("seed1", "seed2", ("dense_1", "kernel")),
              "global seed 1 vs 2: derived tensor changed", always=True)
    print("%d passed, %d failed" % (rep.passed, rep.failed))
    return 1 if rep.failed else 0


def katcheck(path):
    """Fails when the committed vectors are not what this file generates (edited by hand,
    or spec_reimpl.py changed without regenerating them)."""
    want = kat_lines()
    with open(path) as f:
        have = f.read().splitlines()
    bad = [(k, a, b) for k, (a, b) in enumerate(zip(want, have)) if a != b]
    for k, a, b in bad[:10]:
        print("FAIL: %s:%d: committed %r, spec_reimpl.py gives %r" % (path, k + 1, b, a))
    failed = len(bad) + (len(want) != len(have))
    if len(want) != len(have):
        print("FAIL: %s has %d lines, spec_reimpl.py gives %d" % (path, len(have), len(want)))
    if failed:
        print("regenerate: /usr/bin/python3 tests/spec_reimpl.py kat > tests/init_kat.txt")
    print("%d passed, %d failed" % (len(want) - len(bad), failed))
    return 1 if failed else 0


def main(argv):
    mode = argv[1] if len(argv) > 1 else ""
    if mode == "kat":
        sys.stdout.write("\n".join(kat_lines()) + "\n")
        return 0
    if mode == "compare":
        return compare()
    if mode == "selftest":
        return 1 if selftest() else 0
    if mode == "katcheck" and len(argv) > 2:
        return katcheck(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
