#!/usr/bin/env python3
"""The exports checked by the real runtime: nntrain's ONNX files run in ONNX Runtime, and its
safetensors state_dict recomputed in numpy (and in PyTorch when it is installed), each against
`nntrain predict` on the same rows.

Thirteen small models are trained in WORK (a few seconds each), one of each kind export handles:

  fashion-mnist  configs/fashion-mnist.txt for 1 epoch with hidden [64], batch norm and gelu
                 (batch norm folded into the Gemm, GELU's erf form); test rows: the 10,000 t10k images
  penguins       configs/penguins.txt (relu): numeric columns with NA, the text columns island and sex
                 (categorical inputs of the graph); test rows: the whole CSV, NA rows included
  penguins-bf16  the same, trained in bf16 mixed precision with batch norm: the file computes in
                 float32, as `nntrain predict --quantize none` does (plain predict emulates autocast)
  regression     the same CSV, target body_mass_g (a standardised target: y = σ·z + μ in the graph),
                 hidden [16, 8], leaky_relu with slope 0.1, the species a third text column
  penguins-pruned  the penguins classifier with hidden [32, 16], batch norm and half of each hidden
                 layer's units pruned (pruning.method neurons): the file holds the smaller 16-8
                 network (pruned units dropped, their constant outputs folded into the next bias),
                 nntrain predict runs the full network with its masks, so equal outputs prove the
                 shrinking exact
  penguins-selu, -elu, -mish, -softplus, -hardswish, -prelu  hidden [16, 8], 40 epochs, one activation each
                 (elu with alpha 0.5, softplus with beta 2 and threshold 3, so that the Where of its
                 linear region matters): Selu, Elu, HardSwish (HardSigmoid·x at opset 13), Mish (at 21;
                 x·tanh(softplus x) at 13 and 17), Softplus around Mul, Div, Greater and Where; PRelu with
                 the learned slopes [width] (prelu_init 0.3), nn.PReLU(num_parameters=width) in numpy
  penguins-residual  hidden [16, 16, 8], 40 epochs, model.residual: an identity skip (Add) and a projection
                 (Add of MatMul by Pᵀ); the state_dict through the printed ResidualMLP in numpy
  penguins-layernorm  hidden [16, 8], 40 epochs, model.norm layer and gelu: LayerNormalization (opsets 17
                 and 21) and its ReduceMean, Sub, Mul, Sqrt, Div written out at 13; nn.LayerNorm in the
                 state_dict

Two ensembles (issue 18) are checked too, when the penguins CSV is there:

  ensemble       the penguins classifier with two more members trained with the same seed (so the same
                 splits, categories and fills): hidden [24] tanh with min-max scaling (another
                 normaliser), and hidden [16, 16] without normalisation; `nntrain export A B C` and
                 ONNX Runtime's `probabilities` within 1e-5 of `nntrain predict A B C --probabilities`,
                 the same class on every row, the graph's only output `probabilities`, and the metadata
                 member_fingerprints equal to the checkpoints' nntrain.crc32 in order
  ensemble-regression  the regression model and one of hidden [8]; `value` (over the target's standard
                 deviation) within 1e-5 of `nntrain predict A B`'s

Each single model is exported (`nntrain export`) as fp32, fp16 and int8 ONNX at the default opset 17, as fp32 at
opsets 13 and 21 too, and as fp32 and fp16 safetensors, and checked:

  checker    onnx.checker.check_model(model, full_check=True) (with shape inference); the graph's
             inputs, and the metadata_props class_names, feature_names and quantization, equal to
             the checkpoint's; for int8 each QuantizeLinear's scale and zero point equal to the ones
             `nntrain eval --quantize int8 --json` reports
  fp32       (each opset) ONNX Runtime's probabilities (a regression's values, divided by the
             target's standard deviation over the file) within 1e-5 of `nntrain predict
             --quantize none --probabilities`'s, and the same class on every row
  fp16       within 1e-2 of the fp32 predictions (what rounding the weights costs), and within 1e-5
             of `nntrain predict --quantize fp16`'s, which computes what the file computes
  int8       the class of every row equal to `nntrain predict --quantize int8`'s. Both compute the
             same integer products, so only float rounding in what surrounds them (the dequantizing
             scale, the bias, the activation, the division before the next rounding) can differ; a
             row may then go the other way only when its two best logits all but tie: a
             disagreement passes when the two classes' logits are within INT8_TIE_LOGITS of each
             other on both sides (ORT's logits, and nntrain's as log pₐ − log p_b of its
             probabilities), and is listed either way. For Fashion-MNIST, ONNX Runtime's test
             accuracy must also equal `nntrain eval --quantize int8 --json`'s (give or take the
             listed ties). A regression's int8 values must be within INT8_REGRESSION_SPREAD
             standard deviations of predict's.
  safetensors  (fp32 and fp16) the state_dict loaded with safetensors.numpy and run through the
             nn.Sequential that `nntrain export --format safetensors` prints (read with Python's ast,
             each module's forward written out in numpy below: batch norm in eval mode), the input
             encoded from the file's own nntrain.input schema (one-hot over the sorted categories,
             missing values filled) and normalised with its nntrain.normalizer.shift and .scale, a
             regression's output through nntrain.target.scale and .shift; within 1e-5 of predict's
             (fp16: 1e-2 of `predict --quantize fp16`'s, batch norm being unfolded there). When torch
             can be imported, the printed Python is also run (it loads the file with
             load_state_dict, strict) and its predict(x) must give numpy's outputs.

The ONNX inputs are fed as docs/onnx.md describes: `input`, float [N, 784] raw pixels 0-255, for
images; for a CSV one input per feature column named as the column, [N, 1], float (NaN for a
missing value) or string (the CSV's text). Every check prints one `ok: ...` or `FAILED: ...` line;
a model whose data is missing prints `skipped: ...`. Exit status 0 when every check passed, 1 when
one failed, 2 on bad usage.

Usage (from the project folder):
    data-scripts/onnx-check.py [--nntrain .build/release/nntrain] [--work runs/onnx-check]
                               [--fashion-mnist data/fashion-mnist] [--penguins data/penguins.csv] [--only NAME]
Needs numpy, onnx, onnxruntime and safetensors (.ci/run pins them in .venv-onnx); torch is optional.
"""
import argparse
import ast
import csv
import gzip
import json
import math
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from safetensors import safe_open
from safetensors.numpy import load_file

FP32_TOLERANCE = 1e-5
FP16_TOLERANCE = 1e-2
# fp16 files against nntrain's fp16 simulation: the same float32 arithmetic on the same rounded weights.
FP16_SIMULATION_TOLERANCE = 1e-5
SAFETENSORS_TOLERANCE = 1e-5
# Two logits closer than this are a tie for the int8 comparison: float32 rounding of values of a few
# units differs in the 6th or 7th digit; 1e-4 leaves room for a sum of a hundred such terms.
INT8_TIE_LOGITS = 1e-4
INT8_REGRESSION_SPREAD = 1e-2
# The default opset is 17; the oldest and newest export offers are checked too (fp32): 21 has the Gelu
# operator and ai.onnx.ml 5, 13 the Erf form and ai.onnx.ml 2.
OTHER_OPSETS = (13, 21)


class Checks:
    """Counts and prints the outcome of each check, in .ci/run's words."""

    def __init__(self):
        self.failed = 0

    def report(self, ok, message):
        print(("ok: " if ok else "FAILED: ") + message, flush=True)
        self.failed += 0 if ok else 1
        return ok

    def skip(self, message):
        print("skipped: " + message, flush=True)


class CommandFailed(Exception):
    pass


def run(command, **kwargs):
    """`command`'s standard output; CommandFailed with its last line of standard error on a nonzero exit."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise CommandFailed(f"`{' '.join(command)}` exited with {result.returncode}: {lines[-1] if lines else ''}")
    return result.stdout


# MARK: - The models

def train(nntrain, work, name, config, overrides):
    folder = os.path.join(work, name)
    command = [nntrain, "run", config, "--set", f"output.dir={folder}", "--force", "--quiet"]
    for override in overrides:
        command += ["--set", override]
    run(command)
    return os.path.join(folder, "checkpoints", "last.bin")


def export_all(nntrain, checkpoint, folder):
    """The exports of `checkpoint`: {"fp32", "fp16", "int8"} ONNX paths and {"fp32", "fp16"} safetensors
    paths with the Python `nntrain export` printed for each."""
    onnx_paths, state_dicts = {}, {}
    for quantize in ("none", "fp16", "int8"):
        key = "fp32" if quantize == "none" else quantize
        onnx_paths[key] = os.path.join(folder, f"model-{key}.onnx")
        run([nntrain, "export", checkpoint, "--out", onnx_paths[key], "--quantize", quantize])
        if quantize != "int8":
            path = os.path.join(folder, f"model-{key}.safetensors")
            state_dicts[key] = (path, run([nntrain, "export", checkpoint, "--out", path, "--quantize", quantize]))
    for opset in OTHER_OPSETS:
        key = f"fp32-opset{opset}"
        onnx_paths[key] = os.path.join(folder, f"model-{key}.onnx")
        run([nntrain, "export", checkpoint, "--out", onnx_paths[key], "--opset", str(opset)])
    return onnx_paths, state_dicts


def predict(nntrain, checkpoint, rows_path, out, classification, quantize="none"):
    """nntrain predict's CSV as (classes by row, probabilities [N, K] or values [N], class names).
    `checkpoint` may be a list: an ensemble's members (which predict refuses to quantize)."""
    members = checkpoint if isinstance(checkpoint, list) else [checkpoint]
    command = [nntrain, "predict", *members, rows_path, "--out", out]
    if classification:
        command.append("--probabilities")
    # Always --quantize for one model: `none` is the exported float32 file's arithmetic, which for a model
    # trained in fp16 or bf16 is not the autocast emulation plain predict runs.
    if len(members) == 1:
        command += ["--quantize", quantize]
    run(command)
    with open(out, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        records = list(reader)
    if not classification:
        column = header.index("prediction")
        return None, np.array([float(r[column]) for r in records], dtype=np.float64), []
    columns = [i for i, name in enumerate(header) if name.startswith("p_")]
    names = [header[i][2:] for i in columns]
    probabilities = np.array([[float(r[i]) for i in columns] for r in records], dtype=np.float64)
    index = {name: i for i, name in enumerate(names)}
    classes = np.array([index[r[header.index("prediction")]] for r in records])
    return classes, probabilities, names


# MARK: - Rows as ONNX Runtime and numpy take them

def idx_images(path):
    with gzip.open(path) as f:
        data = f.read()
    count, rows, columns = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, rows * columns)


def idx_labels(path):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64)


def csv_columns(path):
    """{column: [text, ...]} of a CSV file, as read."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        records = list(reader)
    return {name: [r[i] for r in records] for i, name in enumerate(header)}


def checkpoint_metadata(path):
    with safe_open(path, "np") as f:
        return f.metadata()


def feeds(session, rows, missing_values):
    """ONNX Runtime's inputs: `rows` is an [N, features] float array (images) or {column: texts}."""
    inputs = {}
    types = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}
    for node in session.get_inputs():
        if isinstance(rows, np.ndarray):
            inputs[node.name] = rows.astype(types[node.type])
        elif node.type == "tensor(string)":
            inputs[node.name] = np.array(rows[node.name], dtype=object).reshape(-1, 1)
        else:
            values = [math.nan if text in missing_values else float(text) for text in rows[node.name]]
            inputs[node.name] = np.array(values, dtype=types[node.type]).reshape(-1, 1)
    return inputs


def run_onnx(path, inputs_of):
    """{output name: float64 array} of the model at `path` on the rows `inputs_of(session)` gives."""
    options = ort.SessionOptions()
    # On x86 CPUs without VNNI, ONNX Runtime's default U8S8 int8 product sums pairs of products in int16 with
    # saturation (vpmaddubsw), which it documents as an overflow; this option makes it multiply U8U8 instead, exact in
    # int32 as nntrain's int8 simulation is (a no-op elsewhere: VNNI's products do not saturate).
    options.add_session_config_entry("session.x64quantprecision", "1")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    outputs = session.run(None, inputs_of(session))
    return {node.name: np.asarray(value, dtype=np.float64) for node, value in zip(session.get_outputs(), outputs)}


def encoded_table(columns, schema):
    """The model's input vectors [N, width] of a table, from the checkpoint's schema alone (docs/data.md,
    "What a checkpoint carries"): a numeric column its value, a categorical column one-hot over its
    categories (all zeros for one not seen in training), a missing value the column's fill."""
    missing = set(schema["missing_values"])
    parts = []
    for column in schema["columns"]:
        texts = columns[column["name"]]
        if "numeric" in column["encoding"]:
            fill = column["encoding"]["numeric"].get("fill")
            parts.append(np.array([[fill if t in missing else float(t)] for t in texts], dtype=np.float64))
        else:
            encoding = column["encoding"]["categorical"]
            categories, fill = encoding["categories"], encoding.get("fill")
            one_hot = np.zeros((len(texts), len(categories)))
            for row, text in enumerate(texts):
                value = fill if text in missing else text
                if value in categories:
                    one_hot[row, categories.index(value)] = 1
            parts.append(one_hot)
    return np.concatenate(parts, axis=1)


# MARK: - The printed nn.Sequential, in numpy

def sequential_modules(python):
    """[(module name, positional args, keyword args)] of the nn.Sequential(...) in `python`."""
    tree = ast.parse(python)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "Sequential":
            modules = []
            for call in node.args:
                name = getattr(call.func, "attr", getattr(call.func, "id", ""))
                modules.append((name, [ast.literal_eval(a) for a in call.args],
                                {k.arg: ast.literal_eval(k.value) for k in call.keywords}))
            return modules
    raise ValueError("no nn.Sequential(...) in the printed Python")


def erf(x):
    return np.vectorize(math.erf)(x)


def module_call(call):
    """(module name, positional args, keyword args) of an nn.Module(...) call."""
    name = getattr(call.func, "attr", getattr(call.func, "id", ""))
    return (name, [ast.literal_eval(a) for a in call.args], {k.arg: ast.literal_eval(k.value) for k in call.keywords})


def residual_modules(python):
    """The printed ResidualMLP of a residual model: ([modules of each block], {identity block indices},
    {block index: shortcut Linear}), or None when `python` prints an nn.Sequential."""
    if "class ResidualMLP" not in python:
        return None
    blocks, identity, shortcuts = [], set(), {}
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "ModuleList":
            blocks = [[module_call(m) for m in block.args] for block in node.args[0].elts]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "ModuleDict":
            shortcuts = {int(ast.literal_eval(k)): module_call(v) for k, v in zip(node.args[0].keys, node.args[0].values)}
        elif isinstance(node, ast.Assign) and getattr(node.targets[0], "attr", "") == "identity":
            identity = set(ast.literal_eval(node.value)) if isinstance(node.value, ast.Set) else set()
    return blocks, identity, shortcuts


def residual_forward(residual, state, x):
    """ResidualMLP's forward in float64: h = block_i(h), plus h (identity) or h Pᵀ (shortcuts.<i>.weight)."""
    blocks, identity, shortcuts = residual
    for i, modules in enumerate(blocks):
        y = sequential_forward(modules, state, x, prefix=f"layers.{i}.")
        if i in identity:
            y = y + x
        elif i in shortcuts:
            y = y + x @ state[f"shortcuts.{i}.weight"].astype(np.float64).T
        x = y
    return x


def sequential_forward(modules, state, x, prefix=""):
    """torch.nn's forward of each module in evaluation mode, in float64 (torch.nn docs' formulas); the tensors
    named `prefix` + position."""
    for position, (name, args, kwargs) in enumerate(modules):
        p = lambda key: state[f"{prefix}{position}.{key}"].astype(np.float64)  # noqa: E731
        if name == "Linear":
            x = x @ p("weight").T + (p("bias") if f"{prefix}{position}.bias" in state else 0)
        elif name == "BatchNorm1d":
            eps = kwargs.get("eps", args[1] if len(args) > 1 else 1e-5)
            x = (x - p("running_mean")) / np.sqrt(p("running_var") + eps) * p("weight") + p("bias")
        elif name == "LayerNorm":
            eps = kwargs.get("eps", 1e-5)
            mean = x.mean(axis=1, keepdims=True)
            variance = ((x - mean) ** 2).mean(axis=1, keepdims=True)
            x = (x - mean) / np.sqrt(variance + eps) * p("weight") + p("bias")
        elif name == "ReLU":
            x = np.maximum(x, 0)
        elif name == "LeakyReLU":
            slope = kwargs.get("negative_slope", args[0] if args else 0.01)
            x = np.where(x > 0, x, slope * x)
        elif name == "GELU":
            x = 0.5 * x * (1 + erf(x / math.sqrt(2)))
        elif name == "SiLU":
            x = x / (1 + np.exp(-x))
        elif name == "Tanh":
            x = np.tanh(x)
        elif name == "Sigmoid":
            x = 1 / (1 + np.exp(-x))
        elif name == "ELU":
            alpha = kwargs.get("alpha", args[0] if args else 1.0)
            x = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        elif name == "SELU":
            alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
            x = scale * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        elif name == "Mish":
            x = x * np.tanh(np.logaddexp(0, x))
        elif name == "Softplus":
            beta = kwargs.get("beta", args[0] if args else 1.0)
            threshold = kwargs.get("threshold", args[1] if len(args) > 1 else 20.0)
            x = np.where(x * beta > threshold, x, np.logaddexp(0, x * beta) / beta)
        elif name == "Hardswish":
            x = x * np.clip(x + 3, 0, 6) / 6
        elif name == "PReLU":  # the learned slopes, one per unit, broadcast over the rows
            x = np.where(x > 0, x, p("weight") * x)
        elif name not in ("Dropout", "Identity"):
            raise ValueError(f"module {position} is nn.{name}, which this check does not know")
    return x


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# MARK: - The checks of one model

class Model:
    """One trained model and the rows it is checked on."""

    def __init__(self, name, checkpoint, rows_path, onnx_rows, labels=None, target_spread=None, widths=None):
        self.name, self.checkpoint, self.rows_path = name, checkpoint, rows_path
        # The output widths of the fp32 file's Gemm layers when they are checked (a pruned model's).
        self.widths = widths
        # What ONNX Runtime is fed: [N, pixels] float32 raw pixels, or {column: texts} of a CSV.
        self.onnx_rows = onnx_rows
        self.pixels = onnx_rows.astype(np.float64) if isinstance(onnx_rows, np.ndarray) else None
        # The class of each row when the rows are the model's test set (whose accuracy eval reports).
        self.labels = labels
        self.test_set = labels is not None
        # A regression target's standard deviation over the rows; None for a classifier.
        self.target_spread = target_spread


def check_model(checks, nntrain, model, folder, missing_values):
    name = model.name
    schema = json.loads(checkpoint_metadata(model.checkpoint)["nntrain.input"])
    classification = model.target_spread is None
    predicted = {}
    try:
        paths, state_dicts = export_all(nntrain, model.checkpoint, folder)
        for quantize in ("none", "fp16", "int8"):
            predicted[quantize] = predict(nntrain, model.checkpoint, model.rows_path,
                                          os.path.join(folder, f"predict-{quantize}.csv"), classification, quantize)
        evaluation = json.loads(run([nntrain, "eval", model.checkpoint, "--quantize", "int8", "--json"]))
    except (CommandFailed, json.JSONDecodeError) as error:
        checks.report(False, f"{name}: {error}")
        return
    if model.widths is not None:
        graph = onnx.load(paths["fp32"]).graph
        shapes = {tensor.name: list(tensor.dims) for tensor in graph.initializer}
        widths = [shapes.get(node.input[1], [0])[0] for node in graph.node if node.op_type == "Gemm"]
        checks.report(widths == model.widths, f"{name}: the fp32 file's Gemm layers have {widths} outputs "
                      f"(expected {model.widths})")
    nn_classes, nn_values, class_names = predicted["none"]
    rows = len(nn_values)
    inputs_of = lambda session: feeds(session, model.onnx_rows, missing_values)  # noqa: E731
    output = "probabilities" if classification else "value"

    def compare(kind, expected, tolerance, expected_classes, against="nntrain predict's"):
        """ORT's `kind` file against predict's figures."""
        try:
            result = run_onnx(paths[kind], inputs_of)
        except Exception as error:  # onnxruntime's own exception types vary by failure
            checks.report(False, f"{name} {kind}: ONNX Runtime cannot run {paths[kind]}: {error}")
            return
        got = result[output].reshape(expected.shape)
        scale = 1 if classification else model.target_spread
        difference = float(np.max(np.abs(got - expected))) / scale
        what = "probabilities" if classification else "values / the target's std"
        message = f"{name} {kind}: ONNX Runtime's {what} within {tolerance:g} of {against} on {rows} rows " \
                  f"(largest difference {difference:.2e})"
        ok = difference <= tolerance
        if expected_classes is not None:
            differing = int(np.sum(result["logits"].argmax(axis=1) != expected_classes))
            message += f", the same class on {rows - differing} of {rows} rows"
            ok &= differing == 0
        checks.report(ok, message)

    for kind in ("fp32", "fp16", "int8") + tuple(f"fp32-opset{opset}" for opset in OTHER_OPSETS):
        check_file(checks, name, kind, paths[kind], class_names, schema, evaluation)
    compare("fp32", nn_values, FP32_TOLERANCE, nn_classes)
    for opset in OTHER_OPSETS:
        compare(f"fp32-opset{opset}", nn_values, FP32_TOLERANCE, nn_classes)
    compare("fp16", predicted["fp16"][1], FP16_SIMULATION_TOLERANCE, None, "nntrain predict --quantize fp16's")
    compare("fp16", nn_values, FP16_TOLERANCE, None, "the fp32 model's")
    if classification:
        check_int8_classes(checks, model, paths["int8"], inputs_of, predicted["int8"][0], predicted["int8"][1],
                           evaluation)
    else:
        compare("int8", predicted["int8"][1], INT8_REGRESSION_SPREAD, None, "nntrain predict --quantize int8's")
    for kind, tolerance, quantize in (("fp32", SAFETENSORS_TOLERANCE, "none"), ("fp16", FP16_TOLERANCE, "fp16")):
        path, python = state_dicts[kind]
        check_safetensors(checks, model, kind, path, python, predicted[quantize][1], tolerance)


def check_file(checks, name, kind, path, class_names, schema, evaluation):
    """The checker's verdict on the file; its inputs and metadata against the checkpoint's; for int8,
    its scales and zero points against `nntrain eval --quantize int8 --json`'s report."""
    try:
        proto = onnx.load(path)
        onnx.checker.check_model(proto, full_check=True)
    except Exception as error:  # onnx.checker.ValidationError, or a file onnx cannot parse
        checks.report(False, f"{name} {kind}: onnx.checker.check_model({path}, full_check=True): {error}")
        return
    properties = {p.key: p.value for p in proto.metadata_props}
    inputs = [i.name for i in proto.graph.input]
    features = ["input"] if "images" in schema else [c["name"] for c in schema["table"]["columns"]]
    problems = []
    if inputs != features:
        problems.append(f"graph inputs {inputs}, expected {features}")
    if json.loads(properties.get("class_names", "null")) != class_names:
        problems.append(f"metadata class_names {properties.get('class_names')}, expected {class_names}")
    if "table" in schema and json.loads(properties.get("feature_names", "null")) != features:
        problems.append(f"metadata feature_names {properties.get('feature_names')}, expected {features}")
    if properties.get("quantization") != ("none" if kind.startswith("fp32") else kind):
        problems.append(f"metadata quantization {properties.get('quantization')}")
    if kind == "int8":
        problems += int8_parameters(proto, evaluation)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    checks.report(not problems, f"{name} {kind}: {os.path.basename(path)} (opset {opset}, "
                  f"{os.path.getsize(path):,} bytes) passes onnx.checker (full_check), inputs and metadata as "
                  f"documented" + (", the int8 scales and zero points eval reports" if kind == "int8" else "")
                  + ("" if not problems else ": " + "; ".join(problems)))


def int8_parameters(proto, evaluation):
    """What differs between the graph's QuantizeLinear scales and zero points (one per linear layer, in
    order) and eval's report of the int8 simulation's."""
    constants = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    graph = [(float(constants[n.input[1]]), int(constants[n.input[2]])) for n in proto.graph.node
             if n.op_type == "QuantizeLinear"]
    report = [(float(np.float32(layer["input_scale"])), layer["input_zero_point"])
              for layer in evaluation.get("quantization", {}).get("layers", [])]
    if graph != report:
        return [f"QuantizeLinear (scale, zero point) {graph}, eval --quantize int8 reports {report}"]
    return []


def check_int8_classes(checks, model, path, inputs_of, nn_classes, nn_probabilities, evaluation):
    name, rows = model.name, len(nn_classes)
    try:
        result = run_onnx(path, inputs_of)
    except Exception as error:
        checks.report(False, f"{name} int8: ONNX Runtime cannot run {path}: {error}")
        return
    logits = result["logits"]
    ort_classes = logits.argmax(axis=1)
    difference = float(np.max(np.abs(result["probabilities"] - nn_probabilities)))
    ties, others = [], []
    with np.errstate(divide="ignore"):
        nn_logits = np.log(nn_probabilities)  # the logits up to a constant per row
    for row in np.nonzero(ort_classes != nn_classes)[0]:
        a, b = nn_classes[row], ort_classes[row]
        ort_gap, nn_gap = logits[row, b] - logits[row, a], nn_logits[row, a] - nn_logits[row, b]
        text = f"row {row}: nntrain {a}, ONNX Runtime {b}, logit gaps {nn_gap:.2e} and {ort_gap:.2e}"
        (ties if max(ort_gap, nn_gap) <= INT8_TIE_LOGITS else others).append(text)
    listed = "; ".join((others + ties)[:5])
    checks.report(not others, f"{name} int8: ONNX Runtime's class equal to nntrain predict --quantize int8's on "
                  f"{rows - len(ties) - len(others)} of {rows} rows, {len(ties)} tie(s) within {INT8_TIE_LOGITS:g}, "
                  f"{len(others)} other difference(s) (largest probability difference {difference:.2e})"
                  + (f": {listed}" if listed else ""))
    if not model.test_set:
        return
    eval_accuracy = evaluation.get("classification", {}).get("accuracy")
    ort_right = int(np.sum(ort_classes == model.labels))
    ort_accuracy = ort_right / rows
    # Each tie may count on either side.
    ok = eval_accuracy is not None and abs(ort_accuracy - eval_accuracy) * rows <= len(ties) + 1e-6
    shown = "none" if eval_accuracy is None else f"{eval_accuracy:.2%}"
    checks.report(ok, f"{name} int8: ONNX Runtime's test accuracy {ort_accuracy:.2%} ({ort_right} of {rows}) equals "
                  f"nntrain eval --quantize int8's ({shown})")


def check_safetensors(checks, model, kind, path, python, nn_values, tolerance):
    """The state_dict at `path` through the printed nn.Sequential in numpy, against predict's `nn_values`."""
    name = model.name
    try:
        state = load_file(path)
        with safe_open(path, "np") as f:
            metadata = f.metadata() or {}
        residual = residual_modules(python)
        modules = sequential_modules(python) if residual is None else [m for block in residual[0] for m in block]
        shift = np.array(json.loads(metadata["nntrain.normalizer.shift"]), dtype=np.float64)
        scale = np.array(json.loads(metadata["nntrain.normalizer.scale"]), dtype=np.float64)
        schema = json.loads(metadata["nntrain.input"])
        raw = model.pixels if "images" in schema else encoded_table(model.onnx_rows, schema["table"])
        x = (raw - shift) * scale
        z = sequential_forward(modules, state, x) if residual is None else residual_forward(residual, state, x)
        if model.target_spread is None:
            got = softmax(z)
        else:
            got = z[:, 0] * float(metadata.get("nntrain.target.scale", 1)) + float(metadata.get("nntrain.target.shift", 0))
    except Exception as error:  # a missing tensor or metadata entry, a module this check does not know
        checks.report(False, f"{name} safetensors {kind}: {path} cannot be run in numpy: {type(error).__name__}: {error}")
        return
    spread = 1 if model.target_spread is None else model.target_spread
    difference = float(np.max(np.abs(got - nn_values))) / spread
    what = "probabilities" if model.target_spread is None else "values / the target's std"
    architecture = ", ".join(m[0] for m in modules)
    quantized = "" if kind == "fp32" else " --quantize fp16"
    container = "nn.Sequential" if residual is None else "ResidualMLP"
    checks.report(difference <= tolerance,
                  f"{name} safetensors {kind}: the state_dict through the printed {container}({architecture}) in "
                  f"numpy: {what} within {tolerance:g} of nntrain predict{quantized}'s (largest difference "
                  f"{difference:.2e})")
    check_torch(checks, f"{name} safetensors {kind}", python, raw, got, tolerance)


def check_torch(checks, name, python, raw, expected, tolerance):
    """The Python `nntrain export` printed, run as a user would (it loads the file with
    load_state_dict, strict), its predict(x) against numpy's `expected`."""
    try:
        import torch
    except ImportError:
        return
    try:
        scope = {}
        exec(python, scope)
        got = scope["predict"](torch.tensor(raw, dtype=torch.float32)).double().numpy().reshape(expected.shape)
        difference = float(np.max(np.abs(got - expected)))
        if expected.ndim == 1:
            difference /= max(float(np.std(expected)), 1e-12)
    except Exception as error:
        checks.report(False, f"{name}: the printed Python in PyTorch: {type(error).__name__}: {error}")
        return
    checks.report(difference <= tolerance,
                  f"{name}: the printed Python in PyTorch {torch.__version__} (load_state_dict, strict) gives numpy's "
                  f"outputs within {tolerance:g} (largest difference {difference:.2e})")


# MARK: - The models

def fashion_mnist(nntrain, work, data):
    checkpoint = train(nntrain, work, "fashion-mnist", "configs/fashion-mnist.txt", [
        f"data.path={data}", "training.epochs=1", "model.hidden=[64]", "model.batch_norm=true",
        "model.activation=gelu"])
    images = idx_images(os.path.join(data, "t10k-images-idx3-ubyte.gz"))
    labels = idx_labels(os.path.join(data, "t10k-labels-idx1-ubyte.gz"))
    return Model("fashion-mnist", checkpoint, os.path.join(data, "t10k-images-idx3-ubyte.gz"),
                 images.astype(np.float32), labels=labels), []


def penguins(nntrain, work, path):
    checkpoint = train(nntrain, work, "penguins", "configs/penguins.txt", [f"data.path={path}"])
    schema = json.loads(checkpoint_metadata(checkpoint)["nntrain.input"])["table"]
    return Model("penguins", checkpoint, path, csv_columns(path)), schema["missing_values"]


def penguins_bf16(nntrain, work, path):
    """Trained in bf16 mixed precision with batch norm: the export and --quantize compute in float32."""
    checkpoint = train(nntrain, work, "penguins-bf16", "configs/penguins.txt", [
        f"data.path={path}", "training.precision=bf16", "model.batch_norm=true", "training.epochs=30"])
    schema = json.loads(checkpoint_metadata(checkpoint)["nntrain.input"])["table"]
    return Model("penguins-bf16", checkpoint, path, csv_columns(path)), schema["missing_values"]


def penguins_regression(nntrain, work, path):
    checkpoint = train(nntrain, work, "regression", "configs/penguins.txt", [
        f"data.path={path}", "data.target=body_mass_g", "data.categorical=[species, island, sex]",
        "model.hidden=[16, 8]", "model.activation=leaky_relu", "model.leaky_slope=0.1"])
    schema = json.loads(checkpoint_metadata(checkpoint)["nntrain.input"])["table"]
    columns = csv_columns(path)
    target = [float(t) for t in columns[schema["target"]] if t not in schema["missing_values"]]
    return Model("regression", checkpoint, path, columns, target_spread=float(np.std(target))), \
        schema["missing_values"]


def penguins_activation(nntrain, work, path, name, overrides):
    """A small penguins classifier with one of the activations ONNX has only from some opsets (Mish 18,
    HardSwish 14) or not at all as torch has it (Softplus's beta and threshold): the opsets 13, 17 and
    21 give their operators and decompositions."""
    checkpoint = train(nntrain, work, f"penguins-{name}", "configs/penguins.txt", [
        f"data.path={path}", "model.hidden=[16, 8]", "training.epochs=40", *overrides])
    schema = json.loads(checkpoint_metadata(checkpoint)["nntrain.input"])["table"]
    return Model(f"penguins-{name}", checkpoint, path, csv_columns(path)), schema["missing_values"]


ACTIVATION_MODELS = {
    "selu": ["model.activation=selu"],
    "elu": ["model.activation=elu", "model.elu_alpha=0.5"],
    "mish": ["model.activation=mish"],
    "softplus": ["model.activation=softplus", "model.softplus_beta=2", "model.softplus_threshold=3"],
    "hardswish": ["model.activation=hardswish"],
    "layernorm": ["model.norm=layer", "model.activation=gelu"],
    "prelu": ["model.activation=prelu", "model.prelu_init=0.3"],
}


def penguins_residual(nntrain, work, path):
    """hidden [16, 16, 8] with model.residual: an identity skip around the second layer, a projection P [8, 16]
    around the third (Add, and MatMul by Pᵀ, in the graph; ResidualMLP in the state_dict)."""
    checkpoint = train(nntrain, work, "penguins-residual", "configs/penguins.txt", [
        f"data.path={path}", "model.hidden=[16, 16, 8]", "model.residual=true", "training.epochs=40"])
    schema = json.loads(checkpoint_metadata(checkpoint)["nntrain.input"])["table"]
    return Model("penguins-residual", checkpoint, path, csv_columns(path)), schema["missing_values"]


def penguins_pruned(nntrain, work, path):
    checkpoint = train(nntrain, work, "penguins-pruned", "configs/penguins.txt", [
        f"data.path={path}", "model.hidden=[32, 16]", "model.batch_norm=true", "pruning.method=neurons",
        "pruning.sparsity=0.5", "pruning.every_n_steps=5"])
    schema = json.loads(checkpoint_metadata(checkpoint)["nntrain.input"])["table"]
    return Model("penguins-pruned", checkpoint, path, csv_columns(path), widths=[16, 8, 3]), schema["missing_values"]


# MARK: - Ensembles

def check_ensemble(checks, nntrain, name, members, model, folder, missing_values):
    """The ensemble of the checkpoints `members` exported as one ONNX file and run in ONNX Runtime on
    `model`'s rows, against `nntrain predict` of the same members."""
    classification = model.target_spread is None
    path = os.path.join(folder, "ensemble.onnx")
    try:
        os.makedirs(folder, exist_ok=True)
        run([nntrain, "export", *members, "--out", path])
        classes, expected, _ = predict(nntrain, members, model.rows_path, os.path.join(folder, "predict.csv"),
                                       classification)
    except CommandFailed as error:
        checks.report(False, f"{name}: {error}")
        return
    proto = onnx.load(path)
    try:
        onnx.checker.check_model(proto, full_check=True)
        checks.report(True, f"{name}: onnx.checker (full_check)")
    except Exception as error:  # noqa: BLE001
        checks.report(False, f"{name}: onnx.checker: {error}")
    output = "probabilities" if classification else "value"
    outputs = [o.name for o in proto.graph.output]
    metadata = {p.key: p.value for p in proto.metadata_props}
    fingerprints = [checkpoint_metadata(m).get("nntrain.crc32", "") for m in members]
    checks.report(outputs == [output] and json.loads(metadata.get("member_fingerprints", "[]")) == fingerprints,
                  f"{name}: outputs {outputs}, member_fingerprints {metadata.get('member_fingerprints')} "
                  f"(checkpoints' {fingerprints})")
    got = run_onnx(path, lambda session: feeds(session, model.onnx_rows, missing_values))[output]
    if classification:
        difference = float(np.max(np.abs(got - expected)))
        same = int(np.sum(np.argmax(got, axis=1) == classes))
        checks.report(difference <= FP32_TOLERANCE and same == len(classes),
                      f"{name}: {len(members)} members, ONNX Runtime's probabilities within {difference:.2e} of "
                      f"nntrain predict's (tolerance {FP32_TOLERANCE}), the same class on {same} of {len(classes)} rows")
    else:
        difference = float(np.max(np.abs(got.reshape(-1) - expected))) / model.target_spread
        checks.report(difference <= FP32_TOLERANCE,
                      f"{name}: {len(members)} members, ONNX Runtime's values within {difference:.2e} standard "
                      f"deviations of nntrain predict's (tolerance {FP32_TOLERANCE})")


def ensembles(checks, nntrain, work, path, classifier, regression):
    """The two ensembles of the module's comment, built on the single models already trained."""
    try:
        others = [train(nntrain, work, "ensemble-tanh", "configs/penguins.txt", [
                      f"data.path={path}", "model.hidden=[24]", "model.activation=tanh", "data.normalize=scale"]),
                  train(nntrain, work, "ensemble-deep", "configs/penguins.txt", [
                      f"data.path={path}", "model.hidden=[16, 16]", "data.normalize=none"])]
        second = train(nntrain, work, "ensemble-regression", "configs/penguins.txt", [
            f"data.path={path}", "data.target=body_mass_g", "data.categorical=[species, island, sex]",
            "model.hidden=[8]"])
    except CommandFailed as error:
        checks.report(False, f"ensemble training: {error}")
        return
    model, missing_values = classifier
    check_ensemble(checks, nntrain, "ensemble", [model.checkpoint] + others, model, os.path.join(work, "ensemble"),
                   missing_values)
    model, missing_values = regression
    check_ensemble(checks, nntrain, "ensemble-regression", [model.checkpoint, second], model,
                   os.path.join(work, "ensemble-regression"), missing_values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nntrain", default=".build/release/nntrain")
    parser.add_argument("--work", default="runs/onnx-check")
    parser.add_argument("--fashion-mnist", default="data/fashion-mnist")
    parser.add_argument("--penguins", default="data/penguins.csv")
    parser.add_argument("--only", metavar="NAME", help="check only the model NAME (e.g. penguins-residual)")
    args = parser.parse_args()
    if not os.access(args.nntrain, os.X_OK):
        print(f"{args.nntrain}: no nntrain binary there; expected --nntrain PATH (make build makes "
              ".build/release/nntrain)", file=sys.stderr)
        return 2
    checks = Checks()
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}", flush=True)
    models = []
    if os.path.exists(os.path.join(args.fashion_mnist, "t10k-images-idx3-ubyte.gz")):
        models.append(("fashion-mnist", lambda: fashion_mnist(args.nntrain, args.work, args.fashion_mnist)))
    else:
        checks.skip(f"the Fashion-MNIST model: no {args.fashion_mnist}/t10k-images-idx3-ubyte.gz")
    if os.path.exists(args.penguins):
        models.append(("penguins", lambda: penguins(args.nntrain, args.work, args.penguins)))
        models.append(("penguins-bf16", lambda: penguins_bf16(args.nntrain, args.work, args.penguins)))
        models.append(("regression", lambda: penguins_regression(args.nntrain, args.work, args.penguins)))
        models.append(("penguins-pruned", lambda: penguins_pruned(args.nntrain, args.work, args.penguins)))
        models.append(("penguins-residual", lambda: penguins_residual(args.nntrain, args.work, args.penguins)))
        for name, overrides in ACTIVATION_MODELS.items():
            models.append((f"penguins-{name}", lambda name=name, overrides=overrides:
                           penguins_activation(args.nntrain, args.work, args.penguins, name, overrides)))
    else:
        checks.skip(f"the penguins classifier and regression: no {args.penguins}")
    trained = {}
    if args.only is not None:
        models = [(name, make) for name, make in models if name == args.only]
        if not models:
            print(f"--only {args.only}: no such model here; expected one of the names in this script's description",
                  file=sys.stderr)
            return 2
    for _, make in models:
        try:
            model, missing_values = make()
        except CommandFailed as error:
            checks.report(False, f"training: {error}")
            continue
        trained[model.name] = (model, missing_values)
        check_model(checks, args.nntrain, model, os.path.dirname(os.path.dirname(model.checkpoint)), missing_values)
    if "penguins" in trained and "regression" in trained:
        ensembles(checks, args.nntrain, args.work, args.penguins, trained["penguins"], trained["regression"])
    print(f"onnx-check: {checks.failed} check(s) failed" if checks.failed else "onnx-check: every check passed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
