#!/usr/bin/env python3
"""Checks nntrain's optimizers, schedules and layers against real PyTorch, step by step.

For each case, nntrain trains a small MLP on a generated 3-class table with full-batch gradient descent
(one optimizer step an epoch) and keeps every epoch's checkpoint. The script then builds the same network
in PyTorch from its own modules (nn.Linear, nn.BatchNorm1d, nn.LayerNorm, nn.PReLU, torch.nn.functional's
activations), names its parameters as nntrain's checkpoints do, loads the weights and the optimizer state
of the checkpoint after step 1 (the state tensors carry torch's own keys), and takes the next steps with
torch.optim and torch.optim.lr_scheduler, in float64 and in float32. After every step the weights and
every optimizer state tensor of nntrain's checkpoint must equal torch's float64 ones to float32 noise: within
TOLERANCE, or within NOISE_FACTOR times the distance of torch's own float32 run (see run_case).

    python3 data-scripts/torch-check.py NNTRAIN [--only NAME] [--steps 5]

Needs torch and numpy (make torch-check installs them in .venv-torch). Exits 1 when a case differs.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)
# Float32 noise: the steps run in another summation order (OpenBLAS against MKL), and Adam's and RMSprop's
# normalised steps magnify the relative noise of small gradients; a wrong formula differs by 1e-3 or more.
# LBFGS's curvature pairs magnify it further, so nntrain may also be as far from float64 as torch's float32.
TOLERANCE = 1e-4
NOISE_FACTOR = 10

# name: (config lines under their sections, torch optimizer factory of (parameters, param groups), scheduler
# factory or None)
CASES = {
    "sgd-nesterov-wd": ({"optimizer": "name: sgd\n  lr: 0.05\n  momentum: 0.9\n  nesterov: true\n  weight_decay: 0.01"},
                        lambda ps, g: torch.optim.SGD(g, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01), None),
    "adam-amsgrad": ({"optimizer": "name: adam\n  lr: 0.01\n  amsgrad: true\n  weight_decay: 0.001"},
                     lambda ps, g: torch.optim.Adam(g, lr=0.01, amsgrad=True, weight_decay=0.001), None),
    "adamw": ({"optimizer": "name: adamw\n  lr: 0.01"}, lambda ps, g: torch.optim.AdamW(g, lr=0.01), None),
    # (centered is left out: with one full batch the gradient hardly changes, so E[g²] − E[g]² cancels to
    # rounding noise in both, which the division then magnifies.)
    "rmsprop-momentum": ({"optimizer": "name: rmsprop\n  lr: 0.01\n  momentum: 0.5\n  weight_decay: 0.01"},
                         lambda ps, g: torch.optim.RMSprop(g, lr=0.01, momentum=0.5, weight_decay=0.01), None),
    "adagrad": ({"optimizer": "name: adagrad\n  lr: 0.05\n  lr_decay: 0.01"},
                lambda ps, g: torch.optim.Adagrad(g, lr=0.05, lr_decay=0.01), None),
    "nadam": ({"optimizer": "name: nadam\n  lr: 0.01"}, lambda ps, g: torch.optim.NAdam(g, lr=0.01), None),
    "adadelta-wd": ({"optimizer": "name: adadelta\n  rho: 0.8\n  weight_decay: 0.01"},
                    lambda ps, g: torch.optim.Adadelta(g, lr=1.0, rho=0.8, weight_decay=0.01), None),
    "adamax-wd": ({"optimizer": "name: adamax\n  weight_decay: 0.01"},
                  lambda ps, g: torch.optim.Adamax(g, lr=2e-3, weight_decay=0.01), None),
    "radam": ({"optimizer": "name: radam\n  lr: 0.01\n  weight_decay: 0.01"},
              lambda ps, g: torch.optim.RAdam(g, lr=0.01, weight_decay=0.01), None),
    "radam-decoupled": ({"optimizer": "name: radam\n  lr: 0.01\n  weight_decay: 0.01\n  decoupled_weight_decay: true"},
                        lambda ps, g: torch.optim.RAdam(g, lr=0.01, weight_decay=0.01, decoupled_weight_decay=True), None),
    "rprop": ({"optimizer": "name: rprop\n  etas: [0.4, 1.3]\n  step_sizes: [0.000001, 0.5]"},
              lambda ps, g: torch.optim.Rprop(g, lr=0.01, etas=(0.4, 1.3), step_sizes=(1e-6, 0.5)), None),
    "asgd-averaging": ({"optimizer": "name: asgd\n  lr: 0.05\n  t0: 2\n  lambd: 0.01\n  weight_decay: 0.01"},
                       lambda ps, g: torch.optim.ASGD(g, lr=0.05, t0=2, lambd=0.01, weight_decay=0.01), None),
    "lbfgs": ({"optimizer": "name: lbfgs\n  lr: 0.1\n  max_iter: 4\n  history_size: 3"},
              lambda ps, g: torch.optim.LBFGS(ps, lr=0.1, max_iter=4, history_size=3), None),
    "lbfgs-strong-wolfe": ({"optimizer": "name: lbfgs\n  max_iter: 4\n  history_size: 3\n  line_search_fn: strong_wolfe"},
                           lambda ps, g: torch.optim.LBFGS(ps, lr=1, max_iter=4, history_size=3,
                                                           line_search_fn="strong_wolfe"), None),
    "polynomial": ({"optimizer": "name: sgd\n  lr: 0.1", "scheduler": "name: polynomial\n  total_iters: 4\n  power: 2.0"},
                   lambda ps, g: torch.optim.SGD(g, lr=0.1),
                   lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=4, power=2.0)),
    "constant-factor": ({"optimizer": "name: sgd\n  lr: 0.1", "scheduler": "name: constant\n  factor: 0.5\n  total_iters: 3"},
                        lambda ps, g: torch.optim.SGD(g, lr=0.1),
                        lambda o: torch.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3)),
}
# Layers: (model lines, optimizer) with Adam.
ADAM = ({"optimizer": "name: adam\n  lr: 0.01\n  weight_decay: 0.01"},
        lambda ps, g: torch.optim.Adam(g, lr=0.01, weight_decay=0.01), None)
LAYERS = {
    "batch-norm": "norm: batch",
    "layer-norm": "norm: layer",
    "elu": "activation: elu\n  elu_alpha: 0.7",
    "selu": "activation: selu",
    "mish": "activation: mish",
    "softplus": "activation: softplus\n  softplus_beta: 2.0\n  softplus_threshold: 3.0",
    "hardswish": "activation: hardswish",
    "gelu": "activation: gelu",
    "prelu": "activation: prelu\n  prelu_init: 0.2",
    "layer-norm-prelu": "norm: layer\n  activation: prelu",
    "residual": "residual: true",
    "residual-layer-norm-prelu": "residual: true\n  norm: layer\n  activation: prelu",
    "residual-batch-norm": "residual: true\n  norm: batch",
}
# Frozen layers and per-layer learning rates (training.freeze, freeze_epochs, optimizer.layer_lr), with batch
# norm: torch freezes with requires_grad_(False) and a frozen batch norm's eval(), steps each layer's param group
# at lr × its multiplier, and gives a layer that thaws fresh per-parameter state (its step counts from 1).
FREEZE = {
    "freeze-batch-norm-layer-lr": ({"optimizer": "name: adam\n  lr: 0.01\n  weight_decay: 0.01\n  layer_lr: [0.5, 1, 2, 1]",
                                    "training": "freeze: [1]"},
                                   lambda ps, g: torch.optim.Adam(g, lr=0.01, weight_decay=0.01), None),
    "freeze-epochs-adam": ({"optimizer": "name: adam\n  lr: 0.01\n  weight_decay: 0.01", "training": "freeze_epochs: 3"},
                           lambda ps, g: torch.optim.Adam(g, lr=0.01, weight_decay=0.01), None),
    "freeze-epochs-nadam-layer-lr": ({"optimizer": "name: nadam\n  lr: 0.01\n  layer_lr: [0.3, 1, 1, 2]",
                                      "training": "freeze: [0, 2]\n  freeze_epochs: 2"},
                                     lambda ps, g: torch.optim.NAdam(g, lr=0.01), None),
    "freeze-epochs-rprop-layer-lr": ({"optimizer": "name: rprop\n  lr: 0.01\n  layer_lr: [0.1, 1, 1, 3]",
                                      "training": "freeze_epochs: 2"},
                                     lambda ps, g: torch.optim.Rprop(g, lr=0.01), None),
    "freeze-epochs-sgd-dampening": ({"optimizer": "name: sgd\n  lr: 0.05\n  momentum: 0.9\n  dampening: 0.3",
                                     "training": "freeze_epochs: 2"},
                                    lambda ps, g: torch.optim.SGD(g, lr=0.05, momentum=0.9, dampening=0.3), None),
}


def load_checkpoint(path):
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = data[8 + length:]
    dtypes = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U64": np.uint64, "U8": np.uint8}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=dtypes[entry["dtype"]]).reshape(entry["shape"]).copy()
    return tensors, metadata


def resolved(metadata):
    """{"section.key": "value"} of the checkpoint's resolved config (two levels, as nntrain writes it)."""
    config, section = {}, ""
    for line in metadata["nntrain.config"].splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        text = line.split(" #")[0].rstrip()
        if not line.startswith(" "):
            section = text.rstrip(":").strip()
            if ":" in text and not text.endswith(":"):
                key, value = text.split(":", 1)
                config[key.strip()] = value.strip()
        elif line.startswith("  ") and not line.startswith("    ") and ":" in text:
            key, value = text.strip().split(":", 1)
            config[f"{section}.{key.strip()}"] = value.strip()
    return config


def write_data(folder):
    rng = np.random.default_rng(7)
    rows, path = [], os.path.join(folder, "table.csv")
    for i in range(90):
        label = i % 3
        x = rng.normal(size=4) + np.array([label, -label, 0.5 * label, 0.0])
        rows.append(",".join(f"{v:.4f}" for v in x) + f",{'abc'[label]}")
    open(path, "w").write("f0,f1,f2,f3,label\n" + "\n".join(rows) + "\n")
    open(os.path.join(folder, "test.csv"), "w").write("f0,f1,f2,f3,label\n" + "\n".join(rows[:6]) + "\n")
    return path


def config_text(data_path, run_dir, sections, model_lines, steps):
    optimizer = sections["optimizer"]
    scheduler = sections.get("scheduler", "name: constant")
    return f"""seed: 3
data:
  dataset: csv
  path: {data_path}
  target: label
  validation_split: 0
  test_path: {os.path.join(os.path.dirname(data_path), "test.csv")}
  normalize: none
model:
  hidden: [6, 6, 5]
  {model_lines}
loss: cross_entropy
optimizer:
  {optimizer}
scheduler:
  {scheduler}
training:
  epochs: {steps + 1}
  batch_size: full
  {sections.get("training", "")}
checkpoint:
  every_n_epochs: 1
  keep_last: {steps + 2}
output:
  dir: {run_dir}
  plots: false
"""


class TorchMLP(nn.Module):
    """The MLP of an nntrain config, built from torch's modules; parameter names are nntrain's
    (layers.i, norms.i, activations.i, shortcuts.i)."""

    def __init__(self, config, widths):
        super().__init__()
        self.widths = widths
        self.activation = config.get("model.activation", "relu")
        self.norm = config.get("model.norm", "batch" if config.get("model.batch_norm") == "true" else "none")
        self.residual = config.get("model.residual", "false") == "true"
        self.config = config
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        hidden = widths[1:-1]
        if self.norm == "batch":
            self.norms = nn.ModuleList(nn.BatchNorm1d(w) for w in hidden)
        elif self.norm == "layer":
            self.norms = nn.ModuleList(nn.LayerNorm(w, eps=1e-5) for w in hidden)
        if self.activation == "prelu":
            self.activations = nn.ModuleList(nn.PReLU(w) for w in hidden)
        if self.residual:
            self.shortcuts = nn.ModuleDict({str(i): nn.Linear(widths[i], widths[i + 1], bias=False)
                                            for i in range(1, len(hidden)) if widths[i] != widths[i + 1]})

    def act(self, i, z):
        c, a = self.config, self.activation
        if a == "relu":
            return F.relu(z)
        if a == "elu":
            return F.elu(z, alpha=float(c.get("model.elu_alpha", 1.0)))
        if a == "selu":
            return F.selu(z)
        if a == "mish":
            return F.mish(z)
        if a == "softplus":
            return F.softplus(z, beta=float(c.get("model.softplus_beta", 1)), threshold=float(c.get("model.softplus_threshold", 20)))
        if a == "hardswish":
            return F.hardswish(z)
        if a == "gelu":
            return F.gelu(z)
        if a == "prelu":
            return self.activations[i](z)
        raise SystemExit(f"activation {a} not known to this script")

    def forward(self, x):
        h = x
        for i in range(len(self.widths) - 2):
            z = self.layers[i](h)
            if self.norm != "none":
                z = self.norms[i](z)
            a = self.act(i, z)
            if self.residual and i >= 1:
                a = a + (self.shortcuts[str(i)](h) if str(i) in getattr(self, "shortcuts", {}) else h)
            h = a
        return self.layers[-1](h)


def torch_state(name, tensors, metadata, params, names):
    """torch's per-parameter optimizer state from an nntrain checkpoint's optimizer.* buffers and counters."""
    state = json.loads(metadata["nntrain.state"])
    counters = state.get("optimizerCounters", {})
    buffers = {k[len("optimizer."):]: v.reshape(-1) for k, v in tensors.items() if k.startswith("optimizer.")}
    if name == "lbfgs":  # one state for all parameters, under the first (torch's _params[0]); the history oldest first
        history = sorted(int(k.split(".")[1]) for k in buffers if k.startswith("old_dirs."))
        return {params[0]: {
            "d": torch.tensor(buffers["d"]), "t": counters["t"], "prev_flat_grad": torch.tensor(buffers["prev_flat_grad"]),
            "prev_loss": counters["prev_loss"], "n_iter": int(counters["n_iter"]), "func_evals": int(counters["func_evals"]),
            "H_diag": torch.tensor(counters["H_diag"], dtype=torch.float32),
            "old_dirs": [torch.tensor(buffers[f"old_dirs.{i}"]) for i in history],
            "old_stps": [torch.tensor(buffers[f"old_stps.{i}"]) for i in history],
            "ro": [torch.tensor(counters[f"ro.{i}"], dtype=torch.float32) for i in history]}}
    result, offset = {}, 0
    for p, pname in zip(params, names):
        n = p.numel()
        entry = {k: torch.tensor(v[offset:offset + n].reshape(tuple(p.shape))) for k, v in buffers.items()}
        offset += n
        for key, value in counters.items():
            if key == "has_momentum_buffer" or "." in key:  # thawed.<name>: a cohort's that torch keeps per parameter
                continue
            entry[key] = torch.tensor(float(value), dtype=torch.float32)
        if name in ("rmsprop", "adadelta"):  # torch counts steps there; nntrain needs no counter
            entry["step"] = torch.tensor(float(state["stepCount"]), dtype=torch.float32)
        result[p] = entry
    return result


def layer_of(name):
    return int(name.split(".")[1])


def frozen_layers(config, epoch, layer_count):
    """The linear layers nntrain's training.freeze / freeze_epochs freeze during `epoch` (from 1)."""
    listed = json.loads(config["training.freeze"]) if "training.freeze" in config else None
    epochs = int(config["training.freeze_epochs"]) if "training.freeze_epochs" in config else None
    if epochs is None:
        return set(listed or [])
    return set() if epoch > epochs else set(listed if listed is not None else range(layer_count - 1))


def torch_trajectory(dtype, config, start, metadata, names, x, y, widths, make_optimizer, make_scheduler, steps):
    """torch's steps 2 … steps+1 from the checkpoint `start` of step 1, in `dtype`: after each step, every
    parameter and every optimizer state tensor torch keeps under nntrain's key, as float64 arrays by the
    checkpoint's names (`optimizer.<key>` flat over all parameters), and the step's loss."""
    model = TorchMLP(config, widths).to(dtype)
    parameters = dict(model.named_parameters())
    if set(parameters) != set(names):
        raise SystemExit(f"torch's parameters {sorted(parameters)} are not nntrain's {sorted(names)}")
    with torch.no_grad():
        for n in names:
            parameters[n].copy_(torch.tensor(start[n]))
        for i, norm in enumerate(getattr(model, "norms", [])):
            if isinstance(norm, nn.BatchNorm1d):
                norm.running_mean.copy_(torch.tensor(start[f"norms.{i}.running_mean"]))
                norm.running_var.copy_(torch.tensor(start[f"norms.{i}.running_var"]))
                norm.num_batches_tracked.fill_(1)
    params = [parameters[n] for n in names]
    decay_free = {n for n in names if n.startswith(("norms.", "activations."))}
    layer_lr = json.loads(config["optimizer.layer_lr"]) if "optimizer.layer_lr" in config else None
    if layer_lr:  # one group per layer (and decay), at lr × the layer's multiplier
        lr = float(config["optimizer.lr"])
        groups = [{"params": [parameters[n] for n in names if layer_of(n) == i and (n in decay_free) == free],
                   "lr": lr * scale, **({"weight_decay": 0.0} if free else {})}
                  for i, scale in enumerate(layer_lr) for free in (False, True)]
    else:
        groups = [{"params": [parameters[n] for n in names if n not in decay_free]},
                  {"params": [parameters[n] for n in names if n in decay_free], "weight_decay": 0.0}]
    optimizer = make_optimizer(params, [g for g in groups if g["params"]])
    kind = config["optimizer.name"]
    layer_count = len(widths) - 1
    frozen_at_start = frozen_layers(config, 1, layer_count)
    name_of = {id(p): n for p, n in zip(params, names)}
    for p, entry in torch_state(kind, start, metadata, params, names).items():
        if layer_of(name_of[id(p)]) in frozen_at_start:  # never stepped: torch has no state for it
            continue
        optimizer.state[p] = {k: (v.to(dtype) if torch.is_tensor(v) and v.is_floating_point() else
                                  [u.to(dtype) for u in v] if isinstance(v, list) else v) for k, v in entry.items()}
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    if scheduler:  # the schedule's clock after epoch 1
        scheduler.step()
    x = x.to(dtype)

    def closure():
        optimizer.zero_grad()
        value = F.cross_entropy(model(x), y)
        value.backward()
        return value

    def freeze(epoch):
        model.train()
        frozen = frozen_layers(config, epoch, layer_count)
        for n in names:
            parameters[n].requires_grad_(layer_of(n) not in frozen)
        for i, norm in enumerate(getattr(model, "norms", [])):
            if i in frozen and isinstance(norm, nn.BatchNorm1d):
                norm.eval()

    trajectory = []
    for k in range(steps):
        freeze(k + 2)
        loss = optimizer.step(closure) if kind == "lbfgs" else closure()
        if kind != "lbfgs":
            optimizer.step()
        if scheduler:
            scheduler.step()
        values = {n: p.detach().double().numpy().reshape(-1).copy() for n, p in zip(names, params)}
        if kind == "lbfgs":  # its flat state: the direction and the last gradient
            for key in ("d", "prev_flat_grad"):
                values[f"optimizer.{key}"] = optimizer.state[params[0]][key].double().numpy().copy()
        else:
            keys = {k for p in params for k, v in optimizer.state[p].items() if torch.is_tensor(v) and v.numel() == p.numel()}
            for key in keys:  # a parameter that has not stepped yet has no state: nntrain's buffers hold zeros there
                values[f"optimizer.{key}"] = np.concatenate([
                    optimizer.state[p][key].double().numpy().reshape(-1) if key in optimizer.state[p]
                    else np.zeros(p.numel()) for p in params])
        trajectory.append((float(loss.detach()) if torch.is_tensor(loss) else float(loss), optimizer.param_groups[0]["lr"], values))
    return trajectory


def run_case(nntrain, folder, data_path, label, sections, model_lines, make_optimizer, make_scheduler, steps):
    """nntrain's checkpoints after steps 2 … steps+1 against torch's float64 steps from its checkpoint of step 1.
    The difference of a value is |a − b| / (1e-3 + |b|); a case passes when nntrain's largest is below
    TOLERANCE, or below NOISE_FACTOR times torch's own float32 run's (where the steps magnify float32 noise,
    as LBFGS's curvature pairs do, nntrain must stay as close to exact arithmetic as torch itself is)."""
    run_dir = os.path.join(folder, label)
    config_path = os.path.join(folder, label + ".yaml")
    open(config_path, "w").write(config_text(data_path, run_dir, sections, model_lines, steps))
    done = subprocess.run([nntrain, "run", config_path, "--quiet", "--force"], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"{label}: nntrain failed: {done.stderr.strip()}")
        return False
    checkpoints = [os.path.join(run_dir, "checkpoints", f"epoch-{k:04d}.bin") for k in range(1, steps + 2)]
    start, metadata = load_checkpoint(checkpoints[0])
    config = resolved(metadata)
    names = json.loads(metadata["nntrain.parameters"])
    classes = json.loads(metadata["nntrain.class_names"])
    features = json.loads(metadata["nntrain.feature_names"])
    table = np.genfromtxt(data_path, delimiter=",", names=True, dtype=None, encoding="utf-8")
    x = torch.tensor(np.stack([table[f].astype(np.float32) for f in features], axis=1))
    y = torch.tensor([classes.index(v) for v in table["label"]])
    widths = [x.shape[1]] + json.loads(config["model.hidden"].replace(" ", "")) + [len(classes)]
    arguments = (config, start, metadata, names, x, y, widths, make_optimizer, make_scheduler, steps)
    exact, single = torch_trajectory(torch.float64, *arguments), torch_trajectory(torch.float32, *arguments)
    # A hidden linear layer's bias before batch norm has a zero gradient but for rounding, which Adam's
    # normalised step turns into steps of noise: those biases are not compared.
    batch_norm = config.get("model.norm") == "batch"
    noise_only = {f"layers.{i}.bias" for i in range(len(widths) - 2)} if batch_norm else set()
    offsets, offset = {}, 0
    for n in names:
        offsets[n] = (offset, offset + start[n].size)
        offset += start[n].size
    mine_worst, torch_worst, where = 0.0, 0.0, ""
    for k in range(steps):
        expected, _ = load_checkpoint(checkpoints[k + 1])
        for key, reference in exact[k][2].items():
            saved = expected.get(key)
            if saved is None or key in noise_only:
                continue
            saved = saved.reshape(-1).astype(np.float64)
            keep = np.ones(reference.size, dtype=bool)
            if key.startswith("optimizer.") and len(saved) == offset:
                for n in noise_only:
                    keep[offsets[n][0]:offsets[n][1]] = False
            scale = 1e-3 + np.abs(reference[keep])
            mine = float(np.max(np.abs(saved[keep] - reference[keep]) / scale))
            theirs = float(np.max(np.abs(single[k][2][key][keep] - reference[keep]) / scale))
            torch_worst = max(torch_worst, theirs)
            if mine > mine_worst:
                mine_worst, where = mine, key
        if os.environ.get("TORCH_CHECK_VERBOSE"):
            print(f"  step {k + 2}: torch's loss {exact[k][0]:.7f}, lr {exact[k][1]:.6g}, largest difference from float64 "
                  f"so far: nntrain {mine_worst:.2e} ({where}), torch float32 {torch_worst:.2e}")
    ok = mine_worst <= max(TOLERANCE, NOISE_FACTOR * torch_worst)
    print(f"{label}: {steps} steps after step 1, largest relative difference from torch in float64 {mine_worst:.2e} "
          f"({where}); torch's own float32 run {torch_worst:.2e}{'' if ok else '  MISMATCH'}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("nntrain")
    parser.add_argument("--only", default=None, help="run only cases whose name contains this")
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = [(n, s, "activation: relu", o, sc) for n, (s, o, sc) in CASES.items()]
    cases += [(n, ADAM[0], lines, ADAM[1], ADAM[2]) for n, lines in LAYERS.items()]
    cases += [(n, s, "norm: batch", o, sc) for n, (s, o, sc) in FREEZE.items()]
    failures = []
    with tempfile.TemporaryDirectory() as folder:
        data_path = write_data(folder)
        for label, sections, model_lines, optimizer, scheduler in cases:
            if args.only and args.only not in label:
                continue
            if not run_case(args.nntrain, folder, data_path, label, sections, model_lines, optimizer, scheduler, args.steps):
                failures.append(label)
    print("ok: every case follows torch" if not failures else f"FAILED: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
