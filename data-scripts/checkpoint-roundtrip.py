#!/usr/bin/env python3
"""Reads a finished run's checkpoints/last.bin with no nntrain code and checks it against the
run's summary.json: the checkpoint is a safetensors file, so Python's safetensors (or, without it,
numpy and the format's three-part layout) opens it; the script rebuilds the MLP from the tensors
and the config in the metadata, in numpy, and

  - fashion-mnist: evaluates the official 10,000 test images and compares accuracy and loss with
    summary.json's test figures (the same images nntrain tested on);
  - bonus with a linear model: maps the learned weights back to the CSV's units and compares them
    with summary.json's weights table.

Usage: data-scripts/checkpoint-roundtrip.py RUN_DIR   (run from the project folder, where the
config's data path is relative). Exit status 0 when the figures agree, 1 when they do not, 2 when
the run cannot be checked (missing files, an interrupted run).
"""
import gzip
import json
import math
import os
import struct
import sys

import numpy as np


def load_checkpoint(path):
    """(tensors by name, metadata): with safetensors when installed, else numpy alone."""
    try:
        from safetensors import safe_open
        from safetensors.numpy import load_file
        with safe_open(path, "np") as f:
            return load_file(path), f.metadata()
    except ImportError:
        pass
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = data[8 + length:]
    dtypes = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U64": np.uint64, "U8": np.uint8}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return tensors, metadata


def resolved_config(text):
    """The resolved config.yaml nntrain writes (section: newline, then two-space-indented key: value)
    as {"section.key": "value"}; comments and nested sections beyond that are not needed here."""
    config, section = {}, ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.strip().partition(":")
        if not line.startswith(" "):
            section = key if not value.strip() else ""
            if value.strip():
                config[key] = value.strip()
        elif line.startswith("  ") and not line.startswith("    "):
            config[f"{section}.{key}"] = value.strip().strip('"')
    return config


def activation(name, slope, config):
    """torch's formula of each activation (torch.nn's docs; softplus's linear region as nn.Softplus)."""
    erf = np.vectorize(math.erf)
    alpha = float(config.get("model.elu_alpha", "1.0"))
    beta = float(config.get("model.softplus_beta", "1.0"))
    threshold = float(config.get("model.softplus_threshold", "20.0"))
    selu_alpha, selu_scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return {
        "relu": lambda z: np.maximum(z, 0),
        "leaky_relu": lambda z: np.where(z > 0, z, slope * z),
        "gelu": lambda z: 0.5 * z * (1 + erf(z / math.sqrt(2))),
        "silu": lambda z: z / (1 + np.exp(-z)),
        "tanh": np.tanh,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "elu": lambda z: np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0))),
        "selu": lambda z: selu_scale * np.where(z > 0, z, selu_alpha * np.expm1(np.minimum(z, 0))),
        "mish": lambda z: z * np.tanh(np.logaddexp(0, z)),
        "softplus": lambda z: np.where(beta * z > threshold, z, np.logaddexp(0, beta * z) / beta),
        "hardswish": lambda z: z * np.clip(z + 3, 0, 6) / 6,
    }[name]


def forward(tensors, metadata, config, x):
    """The network in evaluation mode: each hidden layer z = xWᵀ + b, [batch norm with running
    statistics, or layer norm over each row (model.norm: layer, no running statistics); ε = 1e-5],
    activation; dropout is the identity; the last layer is linear, followed by
    y = σ·z + μ when the checkpoint carries a standardised target's target.scale and target.shift."""
    names = json.loads(metadata["nntrain.parameters"])
    linears = sorted({n.rsplit(".", 1)[0] for n in names if n.startswith("layers.")}, key=lambda n: int(n.split(".")[1]))
    f = activation(config["model.activation"], float(config.get("model.leaky_slope", "0.01")), config)
    for i, layer in enumerate(linears):
        x = x @ tensors[layer + ".weight"].T + tensors[layer + ".bias"]
        if i == len(linears) - 1:
            if "target.scale" in tensors:  # a standardised regression target: y = σ·z + μ
                x = tensors["target.scale"] * x + tensors["target.shift"]
            break
        norm = f"norms.{i}"
        if norm + ".running_mean" in tensors:
            x = (x - tensors[norm + ".running_mean"]) / np.sqrt(tensors[norm + ".running_var"] + 1e-5)
            x = x * tensors[norm + ".weight"] + tensors[norm + ".bias"]
        elif norm + ".weight" in tensors:  # nn.LayerNorm: each row's own mean and (biased) variance
            mean = x.mean(axis=1, keepdims=True)
            x = (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=1, keepdims=True) + 1e-5)
            x = x * tensors[norm + ".weight"] + tensors[norm + ".bias"]
        x = f(x)
    return x


def check_fashion_mnist(tensors, metadata, config, summary):
    folder = config["data.path"]
    with gzip.open(os.path.join(folder, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 784).astype(np.float32)
    with gzip.open(os.path.join(folder, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64)
    x = (images - tensors["normalizer.shift"]) * tensors["normalizer.scale"]
    logits = forward(tensors, metadata, config, x).astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    loss = float(np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(labels)), labels]))
    accuracy = float(np.mean(logits.argmax(axis=1) == labels))
    test = summary["test"]
    print(f"test accuracy: numpy {accuracy:.4f}, nntrain {test['accuracy']:.4f}; "
          f"loss: numpy {loss:.6f}, nntrain {test['loss']:.6f}")
    # float32 sums in another order: a near-tie may fall the other way for a few of 10,000 images.
    return abs(accuracy - test["accuracy"]) <= 3e-4 and abs(loss - test["loss"]) <= 1e-4 * max(1, abs(test["loss"]))


def check_linear_weights(tensors, metadata, summary):
    if "layers.1.weight" in tensors or not summary.get("weights"):
        print("no weights table in summary.json (not a linear model on data with known weights): nothing to compare")
        return True
    w, b = tensors["layers.0.weight"][0].astype(np.float64), float(tensors["layers.0.bias"][0])
    shift, scale = tensors["normalizer.shift"].astype(np.float64), tensors["normalizer.scale"].astype(np.float64)
    raw = w * scale  # ŷ = Σ w_j (x_j − shift_j) scale_j + b
    bias = b - float(np.sum(raw * shift))
    if "target.scale" in tensors:  # a standardised target: y = σ·ŷ + μ
        sigma, mu = float(tensors["target.scale"][0]), float(tensors["target.shift"][0])
        raw, bias = sigma * raw, sigma * bias + mu
    learned = dict(zip(json.loads(metadata["nntrain.feature_names"]), raw), bias=bias)
    ok = True
    for row in summary["weights"]:
        mine = learned[row["name"]]
        agree = abs(mine - row["learned"]) <= 1e-5 * max(1, abs(row["learned"]))
        ok &= agree
        print(f"{row['name']}: checkpoint {mine:.6f}, summary.json {row['learned']:.6f}{'' if agree else '  MISMATCH'}")
    return ok


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    run = sys.argv[1]
    checkpoint, summary_path = os.path.join(run, "checkpoints", "last.bin"), os.path.join(run, "summary.json")
    if not (os.path.exists(checkpoint) and os.path.exists(summary_path)):
        print(f"{run}: expected checkpoints/last.bin and summary.json of a finished nntrain run", file=sys.stderr)
        return 2
    tensors, metadata = load_checkpoint(checkpoint)
    if metadata.get("nntrain.reason") != "final":
        print(f"{checkpoint}: written on {metadata.get('nntrain.reason')}, not at the end of training; resume the run first",
              file=sys.stderr)
        return 2
    # With an average as the final model (nntrain.final_model ema or swa), its tensors are the ones tested;
    # ASGD's ax is one flat buffer, the parameters in nntrain.parameters' order.
    final = metadata.get("nntrain.final_model", "model")
    if final == "ax":
        flat, offset = tensors["optimizer.ax"].reshape(-1), 0
        for name in json.loads(metadata["nntrain.parameters"]):
            size = tensors[name].size
            tensors[name] = flat[offset:offset + size].reshape(tensors[name].shape)
            offset += size
    elif final != "model":
        tensors = {**tensors, **{n[len(final) + 1:]: t for n, t in tensors.items() if n.startswith(final + ".")}}
    config = resolved_config(metadata["nntrain.config"])
    summary = json.load(open(summary_path))
    print(f"{checkpoint}: {metadata['nntrain.architecture']}, {len(tensors)} tensors, nntrain {metadata['nntrain.version']}")
    if config["data.dataset"] == "fashion-mnist":
        ok = check_fashion_mnist(tensors, metadata, config, summary)
    else:
        ok = check_linear_weights(tensors, metadata, summary)
    print("ok: the checkpoint read in Python gives nntrain's figures" if ok else "FAILED: the figures differ")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
