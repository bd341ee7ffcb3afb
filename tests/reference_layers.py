#!/usr/bin/python3
"""reference_layers: every built-in layer type against numpy float64.

1. Per layer: tests/layer_io (a C driver) runs a layer's forward and backward
   on drawn inputs and writes them, in each kernel mode; this file recomputes y, dx and the
   gradients in float64 from Keras' definitions (conv and pooling with
   TensorFlow's padding, max pooling's first maximum, BatchNormalization's
   formulas, dropout's masks from docs/SEEDS.md) and compares: to float32
   rounding for sums, exactly where no rounding happens (max pooling, masks).
   Every built-in type must have a case (the list comes from reprodist's own
   "unknown section" message), or the test fails.
2. End to end: a small CNN (conv with same padding, max pooling, flatten,
   dense softmax) takes one SGD step at np 2; the weights match a float64
   reference step from the same initial weights and batch, to float32 rounding.
   So does a small residual net: a projection shortcut, a concatenate and an
   output used by two layers (its gradient a sum).
Needs REPRODIST, RD_MPIEXEC, RD_NPFLAG, RD_MPIFLAGS and the layer_io path.
Last line: "N passed, N failed"."""
import json
import math
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdcheck import check, finish  # noqa: E402
from rdcheck import run as rd_run  # noqa: E402
import spec_reimpl as spec  # noqa: E402  (docs/SEEDS.md, not the C code)



# ---- numpy float64 layers (Keras' definitions) -------------------------------------------

def window(n, k, s, same):
    """(out, pad_before) along one axis, TensorFlow's rule."""
    if same:
        out = -(-n // s)
        return out, max((out - 1) * s + k - n, 0) // 2
    return (n - k) // s + 1, 0


def conv_fwd(x, k, b, st, same):
    S, H, W, C = x.shape
    kh, kw, _, F = k.shape
    oh, ph = window(H, kh, st[0], same)
    ow, pw = window(W, kw, st[1], same)
    xp = np.zeros((S, H + 2 * kh + st[0] * oh, W + 2 * kw + st[1] * ow, C))
    xp[:, ph:ph + H, pw:pw + W] = x
    y = np.zeros((S, oh, ow, F))
    for i in range(kh):
        for j in range(kw):
            y += xp[:, i:i + st[0] * oh:st[0], j:j + st[1] * ow:st[1]] @ k[i, j]
    return y + (b if b is not None else 0), (xp, ph, pw)


def conv_bwd(x, k, dy, st, cache):
    xp, ph, pw = cache
    S, H, W, C = x.shape
    kh, kw = k.shape[:2]
    oh, ow = dy.shape[1:3]
    dk = np.zeros_like(k)
    dxp = np.zeros_like(xp)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, i:i + st[0] * oh:st[0], j:j + st[1] * ow:st[1]]
            dk[i, j] = patch.reshape(-1, C).T @ dy.reshape(-1, k.shape[3])
            dxp[:, i:i + st[0] * oh:st[0], j:j + st[1] * ow:st[1]] += dy @ k[i, j].T
    return dxp[:, ph:ph + H, pw:pw + W], dk, dy.sum(axis=(0, 1, 2))


def pool(x, ps, st, same, kind, dy=None):
    """max (first maximum in row-major window order) or avg (over positions inside the input)."""
    S, H, W, C = x.shape
    oh, ph = window(H, ps[0], st[0], same)
    ow, pw = window(W, ps[1], st[1], same)
    y = np.zeros((S, oh, ow, C))
    dx = np.zeros_like(x)
    for a in range(oh):
        for b in range(ow):
            i0, j0 = a * st[0] - ph, b * st[1] - pw
            ii = [i for i in range(i0, i0 + ps[0]) if 0 <= i < H]
            jj = [j for j in range(j0, j0 + ps[1]) if 0 <= j < W]
            win = x[:, ii][:, :, jj].reshape(S, -1, C)  # positions in row-major order
            if kind == "max":
                at = win.argmax(axis=1)  # numpy: the first maximum
                y[:, a, b] = np.take_along_axis(win, at[:, None, :], 1)[:, 0]
                if dy is not None:
                    for s in range(S):
                        for c in range(C):
                            q = at[s, c]
                            dx[s, ii[q // len(jj)], jj[q % len(jj)], c] += dy[s, a, b, c]
            else:
                y[:, a, b] = win.mean(axis=1)
                if dy is not None:
                    for i in ii:
                        for j in jj:
                            dx[:, i, j] += dy[:, a, b] / (len(ii) * len(jj))
    return y, dx


def merge_ref(t, xs, dy, kv):
    """(y, [dx per input]) of Keras' merge layers and Concatenate, in float64."""
    if t == "concatenate":
        ax = int(kv.get("axis", "-1"))
        a = ax if ax > 0 else xs[0].ndim + ax  # with the batch axis 0, as Keras counts
        cuts = np.cumsum([x.shape[a] for x in xs])[:-1]
        return np.concatenate(xs, axis=a), np.split(dy, cuts, axis=a)
    st = np.stack(xs)
    if t == "add":
        return st.sum(axis=0), [dy for _ in xs]
    if t == "subtract":
        return xs[0] - xs[1], [dy, -dy]
    if t == "average":
        return st.mean(axis=0), [dy / len(xs) for _ in xs]
    if t == "multiply":
        dxs = []
        for i in range(len(xs)):
            others = np.ones_like(xs[0])
            for k in range(len(xs)):
                if k != i:
                    others = others * xs[k]
            dxs.append(dy * others)
        return st.prod(axis=0), dxs
    if t in ("maximum", "minimum"):  # the gradient goes to the first input holding the extreme
        at = st.argmax(axis=0) if t == "maximum" else st.argmin(axis=0)
        y = np.take_along_axis(st, at[None], 0)[0]
        return y, [np.where(at == i, dy, 0.0) for i in range(len(xs))]
    raise ValueError("no numpy reference for layer type [%s]" % t)


MERGE_TYPES = ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate")


# ---- the image augmentation layers (Keras 3's definitions, given docs/SEEDS.md's draws) ----

def aug_draws(io, r, K):
    """The K uniforms of row r's sample (src/layers/image.h): uniform(word(s, n K + k, t))."""
    s, n, t = int(io["seed"], 16), io["samples"][r], io["iteration"]
    return [spec.scalar_uniform(spec.scalar_word(s, n * K + k, t)) for k in range(K)]


def floats(text):
    return [float(v) for v in text.split(",")]


def factor_range(text, zero_floor=False):
    v = floats(text)
    if len(v) == 1:
        return (0.0 if zero_floor else -abs(v[0])), abs(v[0])
    return min(v), max(v)


def keras_fix(idx, n, mode):
    """Keras' index fixers (keras/src/backend/torch/image.py), written as there."""
    if mode in ("constant", "nearest"):
        return np.clip(idx, 0, n - 1)
    if mode == "wrap":
        return np.mod(idx, n)
    # reflect: _reflect_index_fixer(i, n) = (mirror(2i + 1, 2n + 1) - 1) // 2,
    # mirror(i, m) = |(i + m - 1) mod 2 (m - 1) - (m - 1)|
    s = 2 * n
    return (np.abs(np.mod(2 * idx + 1 + s, 2 * s) - s) - 1) // 2


def affine_matrix(h, w, A, mode, interp):
    """(M, fill): y = M x + fill * fillvec per channel, for one (h, w) image in float64.
    A = (a0, a1, a2, b0, b1, b2): output (i, j) reads column a0 j + a1 i + a2, row b0 j + b1 i + b2."""
    a0, a1, a2, b0, b1, b2 = A
    ii, jj = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    xs, ys = (a0 * jj + a1 * ii + a2).ravel(), (b0 * jj + b1 * ii + b2).ravel()
    if interp == "bilinear":
        fy, fx = np.floor(ys), np.floor(xs)
        ny = [(fy, 1 - (ys - fy)), (fy + 1, ys - fy)]
        nx = [(fx, 1 - (xs - fx)), (fx + 1, xs - fx)]
    else:
        ny, nx = [(np.round(ys), np.ones_like(ys))], [(np.round(xs), np.ones_like(xs))]  # half to even
    M = np.zeros((h * w, h * w))
    fillw = np.zeros(h * w)
    rows = np.arange(h * w)
    for iy, wy in ny:
        for ix, wx in nx:
            iy, ix = iy.astype(np.int64), ix.astype(np.int64)
            valid = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w) if mode == "constant" else np.ones(h * w, bool)
            src = keras_fix(iy, h, mode) * w + keras_fix(ix, w, mode)
            np.add.at(M, (rows[valid], src[valid]), (wy * wx)[valid])
            fillw += np.where(valid, 0.0, wy * wx)
    return M, fillw


def aug_ref(io, x, dy, kv):
    t, train = io["type"], io["training"]
    S, H, W, C = x.shape
    if t == "random_crop":
        ch, cw = int(kv["height"]), int(kv["width"])
        y, dx = np.zeros((S, ch, cw, C)), np.zeros_like(x)
        for r in range(S):
            if train:
                u = aug_draws(io, r, 2)
                top, left = math.floor(u[0] * (H - ch + 1)), math.floor(u[1] * (W - cw + 1))
            else:
                top, left = (H - ch) // 2, (W - cw) // 2
            y[r] = x[r, top:top + ch, left:left + cw]
            dx[r, top:top + ch, left:left + cw] = dy[r]
        return y, dx
    if not train:
        return x.copy(), dy.copy()
    y, dx = np.zeros_like(x), np.zeros_like(x)
    for r in range(S):
        if t == "random_flip":
            mode = kv.get("mode", "horizontal_and_vertical")
            f = aug_draws(io, r, 1)[0] < 0.5
            yr, dr = x[r], dy[r]
            if f and mode != "vertical":
                yr, dr = yr[:, ::-1], dr[:, ::-1]
            if f and mode != "horizontal":
                yr, dr = yr[::-1], dr[::-1]
            y[r], dx[r] = yr, dr
        elif t in ("random_translation", "random_rotation", "random_zoom"):
            if t == "random_translation":
                u = aug_draws(io, r, 2)
                hl, hu = factor_range(kv["height_factor"])
                wl, wu = factor_range(kv["width_factor"])
                ddy, ddx = (hl + (hu - hl) * u[0]) * H, (wl + (wu - wl) * u[1]) * W
                A = (1, 0, -ddx, 0, 1, -ddy)  # Keras' _get_translation_matrix
            elif t == "random_rotation":
                lo, hi = factor_range(kv["factor"])
                deg = lo * 360 + (hi * 360 - lo * 360) * aug_draws(io, r, 1)[0]
                th = deg * math.pi / 180
                cx, cy = (W - 1) / 2, (H - 1) / 2
                a0, a1, b0, b1 = math.cos(th), -math.sin(th), math.sin(th), math.cos(th)
                A = (a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1)  # _compute_affine_matrix
            else:
                u = aug_draws(io, r, 2)
                hl, hu = factor_range(kv["height_factor"])
                zy = 1 + hl + (hu - hl) * u[0]
                if "width_factor" in kv:
                    wl, wu = factor_range(kv["width_factor"])
                    zx = 1 + wl + (wu - wl) * u[1]
                else:
                    zx = zy
                A = (zx, 0, (W - 1) / 2 * (1 - zx), 0, zy, (H - 1) / 2 * (1 - zy))  # _get_zoom_matrix
            M, fw = affine_matrix(H, W, A, kv.get("fill_mode", "reflect"), kv.get("interpolation", "bilinear"))
            fv = float(kv.get("fill_value", "0"))
            y[r] = (M @ x[r].reshape(H * W, C) + fv * fw[:, None]).reshape(H, W, C)
            dx[r] = (M.T @ dy[r].reshape(H * W, C)).reshape(H, W, C)
        elif t == "random_contrast":
            lo, hi = factor_range(kv["factor"], zero_floor=True)
            vlo, vhi = floats(kv.get("value_range", "0,255"))
            f = (1 - lo) + ((1 + hi) - (1 - lo)) * aug_draws(io, r, 1)[0]
            m = x[r].mean(axis=(0, 1))
            z = (x[r] - m) * f + m
            y[r] = np.clip(z, vlo, vhi)
            g = dy[r] * ((z >= vlo) & (z <= vhi))
            dx[r] = f * g + (1 - f) * g.mean(axis=(0, 1))
        elif t == "random_erasing":
            u = aug_draws(io, r, 7)
            s0, s1 = factor_range(kv.get("scale", "0.02,0.33"), zero_floor=True)
            f0, f1 = factor_range(kv.get("factor", "1.0"), zero_floor=True)
            vlo, vhi = floats(kv.get("value_range", "0,255"))
            sw, sh = math.sqrt(s0 + (s1 - s0) * u[0]) * W, math.sqrt(s0 + (s1 - s0) * u[1]) * H
            x0, y0 = u[2] * (W - sw), u[3] * (H - sh)
            gy, gx = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
            mask = (gx >= x0) & (gx < x0 + sw) & (gy >= y0) & (gy < y0 + sh) & (u[5] < f0 + (f1 - f0) * u[4])
            if "fill_value" in kv:
                fill = np.broadcast_to(np.array(floats(kv["fill_value"])), (H, W, C))
            else:
                stream = spec.scalar_word(int(io["seed"], 16), io["samples"][r] * 7 + 6, io["iteration"])
                fill = np.array([spec.scalar_normal(stream, e)[0] for e in range(H * W * C)]).reshape(H, W, C) * vhi
            fill = np.clip(fill, vlo, vhi)
            y[r] = np.where(mask[:, :, None], fill, x[r])
            dx[r] = np.where(mask[:, :, None], 0.0, dy[r])
    return y, dx


def ref(io, x, dy, w, cfg):
    """(y, dx, {tensor: grad}, stats) in float64 (x, dx: lists for a merge)."""
    t, kv = io["type"], cfg
    g, stats = {}, None
    if t in MERGE_TYPES:
        y, dx = merge_ref(t, x, dy, kv)
        return y, dx, g, stats
    if t.startswith("random_"):
        y, dx = aug_ref(io, x, dy, kv)
        return y, dx, g, stats
    if t == "dense":
        k, b = w["kernel"], w.get("bias")
        y = x @ k + (b if b is not None else 0)
        g["kernel"] = x.reshape(-1, k.shape[0]).T @ dy.reshape(-1, k.shape[1])
        if b is not None:
            g["bias"] = dy.reshape(-1, k.shape[1]).sum(axis=0)
        return y, dy @ k.T, g, stats
    if t == "conv2d":
        st = ints(kv.get("strides", "1"), 2)
        same = kv.get("padding", "valid") == "same"
        y, cache = conv_fwd(x, w["kernel"], w.get("bias"), st, same)
        dx, g["kernel"], db = conv_bwd(x, w["kernel"], dy, st, cache)
        if "bias" in w:
            g["bias"] = db
        return y, dx, g, stats
    if t in ("max_pooling2d", "average_pooling2d"):
        ps = ints(kv.get("pool_size", "2"), 2)
        st = ints(kv["strides"], 2) if "strides" in kv else ps
        y, dx = pool(x, ps, st, kv.get("padding", "valid") == "same", "max" if t[0] == "m" else "avg", dy)
        return y, dx, g, stats
    if t == "global_average_pooling2d":
        hw = x.shape[1] * x.shape[2]
        return x.mean(axis=(1, 2)), np.broadcast_to(dy[:, None, None, :] / hw, x.shape), g, stats
    if t in ("depthwise_conv2d", "separable_conv2d"):  # channel c with its filters m -> output c * dm + m
        st = ints(kv.get("strides", "1"), 2)
        same = kv.get("padding", "valid") == "same"
        dk = w["kernel"] if t == "depthwise_conv2d" else w["depthwise_kernel"]
        kh, kw, C, M = dk.shape
        blocks = [conv_fwd(x[..., c:c + 1], dk[:, :, c:c + 1, :], None, st, same) for c in range(C)]
        dw = np.concatenate([b_[0] for b_ in blocks], axis=3)  # (S, oh, ow, C * M)
        if t == "depthwise_conv2d":
            y, ddw = dw + (w["bias"] if "bias" in w else 0), dy
            if "bias" in w:
                g["bias"] = dy.sum(axis=(0, 1, 2))
        else:
            pk = w["pointwise_kernel"][0, 0]
            y = dw @ pk + (w["bias"] if "bias" in w else 0)
            g["pointwise_kernel"] = (dw.reshape(-1, C * M).T @ dy.reshape(-1, pk.shape[1]))[None, None]
            if "bias" in w:
                g["bias"] = dy.sum(axis=(0, 1, 2))
            ddw = dy @ pk.T
        dx = np.zeros_like(x)
        gk = np.zeros_like(dk)
        for c in range(C):
            dxc, gkc, _ = conv_bwd(x[..., c:c + 1], dk[:, :, c:c + 1, :], ddw[..., c * M:(c + 1) * M], st, blocks[c][1])
            dx[..., c:c + 1] = dxc
            gk[:, :, c:c + 1, :] = gkc
        g["kernel" if t == "depthwise_conv2d" else "depthwise_kernel"] = gk
        return y, dx, g, stats
    if t == "zero_padding2d":
        v = [int(a) for a in kv.get("padding", "1").split(",")]
        top, bottom, left, right = v * 4 if len(v) == 1 else (v[0], v[0], v[1], v[1]) if len(v) == 2 else v
        H, W = x.shape[1], x.shape[2]
        y = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        return y, dy[:, top:top + H, left:left + W], g, stats
    if t == "global_max_pooling2d":  # the first maximum in row-major order gets dy
        S, H, W, C = x.shape
        flat = x.reshape(S, H * W, C)
        at = flat.argmax(axis=1)
        dx = np.zeros_like(flat)
        for s_ in range(S):
            for c in range(C):
                dx[s_, at[s_, c], c] = dy[s_, c]
        return flat.max(axis=1), dx.reshape(x.shape), g, stats
    if t == "layer_normalization":
        eps = float(kv.get("epsilon", "0.001"))
        n = x.shape[-1]
        gamma = w.get("gamma", np.ones(n))
        mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
        rstd = 1.0 / np.sqrt(var + eps)
        xhat = (x - mean) * rstd
        y = gamma * xhat + w.get("beta", np.zeros(n))
        ax = tuple(range(x.ndim - 1))
        if "gamma" in w:
            g["gamma"] = (dy * xhat).sum(axis=ax)
        if "beta" in w:
            g["beta"] = dy.sum(axis=ax)
        gg = dy * gamma
        dx = rstd * (gg - gg.mean(axis=-1, keepdims=True) - xhat * (gg * xhat).mean(axis=-1, keepdims=True))
        return y, dx, g, stats
    if t in ("flatten", "reshape", "activation"):
        return x.reshape(dy.shape), dy.reshape(x.shape), g, stats
    if t == "dropout":
        rate = float(kv["rate"])
        n = x[0].size
        below = math.floor(rate * 2 ** 32)
        scale = np.float32(1.0 / (1.0 - rate))
        keep = np.zeros(x.shape[0] * n)
        for r, smp in enumerate(io["samples"]):
            for e in range(n):
                word = spec.scalar_word(int(io["seed"], 16), smp * ((n + 1) // 2) + e // 2, io["iteration"])
                bits = word >> 32 if e % 2 == 0 else word & 0xFFFFFFFF
                keep[r * n + e] = bits >= below
        mask = np.where(keep.reshape(x.shape) > 0, scale, np.float32(0))
        if not io["training"]:
            mask = np.ones_like(mask)
        # float32 products, as the layer computes them: compared exactly.
        m32 = mask.astype(np.float32)
        return ((x.astype(np.float32) * m32).astype(np.float64), (dy.astype(np.float32) * m32).astype(np.float64),
                g, stats)
    if t == "batch_normalization":
        eps = float(kv.get("epsilon", "0.001"))
        gamma = w.get("gamma", np.ones(x.shape[-1]))
        beta = w.get("beta", np.zeros(x.shape[-1]))
        ax = tuple(range(x.ndim - 1))
        if io["training"]:
            mean, var = x.mean(axis=ax), x.var(axis=ax)  # biased, as keras.ops.moments
            stats = np.concatenate([mean, var])
        else:
            mean, var = w["moving_mean"], w["moving_variance"]
        rstd = 1.0 / np.sqrt(var + eps)
        xhat = (x - mean) * rstd
        y = gamma * xhat + beta
        N = x.size // x.shape[-1]
        sb, sg = dy.sum(axis=ax), (dy * xhat).sum(axis=ax)
        if "gamma" in w:
            g["gamma"] = sg
        if "beta" in w:
            g["beta"] = sb
        dx = gamma * rstd * (dy - sb / N - xhat * sg / N)
        return y, dx, g, stats
    raise ValueError("no numpy reference for layer type [%s]" % t)


def ints(text, n):
    v = [int(p) for p in text.split(",")]
    return v * n if len(v) == 1 else v


# ---- running the C side ------------------------------------------------------------------

def load(d, name, shape):
    return np.fromfile(os.path.join(d, name), dtype="<f4").astype(np.float64).reshape(shape)


# (name, input shape, section, keys, rows, training, ties); keys as the config writes them.
CASES = [
    ("dense-3d", "3,4,5", "dense", {"units": "6"}, 3, 1, 0),
    ("conv-valid", "6,7,3", "conv2d", {"filters": "4", "kernel_size": "3"}, 3, 1, 0),
    ("conv-same-strided", "7,6,2", "conv2d", {"filters": "5", "kernel_size": "2,3", "strides": "2,1",
                                              "padding": "same"}, 2, 1, 0),
    ("conv-1x1-nobias", "4,4,3", "conv2d", {"filters": "2", "kernel_size": "1", "use_bias": "false"}, 3, 1, 0),
    ("conv-same-k4-s3", "8,8,1", "conv2d", {"filters": "3", "kernel_size": "4", "strides": "3", "padding": "same"}, 2, 1, 0),
    # A first layer's short window rows (3 and 6 floats: im2col's fixed moves, the last sample's last
    # windows copied exactly) over shards of two row blocks in portable mode, split inside an output row
    # (dbias continued across the blocks).
    ("conv-first-layer-blocks", "28,28,1", "conv2d", {"filters": "5", "kernel_size": "3"}, 11, 1, 0),
    ("conv-short-rows-blocks", "20,21,2", "conv2d", {"filters": "4", "kernel_size": "3"}, 11, 1, 0),
    # Stride 1, window rows of >= 32 floats: portable mode's implicit forward (conv2d.c), input padded per
    # sample (same; a 4-row kernel pads 1 row before and 2 after) or read in place (valid).
    ("conv-implicit-same", "6,7,16", "conv2d", {"filters": "4", "kernel_size": "3", "padding": "same"}, 3, 1, 0),
    ("conv-implicit-same-k4", "5,6,11", "conv2d", {"filters": "3", "kernel_size": "4,3", "padding": "same",
                                                   "use_bias": "false"}, 2, 1, 0),
    ("conv-implicit-valid", "7,6,16", "conv2d", {"filters": "5", "kernel_size": "3,2"}, 2, 1, 0),
    # and outputs >= 16 wide: the kernel's gradient is read from x in place too
    ("conv-implicit-wide", "4,17,16", "conv2d", {"filters": "3", "kernel_size": "3", "padding": "same"}, 2, 1, 0),
    ("conv-implicit-wide-valid", "5,19,12", "conv2d", {"filters": "4", "kernel_size": "2,3",
                                                        "use_bias": "false"}, 2, 1, 0),
    # algorithm = winograd (winograd.h): tiles cut by the output's odd edges, padding of either kind, channels
    # and filters beyond one vector of 16 with tails, a fused relu, one-pixel images, and a shard of more tiles
    # than one chunk (9 x 14 x 14 tiles against 1632: dkernel's chains continued across chunks).
    ("conv-winograd-same", "6,7,3", "conv2d", {"filters": "4", "kernel_size": "3", "padding": "same",
                                               "algorithm": "winograd"}, 3, 1, 0),
    ("conv-winograd-valid-odd", "7,6,5", "conv2d", {"filters": "3", "kernel_size": "3", "use_bias": "false",
                                                    "algorithm": "winograd"}, 2, 1, 0),
    ("conv-winograd-tails-relu", "5,5,37", "conv2d", {"filters": "21", "kernel_size": "3", "padding": "same",
                                                      "activation": "relu", "algorithm": "winograd"}, 2, 1, 0),
    ("conv-winograd-pixel", "1,2,4", "conv2d", {"filters": "2", "kernel_size": "3", "padding": "same",
                                                "algorithm": "winograd"}, 3, 1, 0),
    ("conv-winograd-chunks", "28,28,2", "conv2d", {"filters": "3", "kernel_size": "3", "padding": "same",
                                                   "algorithm": "winograd"}, 9, 1, 0),
    # algorithm = winograd4 (F(4x4, 3x3)): the same cases, 6x6 tiles cut by the edges on every side, tiles
    # wholly inside the image (12x13, same), and 16 x 7 x 7 tiles against a chunk of 720.
    ("conv-winograd4-same", "6,7,3", "conv2d", {"filters": "4", "kernel_size": "3", "padding": "same",
                                                "algorithm": "winograd4"}, 3, 1, 0),
    ("conv-winograd4-valid-odd", "7,6,5", "conv2d", {"filters": "3", "kernel_size": "3", "use_bias": "false",
                                                     "algorithm": "winograd4"}, 2, 1, 0),
    ("conv-winograd4-inside", "12,13,16", "conv2d", {"filters": "16", "kernel_size": "3", "padding": "same",
                                                     "algorithm": "winograd4"}, 2, 1, 0),
    ("conv-winograd4-tails-relu", "5,5,37", "conv2d", {"filters": "21", "kernel_size": "3", "padding": "same",
                                                       "activation": "relu", "algorithm": "winograd4"}, 2, 1, 0),
    ("conv-winograd4-pixel", "1,2,4", "conv2d", {"filters": "2", "kernel_size": "3", "padding": "same",
                                                 "algorithm": "winograd4"}, 3, 1, 0),
    ("conv-winograd4-chunks", "28,28,2", "conv2d", {"filters": "3", "kernel_size": "3", "padding": "same",
                                                    "algorithm": "winograd4"}, 16, 1, 0),
    ("max-pool-ties", "6,6,3", "max_pooling2d", {}, 4, 1, 1),
    ("max-pool-same-overlap-ties", "5,7,2", "max_pooling2d", {"pool_size": "3", "strides": "2,1", "padding": "same"},
     3, 1, 1),
    # Windows that tile the input, with a row and a column past the last window (backward's one-pass path).
    ("max-pool-tiled-leftover-ties", "7,5,3", "max_pooling2d", {"pool_size": "2"}, 3, 1, 1),
    # and 19 channels: 16 in registers at a time, 3 one by one
    ("max-pool-tiled-wide-ties", "6,4,19", "max_pooling2d", {}, 3, 1, 1),
    # same padding with nothing padded before: the last windows stick out past the input (the general path).
    ("max-pool-same-odd-ties", "7,5,2", "max_pooling2d", {"pool_size": "2", "padding": "same"}, 2, 1, 1),
    ("avg-pool", "6,5,2", "average_pooling2d", {"pool_size": "2,3", "strides": "1,2"}, 3, 1, 0),
    ("avg-pool-same", "5,5,3", "average_pooling2d", {"pool_size": "3", "padding": "same"}, 2, 1, 0),
    ("global-avg-pool", "4,3,5", "global_average_pooling2d", {}, 3, 1, 0),
    ("flatten", "3,4,2", "flatten", {}, 2, 1, 0),
    ("reshape", "24", "reshape", {"target_shape": "2,3,4"}, 2, 1, 0),
    ("activation", "7", "activation", {"activation": "linear"}, 2, 1, 0),
    ("dropout-train", "5,10", "dropout", {"rate": "0.3"}, 4, 1, 0),
    ("dropout-seeded-step9", "25", "dropout", {"rate": "0.5", "seed": "42"}, 3, 1, 0),
    ("dropout-eval", "25", "dropout", {"rate": "0.5"}, 3, 0, 0),
    # Masks drawn 512 values at a time (rd->words): two whole blocks and an odd tail; four whole blocks.
    ("dropout-blocks-odd", "1037", "dropout", {"rate": "0.25"}, 3, 1, 0),
    ("dropout-blocks", "2,1024", "dropout", {"rate": "0.6", "seed": "7"}, 2, 1, 0),
    ("batch-norm-train", "3,3,4", "batch_normalization", {"epsilon": "0.01"}, 4, 1, 0),
    ("batch-norm-train-plain", "6", "batch_normalization", {"center": "false", "scale": "false"}, 5, 1, 0),
    ("batch-norm-eval", "2,2,3", "batch_normalization", {}, 3, 0, 0),
    # Channels in blocks of 64, 32, 16 and 8 with the sums in registers, then the rest one by one; over 64, all
    # one by one.
    ("batch-norm-train-64", "2,3,64", "batch_normalization", {}, 3, 1, 0),
    ("batch-norm-train-56", "3,2,56", "batch_normalization", {"momentum": "0.9"}, 2, 1, 0),
    ("batch-norm-train-13", "2,2,13", "batch_normalization", {"scale": "false"}, 4, 1, 0),
    ("batch-norm-train-77", "2,1,77", "batch_normalization", {}, 3, 1, 0),
    ("depthwise-valid-dm2", "6,5,3", "depthwise_conv2d", {"kernel_size": "3", "depth_multiplier": "2"}, 2, 1, 0),
    ("depthwise-same-strided-nobias", "7,6,2", "depthwise_conv2d", {"kernel_size": "2,3", "strides": "2",
                                                                    "padding": "same", "use_bias": "false"}, 3, 1, 0),
    # 43 and 40 channels: the dm = 1 kernels' 32-channel, 8-channel and single-channel blocks
    ("depthwise-wide-same", "5,6,43", "depthwise_conv2d", {"kernel_size": "3", "padding": "same"}, 2, 1, 0),
    ("depthwise-wide-strided", "7,6,40", "depthwise_conv2d", {"kernel_size": "3,2", "strides": "2",
                                                              "use_bias": "false"}, 2, 1, 0),
    ("separable-same", "5,5,3", "separable_conv2d", {"filters": "4", "kernel_size": "3", "padding": "same",
                                                     "depth_multiplier": "2"}, 2, 1, 0),
    ("separable-strided-nobias", "7,6,2", "separable_conv2d", {"filters": "3", "kernel_size": "2", "strides": "2,1",
                                                               "use_bias": "false"}, 3, 1, 0),
    ("zero-padding-1", "3,4,2", "zero_padding2d", {}, 2, 1, 0),
    ("zero-padding-2", "3,2,3", "zero_padding2d", {"padding": "2,1"}, 2, 1, 0),
    ("zero-padding-4", "2,3,1", "zero_padding2d", {"padding": "0,3,1,2"}, 3, 1, 0),
    ("global-max-pool-ties", "3,4,5", "global_max_pooling2d", {}, 3, 1, 1),
    ("layer-norm-image", "2,3,6", "layer_normalization", {"epsilon": "0.01"}, 3, 1, 0),
    ("layer-norm-plain", "7", "layer_normalization", {"center": "false", "scale": "false"}, 4, 1, 0),
    ("layer-norm-eval", "9", "layer_normalization", {}, 3, 0, 0),
    # Merges: every input an array of its own (layer_io draws one per input).
    ("add-3", "3,4,2", "add", {"inputs": "input, input, input"}, 3, 1, 0),
    ("subtract", "7", "subtract", {"inputs": "input, input"}, 3, 1, 0),
    ("multiply-3", "2,5", "multiply", {"inputs": "input, input, input"}, 3, 1, 0),
    ("average-4", "6", "average", {"inputs": "input, input, input, input"}, 2, 1, 0),
    # Inputs rounded to quarters: many ties, where the first input holding the extreme gets dL/dy.
    ("maximum-3-ties", "4,3", "maximum", {"inputs": "input, input, input"}, 4, 1, 1),
    ("minimum-2-ties", "3,3,2", "minimum", {"inputs": "input, input"}, 4, 1, 1),
    # Concatenate: inputs of different sizes along the axis (a layer before gives the second its shape).
    ("concatenate-channels", "4,3,2", "concatenate", {"inputs": "input, pre, input"}, 2, 1, 0,
     "[conv2d]\nname = pre\nfilters = 3\nkernel_size = 1\n"),
    ("concatenate-axis1", "4,3,2", "concatenate", {"axis": "1", "inputs": "input, pre"}, 2, 1, 0,
     "[max_pooling2d]\nname = pre\npool_size = 2,1\n"),
    ("concatenate-axis-2-flat", "6", "concatenate", {"axis": "-1", "inputs": "pre, input"}, 3, 1, 0,
     "[dense]\nname = pre\nunits = 4\n"),
    # Image augmentation: y and dx against Keras' definitions, given docs/SEEDS.md's draws per sample.
    ("random-flip-both", "5,6,2", "random_flip", {}, 8, 1, 0),
    ("random-flip-horizontal-step9", "3,4,1", "random_flip", {"mode": "horizontal", "seed": "5"}, 8, 1, 0),
    ("random-flip-vertical", "4,3,3", "random_flip", {"mode": "vertical"}, 8, 1, 0),
    ("random-flip-eval", "4,3,3", "random_flip", {}, 4, 0, 0),
    ("random-translation", "7,6,2", "random_translation", {"height_factor": "0.3", "width_factor": "-0.2,0.4"},
     4, 1, 0),
    ("random-translation-wrap-nearest", "5,8,1", "random_translation",
     {"height_factor": "0.5", "width_factor": "1", "fill_mode": "wrap", "interpolation": "nearest"}, 6, 1, 0),
    ("random-translation-constant-step9", "6,5,3", "random_translation",
     {"height_factor": "0.4", "width_factor": "0.4", "fill_mode": "constant", "fill_value": "0.25"}, 4, 1, 0),
    ("random-translation-nearest-fill", "6,6,1", "random_translation",
     {"height_factor": "0.6", "width_factor": "0.6", "fill_mode": "nearest"}, 4, 1, 0),
    ("random-translation-eval", "4,4,2", "random_translation", {"height_factor": "0.5", "width_factor": "0.5"},
     3, 0, 0),
    ("random-rotation", "7,9,2", "random_rotation", {"factor": "0.5"}, 4, 1, 0),
    ("random-rotation-constant-nearest", "8,8,1", "random_rotation",
     {"factor": "-0.25,0.1", "fill_mode": "constant", "interpolation": "nearest", "fill_value": "-0.5"}, 5, 1, 0),
    ("random-rotation-wrap-step9", "6,7,3", "random_rotation", {"factor": "1", "fill_mode": "wrap"}, 3, 1, 0),
    ("random-zoom", "8,7,2", "random_zoom", {"height_factor": "0.4"}, 4, 1, 0),
    ("random-zoom-both-constant", "6,9,1", "random_zoom",
     {"height_factor": "-0.5,-0.1", "width_factor": "0.3,0.9", "fill_mode": "constant"}, 4, 1, 0),
    ("random-zoom-nearest-nearest", "7,7,2", "random_zoom",
     {"height_factor": "0.5", "width_factor": "0.2", "fill_mode": "nearest", "interpolation": "nearest"}, 4, 1, 0),
    ("random-contrast", "5,4,3", "random_contrast", {"factor": "0.5", "value_range": "-1,1"}, 4, 1, 0),
    ("random-contrast-pair-clipped-step9", "4,6,2", "random_contrast", {"factor": "0.9,1", "value_range": "-0.5,0.6"},
     4, 1, 0),
    ("random-contrast-eval", "4,4,1", "random_contrast", {"factor": "0.5", "value_range": "0,1"}, 3, 0, 0),
    ("random-crop", "7,8,2", "random_crop", {"height": "4", "width": "5"}, 6, 1, 0),
    ("random-crop-full-width-step9", "6,5,1", "random_crop", {"height": "3", "width": "5", "seed": "11"}, 6, 1, 0),
    ("random-crop-eval-centre", "7,8,2", "random_crop", {"height": "4", "width": "5"}, 3, 0, 0),
    ("random-erasing-noise", "8,7,2", "random_erasing", {"value_range": "-1,1"}, 8, 1, 0),
    ("random-erasing-fill-step9", "9,8,3", "random_erasing",
     {"factor": "0.9,1", "scale": "0.1,0.5", "fill_value": "0.5,-2,0.25", "value_range": "-1,1"}, 6, 1, 0),
    ("random-erasing-eval", "5,5,1", "random_erasing", {}, 3, 0, 0),
    # Many samples, for augmentation_statistics.
    ("random-flip-stats", "1,2,1", "random_flip", {"mode": "horizontal"}, 4000, 1, 0),
    ("random-translation-stats", "3,3,1", "random_translation", {"height_factor": "0.2", "width_factor": "-0.1,0.5"},
     2000, 1, 0),
]


def augmentation_statistics():
    """The draws' statistics, over samples whose outputs matched the reference above: a
    flip happens half the time (counted on the C outputs), translations are uniform
    within the factor (Kolmogorov-Smirnov at the 0.1% level, and inside the range)."""
    io, x, y = RESULTS["random-flip-stats"]
    n = x.shape[0]
    flipped = np.sum((y[:, 0, 0, 0] == x[:, 0, 1, 0]) & (x[:, 0, 0, 0] != x[:, 0, 1, 0]))
    frac = flipped / n
    check(abs(frac - 0.5) <= 4 * math.sqrt(0.25 / n), "random_flip: %d of %d samples flipped (%.4f; 0.5 +- %.4f)"
          % (flipped, n, frac, 4 * math.sqrt(0.25 / n)))
    io, x, y = RESULTS["random-translation-stats"]
    n = x.shape[0]
    u = np.array([aug_draws(io, r, 2) for r in range(n)])
    H, W = x.shape[1], x.shape[2]
    for k, (lo, hi, size, axis) in enumerate(((-0.2, 0.2, H, "height"), (-0.1, 0.5, W, "width"))):
        shift = (lo + (hi - lo) * u[:, k]) * size
        v = np.sort((shift / size - lo) / (hi - lo))  # uniform on [0, 1) if the shifts are
        ks = max(np.max(np.arange(1, n + 1) / n - v), np.max(v - np.arange(n) / n))
        check(ks < 1.95 / math.sqrt(n) and shift.min() >= lo * size and shift.max() < hi * size,
              "random_translation: %s shifts of %d samples in [%.3f, %.3f) of [%.1f, %.1f), KS distance %.4f < %.4f"
              % (axis, n, shift.min(), shift.max(), lo * size, hi * size, ks, 1.95 / math.sqrt(n)))


RESULTS = {}  # name: (io, x, y) of each case run


def layer_case(tmp, layer_io, case, kernels):
    name, inp, sect, kv, rows, training, ties = case[:7]
    pre = case[7] if len(case) > 7 else ""  # layers before it, for the shapes of its inputs
    if kernels != "portable":
        name += " (kernels = %s)" % kernels
    d = os.path.join(tmp, name.replace(" ", "_"))
    os.makedirs(d)
    cfg = os.path.join(d, "c.cfg")
    with open(cfg, "w") as f:
        f.write("[run]\nseed = 17\n[model]\ninput = %s\n%s[%s]\n%s[train]\nkernels = %s\n"
                % (inp, pre, sect, "".join("%s = %s\n" % i for i in kv.items()), kernels))
    it = 9 if "step9" in name else 0
    r = subprocess.run([layer_io, cfg, d, str(rows), str(training), str(it), str(ties)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if not check(r.returncode == 0, "%s: layer_io ran (%s)" % (name, r.stdout.strip()[:200])):
        return None
    io = json.load(open(os.path.join(d, "io.json")))
    many = len(io["ins"]) > 1
    x = [load(d, "x%d" % i, [rows] + s) for i, s in enumerate(io["ins"])] if many else load(d, "x", [rows] + io["in"])
    dy = load(d, "dy", [rows] + io["out"])
    y = load(d, "y", [rows] + io["out"])
    w = {t["name"]: load(d, "w_" + t["name"], t["shape"]) for t in io["tensors"]}
    yr, dxr, gr, sr = ref(io, x, dy, w, kv)
    RESULTS[name] = (io, x, y)
    if sect.startswith("random_") and training and sect != "random_crop":
        check(bool(np.any(y != x)), "%s: the training pass changes some samples" % name)
    tol = 1e-4 if sect in ("batch_normalization", "layer_normalization") else 2e-5
    exact = sect in ("max_pooling2d", "dropout", "flatten", "reshape", "activation", "maximum", "minimum",
                     "concatenate", "zero_padding2d", "global_max_pooling2d", "random_flip", "random_crop") or (
        sect == "random_erasing" and "fill_value" in kv)  # values moved or set, never rounded

    def close(a, b, what, exact_ok=False):
        err = float(np.max(np.abs(a - b))) if a.size else 0.0
        scale = 1.0 + float(np.max(np.abs(b))) if b.size else 1.0
        ok = err == 0.0 if exact_ok else err <= tol * scale
        check(ok, "%s: %s %s numpy float64 (max |diff| %.2e)" % (name, what, "==" if exact_ok else "~", err))

    close(y, yr, "y", exact)
    if training and many:
        for i, s in enumerate(io["ins"]):
            close(load(d, "dx%d" % i, [rows] + s), dxr[i], "dx of input %d" % (i + 1),
                  exact or sect in ("add", "subtract"))  # dy passed on, negated, cut or picked: no rounding
    elif training:
        dx = load(d, "dx", [rows] + io["in"])
        close(dx, dxr, "dx", exact and sect != "max_pooling2d")
        for t in io["tensors"]:
            if t["trainable"]:
                close(load(d, "g_" + t["name"], t["shape"]), gr[t["name"]], "gradient of " + t["name"])
        if sr is not None:
            close(load(d, "stats", [sr.size]), sr, "batch statistics (mean, variance)")
    return sect


def registered_types(tmp):
    """Every layer type this reprodist has: its own list, from the unknown-section message."""
    cfg = os.path.join(tmp, "types.cfg")
    with open(cfg, "w") as f:
        f.write("[model]\ninput = 4\n[no_such_layer_type]\n")
    out = rd_run(1, ["init", cfg, "-o", os.path.join(tmp, "types.h5")]).stdout
    m = re.search(r"and the layers ((\[\w+\] ?)+)", out)
    return re.findall(r"\[(\w+)\]", m.group(1)) if m else []


# ---- one SGD step of a small CNN, end to end ----------------------------------------------

# One SGD step (lr 0.5) on the first batch of 8 synthetic samples, 2 shards of 4.
STEP_TAIL = """[data]
source = synthetic
samples = 64
test_samples = 8
[train]
epochs = 1
steps_per_epoch = 1
batch_size = 8
shard_size = 4
optimizer = sgd
learning_rate = 0.5
"""

E2E = """[run]
seed = 21
[model]
input = 6,6,2
[conv2d]
filters = 3
kernel_size = 3
padding = same
activation = relu
bias_initializer = random_uniform
[max_pooling2d]
[flatten]
[dense]
units = 4
activation = softmax
bias_initializer = random_uniform
""" + STEP_TAIL


def one_step(tmp, tag, text, what, names):
    """`reprodist init` and one training step at np 2 of config text; returns the
    initial tensors {"layer/tensor": float64 array} and the final file, or None."""
    cfg = os.path.join(tmp, tag + ".cfg")
    with open(cfg, "w") as f:
        f.write(text)
    init, final = os.path.join(tmp, tag + "_init.h5"), os.path.join(tmp, tag + "_final.h5")
    r1, r2 = rd_run(2, ["init", cfg, "-o", init]), rd_run(2, [cfg, "-o", final])
    if not check(r1.returncode == 0 and r2.returncode == 0, "%s: init and one SGD step at np 2" % what):
        print(r1.stdout + r2.stdout)
        return None
    with h5py.File(init, "r") as f:
        w0 = {k: f["/%s/%s/%s:0" % (k.split("/")[0], k.split("/")[0], k.split("/")[1])][()].astype(np.float64)
              for k in names}
    return w0, final


def check_step(final, w0, grads, lr, what):
    """Every tensor of the final file = w0 - lr * grad (float64), to float32 rounding, and it moved."""
    with h5py.File(final, "r") as f:
        for key in w0:
            layer, t = key.split("/")
            got = f["/%s/%s/%s:0" % (layer, layer, t)][()].astype(np.float64)
            want = w0[key] - lr * grads[key]
            moved = float(np.max(np.abs(got - w0[key])))
            err = float(np.max(np.abs(got - want)))
            check(err <= 2e-6 * (1 + float(np.max(np.abs(want)))) and moved > 1e-3,
                  "%s, one SGD step: %s = float64 reference (max |diff| %.2e, moved %.2e)" % (what, key, err, moved))


def end_to_end(tmp):
    got = one_step(tmp, "e2e", E2E, "small CNN", ["conv2d/kernel", "conv2d/bias", "dense/kernel", "dense/bias"])
    if not got:
        return
    w0, final = got
    k1, b1, k2, b2 = w0["conv2d/kernel"], w0["conv2d/bias"], w0["dense/kernel"], w0["dense/bias"]
    # The first batch of epoch 0: the spec's shuffle and synthetic data; features in NHWC order.
    idx = spec.permutation(21, 0, 64)[:8]
    x = spec.synthetic_x(21, "x", 64, 72).astype(np.float64)[idx].reshape(8, 6, 6, 2)
    y = spec.synthetic_y(21, "y", 64, 4).astype(np.int64)[idx]
    z1, cache = conv_fwd(x, k1, b1, (1, 1), True)
    a1 = np.maximum(z1, 0)
    p1, _ = pool(a1, (2, 2), (2, 2), False, "max")
    logits = p1.reshape(8, -1) @ k2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob = e / e.sum(axis=1, keepdims=True)
    dz = (prob - np.eye(4)[y]) / 8  # crossentropy from the logits, mean over the batch
    gk2, gb2 = p1.reshape(8, -1).T @ dz, dz.sum(axis=0)
    dp1 = (dz @ k2.T).reshape(p1.shape)
    _, da1 = pool(a1, (2, 2), (2, 2), False, "max", dp1)
    dz1 = da1 * (z1 > 0)
    _, gk1, gb1 = conv_bwd(x, k1, dz1, (1, 1), cache)
    check_step(final, w0, {"conv2d/kernel": gk1, "conv2d/bias": gb1, "dense/kernel": gk2, "dense/bias": gb2}, 0.5,
               "small CNN")


# ---- one SGD step of a small residual net, end to end ----------------------------------------
# A projection shortcut (1x1 conv, stride 2, from the input), a concatenate, and
# an output used twice (c1 feeds c2 and the add: its gradient is a sum).

E2E_GRAPH = """[run]
seed = 23
[model]
input = 6,6,2
[conv2d]
name = c1
filters = 3
kernel_size = 3
padding = same
activation = relu
bias_initializer = random_uniform
[conv2d]
name = c2
filters = 3
kernel_size = 3
padding = same
bias_initializer = random_uniform
[add]
name = res
inputs = c1, c2
[max_pooling2d]
name = pool
[conv2d]
name = proj
filters = 4
kernel_size = 1
strides = 2
inputs = input
bias_initializer = random_uniform
[concatenate]
name = cat
inputs = pool, proj
[flatten]
[dense]
name = out
units = 4
activation = softmax
bias_initializer = random_uniform
""" + STEP_TAIL


def end_to_end_graph(tmp):
    names = ["c1/kernel", "c1/bias", "c2/kernel", "c2/bias", "proj/kernel", "proj/bias", "out/kernel", "out/bias"]
    got = one_step(tmp, "graph", E2E_GRAPH, "small residual net", names)
    if not got:
        return
    w0, final = got
    idx = spec.permutation(23, 0, 64)[:8]
    x = spec.synthetic_x(23, "x", 64, 72).astype(np.float64)[idx].reshape(8, 6, 6, 2)
    y = spec.synthetic_y(23, "y", 64, 4).astype(np.int64)[idx]
    # Forward, float64.
    z1, cache1 = conv_fwd(x, w0["c1/kernel"], w0["c1/bias"], (1, 1), True)
    a1 = np.maximum(z1, 0)
    z2, cache2 = conv_fwd(a1, w0["c2/kernel"], w0["c2/bias"], (1, 1), True)
    res = a1 + z2
    p, _ = pool(res, (2, 2), (2, 2), False, "max")
    pr, cachep = conv_fwd(x, w0["proj/kernel"], w0["proj/bias"], (2, 2), False)
    cat = np.concatenate([p, pr], axis=3)
    logits = cat.reshape(8, -1) @ w0["out/kernel"] + w0["out/bias"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob = e / e.sum(axis=1, keepdims=True)
    dz = (prob - np.eye(4)[y]) / 8
    g = {"out/kernel": cat.reshape(8, -1).T @ dz, "out/bias": dz.sum(axis=0)}
    dcat = (dz @ w0["out/kernel"].T).reshape(cat.shape)
    dp, dpr = dcat[..., :3], dcat[..., 3:]
    _, g["proj/kernel"], g["proj/bias"] = conv_bwd(x, w0["proj/kernel"], dpr, (2, 2), cachep)
    _, dres = pool(res, (2, 2), (2, 2), False, "max", dp)
    da1_from_c2, g["c2/kernel"], g["c2/bias"] = conv_bwd(a1, w0["c2/kernel"], dres, (1, 1), cache2)
    da1 = dres + da1_from_c2  # c1's output feeds the add and c2
    _, g["c1/kernel"], g["c1/bias"] = conv_bwd(x, w0["c1/kernel"], da1 * (z1 > 0), (1, 1), cache1)
    check_step(final, w0, g, 0.5, "small residual net")


def main(layer_io):
    with tempfile.TemporaryDirectory(prefix="rdref.") as tmp:
        # Each case in both kernel modes: portable (the default) computes some layers
        # differently (conv2d's row blocks and implicit forward), openblas calls sgemm.
        covered = {layer_case(tmp, layer_io, c, k) for c in CASES for k in ("portable", "openblas")}
        augmentation_statistics()
        types = registered_types(tmp)
        check(len(types) >= 10, "reprodist lists its layer types (%s)" % " ".join(types))
        for t in types:
            check(t in covered, "layer type [%s] has a numpy reference case" % t)
        end_to_end(tmp)
        end_to_end_graph(tmp)


if __name__ == "__main__":
    if len(sys.argv) != 2 or "REPRODIST" not in os.environ:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1])
    finish()
