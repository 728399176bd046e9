"""The PyTorch side of `make bench`: the reference MLP trained on Fashion-MNIST in PyTorch on the CPU.

Adapted from the project's PyTorch baseline script, keeping its data handling (the four .gz files decoded with gzip and numpy,
pixels / 255 as float32 tensors), its model (nn.Linear layers with ReLU between them; 784-256-128-10
by default), its optimizer (Adam, lr 1e-3), its shuffled mini-batches (torch.randperm with a seeded
generator) and its thread count (torch.set_num_threads). What it adds, for Benchmarks/bench.py:

  --precision fp16   torch.autocast(device_type="cpu", dtype=torch.float16) around the forward pass
                     and the loss, with torch.amp.GradScaler("cpu") (dynamic loss scaling, as nntrain's
                     default for fp16): what a PyTorch user writes to emulate fp16 training on a CPU.
                     If autocast or the scaler fails on this build, the script says so in its JSON
                     line ("error") and exits with status 3 instead of timing anything.
  timing of the test evaluation: the seconds of the last epoch's pass over the 10,000 test images
                     (model.eval(), torch.no_grad(), one batch of all rows, under autocast in fp16);
                     the same pass ran after every earlier epoch, as in the baseline, so it is warm.
  a JSON line        the last line of stdout: load_seconds, epoch_seconds (one per epoch, training
                     only, as the baseline times it), test_seconds, test_loss, test_accuracy,
                     torch_version, threads, precision, grad_scaler.

Usage: python pytorch_mlp.py DATA_DIR [--epochs N] [--batch B] [--precision fp32|fp16] [--lr LR]
       [--threads T] [--hidden 256,128] [--seed S]
"""
import argparse
import copy
import gzip
import json
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def idx(path):
    """The array of an IDX file (gzipped), as the baseline reads it."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    nd = magic & 0xFF
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


p = argparse.ArgumentParser(description="Train the reference MLP in PyTorch (the peer of nntrain's benchmark).")
p.add_argument("data")
p.add_argument("--epochs", type=int, default=3)
p.add_argument("--batch", type=int, default=128)
p.add_argument("--precision", choices=["fp32", "fp16"], default="fp32")
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--hidden", default="256,128")
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)

t0 = time.perf_counter()
xtr = torch.from_numpy(idx(f"{a.data}/train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0)
ytr = torch.from_numpy(idx(f"{a.data}/train-labels-idx1-ubyte.gz").astype(np.int64))
xte = torch.from_numpy(idx(f"{a.data}/t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0)
yte = torch.from_numpy(idx(f"{a.data}/t10k-labels-idx1-ubyte.gz").astype(np.int64))
load_s = time.perf_counter() - t0

sizes = [784] + [int(h) for h in a.hidden.split(",")] + [10]
layers = []
for i in range(len(sizes) - 1):
    layers.append(nn.Linear(sizes[i], sizes[i + 1]))
    if i < len(sizes) - 2:
        layers.append(nn.ReLU())
model = nn.Sequential(*layers)
opt = torch.optim.Adam(model.parameters(), lr=a.lr)
fp16 = a.precision == "fp16"


def autocast():
    """fp16: the CPU autocast context; fp32: nothing."""
    return torch.autocast(device_type="cpu", dtype=torch.float16, enabled=fp16)


result = {"torch_version": torch.__version__, "threads": torch.get_num_threads(), "precision": a.precision,
          "batch": a.batch, "load_seconds": load_s, "grad_scaler": fp16}
scaler = None
if fp16:
    # One throw-away step on a copy of the model, so a build without CPU fp16 autocast fails here, named.
    try:
        scaler = torch.amp.GradScaler("cpu")
        probe = copy.deepcopy(model)
        with autocast():
            probe_loss = F.cross_entropy(probe(xtr[:8]), ytr[:8])
        scaler.scale(probe_loss).backward()
        scaler = torch.amp.GradScaler("cpu")  # a fresh scaler for the real run
    except Exception as error:  # report any failure of the fp16 path, whatever its type
        result["error"] = f"torch.autocast fp16 on CPU failed: {type(error).__name__}: {error}".replace("\n", " ")
        print(json.dumps(result))
        sys.exit(3)

g = torch.Generator().manual_seed(a.seed)
times = []
print(f"load_s={load_s:.3f}")
for ep in range(a.epochs):
    model.train()
    perm = torch.randperm(len(xtr), generator=g)
    tl = 0.0
    n = 0
    t = time.perf_counter()
    for i in range(0, len(xtr), a.batch):
        idxs = perm[i:i + a.batch]
        xb = xtr[idxs]
        yb = ytr[idxs]
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = F.cross_entropy(model(xb), yb)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        tl += loss.item() * len(idxs)
        n += len(idxs)
    dt = time.perf_counter() - t
    times.append(dt)
    model.eval()
    t = time.perf_counter()
    with torch.no_grad(), autocast():
        out = model(xte)
        te = F.cross_entropy(out.float(), yte).item()
        acc = (out.argmax(1) == yte).float().mean().item()
    test_s = time.perf_counter() - t
    print(f"epoch={ep+1} train_loss={tl/n:.4f} test_loss={te:.4f} test_acc={acc:.4f} epoch_s={dt:.3f} test_s={test_s:.4f}")

m = sum(times) / len(times)
print(f"torch: mean_epoch_s={m:.3f} samples_per_s={len(xtr)/m:.0f} final_acc={acc:.4f}")
result.update(epoch_seconds=times, test_seconds=test_s, test_loss=te, test_accuracy=acc)
print(json.dumps(result))
