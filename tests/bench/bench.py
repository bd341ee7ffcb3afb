#!/usr/bin/python3
"""launch/bench's driver: runs reprodist and its peers side by side, prints the
table and writes JSON. Run it through launch/bench, which builds first.

  bench.py --build DIR [-o bench.json] [--quick] [--reps N] [--coretype auto|none|NAME]

What it measures (issue 5 §1, with issue 26's goals), all in one run on the same machine state:
  1/2. training samples/s, reprodist vs PyTorch (1 process; DDP over gloo for np 2),
       784-128-10 and 784-1024-1024-10, global batch 64 and 256, np 1 and 2
  3.   the canonical allreduce vs MPI_Allreduce(MPI_SUM), 100K/1M/16M floats, np 2 and 4
  4.   whole-step time, reprodist vs reprodist with RD_ALLREDUCE=plain and shard_optimizer = false (the
       plain data-parallel step: MPI_Allreduce of the whole gradient, every rank updating every parameter)
  5.   GEMM efficiency: a step's GEMM FLOP/s vs one 1024^3 sgemm
  6.   scaling np 2 / np 1 (its goal at batch >= 128), against two np 1 runs at once (the ceiling)
  7.   peak RSS per rank (/usr/bin/time %M), reprodist and PyTorch
  8.   [train] shard_optimizer (ZeRO-1): a 26.3M-parameter MLP with Adam at np 1, 2 and 4, sharded against
       unsharded: peak RSS per rank, optimizer state per rank, step time (issue 27 item 4)
  9.   where a convnet's step goes (RD_PROFILE=1), by layer class, against its GEMMs at the GEMM's peak
  10.  shaped links (root: launch/cluster up --link): the MLP 784-1024-1024-10 and the ResNet on 2 and 3
       emulated nodes x 1 rank, unshaped, 10 and 1 Gbit/s, overlapped (bucketed) and not (alltoallv): step time,
       the reduction alone, the hidden fraction
  11.  every GEMM of a training pass timed alone, OpenBLAS against each portable path, and the PyTorch ratio a
       step of those GEMMs alone would reach (the ceiling of the kernels themselves)
Every process runs one thread (OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1,
torch.set_num_threads(1)). OPENBLAS_CORETYPE is left as the caller has it; an
extra, labelled reprodist column uses the fastest core for this CPU when it is
not the detected one (--coretype). A throughput is the
fastest timed epoch (each run: one warm-up epoch, then timed epochs of the same
steps) over --reps runs, interleaved, so a busy machine hurts every column alike.
"""
import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
PY = "/usr/bin/python3"
TIME = "/usr/bin/time"
RSS_TAG = "RD_BENCH_RSS_KB"

# The goals are the performance issue's (issue 26), the same for every model: against PyTorch, at least 1.5x at
# np 1 and 2.5x at np 2 (GOALS below has the others). "conv": the convnets, whose step GEMM efficiency has a goal.
# "kernels": the mode the config runs as shipped, which the PyTorch goals judge: portable for every config since
# 0.2.0 made it the default (CHANGELOG.md); section 8 shows openblas mode next to it.
# portable mode's GEMM paths, as a run's log names them ("portable kernels (avx512 path")
ISA_PATHS = ("scalar", "avx2", "avx512", "neon")
MODELS = {
    "784-128-10": {"cfg": os.path.join(SRC, "configs", "fashion_mnist_mlp.cfg"), "dims": "784,128,10",
                   "batches": (64, 256), "kernels": "portable"},
    "784-1024-1024-10": {"cfg": os.path.join(HERE, "fashion_mnist_1024.cfg"), "dims": "784,1024,1024,10",
                         "batches": (64, 256), "kernels": "portable"},
    # Keras' simple MNIST convnet (configs/fashion_mnist_cnn.cfg).
    "cnn": {"cfg": os.path.join(SRC, "configs", "fashion_mnist_cnn.cfg"), "dims": "cnn", "conv": True,
            "batches": (64, 128), "params": 34826, "kernels": "portable"},
    # The functional-models issue's ResNet-20 and MobileNet; their configs run portable mode too.
    "resnet": {"cfg": os.path.join(SRC, "configs", "fashion_mnist_resnet.cfg"), "dims": "resnet", "conv": True,
               "batches": (64, 128), "params": 272186, "kernels": "portable"},
    "mobilenet": {"cfg": os.path.join(SRC, "configs", "fashion_mnist_mobilenet.cfg"), "dims": "mobilenet",
                  "conv": True, "batches": (64, 128), "params": 135690, "kernels": "portable"},
}


def cnn_gemm_flops():
    """Exact GEMM flops per sample of one training step of the convnet: each conv is im2col and
    (rows, kh*kw*in) . (kh*kw*in, filters) per sample (rows = output positions), then dW (same flops) and
    dX (same, none for the first layer); the dense 1600 -> 10 likewise."""
    conv1 = 2 * 26 * 26 * (3 * 3 * 1) * 32
    conv2 = 2 * 11 * 11 * (3 * 3 * 32) * 64
    dense = 2 * 1600 * 10
    return 2 * conv1 + 3 * conv2 + 3 * dense


def conv_flops(convs, first_dx=False):
    """GEMM-counted flops per sample of one training step of a list of convolutions and dense layers
    (hw_out, kh*kw*in / groups ... as the multiply's inner size, out): forward, dW and dX each
    2*hw_out*inner*out; the first layer gets no dX (its input is the data)."""
    total = 0
    for i, (hw, inner, out) in enumerate(convs):
        total += (3 if (i > 0 or first_dx) else 2) * 2 * hw * inner * out
    return total


def resnet_gemm_flops():
    """configs/fashion_mnist_resnet.cfg: stem, 3 stages x 3 basic blocks, two 1x1 projections, dense. Its 16 3x3
    stride-1 convs run Winograd's F(4x4, 3x3) (algorithm = winograd4): each pass is 36 GEMMs (tiles, in) . (in, out),
    one per position of the 6x6 tiles, over ceil(h/4) ceil(w/4) tiles: (36 tiles, in, out) in conv_flops' terms."""
    def wg(h, c):
        return (36 * ((h + 3) // 4) ** 2, c, c)
    L = [(784, 9, 16)] + [wg(28, 16)] * 6
    L += [(196, 144, 32)] + [wg(14, 32)] * 5 + [(196, 16, 32)]
    L += [(49, 288, 64)] + [wg(7, 64)] * 5 + [(49, 32, 64)]
    return conv_flops(L + [(1, 64, 10)])


def mobilenet_gemm_flops():
    """configs/fashion_mnist_mobilenet.cfg. A depthwise 3x3 conv over c channels counts as (hw, 9, c): the same
    multiply-adds, though reprodist runs it as a direct loop, not a GEMM."""
    L = [(784, 9, 32), (784, 9, 32), (784, 32, 64), (196, 9, 64), (196, 64, 128), (196, 9, 128), (196, 128, 128),
         (49, 9, 128), (49, 128, 256), (49, 9, 256), (49, 256, 256), (1, 256, 10)]
    return conv_flops(L)


ANALYTIC_FLOPS = {"cnn": None, "resnet": resnet_gemm_flops, "mobilenet": mobilenet_gemm_flops}


def shard_for(B):
    """reprodist's default shard_size (rd_train_default_shard, src/train.h): about B/8, a power of
    two in 16..64. Every run checks it against the shard size reprodist logs."""
    s = 16
    while s < 64 and 2 * s <= B // 8:
        s *= 2
    return s


# Issue 26's goals: PyTorch ratio per np; the whole step against the plain-allreduce step; scaling np 2 / np 1 at
# batch >= 128; portable mode against openblas mode (an AVX2 OpenBLAS core: its AVX-512 path, its AVX2 path; else
# at least even); a convnet's step GEMM efficiency per np; peak RSS against PyTorch's. "reduce" is issue 5's.
GOALS = {"torch": {1: 1.5, 2: 2.5}, "reduce": 1.25, "step": 1.05, "scaling": 1.85, "portable_avx512": 1.3,
         "portable_avx2": 1.0, "portable": 1.0, "gemm": {1: 0.85, 2: 0.80}, "rss": 1.0 / 3.0}
# OpenBLAS cores whose sgemm kernels are AVX2 at most (Haswell = Zen): on an AVX-512 CPU running one of these,
# portable mode's AVX-512 path should be ahead (issue 14).
AVX2_CORES = {"Haswell", "Zen", "Sandybridge", "Nehalem", "Core2", "Prescott", "Penryn", "Dunnington", "Atom",
              "Barcelona", "Bulldozer", "Piledriver", "Steamroller", "Excavator"}

# PyTorch allocates its activations afresh every step. With glibc's defaults the large blocks are mmap'ed and
# unmapped each time, and on these VMs a page fault costs enough to make the convnet 3-4x slower (measured:
# 800-1100 samples/s instead of 2,900-3,700 at np 1, batch 64, kernel time in pvm_irq_enable and clear_page).
# The peer keeps freed memory, as a tuned PyTorch deployment would: the fairest peer, not the default one.
TORCH_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "2147483647", "MALLOC_TRIM_THRESHOLD_": "2147483647",
                "MALLOC_TOP_PAD_": "268435456"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


NICE = []  # ["nice", "-n", N] with --nice


def run(cmd, env=None, timeout=600):
    """Runs cmd (under NICE); returns (stdout, stderr). Raises with the tail of the output on failure."""
    p = subprocess.run(NICE + cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    return checked(cmd, p.returncode, p.stdout, p.stderr)


def checked(cmd, rc, out, err):
    """(out, err) of cmd, which exited with rc; raises with the tail of the output on failure."""
    if rc != 0:
        raise RuntimeError("%s failed (exit %d):\n%s%s" % (" ".join(cmd[:6]), rc, out[-2000:], err[-2000:]))
    return out, err


def rss_file(path):
    """Peak RSS values (kB) that /usr/bin/time -a -o PATH appended, one line per process."""
    try:
        with open(path) as f:
            return rss_kb(f.read())
    except OSError:
        return []


def rss_kb(stderr):
    return [int(x) for x in re.findall(RSS_TAG + r" (\d+)", stderr)]


def mb(kb):
    """The largest of some kB figures, in MB; '-' for none."""
    return "%.0f" % (max(kb) / 1024.0) if kb else "-"


def shapes_of(res, model, S):
    """Section 11's pass of model at shard S, per shard: per kernel, microseconds of all its GEMMs, and their MFLOP.
    Recorded over a forward group of G shards (a JSON without "group": one shard), divided by G."""
    for d in res.get("kernels", {}).get("shapes", []):
        if d["model"] == model and d["shard"] == S:
            G = d.get("group", 1)
            us = {}
            for g in d["shapes"]:
                for kern, t in g["us"].items():
                    us[kern] = us.get(kern, 0.0) + t * g["calls"] / G
            return {"us": us, "mflop": sum(2e-6 * g["m"] * g["n"] * g["k"] * g["calls"] for g in d["shapes"]) / G,
                    "calls": sum(g["calls"] for g in d["shapes"]), "n": len(d["shapes"]), "group": G, "raw": d}
    return None


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Bench:
    def __init__(self, a):
        self.a = a
        self.models = [m for m in MODELS if not a.models or m in a.models.split(",")]
        if a.models and len(self.models) != len(a.models.split(",")):
            raise SystemExit("bench: --models takes names from %s" % ",".join(MODELS))
        self.build = a.build
        self.tmp = tempfile.mkdtemp(prefix="rdbench.")
        self.env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.mpirun = shutil.which("mpirun") or "mpirun"
        self.mpiflags = ["--oversubscribe"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])
        self.have_time = os.access(TIME, os.X_OK)
        if a.table:  # re-reading a run: nothing runs
            return
        self.bin = self.find("reprodist")
        self.kernels = self.find("rd_bench_kernels")
        self.allreduce = self.find("rd_bench_allreduce")
        self.res = {"machine": {}, "settings": {}, "throughput": [], "allreduce": [], "kernels": {}, "notes": []}

    def find(self, name):
        for d in (self.build, os.path.join(self.build, "tests", "bench"), os.path.join(self.build, "bench-only")):
            p = os.path.join(d, name)
            if os.access(p, os.X_OK):
                return p
        raise SystemExit("bench: %s not found under %s (did launch/bench build it?)" % (name, self.build))

    # ---- the machine -------------------------------------------------------------------
    def machine(self):
        m = self.res["machine"]
        m["nproc"] = os.cpu_count()
        cpu = {}
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k = k.strip()
                if k in ("model name", "cpu family", "model", "vendor_id") and k not in cpu:
                    cpu[k] = v.strip()
                if k == "flags" and "flags" not in cpu:
                    cpu["avx512f"] = " avx512f " in " " + v + " "
                    m["avx512f"] = cpu["avx512f"]
        m["cpu"] = "%s (%s family %s model %s%s)" % (cpu.get("model name"), cpu.get("vendor_id"),
                                                      cpu.get("cpu family"), cpu.get("model"),
                                                      ", AVX-512" if cpu.get("avx512f") else "")
        m["kernel"] = platform.release()
        m["loadavg_start"] = os.getloadavg()
        m["mpirun"] = run([self.mpirun, "--version"])[0].splitlines()[0]
        m["openblas_coretype_env"] = os.environ.get("OPENBLAS_CORETYPE")
        # The version comes from the peer's first run (importing torch here would cost seconds).
        found = run([PY, "-c", "import importlib.util as u; print(u.find_spec('torch') is not None)"])[0].strip()
        m["torch"] = "?" if found == "True" else None
        try:
            m["torch_deb"] = run(["dpkg-query", "-W", "-f=${Version}", "python3-torch"])[0].strip()
        except (RuntimeError, OSError):
            m["torch_deb"] = None
        if not m["torch"]:
            self.res["notes"].append("PyTorch peer unavailable: /usr/bin/python3 cannot import torch "
                                     "(launch/deps --bench)")

    # ---- kernels ------------------------------------------------------------------------
    def gemm(self, core=None, secs=1.0):
        env = dict(self.env)
        if core:
            env["OPENBLAS_CORETYPE"] = core
        return json_lines(run([self.kernels, "gemm", "1024", str(secs)], env=env)[0])[0]

    def kernel_parts(self):
        k = self.res["kernels"]
        secs = 0.4 if self.a.quick else 1.0
        k["sgemm"] = self.gemm(secs=secs)
        # portable mode's own GEMM (the path this CPU takes): the peak for the models whose config runs it
        k["sgemm_portable"] = json_lines(run([self.kernels, "gemm", "1024", str(secs), "portable"], env=self.env)[0])[0]
        self.res["machine"]["openblas_core"] = k["sgemm"]["core"]
        if "OPENBLAS_CORETYPE" in self.env:  # what OpenBLAS would pick on its own, for the record
            env = {x: v for x, v in self.env.items() if x != "OPENBLAS_CORETYPE"}
            d = json_lines(run([self.kernels, "gemm", "1024", "0.2"], env=env)[0])[0]
            self.res["machine"]["openblas_core_detected"] = d["core"]
            k["sgemm_detected_core"] = d
        log("sgemm 1024^3: %.1f GFLOP/s (core %s)" % (k["sgemm"]["gflops"], k["sgemm"]["core"]))
        # The machine's own ceiling for the scaling goal: two single-thread sgemms at once, as np 2 runs.
        procs = [subprocess.Popen(NICE + [self.kernels, "gemm", "1024", str(secs)], env=self.env,
                                  stdout=subprocess.PIPE, text=True) for _ in range(2)]
        both = [json_lines(p.communicate()[0])[0]["gflops"] for p in procs]
        k["sgemm_two_at_once"] = both
        log("two sgemms at once: %s GFLOP/s" % both)
        k["best_core"] = None
        if self.a.coretype == "auto" and not self.a.quick:
            cand = {}
            for c in ("Haswell", "Zen", "SkylakeX", "Cooperlake"):
                try:
                    cand[c] = self.gemm(c, 0.5)
                except RuntimeError:
                    continue
            k["sgemm_by_core"] = {c: round(v["gflops"], 2) for c, v in cand.items()}
            if cand:
                best = max(cand.values(), key=lambda v: v["gflops"])
                if best["core"] != k["sgemm"]["core"] and best["gflops"] > 1.15 * k["sgemm"]["gflops"]:
                    k["best_core"] = best["core"]
                    k["sgemm_best"] = best
            log("sgemm by core: %s" % k.get("sgemm_by_core"))
        elif self.a.coretype not in ("auto", "none"):
            k["best_core"] = self.a.coretype
            k["sgemm_best"] = self.gemm(self.a.coretype, secs)
        k["parts"] = []
        for name in self.models:
            mdl = MODELS[name]
            for B in mdl["batches"]:
                if name in ANALYTIC_FLOPS:  # rd_bench_kernels times MLP parts only; the convnets' GEMM flops,
                    f = ANALYTIC_FLOPS[name] or cnn_gemm_flops  # analytically
                    k["parts"].append({"model": name, "batch": B, "gemm_flops_per_sample": f(),
                                       "gemm_gflops": None, "us": None})
                    continue
                out = json_lines(run([self.kernels, "step", mdl["dims"], str(shard_for(B)), str(B),
                                      "0.1" if self.a.quick else "0.5", mdl["kernels"]], env=self.env)[0])[0]
                out["model"] = name
                out["kernels"] = mdl["kernels"]  # the model's runs' kernels, so the parts add up to its step
                k["parts"].append(out)
        k["shard_sweep"] = []  # the shard_size trade-off: bigger GEMMs and fewer folds vs fewer usable ranks
        if not self.a.quick:
            for name in self.models:
                mdl = MODELS[name]
                if name in ANALYTIC_FLOPS:
                    continue
                for S in (16, 32, 64, 128):
                    out = json_lines(run([self.kernels, "step", mdl["dims"], str(S), "256", "0.3", mdl["kernels"]],
                                         env=self.env)[0])[0]
                    out["model"] = name
                    k["shard_sweep"].append(out)

    def gemm_shapes(self):
        """Section 11: every GEMM of one training pass of each model, at each shard size the points use, noted as
        the layers call rd->gemm (portable mode, the default), each timed alone in OpenBLAS and in each portable path
        this CPU runs (rd_bench_kernels shapes). A model with forward groups (shard.h) runs np 1's step as training
        does: the largest batch's shards in one forward pass, then each shard's backward pass."""
        self.res["kernels"]["shapes"] = []
        # The core's FMA throughput: no GEMM on those vectors runs faster (the ceiling of the AVX2 path's ratio).
        self.res["kernels"]["fma_peak"] = json_lines(run([self.kernels, "peak", "1.5"], env=self.env)[0])[0]
        log("FMA peak: %s GFLOP/s on 256-bit vectors, %s on 512-bit" % (
            self.res["kernels"]["fma_peak"]["fma256_gflops"], self.res["kernels"]["fma_peak"]["fma512_gflops"]))
        for name in self.models:
            for S in sorted({shard_for(B) for B in MODELS[name]["batches"]}):
                G = max(B for B in MODELS[name]["batches"] if shard_for(B) == S) // S
                out = json_lines(run([self.kernels, "shapes", MODELS[name]["cfg"], str(S),
                                      "0.02" if self.a.quick else "0.06", str(G)], env=self.env)[0])[0]
                out["model"] = name
                self.res["kernels"]["shapes"].append(out)
                log("GEMM shapes: %s, shard %d, group %d: %d shapes" % (name, S, out["group"], len(out["shapes"])))

    def retime_behind(self):
        """Section 11's verdicts against the host's slow phases (seconds long, longer than a shape's timings): each
        shape the AVX2 path came out behind on is timed again, later in the run, and each kernel keeps the faster of
        its two times (us_first: the first)."""
        for d in self.res["kernels"].get("shapes", []):
            for g in d["shapes"]:
                if "avx2" not in g["us"] or g["us"]["avx2"] <= g["us"]["openblas"]:
                    continue
                again = json_lines(run([self.kernels, "shape"] + [str(g[f]) for f in (
                    "ta", "tb", "m", "n", "k", "lda", "ldb", "ldc", "beta")] + ["0.06" if self.a.quick else "0.2"],
                    env=self.env)[0])[0]["us"]
                g["us_first"] = dict(g["us"])
                g["us"] = {kern: min(t, again.get(kern, t)) for kern, t in g["us"].items()}
                log("GEMM shape %s %dx%dx%d again: avx2/openblas %.2fx, then %.2fx" % (
                    d["model"], g["m"], g["n"], g["k"], g["us_first"]["openblas"] / g["us_first"]["avx2"],
                    again["openblas"] / again["avx2"]))

    # ---- training runs -------------------------------------------------------------------
    def steps_for(self, model, B):
        """(steps per epoch, timed epochs): roughly equal wall time per point."""
        small = model == "784-128-10"
        # Short timed epochs, several per run: the fastest is kept, so a burst of other load costs one window,
        # not the measurement.
        if model == "cnn":
            return ({64: 10, 128: 5} if self.a.quick else {64: 40, 128: 20})[B], 2 if self.a.quick else 4
        if model in ("resnet", "mobilenet"):  # about 20x the convnet's step
            return ({64: 3, 128: 2} if self.a.quick else {64: 12, 128: 6})[B], 2 if self.a.quick else 3
        if self.a.quick:
            return ({64: 60, 256: 20} if small else {64: 5, 256: 2})[B], 2
        return ({64: 100, 256: 30} if small else {64: 10, 256: 4})[B], 4

    def reprodist(self, model, B, np_, plain=False, core=None, portable=False, isa=None, pin=None, start=False):
        """One run; its best timed epoch and more. pin: the core (0 or 1) mpirun binds its ranks to. start: the
        run is started, and a function that waits for it and returns the result is returned."""
        steps, epochs = self.steps_for(model, B)
        tag = "rd_%s_b%d_np%d%s%s%s%s%s" % (model, B, np_, "_plain" if plain else "", "_" + core if core else "",
                                            "_portable" if portable else "", "_" + isa if isa else "",
                                            "" if pin is None else "_pin%d" % pin)
        metrics = os.path.join(self.tmp, tag + ".jsonl")
        env = dict(self.env)
        xs = ["-x", "OPENBLAS_NUM_THREADS", "-x", "OMP_NUM_THREADS"]
        if plain:
            env["RD_ALLREDUCE"] = "plain"
            xs += ["-x", "RD_ALLREDUCE"]
        if core:
            env["OPENBLAS_CORETYPE"] = core
        if "OPENBLAS_CORETYPE" in env:
            xs += ["-x", "OPENBLAS_CORETYPE"]
        if isa:  # portable mode's GEMM path, forced (the AVX2 path on an AVX-512 CPU: what AVX2-only CPUs run)
            env["RD_ISA"] = isa
            xs += ["-x", "RD_ISA"]
        # Peak RSS of every rank, appended to a file of its own (stderr lines of ranks can interleave).
        rssf = os.path.join(self.tmp, tag + ".rss")
        if os.path.exists(rssf):
            os.unlink(rssf)
        wrap = [TIME, "-a", "-o", rssf, "-f", RSS_TAG + " %M"] if self.have_time else []
        pinning = [] if pin is None else ["--cpu-set", str(pin), "--bind-to", "core"]
        cmd = [self.mpirun] + self.mpiflags + pinning + xs + ["-np", str(np_)] + wrap + [
            self.bin, MODELS[model]["cfg"], "--set", "train.batch_size=%d" % B,
            "--set", "train.shard_size=%d" % shard_for(B),
            "--set", "train.steps_per_epoch=%d" % steps, "--set", "train.epochs=%d" % (epochs + 1),
            "--set", "data.test_limit=%d" % shard_for(B), "--set", "run.metrics=" + metrics,
            "-o", os.path.join(self.tmp, tag + ".h5"),
            "--set", "train.kernels=" + ("portable" if portable else "openblas")]  # whatever the config says
        if plain:  # the plain peer updates every parameter on every rank, as DDP does
            cmd += ["--set", "train.shard_optimizer=false"]
        if start:
            p = subprocess.Popen(NICE + cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

            def wait():
                out, err = p.communicate(timeout=600)
                return self.rd_result(checked(cmd, p.returncode, out, err)[0], metrics, rssf, steps, B)
            return wait
        out, err = run(cmd, env=env)
        return self.rd_result(out, metrics, rssf, steps, B)

    def rd_result(self, out, metrics, rssf, steps, B):
        ep = [json.loads(l) for l in open(metrics) if l.strip()]
        timed = [e["samples_per_sec"] for e in ep[1:]]  # epoch 1 is the warm-up
        secs = sum(steps * B / e for e in timed)
        m = re.search(r"OpenBLAS core (\S+),", out) or re.search(r"portable kernels \((\S+) path", out)
        sh = re.search(r"shards of (\d+)\)", out)
        return {"samples_per_sec": max(timed), "mean_samples_per_sec": steps * B * len(timed) / secs,
                "epoch_samples_per_sec": timed, "steps": steps, "epochs": len(timed), "warmup": steps, "seconds": secs,
                "rss_kb": rss_file(rssf), "core": m.group(1) if m else None,
                "shard": int(sh.group(1)) if sh else None}

    def pair(self, model, B, portable):
        """Section 6's ceiling for a model: two np 1 runs at once, one bound to each core, as np 2's ranks are.
        They share what np 2's ranks share (memory bandwidth, the L3 cache, the host's other load) and nothing
        else: no reduction, no wait for the other rank. Their samples/s, summed, over one np 1 run's is the
        most scaling np 2 could reach on this machine for this model."""
        waits = [self.reprodist(model, B, 1, portable=portable, pin=c, start=True) for c in (0, 1)]
        both = [w() for w in waits]
        return {"samples_per_sec": sum(r["samples_per_sec"] for r in both),
                "each_samples_per_sec": [r["samples_per_sec"] for r in both],
                "rss_kb": [x for r in both for x in (r["rss_kb"] or [])]}

    def torch(self, model, B, np_, core=None):
        steps, epochs = self.steps_for(model, B)
        args = [PY, os.path.join(HERE, "torch_peer.py"), "--dims", MODELS[model]["dims"], "--batch", str(B),
                "--steps", str(steps), "--epochs", str(epochs), "--cache", self.tmp]
        wrap = [TIME, "-f", RSS_TAG + " %M"] if self.have_time else []
        port = str(free_port())
        procs = []
        for r in range(np_):
            env = dict(self.env, RANK=str(r), WORLD_SIZE=str(np_), MASTER_ADDR="127.0.0.1", MASTER_PORT=port,
                       **TORCH_MALLOC)
            if core:
                env["OPENBLAS_CORETYPE"] = core  # PyTorch's sgemm is the same OpenBLAS
            procs.append(subprocess.Popen(NICE + wrap + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True))
        outs = [p.communicate(timeout=600) for p in procs]
        for p, (o, e) in zip(procs, outs):
            if p.returncode != 0:
                raise RuntimeError("torch peer failed (exit %d):\n%s" % (p.returncode, e[-2000:]))
        d = json_lines(outs[0][0])[0]
        return {"samples_per_sec": max(d["epoch_samples_per_sec"]), "mean_samples_per_sec": d["samples_per_sec"],
                "epoch_samples_per_sec": d["epoch_samples_per_sec"], "steps": steps, "epochs": epochs, "warmup": steps,
                "seconds": d["seconds"],
                "rss_kb": [k for _, e in outs for k in rss_kb(e)], "torch": d["torch"], "backend": d["backend"]}

    def throughput(self):
        best_core = self.res["kernels"].get("best_core")
        points = [(m, B, n) for m in self.models for B in MODELS[m]["batches"] for n in (1, 2)]
        rows = {p: {"model": p[0], "batch": p[1], "np": p[2], "runs": {}} for p in points}
        for rep in range(self.a.reps):
            for p in points:
                m, B, n = p
                kinds = [("reprodist", {}), ("reprodist_portable", {"portable": True})]
                if self.res["machine"].get("avx512f"):
                    kinds.append(("reprodist_portable_avx2", {"portable": True, "isa": "avx2"}))
                if n > 1:
                    # the plain data-parallel step (MPI_Allreduce, unsharded), in the config's kernels (section 4)
                    kinds.append(("reprodist_plain", {"plain": True, "portable": MODELS[m]["kernels"] == "portable"}))
                if n == 1 and B >= 128 and (os.cpu_count() or 1) >= 2:  # section 6's ceiling: two np 1 runs at
                    # once (one per core), in the config's kernels
                    kinds.append(("pair", {"portable": MODELS[m]["kernels"] == "portable"}))
                if self.res["machine"].get("torch"):
                    kinds.append(("torch", {}))
                if best_core:
                    kinds.append(("reprodist_core", {"core": best_core}))
                    if self.res["machine"].get("torch"):
                        kinds.append(("torch_core", {"core": best_core}))
                for kind, kw in kinds:
                    t0 = time.time()
                    load = os.getloadavg()[0]
                    if kind == "pair":
                        r = self.pair(m, B, **kw)
                    else:
                        r = self.torch(m, B, n, **kw) if kind.startswith("torch") else self.reprodist(m, B, n, **kw)
                    r["loadavg_before"] = load
                    rows[p]["runs"].setdefault(kind, []).append(r)
                    if kind == "torch":
                        self.res["machine"]["torch"] = r["torch"]
                    log("[rep %d] %-17s B=%-3d np=%d %-16s %9.0f samples/s  (%.1fs)" % (
                        rep + 1, m, B, n, kind, r["samples_per_sec"], time.time() - t0))
        for p in points:  # best of the reps, with its RSS
            row = rows[p]
            for kind, rs in row["runs"].items():
                best = max(rs, key=lambda r: r["samples_per_sec"])
                row[kind] = dict(best, all_samples_per_sec=[round(r["samples_per_sec"], 1) for r in rs],
                                 rss_kb=max((r["rss_kb"] for r in rs), key=lambda x: max(x or [0])))
            del row["runs"]
            self.res["throughput"].append(row)

    def profiles(self):
        """Where a convnet's step goes: one run per model with RD_PROFILE=1 at np 1 (the config's kernels, batch
        128), its per-layer forward and backward times summed by Keras class (reprodist keras-config names each
        layer's class), against the step's GEMM flops at the speed of the mode's 1024^3 GEMM."""
        self.res["profiles"] = []
        for m in self.models:
            if m not in ANALYTIC_FLOPS:
                continue
            B = 128
            steps = 4 if self.a.quick else 10
            js = json.loads(run([self.bin, "keras-config", MODELS[m]["cfg"]], env=self.env)[0])
            cls = {e["config"]["name"]: e["class_name"] for e in js["config"]["layers"]}
            env = dict(self.env, RD_PROFILE="1")
            out, err = run([self.mpirun] + self.mpiflags + ["-x", "OPENBLAS_NUM_THREADS", "-x", "RD_PROFILE", "-np",
                                                            "1", self.bin, MODELS[m]["cfg"],
                                                            "--set", "train.batch_size=%d" % B,
                                                            "--set", "train.shard_size=%d" % shard_for(B),
                                                            "--set", "train.steps_per_epoch=%d" % steps,
                                                            "--set", "train.epochs=1", "--set", "data.test_limit=16",
                                                            "--set", "run.metrics=",
                                                            "-o", os.path.join(self.tmp, "prof_%s.h5" % m)], env=env)
            text = out + err
            step = re.search(r"profile: (\d+) steps, ms per step: shards ([\d.]+)  reduction ([\d.]+)  optimizer ([\d.]+)",
                             text)
            by = {}
            for name, f, b in re.findall(r"profile: layer (\S+)\s+forward\s+([\d.]+) ms  backward\s+([\d.]+) ms", text):
                c = cls.get(name, "?")
                t = by.setdefault(c, [0.0, 0.0, 0])
                t[0] += float(f)
                t[1] += float(b)
                t[2] += 1
            if not step:
                self.res["notes"].append("%s: no RD_PROFILE lines in its run" % m)
                continue
            shards, red, opt = float(step.group(2)), float(step.group(3)), float(step.group(4))
            peak = self.res["kernels"]["sgemm_portable" if MODELS[m]["kernels"] == "portable" else "sgemm"]["gflops"]
            gemm_ms = (ANALYTIC_FLOPS[m] or cnn_gemm_flops)() * B / (peak * 1e9) * 1e3
            self.res["profiles"].append({"model": m, "batch": B, "steps": int(step.group(1)), "shards_ms": shards,
                                         "reduction_ms": red, "optimizer_ms": opt, "by_class": by,
                                         "gemm_at_peak_ms": gemm_ms})
            log("profile %s: %.1f ms per step in the shards; its GEMMs at the 1024^3 GEMM's speed: %.1f ms" % (
                m, shards, gemm_ms))

    def allreduce_runs(self):
        secs = "0.3" if self.a.quick else "1.0"
        for n in (2, 4):
            out, _ = run([self.mpirun] + self.mpiflags + ["-x", "OPENBLAS_NUM_THREADS", "-np", str(n), self.allreduce,
                                                          "100000", "1000000", "16000000", "--seconds", secs,
                                                          "--min-reps", "3" if self.a.quick else "7"],
                         env=self.env)
            for d in json_lines(out):
                self.res["allreduce"].append(d)
                log("allreduce np=%d len=%-9d canonical %.3f ms  plain %.3f ms  ratio %.3f" % (
                    d["np"], d["len"], d["canonical_ms"], d["plain_ms"], d["ratio"]))
        # The models' own gradient vectors (parameters + 3 metrics) at np 2: what a step spends in the reduction,
        # hence the most that overlapping it with the backward pass could hide.
        lens = [str(self.grad_len(m)) for m in self.models]
        out, _ = run([self.mpirun] + self.mpiflags + ["-x", "OPENBLAS_NUM_THREADS", "-np", "2", self.allreduce] + lens +
                     ["--seconds", secs, "--min-reps", "3" if self.a.quick else "7"], env=self.env)
        self.res["allreduce_models"] = json_lines(out)

    def shard_runs(self):
        """ZeRO-1: the 26.3M-parameter MLP (tests/simgrid/mlp25m.cfg) with Adam on synthetic data, batch 64, at np 1,
        2 and 4, unsharded and with [train] shard_optimizer; peak RSS of every rank, the optimizer state each rank
        keeps (RD_PROFILE's line), and the step's parts."""
        cfg = os.path.join(SRC, "tests", "simgrid", "mlp25m.cfg")
        steps = 2 if self.a.quick else 4
        for np_ in (1, 2, 4):
            for sharded in (False, True):
                tag = "zero_np%d_%s" % (np_, "sharded" if sharded else "whole")
                rssf = os.path.join(self.tmp, tag + ".rss")
                if os.path.exists(rssf):
                    os.unlink(rssf)
                wrap = [TIME, "-a", "-o", rssf, "-f", RSS_TAG + " %M"] if self.have_time else []
                env = dict(self.env)
                env["RD_PROFILE"] = "1"
                cmd = [self.mpirun] + self.mpiflags + ["-x", "OPENBLAS_NUM_THREADS", "-x", "OMP_NUM_THREADS", "-x",
                                                       "RD_PROFILE", "-np", str(np_)] + wrap + [
                    self.bin, cfg, "--set", "data.source=synthetic", "--set", "data.samples=%d" % (64 * steps),
                    "--set", "data.test_samples=64", "--set", "train.batch_size=64", "--set", "train.epochs=1",
                    "--set", "train.optimizer=adam", "--set", "train.shard_optimizer=%s" % str(sharded).lower(),
                    "--set", "run.metrics=", "-o", os.path.join(self.tmp, tag + ".h5")]
                out, err = run(cmd, env=env)
                text = out + err
                nparams = int(re.search(r"; (\d+) parameters;", text).group(1))
                held = [int(x) for x in re.findall(r"optimizer state for parameters \[\d+, \d+\) of \d+: (\d+) floats",
                                                   text)]
                prof = re.findall(r"ms per step: shards ([\d.]+)  reduction ([\d.]+)  optimizer ([\d.]+)", text)
                d = {"np": np_, "sharded": sharded, "params": nparams, "rss_kb": rss_file(rssf),
                     "state_floats": max(held) if held else 2 * nparams,
                     "ms": [max(float(p[i]) for p in prof) for i in range(3)] if prof else None}
                self.res.setdefault("shard_optimizer", []).append(d)
                log("shard_optimizer np=%d %-7s peak RSS %s MB, optimizer state %.1f MB per rank" % (
                    np_, "sharded" if sharded else "whole", mb(d["rss_kb"]), 4e-6 * d["state_floats"]))

    LINKS = (None, "10gbit", "1gbit")

    def links_runs(self):
        """Section 10: each model on 2 and 3 emulated nodes (launch/cluster, one rank per node) for each link, with
        AUTO's exchange (bucketed: the sum runs behind the last local shard's backward pass) and, in the same run,
        alltoallv (the same exchange, not overlapped) as its peer: the step's time (its fastest timed epoch), its
        parts (RD_PROFILE), and the canonical reduction of the model's gradient alone (rd_bench_allreduce across
        the same nodes). Exposed: the wait in the reduction of the rank whose shards took longest (the others
        also wait for it, which no exchange can hide). Hidden fraction: 1 - exposed / the reduction alone. The
        goal (>= 0.80) applies where that rank's backward pass is longer than the reduction alone. Needs root."""
        if os.geteuid() != 0:
            log("links: not root, section 10 not run (launch/cluster needs namespaces)")
            return
        cl = os.path.join(SRC, "launch", "cluster")
        subprocess.run([cl, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        plan = (("784-1024-1024-10", 128, 8 if self.a.quick else 30), ("resnet", 64, 2 if self.a.quick else 5))
        prof_re = re.compile(r"\[rank (\d+)/\d+\] profile: \d+ steps, ms per step: shards ([\d.]+)  reduction ([\d.]+)"
                             r"  optimizer ([\d.]+)")
        layer_re = re.compile(r"\[rank (\d+)/\d+\] profile: layer \S+ +forward +[\d.]+ ms  backward +([\d.]+) ms")
        for link in self.LINKS:
            run([cl, "up", "3"] + (["--link", link] if link else []))
            try:
                for nn in (2, 3):
                    hosts = ",".join("n%d:1" % k for k in range(1, nn + 1))
                    mpi = [cl, "exec", "n1", "mpirun", "-x", "OPENBLAS_NUM_THREADS=1", "-x", "OMP_NUM_THREADS=1",
                           "--host", hosts, "-np", str(nn)]
                    for model, B, steps in plan:
                        aout, _ = run(mpi + [self.allreduce, str(self.grad_len(model)), "--seconds", "1.0",
                                             "--min-reps", "5"])
                        alone = json_lines(aout)[0]["canonical_ms"]
                        for algo in ("auto", "alltoallv"):
                            metrics = os.path.join(self.tmp, "link.jsonl")
                            out, err = run(mpi[:4] + ["-x", "RD_PROFILE=1", "-x", "RD_ALLREDUCE=" + algo] + mpi[4:] + [
                                self.bin, MODELS[model]["cfg"], "--set", "train.batch_size=%d" % B,
                                "--set", "train.shard_size=%d" % shard_for(B),
                                "--set", "train.steps_per_epoch=%d" % steps, "--set", "train.epochs=3",
                                "--set", "data.test_limit=%d" % shard_for(B),
                                "--set", "run.metrics=" + metrics, "-o", os.path.join(self.tmp, "link.h5")],
                                timeout=1200)
                            used = re.search(r"; the (\w+) allreduce", out + err).group(1)
                            ep = [json.loads(l) for l in open(metrics) if l.strip()]
                            step_ms = 1e3 * B / max(e["samples_per_sec"] for e in ep[1:])
                            ranks = {int(r): [float(x) for x in v] for r, *v in prof_re.findall(out + err)}
                            back = {}
                            for r, ms in layer_re.findall(out + err):
                                back[int(r)] = back.get(int(r), 0.0) + float(ms)
                            slow = max(ranks, key=lambda r: ranks[r][0])
                            exposed = ranks[slow][1]
                            hidden = 1.0 - exposed / alone if alone > 0 else 0.0
                            d = {"link": link or "unshaped", "nodes": nn, "model": model, "batch": B, "algo": used,
                                 "step_ms": step_ms, "shards_ms": ranks[slow][0], "backward_ms": back.get(slow, 0.0),
                                 "exposed_ms": exposed, "reduction_ms": max(v[1] for v in ranks.values()),
                                 "optimizer_ms": ranks[slow][2], "reduction_alone_ms": alone, "hidden": hidden,
                                 "goal_applies": back.get(slow, 0.0) > alone}
                            self.res.setdefault("links", []).append(d)
                            log("links %-9s %d nodes %-17s %-9s step %.1f ms, shards %.1f (backward %.1f), exposed %.1f,"
                                " reduction alone %.1f: hidden %.2f" % (d["link"], nn, model, used, step_ms, d["shards_ms"],
                                                                         d["backward_ms"], exposed, alone, hidden))
            finally:
                subprocess.run([cl, "down"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def links_table(self):
        """Section 10's lines."""
        L = ["10. Shaped links (launch/cluster up --link; one rank per emulated node; 2 cores, so 3 nodes share them)",
             "%-9s %5s %-17s %5s %-9s %8s %9s %9s %9s %9s %7s %6s" % (
                 "link", "nodes", "model", "batch", "exchange", "step ms", "shards ms", "backward", "exposed",
                 "alone ms", "hidden", "goal")]
        for x in self.res["links"]:
            goal = ("met" if x["hidden"] >= 0.8 else "NOT met") if x.get("goal_applies") else "n/a"
            L.append("%-9s %5d %-17s %5d %-9s %8.1f %9.1f %9.1f %9.1f %9.1f %7.2f %6s" % (
                x["link"], x["nodes"], x["model"], x["batch"], x.get("algo", "alltoallv"), x["step_ms"],
                x["shards_ms"], x.get("backward_ms", 0.0), x.get("exposed_ms", x["reduction_ms"]),
                x["reduction_alone_ms"], x["hidden"], goal))
        L.append("   shards, backward, exposed: of the rank whose shards took longest (per step): its forward and")
        L.append("   backward passes, the backward alone, and its wait in the canonical sum. alone: rd_bench_allreduce of")
        L.append("   the same vector over the same link. hidden = 1 - exposed / alone. bucketed (AUTO) starts each")
        L.append("   bucket during the last local shard's backward pass; alltoallv, its peer here, sends after it. goal:")
        L.append("   hidden >= 0.80 where the backward pass is longer than the reduction alone (n/a elsewhere).")
        return L

    @staticmethod
    def grad_len(model):
        if "params" in MODELS[model]:  # trainable parameters: what the reduction sums
            return MODELS[model]["params"] + 3
        d = [int(x) for x in MODELS[model]["dims"].split(",")]
        return sum(d[i] * d[i + 1] + d[i + 1] for i in range(len(d) - 1)) + 3

    # ---- report ------------------------------------------------------------------------------
    def derive(self):
        r = self.res
        tp = {(x["model"], x["batch"], x["np"]): x for x in r["throughput"]}
        parts = {(x["model"], x["batch"]): x for x in r["kernels"]["parts"]}
        for (m, B, n), x in tp.items():
            # The run the PyTorch goals judge: the model's config as shipped (its kernels).
            x["kernels"] = MODELS[m]["kernels"]
            main = "reprodist_portable" if x["kernels"] == "portable" else "reprodist"
            rd = x[main]["samples_per_sec"]
            peak = r["kernels"]["sgemm_portable" if x["kernels"] == "portable" else "sgemm"]["gflops"]
            x["step_ms"] = 1e3 * B / rd
            if "torch" in x:
                x["ratio"] = rd / x["torch"]["samples_per_sec"]
                x["goal"] = GOALS["torch"][n]
                x["met"] = x["ratio"] >= x["goal"]
                if x["torch"].get("rss_kb") and x["reprodist"].get("rss_kb"):
                    x["rss_ratio"] = max(x[main]["rss_kb"] or x["reprodist"]["rss_kb"]) / max(x["torch"]["rss_kb"])
                    x["rss_met"] = x["rss_ratio"] <= GOALS["rss"]
            if "reprodist_portable" in x:  # against openblas mode: ahead by 1.3x where AVX-512 meets an AVX2 core
                x["portable_ratio"] = x["reprodist_portable"]["samples_per_sec"] / x["reprodist"]["samples_per_sec"]
                ahead = r["machine"].get("avx512f") and x["reprodist"]["core"] in AVX2_CORES
                x["portable_goal"] = GOALS["portable_avx512"] if ahead else GOALS["portable"]
                x["portable_met"] = x["portable_ratio"] >= x["portable_goal"]
            if "reprodist_portable_avx2" in x:
                x["portable_avx2_ratio"] = (x["reprodist_portable_avx2"]["samples_per_sec"] /
                                            x["reprodist"]["samples_per_sec"])
                x["portable_avx2_met"] = x["portable_avx2_ratio"] >= GOALS["portable_avx2"]
            if "reprodist_core" in x and "torch_core" in x:
                x["ratio_core"] = x["reprodist_core"]["samples_per_sec"] / x["torch_core"]["samples_per_sec"]
            if "reprodist_plain" in x:  # against the run of its own mode: the config's (openblas before run 16)
                x["plain_of"] = "reprodist_portable" if x["reprodist_plain"].get("core") in ISA_PATHS else "reprodist"
                x["step_ratio"] = x["reprodist_plain"]["samples_per_sec"] / x[x["plain_of"]]["samples_per_sec"]
                x["step_met"] = x["step_ratio"] <= GOALS["step"]
            p = parts[(m, B)]
            if "torch" in x:  # every FLOP at the speed of one large sgemm: no step can beat that
                x["ratio_ceiling"] = peak * 1e9 * n / p["gemm_flops_per_sample"] / x["torch"]["samples_per_sec"]
            am = {d["len"]: d for d in r.get("allreduce_models", [])}.get(self.grad_len(m))
            if n == 2 and am:
                x["comm_ms"] = am["canonical_ms"]
                x["comm_share"] = am["canonical_ms"] / x["step_ms"]
            sh = shapes_of(r, m, shard_for(B))
            path = x[main].get("core") if x["kernels"] == "portable" else "openblas"
            if sh and path in sh["us"]:  # the step's GEMMs alone, at their own shapes, in the run's kernels
                S = shard_for(B)
                x["gemms_alone_gflops"] = sh["mflop"] / sh["us"][path] * 1e3
                x["gemms_alone_ms"] = 1e-3 * sh["us"][path] * B / (n * S)  # per step, per rank
                if "torch" in x:
                    x["ratio_gemm_bound"] = n * S * 1e6 / sh["us"][path] / x["torch"]["samples_per_sec"]
            x["gemm_gflops_per_rank"] = p["gemm_flops_per_sample"] * rd / n * 1e-9
            x["gemm_efficiency"] = x["gemm_gflops_per_rank"] / peak
            if MODELS[m].get("conv"):
                x["gemm_goal"] = GOALS["gemm"][n]
                x["gemm_met"] = x["gemm_efficiency"] >= x["gemm_goal"]
            if "reprodist_core" in x:
                x["gemm_efficiency_core"] = (p["gemm_flops_per_sample"] * x["reprodist_core"]["samples_per_sec"] / n *
                                             1e-9 / r["kernels"]["sgemm_best"]["gflops"])
            if n == 2 and (m, B, 1) in tp:
                x["scaling"] = rd / tp[(m, B, 1)][main]["samples_per_sec"]
                if "torch" in x and "torch" in tp[(m, B, 1)]:
                    x["torch_scaling"] = x["torch"]["samples_per_sec"] / tp[(m, B, 1)]["torch"]["samples_per_sec"]
                if B >= 128:
                    x["scaling_met"] = x["scaling"] >= GOALS["scaling"]
                if "pair" in tp[(m, B, 1)]:  # two np 1 runs at once, over one
                    x["scaling_ceiling"] = tp[(m, B, 1)]["pair"]["samples_per_sec"] / tp[(m, B, 1)][main]["samples_per_sec"]
        for d in r["allreduce"]:
            d["met"] = d["ratio"] <= GOALS["reduce"]
        if not self.a.table:
            r["machine"]["loadavg_end"] = os.getloadavg()

    def zero_table(self):
        """Section 8's lines: ZeRO-1 against the whole state."""
        r = self.res
        L = []
        L.append("8. Sharded optimizer state ([train] shard_optimizer, ZeRO-1): %d-parameter MLP, Adam, batch 64" %
                 r["shard_optimizer"][0]["params"])
        L.append("%3s %-8s %14s %12s %10s %10s %10s %10s" % ("np", "state", "peak RSS MB", "Adam MB", "of whole",
                                                         "shards ms", "reduce ms", "optim ms"))
        whole = {x["np"]: x for x in r["shard_optimizer"] if not x["sharded"]}
        for x in r["shard_optimizer"]:
            w = whole.get(x["np"])
            ms = x["ms"] or [float("nan")] * 3
            L.append("%3d %-8s %14s %12.1f %10s %10.1f %10.1f %10.1f" % (
                x["np"], "sharded" if x["sharded"] else "whole", mb(x["rss_kb"]), 4e-6 * x["state_floats"],
                "%.3f" % (x["state_floats"] / w["state_floats"]) if w else "-", ms[0], ms[1], ms[2]))
        L.append("   peak RSS: max over ranks (/usr/bin/time %M); Adam MB: the state one rank keeps (goal: 1/np of")
        L.append("   whole); ms: the slowest rank's RD_PROFILE parts of a step (the sharded 'optim' includes the")
        L.append("   parameters' allgather)")
        return L

    def shapes_table(self):
        r = self.res
        L = []
        core = r["kernels"]["shapes"][0].get("core")
        L.append("11. Every GEMM of a training pass, timed alone (rd_bench_kernels shapes: one shard pass of the model in")
        L.append("    portable mode, each distinct GEMM as the layers call rd->gemm; an MLP as training runs np 1's step at")
        L.append("    the batch of that shard size: one forward pass over its group of shards, then each shard's backward),")
        L.append("    OpenBLAS (core %s) against portable mode's paths; ms and MFLOP per shard, calls per group. Each" % core)
        L.append("    GEMM: the fastest of three timings, the kernels in turn; where the AVX2 path came out behind, of")
        L.append("    seven, and of a second timing later in the run (the host has slow phases seconds long)")
        kerns = [k for k in ("openblas", "avx2", "avx512", "neon") if
                 any(k in g["us"] for d in r["kernels"]["shapes"] for g in d["shapes"])]
        L.append("%-17s %5s %5s %6s %6s %8s " % ("model", "shard", "group", "shapes", "calls", "MFLOP") +
                 " ".join("%10s" % (k + " ms") for k in kerns) +
                 " %12s %12s %-8s" % ("avx2 behind", "goal", ""))
        behind = []
        for d in r["kernels"]["shapes"]:
            sh = shapes_of(r, d["model"], d["shard"])
            worse = [g for g in d["shapes"] if "avx2" in g["us"] and g["us"]["avx2"] > g["us"]["openblas"]]
            behind += [(d["model"], d["shard"], g, sh) for g in worse]
            L.append("%-17s %5d %5d %6d %6d %8.1f " % (d["model"], d["shard"], sh["group"], sh["n"], sh["calls"],
                                                      sh["mflop"]) +
                     " ".join("%10.2f" % (1e-3 * sh["us"][k]) if k in sh["us"] else "%10s" % "-" for k in kerns) +
                     " %12s %12s %-8s" % ("%d shapes" % len(worse), ">=1.0x each", "met" if not worse else "NOT met"))
        peak = (r["kernels"].get("fma_peak") or {}).get("fma256_gflops")
        L.append("   avx2 behind: shapes the AVX2 path runs slower than OpenBLAS (issue 26: it must beat OpenBLAS's")
        L.append("   Haswell core on every benchmark shape); each, with its share of the pass on the AVX2 path%s:" % (
            ", and OpenBLAS's" if peak else ""))
        if peak:
            L.append("   share of this core's 256-bit FMA peak (%.1f GFLOP/s, rd_bench_kernels peak; 512-bit: %s). ceiling:" % (
                peak, r["kernels"]["fma_peak"].get("fma512_gflops")))
            L.append("   that peak over OpenBLAS's rate, the most any kernel on 256-bit vectors could beat OpenBLAS by")
        L.append("%-17s %5s %4s %6s %6s %6s %5s %10s %9s %9s %9s %7s %7s %6s" % (
            "model", "shard", "op", "m", "n", "k", "calls", "MFLOP/call", "ob GF/s", "avx2 GF/s", "a512 GF/s", "avx2/ob",
            "a512/ob", "share") + (" %7s %7s" % ("ob/peak", "ceiling") if peak else ""))
        for model, S, g, sh in behind:
            f = 2e-6 * g["m"] * g["n"] * g["k"]  # MFLOP per call; MFLOP / us x 1e3 = GFLOP/s
            u = g["us"]
            L.append("%-17s %5d %4s %6d %6d %6d %5d %10.3f %9.1f %9.1f %9s %6.2fx %7s %5.1f%%" % (
                model, S, "%s%s%s%s" % ("T" if g["ta"] else "N", "T" if g["tb"] else "N", "+" if g["beta"] else "",
                                         "~" if g.get("overlap") else ""),
                g["m"], g["n"], g["k"], g["calls"], f, f / u["openblas"] * 1e3, f / u["avx2"] * 1e3,
                "%.1f" % (f / u["avx512"] * 1e3) if "avx512" in u else "-", u["openblas"] / u["avx2"],
                "%.2fx" % (u["openblas"] / u["avx512"]) if "avx512" in u else "-",
                100.0 * u["avx2"] * g["calls"] / (sh["us"]["avx2"] * sh["group"])) +
                (" %6.0f%% %6.2fx" % (100.0 * f / u["openblas"] * 1e3 / peak, peak / (f / u["openblas"] * 1e3))
                 if peak else ""))
        L.append("   op: A and B as stored (N) or transposed (T), + accumulating into C (beta 1), ~ A's rows read overlapping")
        L.append("   (Conv2D at stride 1 without im2col: lda = its channels; OpenBLAS, which refuses that, times the same")
        L.append("   product on A's rows copied apart)")
        L.append("")
        L.append("    The step if it were its GEMMs alone: the PyTorch ratio a step of these GEMMs, at these shapes, in the")
        L.append("    run's kernels, would reach with nothing else in it and perfect scaling (no im2col, normalization,")
        L.append("    activations, data, reduction or optimizer): a ceiling for these kernels, below section 1's")
        L.append("%-17s %5s %3s %-8s %14s %14s %12s %10s %7s %-8s" % (
            "model", "batch", "np", "kernels", "GEMMs ms/step", "step ms/step", "GEMM share", "bound", "goal", ""))
        for x in r["throughput"]:
            if "ratio_gemm_bound" not in x:
                continue
            main = x["reprodist_portable" if x["kernels"] == "portable" else "reprodist"]
            reach = x["ratio_gemm_bound"] >= x["goal"]
            L.append("%-17s %5d %3d %-8s %14.2f %14.2f %11.0f%% %9.2fx %7s %-8s" % (
                x["model"], x["batch"], x["np"], main.get("core") or x["kernels"], x["gemms_alone_ms"], x["step_ms"],
                100.0 * x["gemms_alone_ms"] / x["step_ms"], x["ratio_gemm_bound"], ">=%.1fx" % x["goal"],
                "reachable" if reach else "out of reach"))
        L.append("   bound: n x shard / (the pass's GEMMs alone) against PyTorch's samples/s of section 1; out of reach:")
        L.append("   even that step would miss the goal, so only faster GEMM kernels (or fewer flops) can meet it. With")
        L.append("   forward groups, np 2's ranks run groups of half as many shards: the bound keeps np 1's shapes")
        return L

    def table(self):
        r = self.res
        mc = r["machine"]
        L = []
        yes = lambda ok: "met" if ok else "NOT met"  # noqa: E731
        L.append("reprodist benchmark (%s mode, best of %d)" % ("quick" if self.a.quick else "full", self.a.reps))
        if mc["openblas_coretype_env"]:
            core = "%s (OPENBLAS_CORETYPE=%s set in the environment; unset, OpenBLAS detects %s)" % (
                mc.get("openblas_core"), mc["openblas_coretype_env"], mc.get("openblas_core_detected"))
        else:
            core = "%s (detected)" % mc.get("openblas_core")
        L.append("machine: %d cores, %s; %s; torch %s%s" % (
            mc["nproc"], mc["cpu"], mc["mpirun"], mc.get("torch"),
            " (Debian python3-torch %s)" % mc["torch_deb"] if mc.get("torch_deb") else ""))
        L.append("OpenBLAS core %s" % core)
        L.append("load average at start %.2f, at end %.2f (anything above ~0.3 means other work shared the cores)%s" % (
            mc["loadavg_start"][0], mc["loadavg_end"][0],
            "; measured processes ran under nice -n %d" % self.a.nice if self.a.nice is not None else ""))
        L.append("one thread per process everywhere; shard_size: the default for the batch (64 -> %d, 256 -> %d); "
                 "data: Fashion-MNIST (uint8 -> float per batch)" % (shard_for(64), shard_for(256)))
        L.append("PyTorch runs with glibc keeping freed memory (%s): without it its per-step allocations page-fault"
                 % " ".join("%s=%s" % kv for kv in TORCH_MALLOC.items()))
        L.append("every step here and the convnet runs 3-4x slower")
        bc = r["kernels"].get("best_core")
        L.append("")
        L.append("1-2. Training throughput, samples/s (reprodist vs PyTorch %s: 1 process at np 1, DDP/gloo at np 2)" %
                 mc.get("torch"))
        hdr = "%-17s %5s %3s %11s %11s %7s %6s %-8s %8s %9s %9s %9s" % (
            "model", "batch", "np", "reprodist", "PyTorch", "ratio", "goal", "", "ceiling*", "rd ms/st", "pt ms/st",
            "steps/run") + " kernels"
        if bc:
            hdr += " | %11s %11s %7s" % ("rd[%s]" % bc, "pt[%s]" % bc, "ratio")
        L.append(hdr)
        for x in r["throughput"]:
            t = x.get("torch")
            main = x["reprodist_portable" if x["kernels"] == "portable" else "reprodist"]
            line = "%-17s %5d %3d %11.0f %11s %7s %6s %-8s %8s %9.2f %9s %9s %-8s" % (
                x["model"], x["batch"], x["np"], main["samples_per_sec"],
                "%.0f" % t["samples_per_sec"] if t else "-", "%.2fx" % x["ratio"] if t else "-",
                ">=%.1fx" % x["goal"] if t else "", yes(x["met"]) if t else "",
                "%.2fx" % x["ratio_ceiling"] if t else "-",
                x["step_ms"], "%.2f" % (1e3 * x["batch"] / t["samples_per_sec"]) if t else "-",
                "%d+%dx%d" % (main["warmup"], main["epochs"], main["steps"]), x["kernels"])
            if bc and "reprodist_core" in x:
                tc = x.get("torch_core")
                line += " | %11.0f %11s %7s" % (x["reprodist_core"]["samples_per_sec"],
                                                "%.0f" % tc["samples_per_sec"] if tc else "-",
                                                "%.2fx" % x["ratio_core"] if tc else "-")
            L.append(line)
        L.append("   * ceiling: the ratio reprodist would reach if its whole step ran at the speed of one large sgemm")
        L.append("     (1024^3, section 5) of its kernels on every rank: no implementation with those kernels can beat it")
        L.append("   kernels: the config's [train] kernels (portable, the default, for every model; the openblas-mode")
        L.append("     rates are in section 8)")
        if bc:
            L.append("   right of |: the same runs with OPENBLAS_CORETYPE=%s, the fastest sgemm core on this CPU (extra" % bc)
            L.append("   columns; the goals are judged on the left, the environment as it is)")
        L.append("")
        L.append("3. Determinism overhead of the reduction: rd_allreduce_finish (canonical tree, K = 2*np shards) vs")
        L.append("   the plain peer (RD_ALLREDUCE=plain: MPI_Allreduce MPI_SUM), same buffers; median over reps of the slowest rank")
        L.append("%-4s %10s %14s %12s %7s %7s %-8s %6s %11s" % ("np", "floats", "canonical ms", "plain ms", "ratio",
                                                               "goal", "", "reps", "ratio(min)"))
        for d in r["allreduce"]:
            L.append("%-4d %10d %14.3f %12.3f %7.3f %7s %-8s %6d %11.3f" % (
                d["np"], d["len"], d["canonical_ms"], d["plain_ms"], d["ratio"], "<=1.25", yes(d["met"]), d["reps"],
                d["canonical_min_ms"] / d["plain_min_ms"]))
        L.append("   ratio(min): fastest canonical rep / fastest plain rep, less sensitive to other load")
        L.append("")
        L.append("4. Whole-step time, reprodist vs the plain data-parallel step (np 2, the config's kernels): RD_ALLREDUCE=plain")
        L.append("   (MPI_Allreduce of the whole gradient) and shard_optimizer = false (every rank updates every parameter)")
        L.append("%-17s %5s %3s %12s %12s %7s %7s %-8s" % ("model", "batch", "np", "canonical ms", "plain ms", "ratio",
                                                          "goal", ""))
        for x in r["throughput"]:
            if "step_ratio" in x:
                L.append("%-17s %5d %3d %12.2f %12.2f %7.3f %7s %-8s" % (
                    x["model"], x["batch"], x["np"],
                    1e3 * x["batch"] / x[x["plain_of"]]["samples_per_sec"],
                    1e3 * x["batch"] / x["reprodist_plain"]["samples_per_sec"], x["step_ratio"], "<=%.2f" % GOALS["step"],
                    yes(x["step_met"])))
        L.append("   Overlap: the canonical reduction of the model's whole gradient at np 2, timed alone, against the np 2")
        L.append("   step: the most that overlapping it with the backward pass could hide")
        L.append("%-17s %5s %12s %10s %7s" % ("model", "batch", "reduce ms", "step ms", "share"))
        for x in r["throughput"]:
            if "comm_share" in x:
                L.append("%-17s %5d %12.3f %10.2f %6.1f%%" % (x["model"], x["batch"], x["comm_ms"], x["step_ms"],
                                                            100 * x["comm_share"]))
        L.append("")
        sg = r["kernels"]["sgemm"]
        L.append("5. GEMM efficiency: GEMM FLOP/s a training step achieves per rank (exact GEMM flops x samples/s / np)")
        L.append("   vs one 1024^3 sgemm on one thread in the same run: %.1f GFLOP/s (core %s)%s" % (
            sg["gflops"], sg["core"], "; with %s: %.1f" % (bc, r["kernels"]["sgemm_best"]["gflops"]) if bc else ""))
        sp = r["kernels"].get("sgemm_portable")
        if sp:
            L.append("   (a model in portable mode, the default: vs portable mode's own 1024^3 GEMM, %.1f GFLOP/s on its %s path)" % (
                sp["gflops"], sp["core"]))
        L.append("%-17s %5s %3s %12s %10s %7s %-8s %14s %s" % ("model", "batch", "np", "GFLOP/s/rank", "fraction",
                                                              "goal", "", "GEMMs alone*",
                                                              " fraction[%s]" % bc if bc else ""))
        parts = {(p["model"], p["batch"]): p for p in r["kernels"]["parts"]}
        for x in r["throughput"]:
            p = parts[(x["model"], x["batch"])]
            L.append("%-17s %5d %3d %12.1f %10.2f %7s %-8s %14s %s" % (
                x["model"], x["batch"], x["np"], x["gemm_gflops_per_rank"], x["gemm_efficiency"],
                ">=%.2f" % x["gemm_goal"] if "gemm_goal" in x else "", yes(x["gemm_met"]) if "gemm_goal" in x else "",
                "%.1f" % x["gemms_alone_gflops"] if "gemms_alone_gflops" in x else
                "%.1f" % p["gemm_gflops"] if p["gemm_gflops"] else "-",
                " %12.2f" % x["gemm_efficiency_core"] if "gemm_efficiency_core" in x else ""))
        L.append("   * GFLOP/s of the step's shard GEMMs (default shard size) timed alone, without the rest of the step, in")
        L.append("     the run's kernels (section 11; before run 16: the MLPs' GEMMs in OpenBLAS, the convnets' untimed)")
        L.append("")
        two = r["kernels"].get("sgemm_two_at_once")
        L.append("6. Scaling, samples/s at np 2 / np 1 (2 cores)%s" % (
            "; the machine's own ceiling: two 1024^3 sgemms at once run %.2fx one" % (sum(two) / sg["gflops"])
            if two else ""))
        L.append("%-17s %5s %10s %7s %-8s %10s %10s" % ("model", "batch", "reprodist", "goal", "", "PyTorch",
                                                        "ceiling*"))
        for x in r["throughput"]:
            if "scaling" in x:
                ceil = x.get("scaling_ceiling")
                L.append("%-17s %5d %9.2fx %7s %-8s %9s %9s%s" % (
                    x["model"], x["batch"], x["scaling"], ">=%.2fx" % GOALS["scaling"] if "scaling_met" in x else "",
                    yes(x["scaling_met"]) if "scaling_met" in x else "",
                    "%.2fx" % x["torch_scaling"] if "torch_scaling" in x else "-",
                    "%.2fx" % ceil if ceil else "-",
                    "  out of reach on this machine" if ceil and "scaling_met" in x and ceil < GOALS["scaling"] else ""))
        L.append("   * ceiling: two np 1 runs at once, each bound to its own core as np 2's ranks are, their samples/s")
        L.append("     summed over one np 1 run's: what the two cores give this model when they share memory bandwidth,")
        L.append("     the L3 cache and the host, with no reduction and no wait for the other rank (batch >= 128)")
        L.append("")
        L.append("7. Peak RSS per rank, MB (max over ranks; /usr/bin/time %M)")
        L.append("%-17s %5s %3s %10s %10s %7s %7s %-8s" % ("model", "batch", "np", "reprodist", "PyTorch", "ratio",
                                                          "goal", ""))
        for x in r["throughput"]:
            main = x["reprodist_portable" if x["kernels"] == "portable" else "reprodist"]
            L.append("%-17s %5d %3d %10s %10s %7s %7s %-8s" % (
                x["model"], x["batch"], x["np"], mb(main["rss_kb"] or x["reprodist"]["rss_kb"]),
                mb(x["torch"]["rss_kb"]) if "torch" in x else "-",
                "%.2f" % x["rss_ratio"] if "rss_ratio" in x else "-", "<=1/3" if "rss_ratio" in x else "",
                yes(x["rss_met"]) if "rss_ratio" in x else ""))
        L.append("   the config's kernels (section 1-2's run); goal: at most a third of PyTorch's")
        L.append("")
        if r.get("shard_optimizer"):
            L += self.zero_table() + [""]
        if r.get("links"):
            L += self.links_table() + [""]
        if r["kernels"].get("shapes"):
            L += self.shapes_table() + [""]
        L.append("Where a reprodist step goes, one rank, from rd_bench_kernels (CPU us per global step, np 1; default shard;")
        L.append("the model's kernels, as in section 1; before run 22: OpenBLAS's, whatever the model ran)")
        L.append("%-17s %5s %8s %8s %8s %8s %8s %8s %10s %10s  %s" % (
            "model", "batch", "fetch", "GEMMs", "pass", "fold", "Adam", "Adam dn*", "sum", "measured", "kernels"))
        for p in r["kernels"]["parts"]:
            u = p["us"]
            if u is None:
                continue
            x = next(t for t in r["throughput"] if t["model"] == p["model"] and t["batch"] == p["batch"]
                     and t["np"] == 1)
            L.append("%-17s %5d %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %10.0f %10.0f  %s" % (
                p["model"], p["batch"], u["fetch"], u["gemm"], u["pass"], u["fold"], u["adam"], u["adam_denormal"],
                u["fetch"] + u["pass"] + u["fold"] + u["adam"], 1e3 * x["step_ms"],
                "%s (%s)" % (p.get("kernels", "openblas"), p.get("core", "?"))))
        L.append("   pass = the shard passes (GEMMs + bias, activations, loss); sum = fetch + pass + fold + Adam;")
        L.append("   timed shard by shard, a push after each pass, where the MLPs' training step runs one forward pass over")
        L.append("   a rank's shards (forward groups) and folds its pushes into the weight gradients: their sum is the step")
        L.append("   without those, not the measured one (section 11 times their GEMMs as training runs them)")
        L.append("   * Adam dn = Adam with 1 in 16 first moments denormal, as a checkpoint after one epoch holds (Adam's m")
        L.append("     decays by beta_1 while a weight's gradient is zero and sticks at a denormal of 1-4 units of 2^-149;")
        L.append("     since run 30 Adam takes those around: before, this bench's denormals were 1e-40, which do not stick)")
        if r["kernels"].get("shard_sweep"):
            L.append("")
            L.append("shard_size trade-off at batch 256, one rank (CPU us per global step, rd_bench_kernels)")
            L.append("%-17s %5s %8s %12s %8s %8s %8s %10s" % ("model", "shard", "shards", "GEMM GFLOP/s", "GEMMs",
                                                             "pass", "fold", "max ranks"))
            for p in r["kernels"]["shard_sweep"]:
                L.append("%-17s %5d %8d %12.1f %8.0f %8.0f %8.0f %10d" % (
                    p["model"], p["shard"], 256 // p["shard"], p["gemm_gflops"], p["us"]["gemm"], p["us"]["pass"],
                    p["us"]["fold"], 256 // p["shard"]))
        if any("portable_ratio" in x for x in r["throughput"]):
            L.append("")
            L.append("8. Portable mode (kernels = portable: reprodist's GEMM and functions, the same bits on every CPU)")
            L.append("   vs openblas mode, samples/s, same runs as section 1")
            L.append("%-17s %5s %3s %11s %11s %-8s %7s %7s %-8s | %11s %7s %7s" % (
                "model", "batch", "np", "openblas", "portable", "path", "ratio", "goal", "", "RD_ISA=avx2", "ratio",
                "goal"))
            for x in r["throughput"]:
                if "portable_ratio" not in x:
                    continue
                a2 = x.get("reprodist_portable_avx2")
                L.append("%-17s %5d %3d %11.0f %11.0f %-8s %6.2fx %7s %-8s | %11s %7s %7s %s" % (
                    x["model"], x["batch"], x["np"], x["reprodist"]["samples_per_sec"],
                    x["reprodist_portable"]["samples_per_sec"], x["reprodist_portable"]["core"], x["portable_ratio"],
                    ">=%.1fx" % x["portable_goal"], yes(x["portable_met"]),
                    "%.0f" % a2["samples_per_sec"] if a2 else "-", "%.2fx" % x["portable_avx2_ratio"] if a2 else "-",
                    ">=%.1fx" % GOALS["portable_avx2"] if a2 else "", yes(x["portable_avx2_met"]) if a2 else ""))
            L.append("   goal: >= 1.3x openblas where the CPU has AVX-512 and OpenBLAS runs an AVX2 core, else >= 1x; the")
            L.append("   AVX2 path >= 1x (met at every point in run 14, portable mode became the default: CHANGELOG.md 0.2.0)")
            L.append("   right of |: portable mode forced onto its AVX2 path (RD_ISA=avx2), what a CPU without AVX-512 runs,")
            L.append("   against the same openblas runs")
        if r.get("profiles"):
            L.append("")
            L.append("9. Where a convnet's step goes: RD_PROFILE=1, np 1, batch 128, the config's kernels; ms per step by")
            L.append("   Keras class (forward + backward of every layer of the class), against the step's GEMM flops at the")
            L.append("   speed of the mode's own 1024^3 GEMM (section 5): the rest is why the ratio sits below its ceiling")
            for pr in r["profiles"]:
                tot = pr["shards_ms"] + pr["reduction_ms"] + pr["optimizer_ms"]
                L.append("%s: %.1f ms per step (shards %.1f, reduction %.2f, optimizer %.2f); GEMMs at peak: %.1f ms "
                         "(%.0f%% of the step)" % (pr["model"], tot, pr["shards_ms"], pr["reduction_ms"],
                                                    pr["optimizer_ms"], pr["gemm_at_peak_ms"],
                                                    100 * pr["gemm_at_peak_ms"] / tot))
                L.append("   %-24s %7s %10s %10s %7s" % ("class", "layers", "forward", "backward", "share"))
                for c, (f, b, n) in sorted(pr["by_class"].items(), key=lambda kv: -(kv[1][0] + kv[1][1])):
                    L.append("   %-24s %7d %10.1f %10.1f %6.1f%%" % (c, n, f, b, 100 * (f + b) / tot))
        for n in r["notes"]:
            L.append("note: " + n)
        return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="build directory holding reprodist and the bench programs")
    ap.add_argument("-o", "--output", default="bench.json")
    ap.add_argument("--quick", action="store_true", help="fewer steps and reps (< 2 minutes)")
    ap.add_argument("--models", default=None,
                    help="comma-separated subset of %s (default: all)" % ",".join(MODELS))
    ap.add_argument("--reps", type=int, default=None, help="runs per point, best kept (full 2, quick 1)")
    ap.add_argument("--nice", type=int, default=None,
                    help="run every measured process under nice -n N (on a shared machine; negative needs root)")
    ap.add_argument("--coretype", default="auto",
                    help="extra reprodist column with this OPENBLAS_CORETYPE; auto: the fastest sgemm core if it "
                         "is not the detected one (full mode); none: no extra column")
    ap.add_argument("--zero", action="store_true", help="run section 8 alone (sharded optimizer state) and print it")
    ap.add_argument("--links", action="store_true", help="run section 10 alone (shaped links; root) and print it")
    ap.add_argument("--shapes", action="store_true",
                    help="run section 11's GEMM timings alone and print them (without its PyTorch ceiling)")
    ap.add_argument("--table", default=None, metavar="JSON",
                    help="run nothing: print the table of an earlier run's JSON against today's goals")
    a = ap.parse_args()
    if a.table:
        try:
            with open(a.table) as f:
                res = json.load(f)
            a.quick, a.reps = res["settings"]["quick"], res["settings"]["reps"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            sys.stderr.write("bench: --table %s: not a launch/bench JSON (%s)\n" % (a.table, e))
            raise SystemExit(2)
        b = Bench(a)
        b.res = res
        b.derive()
        print(b.table())
        shutil.rmtree(b.tmp, ignore_errors=True)
        return
    if a.reps is None:
        a.reps = 1 if a.quick else 2
    if a.nice is not None:
        NICE[:] = ["nice", "-n", str(a.nice)]
    b = Bench(a)
    t0 = time.time()
    if a.zero or a.links or a.shapes:
        try:
            if a.shapes:
                b.gemm_shapes()
                b.retime_behind()
                print("\n".join(b.shapes_table()))
            if a.zero:
                b.shard_runs()
                print("\n".join(b.zero_table()))
            if a.links:
                b.links_runs()
                if b.res.get("links"):
                    print("\n".join(b.links_table()))
            with open(a.output, "w") as f:
                json.dump(b.res, f, indent=1)
        finally:
            shutil.rmtree(b.tmp, ignore_errors=True)
        return
    try:
        b.machine()
        b.kernel_parts()
        b.gemm_shapes()
        b.allreduce_runs()
        b.shard_runs()
        b.links_runs()
        b.throughput()
        b.profiles()
        b.retime_behind()  # minutes after section 11's first timings
        b.derive()
        b.res["settings"] = {"quick": a.quick, "reps": a.reps, "shard_size": {B: shard_for(B) for B in (64, 128, 256)},
                             "nice": a.nice,
                             "command": " ".join(sys.argv),
                             "seconds": round(time.time() - t0, 1)}
        text = b.table()
        b.res["table"] = text
        with open(a.output, "w") as f:
            json.dump(b.res, f, indent=1)
        print(text)
        print("\nwrote %s (%.0f s)" % (a.output, time.time() - t0))
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
