#!/usr/bin/python3
"""An independent reference for training: numpy, float64, from the formulas alone.

Starts from the initial weights reprodist writes (`reprodist init`), takes the
same batches (the epoch shuffle and synthetic data of docs/SEEDS.md, computed
by tests/spec_reimpl.py), applies Keras' update rules (shared/FACTS.md: Adam,
SGD with momentum / Nesterov, softmax crossentropy from the logits, mse), and
compares the final weights and the printed losses with `reprodist train` at np 2.
reprodist computes in float32, this reference in float64, so they agree to
float32 tolerance, not bit for bit (the bitwise guarantees are in rank_matrix).
"""
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec_reimpl as spec  # noqa: E402

REPRODIST = os.environ["REPRODIST"]
MPI = [os.environ["RD_MPIEXEC"], os.environ.get("RD_NPFLAG", "-np"), "2"] + os.environ.get("RD_MPIFLAGS", "").split()
passes = fails = 0


def check(ok, what):
    global passes, fails
    if ok:
        passes += 1
        print("ok:", what)
    else:
        fails += 1
        print("FAIL:", what)


ACT = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
}


def act_grad(name, y, dy):
    if name == "linear":
        return dy
    if name == "relu":
        return dy * (y > 0)
    if name == "tanh":
        return dy * (1 - y * y)
    if name == "sigmoid":
        return dy * y * (1 - y)
    if name == "softmax":
        return y * (dy - (dy * y).sum(axis=1, keepdims=True))
    raise ValueError(name)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def read(path, layers):
    with h5py.File(path, "r") as f:
        return [(f[f"/{n}/{n}/kernel:0"][()].astype(np.float64), f[f"/{n}/{n}/bias:0"][()].astype(np.float64))
                for n, _, _ in layers]


def loss_and_grads(W, layers, x, y, loss, n_batch):
    acts = [x]
    for i, ((k, b), (_, _, act)) in enumerate(zip(W, layers)):
        z = acts[-1] @ k + b
        last = i == len(layers) - 1
        acts.append(z if (last and loss == "xent") else (softmax(z) if act == "softmax" else ACT[act](z)))
    out, C = acts[-1], acts[-1].shape[1]
    onehot = np.eye(C)[y]
    if loss == "xent":  # out holds the logits
        p = softmax(out)
        lsum = float(-(np.log(p[np.arange(len(y)), y])).sum())
        d = (p - onehot) / n_batch
    else:
        lsum = float((((out - onehot) ** 2).mean(axis=1)).sum())
        d = act_grad(layers[-1][2], out, 2 * (out - onehot) / C / n_batch)
    correct = int((out.argmax(axis=1) == y).sum())
    grads = [None] * len(W)
    for i in range(len(W) - 1, -1, -1):
        grads[i] = (acts[i].T @ d, d.sum(axis=0))
        if i:
            d = act_grad(layers[i - 1][2], acts[i], d @ W[i][0].T)
    return lsum, correct, grads


def train(W, layers, cfg):
    g, n, B = cfg["seed"], cfg["samples"], cfg["batch"]
    x = spec.synthetic_x(g, "x", n, cfg["input"]).astype(np.float64)
    y = spec.synthetic_y(g, "y", n, layers[-1][1]).astype(np.int64)
    state = [[np.zeros_like(t) for t in kb] for kb in W]
    state2 = [[np.zeros_like(t) for t in kb] for kb in W]
    it, epoch_losses = 0, []
    for e in range(cfg["epochs"]):
        perm = spec.permutation(g, e, n)
        lsum_e = 0.0
        for b0 in range(0, n, B):
            idx = perm[b0:b0 + B]
            lsum, _, grads = loss_and_grads(W, layers, x[idx], y[idx], cfg["loss"], len(idx))
            lsum_e += lsum
            t = it + 1
            for li in range(len(W)):
                for ti in range(2):
                    gr, w = grads[li][ti], W[li][ti]
                    if cfg["opt"] == "adam":
                        b1, b2, eps, lr = 0.9, 0.999, 1e-7, cfg["lr"]
                        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                        m, v = state[li][ti], state2[li][ti]
                        m += (gr - m) * (1 - b1)
                        v += (gr * gr - v) * (1 - b2)
                        w -= m * alpha / (np.sqrt(v) + eps)
                    else:
                        mu, lr = cfg["momentum"], cfg["lr"]
                        m = state[li][ti]
                        m[...] = mu * m - lr * gr
                        w += (mu * m - lr * gr) if cfg["nesterov"] else m
            it += 1
        epoch_losses.append(lsum_e / n)
    return epoch_losses


def write_cfg(path, cfg, layers):
    lines = [f"[run]\nseed = {cfg['seed']}\n[model]\ninput = {cfg['input']}"]
    for name, units, act in layers:
        lines.append(f"[dense]\nname = {name}\nunits = {units}\nactivation = {act}\n"
                     "bias_initializer = random_uniform")
    lines.append(f"[data]\nsource = synthetic\nsamples = {cfg['samples']}\ntest_samples = 64")
    loss = "sparse_categorical_crossentropy" if cfg["loss"] == "xent" else "mse"
    t = (f"[train]\nepochs = {cfg['epochs']}\nbatch_size = {cfg['batch']}\nshard_size = 8\n"
         f"optimizer = {cfg['opt']}\nlearning_rate = {cfg['lr']}\nloss = {loss}\nshuffle = true")
    if cfg["opt"] == "sgd":
        t += f"\nmomentum = {cfg['momentum']}\nnesterov = {'true' if cfg['nesterov'] else 'false'}"
    lines.append(t)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def run_case(tmp, tag, cfg, layers, wtol):
    path = os.path.join(tmp, tag + ".cfg")
    write_cfg(path, cfg, layers)
    init, final = os.path.join(tmp, tag + "_init.h5"), os.path.join(tmp, tag + "_final.h5")
    subprocess.run(MPI + [REPRODIST, "init", path, "-o", init], check=True, capture_output=True)
    r = subprocess.run(MPI + [REPRODIST, path, "-o", final], check=True, capture_output=True, text=True)
    printed = [float(m) for m in re.findall(r"^epoch \d+/\d+\s+loss (\S+)", r.stdout, re.M)]
    W = read(init, layers)
    losses = train(W, layers, cfg)
    got = read(final, layers)
    worst = max(float(np.max(np.abs(a - b))) for kb, kb2 in zip(W, got) for a, b in zip(kb, kb2))
    moved = max(float(np.max(np.abs(a - b))) for kb, kb2 in zip(read(init, layers), got) for a, b in zip(kb, kb2))
    print(f"{tag}: max |reprodist - numpy| = {worst:.3g} (weights moved by up to {moved:.3g}); "
          f"losses reprodist {printed} numpy {[round(l, 6) for l in losses]}")
    check(moved > 100 * wtol, f"{tag}: training moved the weights well beyond the tolerance")
    check(worst <= wtol, f"{tag}: final weights agree with the numpy reference within {wtol}")
    check(len(printed) == len(losses) and all(abs(a - b) <= 1e-5 * max(1.0, abs(b)) for a, b in zip(printed, losses)),
          f"{tag}: printed epoch losses agree with the reference (1e-5 relative)")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        layers = [("hidden_a", 16, "tanh"), ("hidden_b", 8, "relu"), ("out", 5, "softmax")]
        base = dict(seed=3, input=12, samples=200, batch=32, epochs=2, loss="xent", opt="adam", lr=0.01)
        run_case(tmp, "adam_xent", base, layers, 2e-5)
        layers2 = [("h1", 10, "sigmoid"), ("h2", 7, "softmax"), ("o", 4, "sigmoid")]
        sgd = dict(base, loss="mse", opt="sgd", lr=0.5, momentum=0.9, nesterov=True)
        run_case(tmp, "sgd_nesterov_mse", sgd, layers2, 2e-5)
        run_case(tmp, "sgd_momentum_mse", dict(sgd, nesterov=False), layers2, 2e-5)
        run_case(tmp, "sgd_plain_linear", dict(sgd, lr=0.05, momentum=0.0, nesterov=False),
                 [("a", 6, "linear"), ("b", 3, "linear")], 2e-5)
    print(f"{passes} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
