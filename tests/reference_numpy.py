#!/usr/bin/python3
"""An independent reference for training: numpy, float64, from the formulas alone.

Starts from the initial weights reprodist writes (`reprodist init`), takes the
same batches (the epoch shuffle and synthetic data of docs/SEEDS.md, computed
by tests/spec_reimpl.py), applies Keras' update rules (shared/FACTS.md; keras/src/optimizers/: SGD
with momentum / Nesterov, Adam, AdamW, RMSprop, Adagrad, Nadam, Lion, with
weight decay and clipping as base_optimizer.py applies them; softmax
crossentropy from the logits, mse), and
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
import schedules  # noqa: E402
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


def penalty(x, l1l2):
    """Keras' L1L2: l1 sum |x| + l2 sum x^2, and its gradient."""
    l1, l2 = l1l2
    return l1 * np.abs(x).sum() + l2 * (x * x).sum(), l1 * np.sign(x) + 2 * l2 * x


FUSED = ("xent", "cce", "bce")  # losses computed from the last layer's logits


def loss_and_grads(W, layers, x, y, loss, n_batch, reg=None, ls=0.0, cw=None, top_k=0):
    """The summed loss over the rows, the rows right, the gradients of the
    batch's loss: the mean over n_batch plus the regularizers' penalties
    (reg: {layer index: {"kernel": (l1, l2), "bias": ..., "activity": ...}};
    an output's penalty is divided by n_batch, as Keras does, so it enters the
    summed loss whole), and (the rows' weight, the rows whose label is in the
    top_k). cw: Keras' class_weight, {class: weight}, others 1: each row's loss
    and gradient times its weight, still over n_batch (sum_over_batch_size);
    the counts weighted (Keras' metrics with sample_weight)."""
    reg = reg or {}
    w = np.array([(cw or {}).get(int(c), 1.0) for c in y])
    acts = [x]
    lsum = 0.0
    for i, ((k, b), (_, _, act)) in enumerate(zip(W, layers)):
        z = acts[-1] @ k + b
        last = i == len(layers) - 1
        acts.append(z if (last and loss in FUSED) else (softmax(z) if act == "softmax" else ACT[act](z)))
        if "activity" in reg.get(i, {}):
            lsum += penalty(acts[-1], reg[i]["activity"])[0]
    out, C = acts[-1], acts[-1].shape[1]
    onehot = np.eye(max(C, 2))[y][:, :C]
    if loss == "xent":  # out holds the logits
        p = softmax(out)
        lsum += float((w * -np.log(p[np.arange(len(y)), y])).sum())
        d = w[:, None] * (p - onehot) / n_batch
    elif loss == "cce":  # Keras' CategoricalCrossentropy(label_smoothing=ls) on one-hot targets
        p = softmax(out)
        t = onehot * (1 - ls) + ls / C
        lsum += float((w * -(t * np.log(p)).sum(axis=1)).sum())
        d = w[:, None] * (p - t) / n_batch
    elif loss == "bce":  # Keras' BinaryCrossentropy(label_smoothing=ls) on one sigmoid unit
        p = 1 / (1 + np.exp(-out[:, 0]))
        t = y * (1 - ls) + ls / 2
        lsum += float((w * -(t * np.log(p) + (1 - t) * np.log(1 - p))).sum())
        d = (w * (p - t) / n_batch)[:, None]
    else:
        lsum += float((w * ((out - onehot) ** 2).mean(axis=1)).sum())
        d = act_grad(layers[-1][2], out, w[:, None] * 2 * (out - onehot) / C / n_batch)
    right = ((out[:, 0] > 0) == y) if loss == "bce" else (out.argmax(axis=1) == y)
    correct = float((w * right).sum())
    # Keras' in_top_k (numpy backend): the label's score is >= the k-th largest.
    in_k = (out >= np.sort(out, axis=1)[:, -top_k][:, None])[np.arange(len(y)), y] if top_k else np.zeros(len(y))
    extra = (float(w.sum()), float((w * in_k).sum()))
    grads = [None] * len(W)
    for i in range(len(W) - 1, -1, -1):
        gk, gb = acts[i].T @ d, d.sum(axis=0)
        if "kernel" in reg.get(i, {}):
            gk = gk + penalty(W[i][0], reg[i]["kernel"])[1]
        if "bias" in reg.get(i, {}):
            gb = gb + penalty(W[i][1], reg[i]["bias"])[1]
        grads[i] = (gk, gb)
        if i:
            da = d @ W[i][0].T
            if "activity" in reg.get(i - 1, {}):
                da = da + penalty(acts[i], reg[i - 1]["activity"])[1] / n_batch
            d = act_grad(layers[i - 1][2], acts[i], da)
    return lsum, correct, grads, extra


def weight_penalty(W, reg):
    return sum(penalty(W[i][ti], r[key])[0] for i, r in (reg or {}).items()
               for ti, key in ((0, "kernel"), (1, "bias")) if key in r)


def rate(cfg, it):
    """The learning rate at 0-based step it: a constant, or CosineDecay with warmup (tests/schedules.py)."""
    if "cosine" not in cfg:
        return cfg["lr"]
    return float(np.float32(schedules.cosine(cfg["cosine"], it)))  # reprodist rounds a schedule's rate to float32


def clip(grads, cfg):
    """base_optimizer.py's _clip_gradients: clipnorm per tensor, else global_clipnorm, else clipvalue."""
    flat = [g for kb in grads for g in kb]
    if cfg.get("clipnorm"):
        c = cfg["clipnorm"]
        flat = [g * c / max(np.sqrt((g * g).sum()), c) for g in flat]
    elif cfg.get("global_clipnorm"):
        c = cfg["global_clipnorm"]
        norm = np.sqrt(sum((g * g).sum() for g in flat))
        flat = [g * (c * min(1 / norm, 1 / c)) for g in flat]
    elif cfg.get("clipvalue"):
        flat = [np.clip(g, -cfg["clipvalue"], cfg["clipvalue"]) for g in flat]
    return flat


def step(W, grads, st, cfg, it):
    """One Keras optimizer step (keras/src/optimizers/*.py), in float64: clipping,
    weight decay (var -= var * wd * lr, names matched by exclude_from_weight_decay),
    then the optimizer's rule. st holds each tensor's slots by key."""
    lr, t, opt, a = rate(cfg, it), it + 1, cfg["opt"], cfg.get("args", {})
    flat = clip(grads, cfg)
    if opt == "nadam":
        b1 = a.get("beta_1", 0.9)
        st["u_product"] *= b1 * (1 - 0.5 * 0.96 ** t)
    for k, (g, (li, ti)) in enumerate(zip(flat, [(li, ti) for li in range(len(W)) for ti in range(2)])):
        w, name = W[li][ti], ("kernel", "bias")[ti]
        wd = cfg.get("weight_decay", 0.004 if opt == "adamw" else 0.0)
        if wd and not any(p in name for p in cfg.get("exclude", [])):
            w -= w * wd * lr
        s = st.setdefault(k, {})
        z = np.zeros_like(w)
        if opt == "sgd":
            mu = cfg.get("momentum", 0.0)
            if mu == 0:
                w -= lr * g
            else:
                m = s.setdefault("m", z.copy())
                m[...] = mu * m - lr * g
                w += (mu * m - lr * g) if cfg.get("nesterov") else m
        elif opt in ("adam", "adamw"):
            b1, b2, eps = a.get("beta_1", 0.9), a.get("beta_2", 0.999), a.get("epsilon", 1e-7)
            m, v = s.setdefault("m", z.copy()), s.setdefault("v", z.copy())
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            w -= m * (lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)) / (np.sqrt(v) + eps)
        elif opt == "rmsprop":
            rho, mu, eps = a.get("rho", 0.9), a.get("momentum", 0.0), a.get("epsilon", 1e-7)
            v = s.setdefault("v", z.copy())
            v[...] = rho * v + (1 - rho) * g * g
            if a.get("centered"):
                ag = s.setdefault("a", z.copy())
                ag[...] = rho * ag + (1 - rho) * g
                den = v - ag * ag + eps
            else:
                den = v + eps
            inc = lr * g / np.sqrt(den)
            if mu > 0:
                m = s.setdefault("m", z.copy())
                m[...] = mu * m + inc
                w -= m
            else:
                w -= inc
        elif opt == "adagrad":
            acc = s.setdefault("acc", z + a.get("initial_accumulator_value", 0.1))
            acc += g * g
            w -= lr * g / np.sqrt(acc + a.get("epsilon", 1e-7))
        elif opt == "nadam":
            b1, b2, eps = a.get("beta_1", 0.9), a.get("beta_2", 0.999), a.get("epsilon", 1e-7)
            ut, ut1 = b1 * (1 - 0.5 * 0.96 ** t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
            pt = st["u_product"]
            pt1 = pt * ut1
            m, v = s.setdefault("m", z.copy()), s.setdefault("v", z.copy())
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            mh = ut1 * m / (1 - pt1) + (1 - ut) * g / (1 - pt)
            vh = v / (1 - b2 ** t)
            w -= mh * lr / (np.sqrt(vh) + eps)
        elif opt == "lion":
            b1, b2 = a.get("beta_1", 0.9), a.get("beta_2", 0.99)
            m = s.setdefault("m", z.copy())
            w -= lr * np.sign(m * b1 + g * (1 - b1))
            m[...] = m * b2 + g * (1 - b2)
        else:
            raise ValueError(opt)
        if cfg.get("use_ema"):  # base_optimizer.py: _update_model_variables_moving_average, then the overwrite
            avg = s.setdefault("avg", z.copy())
            mom = cfg.get("ema_momentum", 0.99) if it != 0 else 0.0
            avg[...] = mom * avg + (1 - mom) * w
            freq = cfg.get("ema_overwrite_frequency")
            if freq and (it + 1) % freq == 0:
                w[...] = avg


def train(W, layers, cfg):
    g, n, B = cfg["seed"], cfg["samples"], cfg["batch"]
    x = spec.synthetic_x(g, "x", n, cfg["input"]).astype(np.float64)
    y = spec.synthetic_y(g, "y", n, 2 if cfg["loss"] == "bce" else layers[-1][1]).astype(np.int64)
    # Keras' fit(validation_split=vs): the last samples, before shuffling
    # (array_slicing.train_validation_split: split_at = floor(n (1 - vs))).
    vs = cfg.get("validation_split", 0.0)
    at = int(np.floor(n * (1.0 - vs))) if vs else n
    xv, yv, x, y, n = x[at:], y[at:], x[:at], y[:at], at
    train.val = []
    state = {"u_product": 1.0}
    it, epoch_losses = 0, []
    train.accuracy, train.topk = [], []
    for e in range(cfg["epochs"]):
        perm = spec.permutation(g, e, n)
        lsum_e, right, wsum, topk = 0.0, 0.0, 0.0, 0.0
        for b0 in range(0, n, B):
            idx = perm[b0:b0 + B]
            reg = cfg.get("reg")
            lsum, ok, grads, (ws, tk) = loss_and_grads(W, layers, x[idx], y[idx], cfg["loss"], len(idx), reg,
                                                       cfg.get("label_smoothing", 0.0), cfg.get("class_weight"),
                                                       cfg.get("top_k", 0))
            right, wsum, topk = right + ok, wsum + ws, topk + tk
            lsum_e += lsum + weight_penalty(W, reg) * len(idx)
            step(W, grads, state, cfg, it)
            it += 1
        epoch_losses.append(lsum_e / n)
        train.accuracy.append(right / wsum)
        train.topk.append(topk / wsum)
        if vs:  # unweighted, with the penalties, as Keras' validation
            vl, vc, _, _ = loss_and_grads(W, layers, xv, yv, cfg["loss"], len(yv), cfg.get("reg"),
                                          cfg.get("label_smoothing", 0.0))
            train.val.append((vl / len(yv) + weight_penalty(W, cfg.get("reg")), vc / len(yv)))
    if cfg.get("use_ema"):  # finalize_variable_values: the weights take their average
        for k, (li, ti) in enumerate((li, ti) for li in range(len(W)) for ti in range(2)):
            W[li][ti][...] = state[k]["avg"]
    return epoch_losses


def write_cfg(path, cfg, layers):
    lines = [f"[run]\nseed = {cfg['seed']}\n[model]\ninput = {cfg['input']}"]
    for i, (name, units, act) in enumerate(layers):
        sec = (f"[dense]\nname = {name}\nunits = {units}\nactivation = {act}\n"
               "bias_initializer = random_uniform")
        for key, (l1, l2) in cfg.get("reg", {}).get(i, {}).items():
            sec += f"\n{key}_regularizer = l1_l2\n{key}_l1 = {l1}\n{key}_l2 = {l2}"
        lines.append(sec)
    lines.append(f"[data]\nsource = synthetic\nsamples = {cfg['samples']}\ntest_samples = 64" +
                 (f"\nvalidation_split = {cfg['validation_split']}" if "validation_split" in cfg else ""))
    loss = {"xent": "sparse_categorical_crossentropy", "mse": "mse", "cce": "categorical_crossentropy",
            "bce": "binary_crossentropy"}[cfg["loss"]]
    t = (f"[train]\nepochs = {cfg['epochs']}\nbatch_size = {cfg['batch']}\nshard_size = 8\n"
         f"optimizer = {cfg['opt']}\nlearning_rate = {cfg['lr']}\nloss = {loss}\nshuffle = true")
    if cfg["opt"] == "sgd":
        t += f"\nmomentum = {cfg['momentum']}\nnesterov = {'true' if cfg['nesterov'] else 'false'}"
    for k, v in cfg.get("args", {}).items():
        t += f"\n{k} = {('true' if v else 'false') if isinstance(v, bool) else v}"
    for k in ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "ema_momentum", "ema_overwrite_frequency",
              "label_smoothing"):
        if k in cfg:
            t += f"\n{k} = {cfg[k]}"
    if cfg.get("use_ema"):
        t += "\nuse_ema = true"
    if cfg.get("class_weight"):
        t += "\nclass_weight = " + ", ".join(f"{c}: {v}" for c, v in cfg["class_weight"].items())
    if cfg.get("top_k"):
        t += f"\nmetrics = accuracy, top_k_categorical_accuracy\ntop_k = {cfg['top_k']}"
    if cfg.get("exclude"):
        t += "\nexclude_from_weight_decay = " + ", ".join(cfg["exclude"])
    if "cosine" in cfg:
        t = t.replace(f"learning_rate = {cfg['lr']}", "learning_rate = cosine_decay")
        t += "\n[cosine_decay]\n" + "\n".join(f"{k} = {v}" for k, v in cfg["cosine"].items())
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
    accs = [float(m) for m in re.findall(r"^epoch \d+/\d+\s+loss \S+\s+acc (\S+)", r.stdout, re.M)]
    W = read(init, layers)
    losses = train(W, layers, cfg)
    check(accs == [round(a, 4) for a in train.accuracy],
          f"{tag}: printed training accuracy {accs} is the reference's {[round(a, 4) for a in train.accuracy]}")
    if cfg.get("validation_split"):
        vals = [(float(a), float(b)) for a, b in re.findall(r"^epoch .*  val_loss (\S+)  val_acc (\S+)", r.stdout, re.M)]
        want = [(round(a, 6), round(b, 4)) for a, b in train.val]
        check(len(vals) == cfg["epochs"] and all(abs(a - c) <= 1e-5 * max(1, abs(c)) and b == d
                                                 for (a, b), (c, d) in zip(vals, want)),
              f"{tag}: printed val_loss, val_acc {vals} agree with the reference's {want} (loss 1e-5 relative)")
    if cfg.get("top_k"):
        tops = [float(m) for m in re.findall(r"^epoch .*  top\d+ (\S+)", r.stdout, re.M)]
        check(tops == [round(a, 4) for a in train.topk] and len(tops) == cfg["epochs"],
              f"{tag}: printed top-{cfg['top_k']} accuracy {tops} is the reference's "
              f"{[round(a, 4) for a in train.topk]}")
    got = read(final, layers)
    worst = max(float(np.max(np.abs(a - b))) for kb, kb2 in zip(W, got) for a, b in zip(kb, kb2))
    moved = max(float(np.max(np.abs(a - b))) for kb, kb2 in zip(read(init, layers), got) for a, b in zip(kb, kb2))
    print(f"{tag}: max |reprodist - numpy| = {worst:.3g} (weights moved by up to {moved:.3g}); "
          f"losses reprodist {printed} numpy {[round(l, 6) for l in losses]}")
    check(moved > 100 * wtol, f"{tag}: training moved the weights well beyond the tolerance")
    check(worst <= wtol, f"{tag}: final weights agree with the numpy reference within {wtol}")
    # Each option the case sets must matter: the reference without it (weight
    # decay 0, no clipping, nothing excluded) ends elsewhere.
    for key in ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "exclude", "use_ema",
                "ema_overwrite_frequency", "reg", "label_smoothing", "class_weight", "validation_split"):
        if key not in cfg and not (key == "weight_decay" and cfg["opt"] == "adamw"):
            continue
        alt = dict(cfg, **{key: 0.0 if key == "weight_decay" else None})
        if key != "weight_decay":
            del alt[key]
        Wa = read(init, layers)
        train(Wa, layers, alt)
        off = max(float(np.max(np.abs(a - b))) for kb, kb2 in zip(Wa, got) for a, b in zip(kb, kb2))
        check(off > 10 * wtol, f"{tag}: without {key} the reference ends {off:.3g} away: the option is exercised")
    check(len(printed) == len(losses) and all(abs(a - b) <= 1e-5 * max(1.0, abs(b)) for a, b in zip(printed, losses)),
          f"{tag}: printed epoch losses agree with the reference (1e-5 relative)")


# Regularizers on the three-layer net: kernel L2, bias L1, activity L1L2 on the
# hidden outputs (Keras' kernel_regularizer, bias_regularizer, activity_regularizer).
REG = {0: {"kernel": (0.0, 0.01), "activity": (0.001, 0.002)}, 1: {"bias": (0.01, 0.0), "kernel": (0.003, 0.004),
                                                                 "activity": (0.0, 0.01)},
       2: {"kernel": (0.0, 0.02), "bias": (0.0, 0.05)}}


def check_fd(layers, loss="xent", ls=0.0, reg=None, cw=None):
    """The reference's gradient (a loss, regularizers) against central finite
    differences of its loss (the batch mean plus the penalties), in float64."""
    rng = np.random.default_rng(7)
    W = [(rng.normal(0, 0.5, (a, u)), rng.normal(0, 0.3, u))
         for a, (_, u, _) in zip([12] + [u for _, u, _ in layers[:-1]], layers)]
    x, y = rng.uniform(0, 1, (9, 12)), rng.integers(0, 2 if loss == "bce" else layers[-1][1], 9)

    def total(Wc):
        return loss_and_grads(Wc, layers, x, y, loss, 9, reg, ls, cw)[0] / 9 + weight_penalty(Wc, reg)
    grads = loss_and_grads(W, layers, x, y, loss, 9, reg, ls, cw)[2]
    worst = 0.0
    for li in range(len(W)):
        for ti in range(2):
            for idx in list(np.ndindex(W[li][ti].shape))[:40]:
                h = 1e-6
                Wp = [[t.copy() for t in kb] for kb in W]
                Wm = [[t.copy() for t in kb] for kb in W]
                Wp[li][ti][idx] += h
                Wm[li][ti][idx] -= h
                fd = (total(Wp) - total(Wm)) / (2 * h)
                worst = max(worst, abs(fd - grads[li][ti][idx]) / max(1e-3, abs(fd)))
    what = f"{loss}, label_smoothing {ls}" + (", regularizers" if reg else "") + (", class_weight" if cw else "")
    print(f"{what}: worst |analytic - finite difference| = {worst:.3g} (relative, 40 entries per tensor)")
    check(worst < 1e-5, f"{what}: the reference's gradient matches finite differences of its loss")


def main():
    net = [("hidden_a", 16, "tanh"), ("hidden_b", 8, "relu"), ("out", 5, "softmax")]
    check_fd(net, reg=REG)
    check_fd(net, "cce", 0.2)
    check_fd(net[:2] + [("out", 1, "sigmoid")], "bce", 0.1)
    check_fd(net, "cce", 0.1, cw={0: 3.0, 2: 0.25, 4: 0.0})
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
        # Ten steps (320 samples, batch 32) of every optimizer, each with weight
        # decay and one clipping mode, against the float64 rules above.
        ten = dict(base, samples=320, epochs=1)
        cases = [
            ("sgd_wd_clipnorm", dict(ten, opt="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01,
                                     clipnorm=0.05)),
            ("adam_wd_global", dict(ten, weight_decay=0.05, global_clipnorm=0.1, exclude=["bias"])),
            ("adamw_clipvalue", dict(ten, opt="adamw", lr=0.01, clipvalue=0.01)),
            ("adamw_cosine_warmup", dict(ten, opt="adamw", weight_decay=0.1, exclude=["bias"], global_clipnorm=0.05,
                                         cosine=dict(initial_learning_rate=0.001, decay_steps=6, warmup_target=0.02,
                                                     warmup_steps=4, alpha=0.1))),
            ("rmsprop", dict(ten, opt="rmsprop", lr=0.003, weight_decay=0.05, clipnorm=0.1)),
            ("rmsprop_momentum_centered", dict(ten, opt="rmsprop", lr=0.002, args=dict(momentum=0.8, centered=True,
                                                                                        rho=0.8),
                                               global_clipnorm=0.2, weight_decay=0.02)),
            ("adagrad", dict(ten, opt="adagrad", lr=0.05, args=dict(initial_accumulator_value=0.2),
                             weight_decay=0.01, clipvalue=0.02)),
            ("nadam", dict(ten, opt="nadam", lr=0.01, weight_decay=0.01, clipnorm=0.1)),
            ("lion", dict(ten, opt="lion", lr=0.001, args=dict(beta_1=0.8), weight_decay=0.1, global_clipnorm=0.5)),
            ("adam_ema", dict(ten, lr=0.02, use_ema=True, ema_momentum=0.7)),
            ("sgd_regularizers", dict(ten, opt="sgd", lr=0.3, momentum=0.0, nesterov=False,
                                      reg=REG)),
            ("cce_label_smoothing", dict(ten, loss="cce", label_smoothing=0.2)),
            ("sgd_ema_overwrite", dict(ten, opt="sgd", lr=0.2, momentum=0.5, nesterov=False, use_ema=True,
                                       ema_momentum=0.6, ema_overwrite_frequency=3)),
        ]
        cases += [
            # Keras' fit(class_weight=) and TopKCategoricalAccuracy(k=2): the
            # weighted loss and gradient, the weighted training metrics.
            ("cce_class_weight_top2", dict(ten, loss="cce", label_smoothing=0.1,
                                           class_weight={0: 3.0, 2: 0.25, 4: 0.5}, top_k=2)),
            ("xent_class_weight_top3", dict(ten, opt="sgd", lr=0.3, momentum=0.0, nesterov=False,
                                            class_weight={1: 2.5, 3: 0.0}, top_k=3)),
            # Keras' fit(validation_split=0.3): 224 training samples, the last 96 for validation.
            ("adam_validation_split", dict(ten, epochs=2, validation_split=0.3, reg=REG)),
        ]
        for tag, cfg in cases:
            run_case(tmp, tag, cfg, layers, 2e-5)
        # Binary crossentropy on one sigmoid unit (labels 0 and 1), with label smoothing.
        run_case(tmp, "bce_label_smoothing", dict(ten, loss="bce", label_smoothing=0.1, lr=0.02),
                 layers[:2] + [("out", 1, "sigmoid")], 2e-5)
    print(f"{passes} passed, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
