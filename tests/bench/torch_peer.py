#!/usr/bin/python3
"""PyTorch peer for launch/bench: the same model, data, batch and optimizer as reprodist.

--dims IN,H1,...,C is an MLP (ReLU between the layers); --dims cnn is Keras'
simple MNIST convnet of configs/fashion_mnist_cnn.cfg (Conv2d 32 3x3, ReLU,
MaxPool 2, Conv2d 64 3x3, ReLU, MaxPool 2, Flatten, Dropout 0.5, Linear 10;
PyTorch's native NCHW). --dims resnet is configs/fashion_mnist_resnet.cfg's
ResNet-20 and --dims mobilenet configs/fashion_mnist_mobilenet.cfg's MobileNet,
written out below (no torchvision): bias-free convs, BatchNorm2d with Keras'
epsilon 1e-3 and momentum 0.99 (PyTorch's momentum 0.01), ReLU, global average
pooling and a Linear layer. PyTorch pads a stride-2 'same' conv symmetrically
where Keras pads bottom/right only: the same shapes and flops.

One process trains on the whole global batch (world 1); with world W > 1 each
of W processes runs DistributedDataParallel over gloo on batch/W rows of every
global batch, which is what a user would otherwise run on CPU. Every process
uses one thread (torch.set_num_threads(1), OMP/OpenBLAS threads 1), like a
reprodist rank.

The step is the usual loop: gather the batch rows (uint8 -> float * 1/255, as
reprodist's idx source does), forward, cross-entropy from the logits, zero the
grads, backward, Adam (Keras' defaults: lr 1e-3, betas 0.9/0.999, eps 1e-7),
and the running loss and accuracy Keras and reprodist report. Timing: `warmup`
steps (one "epoch"), then `epochs` x `steps` steps, each epoch over a fresh
permutation and timed on its own, between barriers (as reprodist's epochs).

Launch (the driver, tests/bench/bench.py, does this):
  world 1:  torch_peer.py --dims 784,128,10 --batch 64 --steps 300
  world 2:  RANK=r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29555 torch_peer.py ...
Prints one JSON object (rank 0).
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        raw = f.read()
    nd = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(shape)


def resnet(nn):
    """ResNet-20 for 28x28x1 (configs/fashion_mnist_resnet.cfg)."""
    def cbn(cin, cout, k, stride):
        return [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)]

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.main = nn.Sequential(*cbn(cin, cout, 3, stride), nn.ReLU(), *cbn(cout, cout, 3, 1))
            self.proj = nn.Sequential(*cbn(cin, cout, 1, stride)) if stride != 1 or cin != cout else None

        def forward(self, x):
            s = self.proj(x) if self.proj is not None else x
            return torch.relu(s + self.main(x))

    layers = [nn.Unflatten(1, (1, 28, 28)), *cbn(1, 16, 3, 1), nn.ReLU()]
    cin = 16
    for cout in (16, 32, 64):
        for b in range(3):
            layers.append(Block(cin, cout, 2 if (b == 0 and cout != 16) else 1))
            cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def mobilenet(nn):
    """The small MobileNet of configs/fashion_mnist_mobilenet.cfg: depthwise 3x3 (groups = channels) and
    pointwise 1x1 convs, each followed by BatchNorm and ReLU, then a separable conv."""
    def cbr(cin, cout, k, stride=1, groups=1):
        return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01), nn.ReLU()]
    L = [nn.Unflatten(1, (1, 28, 28)), *cbr(1, 32, 3)]
    for cin, cout, stride in ((32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2)):
        L += cbr(cin, cin, 3, stride, groups=cin) + cbr(cin, cout, 1)
    # the last block is one SeparableConv2D: depthwise then pointwise with nothing between them
    L += [nn.Conv2d(256, 256, 3, 1, 1, groups=256, bias=False)] + cbr(256, 256, 1)
    return nn.Sequential(*L, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(256, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dims", default="784,128,10")
    ap.add_argument("--batch", type=int, default=64, help="global batch")
    ap.add_argument("--steps", type=int, default=300, help="timed steps per epoch")
    ap.add_argument("--epochs", type=int, default=1, help="timed epochs")
    ap.add_argument("--warmup", type=int, default=None, help="warm-up steps (default: --steps)")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--cache", default=None, help="directory for an uncompressed copy of the data (startup time only)")
    a = ap.parse_args()

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("gloo", rank=rank, world_size=world)
    assert a.batch % world == 0, "the global batch must split evenly"
    local = a.batch // world

    cache = os.path.join(a.cache, "fashion_mnist_train.npz") if a.cache else None
    if cache and os.path.exists(cache):
        with np.load(cache) as z:
            xs, ys = z["x"], z["y"]
    else:
        xs = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz")).reshape(60000, -1)
        ys = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz")).astype(np.int64)
        if cache and rank == 0:
            np.savez(cache + ".tmp.npz", x=xs, y=ys)
            os.replace(cache + ".tmp.npz", cache)
    X = torch.from_numpy(xs.copy())
    Y = torch.from_numpy(ys.copy())
    n = X.shape[0]
    torch.manual_seed(a.seed)
    nn = torch.nn
    if a.dims == "cnn":
        model = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5),
                              nn.Linear(1600, 10))
    elif a.dims == "resnet":
        model = resnet(nn)
    elif a.dims == "mobilenet":
        model = mobilenet(nn)
    else:
        dims = [int(d) for d in a.dims.split(",")]
        layers = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    scale = 1.0 / 255.0
    gen = torch.Generator().manual_seed(a.seed)
    loss_sum = torch.zeros(())
    correct = torch.zeros((), dtype=torch.int64)

    def run(steps):
        nonlocal loss_sum, correct
        perm = torch.randperm(n, generator=gen)
        nb = n // a.batch
        for s in range(steps):
            b = s % nb
            idx = perm[b * a.batch + rank * local: b * a.batch + (rank + 1) * local]
            x = X[idx].float().mul_(scale)
            y = Y[idx]
            logits = net(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach()
            correct += (logits.detach().argmax(1) == y).sum()

    run(a.warmup if a.warmup is not None else a.steps)
    if world > 1:
        dist.barrier()
    epoch_s = []
    for _ in range(a.epochs):
        t0 = time.perf_counter()
        run(a.steps)
        if world > 1:
            dist.barrier()
        epoch_s.append(time.perf_counter() - t0)
    dt = sum(epoch_s)
    steps = a.steps * a.epochs
    if rank == 0:
        print(json.dumps({
            "bench": "torch", "torch": torch.__version__, "dims": a.dims, "batch": a.batch, "world": world,
            "steps": steps, "seconds": dt, "samples_per_sec": steps * a.batch / dt,
            "step_ms": 1e3 * dt / steps, "threads": torch.get_num_threads(),
            "epoch_samples_per_sec": [a.steps * a.batch / e for e in epoch_s],
            "params": sum(p.numel() for p in model.parameters()),
            "loss": float(loss_sum) / max(1, steps), "backend": "gloo DDP" if world > 1 else "single process"}))
        sys.stdout.flush()
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
