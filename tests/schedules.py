#!/usr/bin/python3
"""The learning-rate schedules against Keras 3's formulas, written here in
numpy float64 from keras/src/optimizers/schedules/learning_rate_schedule.py.

For each case, `reprodist schedule CFG 10000` prints the rate of steps 0..9999
as float32; each must be within float32's rounding (plus 1e-13 of the initial
rate, for rates that decay to 0) of the float64 formula. The same cases run
with kernels = openblas and portable and must print the same bits: the rate
never depends on the kernels. Then a short training run per case: its metrics
file's learning_rate per epoch must be the printed rate of that epoch's last
step.

CosineDecayRestarts: Keras finds the restart index i with a float32 log
formula, which can be one off exactly at a restart; reprodist finds it exactly.
The reference computes i both ways: the log formula in float64 must agree
with the exact index everywhere except at restart steps, where the exact one
is the reference.
"""
import math
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rdcheck import check, finish, run  # noqa: E402

STEPS = 10000


def exponential(a, s):
    p = s / a["decay_steps"]
    if a.get("staircase"):
        p = np.floor(p)
    return a["initial_learning_rate"] * a["decay_rate"] ** p


def inverse_time(a, s):
    p = s / a["decay_steps"]
    if a.get("staircase"):
        p = np.floor(p)
    return a["initial_learning_rate"] / (1.0 + a["decay_rate"] * p)


def polynomial(a, s):
    lr0, end, power = a["initial_learning_rate"], a.get("end_learning_rate", 0.0001), a.get("power", 1.0)
    d = float(a["decay_steps"])
    if a.get("cycle"):
        d = d * (1.0 if s == 0 else math.ceil(s / a["decay_steps"]))
    else:
        s = min(s, d)
    return (lr0 - end) * (1 - s / d) ** power + end


def piecewise(a, s):
    b, v = a["boundaries"], a["values"]
    r = v[0] * (s <= b[0]) + v[-1] * (s > b[-1])
    for lo, hi, val in zip(b[:-1], b[1:], v[1:-1]):
        r += val * (lo < s <= hi)
    return r


def cosine(a, s):
    lr0, d, alpha = a["initial_learning_rate"], float(a["decay_steps"]), a.get("alpha", 0.0)

    def decay(step, frm):
        return frm * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * step / d)) + alpha)
    if "warmup_target" not in a:
        return decay(min(s, d), lr0)
    ws, tgt = float(a.get("warmup_steps", 0)), a["warmup_target"]
    s = min(s, d + ws)
    if s < ws:
        return (tgt - lr0) * (s / ws) + lr0
    return decay(s - ws, tgt)


RESTART_DISAGREE = []


def restarts(a, s):
    lr0, first = a["initial_learning_rate"], float(a["first_decay_steps"])
    tm, mm, alpha = a.get("t_mul", 2.0), a.get("m_mul", 1.0), a.get("alpha", 0.0)
    frac = s / first
    if tm == 1.0:
        i = math.floor(frac)
        f = frac - i
    else:
        i = math.floor(math.log(1 - frac * (1 - tm)) / math.log(tm))  # Keras' formula
        start, ln, k = 0.0, first, 0  # the exact period
        while s >= start + ln:
            start, ln, k = start + ln, ln * tm, k + 1
        if k != i:
            RESTART_DISAGREE.append((s, start == s))
            i = k
        sum_r = (1 - tm ** i) / (1 - tm)
        f = (frac - sum_r) / tm ** i
    return lr0 * ((1 - alpha) * 0.5 * mm ** i * (1 + math.cos(math.pi * f)) + alpha)


CASES = [
    ("exponential_decay", exponential, dict(initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.96)),
    ("exponential_decay", exponential, dict(initial_learning_rate=0.05, decay_steps=300, decay_rate=0.5,
                                            staircase=True)),
    ("inverse_time_decay", inverse_time, dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5)),
    ("inverse_time_decay", inverse_time, dict(initial_learning_rate=0.1, decay_steps=700, decay_rate=2.0,
                                              staircase=True)),
    ("polynomial_decay", polynomial, dict(initial_learning_rate=0.1, decay_steps=6000, power=0.5)),
    ("polynomial_decay", polynomial, dict(initial_learning_rate=0.1, decay_steps=900, end_learning_rate=0.001,
                                          power=2.0, cycle=True)),
    ("piecewise_constant_decay", piecewise, dict(boundaries=[3200, 4800, 9000], values=[0.1, 0.01, 0.001, 0.0002])),
    ("cosine_decay", cosine, dict(initial_learning_rate=0.1, decay_steps=8000)),
    ("cosine_decay", cosine, dict(initial_learning_rate=0.001, decay_steps=9000, alpha=0.05, warmup_target=0.1,
                                  warmup_steps=500)),
    ("cosine_decay_restarts", restarts, dict(initial_learning_rate=0.1, first_decay_steps=700)),
    ("cosine_decay_restarts", restarts, dict(initial_learning_rate=0.2, first_decay_steps=1000, t_mul=1.0,
                                             m_mul=0.8, alpha=0.1)),
    ("cosine_decay_restarts", restarts, dict(initial_learning_rate=0.1, first_decay_steps=300, t_mul=1.5,
                                             m_mul=0.5)),
]


def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


def write_cfg(path, name, args, kernels, extra=""):
    sec = "".join(f"{k} = {value(v)}\n" for k, v in args.items())
    with open(path, "w") as f:
        f.write(f"[run]\nseed = 5\n[model]\ninput = 6\n[dense]\nunits = 8\nactivation = relu\n"
                f"[dense]\nunits = 3\nactivation = softmax\n"
                f"[data]\nsource = synthetic\nsamples = 256\ntest_samples = 32\n"
                f"[train]\noptimizer = sgd\nmomentum = 0.9\nbatch_size = 32\nshard_size = 8\nepochs = 3\n"
                f"kernels = {kernels}\nlearning_rate = {name}\n{extra}[{name}]\n{sec}")


def printed(out):
    rows = [ln.split() for ln in out.splitlines() if ln and ln[0].isdigit()]
    # the rate as the float32 its bits say (the 9 printed digits round-trip to it, but are not its exact value)
    return [(int(s), float(np.array([int(b, 16)], np.uint32).view(np.float32)[0]), int(b, 16)) for s, r, b in rows]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for ci, (name, fn, args) in enumerate(CASES):
            tag = f"{name}#{ci}"
            outs = {}
            for kernels in ("openblas", "portable"):
                cfg = os.path.join(tmp, f"c{ci}_{kernels}.cfg")
                write_cfg(cfg, name, args, kernels)
                r = run(1, ["schedule", cfg, str(STEPS)])
                if not check(r.returncode == 0, f"{tag}: reprodist schedule ({kernels}) exits 0"):
                    print(r.stdout[-2000:])
                    continue
                outs[kernels] = printed(r.stdout)
            if len(outs) < 2:
                continue
            check(outs["openblas"] == outs["portable"], f"{tag}: the same bits with openblas and portable kernels")
            rows = outs["portable"]
            check([s for s, _, _ in rows] == list(range(STEPS)), f"{tag}: steps 0..{STEPS - 1} printed")
            lr0 = args.get("initial_learning_rate", max(args.get("values", [0])))
            worst, at = 0.0, 0
            for s, r, bits in rows:
                want = fn(args, s)
                err = abs(r - want) / (abs(want) * 2.0 ** -24 + 1e-13 * lr0)
                if err > worst:
                    worst, at = err, s
            print(f"{tag}: worst |reprodist - float64 Keras formula| = {worst:.3f} x (float32 rounding + 1e-13 lr0) "
                  f"at step {at} (rate there {rows[at][1]:.9g}, reference {fn(args, at):.12g})")
            check(worst <= 1.0, f"{tag}: every step's rate within float32 rounding of the float64 formula")
            lo, hi = min(r for _, r, _ in rows), max(r for _, r, _ in rows)
            check(hi > 1.5 * lo, f"{tag}: the rate varies over the 10,000 steps ({lo:.3g} .. {hi:.3g})")
            # A training run: the logged rate per epoch is the rate of its last step (8 steps per epoch).
            cfg = os.path.join(tmp, f"c{ci}_portable.cfg")
            met = os.path.join(tmp, f"m{ci}.jsonl")
            r = run(2, [cfg, "-o", os.path.join(tmp, f"w{ci}.h5"), "--set", f"run.metrics={met}"])
            if check(r.returncode == 0, f"{tag}: trains at np 2"):
                import json
                logged = [float(np.float32(json.loads(ln)["learning_rate"])) for ln in open(met)]
                want = [rows[8 * e - 1][1] for e in (1, 2, 3)]
                check(logged == want, f"{tag}: the metrics' learning_rate per epoch {logged} is the rate of each "
                      f"epoch's last step {want}")
                epochs = [ln for ln in r.stdout.splitlines() if ln.startswith("epoch ")]
                check(len(epochs) == 3 and all(f"lr {want[i]:.6g}  " in epochs[i] for i in range(3)),
                      f"{tag}: the epoch lines show that rate")
        bad = [s for s, at_restart in RESTART_DISAGREE if not at_restart]
        print(f"cosine_decay_restarts: Keras' log formula (float64) and the exact period disagree at "
              f"{len(RESTART_DISAGREE)} step(s), all restarts: {[s for s, _ in RESTART_DISAGREE][:10]}")
        check(not bad, f"cosine_decay_restarts: the log formula differs from the exact period only at restarts {bad}")
    finish()


if __name__ == "__main__":
    main()
