#!/usr/bin/env python3
"""The exports checked by the real runtime: nntrain's ONNX files run in ONNX Runtime, and its
safetensors state_dict recomputed in numpy (and in PyTorch when it is installed), each against
`nntrain predict` on the same rows.

Three small models are trained in WORK (a few seconds each), one of each kind export handles:

  fashion-mnist  configs/fashion-mnist.txt for 1 epoch with hidden [64], batch norm and gelu
                 (batch norm folded into the Gemm, GELU's erf form); test rows: the 10,000 t10k images
  penguins       configs/penguins.txt with silu: numeric columns with NA and the text columns island
                 and sex (categorical inputs of the graph); test rows: the whole CSV, NA rows included
  regression     the same CSV, target body_mass_g (a standardised target: y = σ·z + μ in the graph),
                 hidden [16, 8], leaky_relu with slope 0.1, the species a third text column

Each is exported (`nntrain export`) as fp32, fp16 and int8 ONNX and as safetensors, and checked:

  checker    onnx.checker.check_model(model, full_check=True) (with shape inference), and the
             metadata_props class_names and feature_names equal to the checkpoint's classes and
             the graph's inputs
  fp32       ONNX Runtime's probabilities (a regression's values, divided by the target's standard
             deviation over the file) within 1e-5 of `nntrain predict --probabilities`'s, and the same
             class on every row
  fp16       the same against `nntrain predict --quantize fp16`, within 1e-2
  int8       the class of every row equal to `nntrain predict --quantize int8`'s. Both compute the
             same integer products, so only float rounding in what surrounds them (the dequantizing
             scale, the bias, the activation) differs; a row may then go the other way only when its
             two best logits tie within that noise: a disagreement passes when the two classes'
             logits are within INT8_TIE_LOGITS of each other on both sides (ORT's logits, and
             nntrain's, from its probabilities as log pₐ − log p_b), and is listed either way.
             For Fashion-MNIST, ONNX Runtime's test accuracy must also equal
             `nntrain eval --quantize int8 --json`'s (give or take the listed ties). A regression's
             int8 values must be within INT8_REGRESSION_SPREAD standard deviations of predict's.
  safetensors  the state_dict loaded with safetensors.numpy and run through the nn.Sequential that
             `nntrain export --format safetensors` prints (read with Python's ast, each module's
             forward written out in numpy below: batch norm in eval mode), the input normalised with
             the metadata's nntrain.normalizer.shift and .scale and encoded from the checkpoint's own
             input schema (one-hot over the sorted categories, missing values filled); within 1e-5 of
             predict's. When torch can be imported, the printed Python is also run and the file loaded
             with load_state_dict(strict=True).

The ONNX inputs are fed as docs/onnx.md describes: `input`, float [N, 784] raw pixels 0-255, for
images; for a CSV one input per feature column named as the column, [N, 1], float (NaN for a
missing value) or string (the CSV's text). Every check prints one `ok: ...` or `FAILED: ...` line;
a model whose data is missing prints `skipped: ...`. Exit status 0 when every check passed, 1 when
one failed, 2 on bad usage.

Usage (from the project folder):
    data-scripts/onnx-check.py [--nntrain .build/release/nntrain] [--work runs/onnx-check]
                               [--fashion-mnist data/fashion-mnist] [--penguins data/penguins.csv]
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
SAFETENSORS_TOLERANCE = 1e-5
# Two logits closer than this are a tie for the int8 comparison: float32 rounding of values of a few
# units differs in the 6th or 7th digit; 1e-4 leaves room for a sum of a hundred such terms.
INT8_TIE_LOGITS = 1e-4
INT8_REGRESSION_SPREAD = 1e-2
PENGUINS_ROWS = 344


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
    """The four exports of `checkpoint`: {"fp32", "fp16", "int8"} ONNX paths, and the safetensors path
    with the Python `nntrain export` printed for it."""
    paths = {}
    for quantize in ("none", "fp16", "int8"):
        key = "fp32" if quantize == "none" else quantize
        paths[key] = os.path.join(folder, f"model-{key}.onnx")
        run([nntrain, "export", checkpoint, "--out", paths[key], "--quantize", quantize])
    paths["safetensors"] = os.path.join(folder, "model.safetensors")
    python = run([nntrain, "export", checkpoint, "--out", paths["safetensors"], "--format", "safetensors"])
    return paths, python


def predict(nntrain, checkpoint, rows_path, out, classification, quantize="none"):
    """nntrain predict's CSV as (classes by row, probabilities [N, K] or values [N], class names)."""
    command = [nntrain, "predict", checkpoint, rows_path, "--out", out]
    if classification:
        command.append("--probabilities")
    if quantize != "none":
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


def sequential_forward(modules, state, x):
    """torch.nn's forward of each module in evaluation mode, in float64 (torch.nn docs' formulas)."""
    for position, (name, args, kwargs) in enumerate(modules):
        p = lambda key: state[f"{position}.{key}"].astype(np.float64)  # noqa: E731
        if name == "Linear":
            x = x @ p("weight").T + (p("bias") if f"{position}.bias" in state else 0)
        elif name == "BatchNorm1d":
            eps = kwargs.get("eps", args[1] if len(args) > 1 else 1e-5)
            x = (x - p("running_mean")) / np.sqrt(p("running_var") + eps) * p("weight") + p("bias")
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
        elif name not in ("Dropout", "Identity"):
            raise ValueError(f"module {position} is nn.{name}, which this check does not know")
    return x


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# MARK: - The checks of one model

class Model:
    """One trained model with its rows, labels and predictions, checked by `check_model`."""

    def __init__(self, name, checkpoint, rows_path, onnx_rows, raw_rows, labels, target_spread):
        self.name, self.checkpoint, self.rows_path = name, checkpoint, rows_path
        self.onnx_rows = onnx_rows        # [N, 784] pixels, or {column: texts}
        self.raw_rows = raw_rows          # the same rows as the model's input vectors before normalisation
        self.labels = labels              # class indices for the accuracy, or None
        self.target_spread = target_spread  # a regression target's standard deviation, or None


def check_model(checks, nntrain, model, folder, missing_values):
    name = model.name
    metadata = checkpoint_metadata(model.checkpoint)
    schema = json.loads(metadata["nntrain.input"])
    classification = model.target_spread is None
    try:
        paths, python = export_all(nntrain, model.checkpoint, folder)
        nn_classes, nn_values, class_names = predict(nntrain, model.checkpoint, model.rows_path,
                                                     os.path.join(folder, "predict-fp32.csv"), classification)
    except CommandFailed as error:
        checks.report(False, f"{name}: {error}")
        return
    rows = len(nn_values)
    inputs_of = lambda session: feeds(session, model.onnx_rows, missing_values)  # noqa: E731
    output = "probabilities" if classification else "value"

    def compare(kind, expected, tolerance, expected_classes):
        """ORT's `kind` file against predict's figures: (ORT's outputs) or None when it did not run."""
        try:
            result = run_onnx(paths[kind], inputs_of)
        except Exception as error:  # onnxruntime's own exception types vary by failure
            checks.report(False, f"{name} {kind}: ONNX Runtime cannot run {paths[kind]}: {error}")
            return None
        got = result[output].reshape(expected.shape)
        scale = 1 if classification else model.target_spread
        difference = float(np.max(np.abs(got - expected))) / scale
        what = "probabilities" if classification else "values / the target's std"
        message = f"{name} {kind}: ONNX Runtime's {what} within {tolerance:g} of nntrain predict's on {rows} rows " \
                  f"(largest difference {difference:.2e})"
        ok = difference <= tolerance
        if classification and expected_classes is not None:
            differing = int(np.sum(result["logits"].argmax(axis=1) != expected_classes))
            message += f", the same class on {rows - differing} of {rows} rows"
            ok &= differing == 0
        checks.report(ok, message)
        return result

    for kind in ("fp32", "fp16", "int8"):
        check_file(checks, name, kind, paths[kind], class_names, schema)
    compare("fp32", nn_values, FP32_TOLERANCE, nn_classes)
    try:
        _, fp16_values, _ = predict(nntrain, model.checkpoint, model.rows_path,
                                    os.path.join(folder, "predict-fp16.csv"), classification, "fp16")
        compare("fp16", fp16_values, FP16_TOLERANCE, None)
        int8_classes, int8_values, _ = predict(nntrain, model.checkpoint, model.rows_path,
                                               os.path.join(folder, "predict-int8.csv"), classification, "int8")
    except CommandFailed as error:
        checks.report(False, f"{name}: {error}")
    else:
        if classification:
            check_int8_classes(checks, nntrain, model, paths["int8"], inputs_of, int8_classes, int8_values)
        else:
            compare("int8", int8_values, INT8_REGRESSION_SPREAD, None)
    check_safetensors(checks, model, paths["safetensors"], python, schema, nn_values, classification)


def check_file(checks, name, kind, path, class_names, schema):
    """The checker's verdict on the file, and its metadata's names against the checkpoint's."""
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
    if class_names and json.loads(properties.get("class_names", "null")) != class_names:
        problems.append(f"metadata class_names {properties.get('class_names')}, expected {class_names}")
    if "table" in schema and json.loads(properties.get("feature_names", "null")) != features:
        problems.append(f"metadata feature_names {properties.get('feature_names')}, expected {features}")
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    checks.report(not problems, f"{name} {kind}: {os.path.basename(path)} (opset {opset}, "
                  f"{os.path.getsize(path):,} bytes) passes onnx.checker (full_check), inputs and metadata as "
                  f"documented" + ("" if not problems else ": " + "; ".join(problems)))


def check_int8_classes(checks, nntrain, model, path, inputs_of, nn_classes, nn_probabilities):
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
    if model.labels is None or "images" not in json.loads(checkpoint_metadata(model.checkpoint)["nntrain.input"]):
        return
    try:
        evaluation = json.loads(run([nntrain, "eval", model.checkpoint, "--quantize", "int8", "--json"]))
    except (CommandFailed, json.JSONDecodeError) as error:
        checks.report(False, f"{name} int8: nntrain eval --quantize int8 --json: {error}")
        return
    eval_accuracy = find_key(evaluation, "accuracy")
    ort_right = int(np.sum(ort_classes == model.labels))
    ort_accuracy = ort_right / rows
    # Each tie may count once on either side.
    ok = eval_accuracy is not None and abs(ort_accuracy - eval_accuracy) * rows <= len(ties) + 1e-6
    checks.report(ok, f"{name} int8: ONNX Runtime's test accuracy {ort_accuracy:.2%} ({ort_right} of {rows}) equals "
                  f"nntrain eval --quantize int8's ({eval_accuracy if eval_accuracy is None else f'{eval_accuracy:.2%}'})")


def find_key(value, key):
    """The first `key` in a JSON value, depth first."""
    if isinstance(value, dict):
        if key in value and isinstance(value[key], (int, float)):
            return float(value[key])
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = find_key(item, key)
            if found is not None:
                return found
    return None


def check_safetensors(checks, model, path, python, schema, nn_values, classification):
    name = model.name
    try:
        state = load_file(path)
        with safe_open(path, "np") as f:
            metadata = f.metadata() or {}
        modules = sequential_modules(python)
        shift = np.array(json.loads(metadata["nntrain.normalizer.shift"]), dtype=np.float64)
        scale = np.array(json.loads(metadata["nntrain.normalizer.scale"]), dtype=np.float64)
        x = (model.raw_rows - shift) * scale
        z = sequential_forward(modules, state, x)
        if classification:
            got = softmax(z)
        else:
            got = z[:, 0] * float(json.loads(metadata.get("nntrain.target.scale", "1"))) \
                + float(json.loads(metadata.get("nntrain.target.shift", "0")))
    except Exception as error:  # a missing tensor or metadata entry, a module this check does not know
        checks.report(False, f"{name} safetensors: {path} cannot be run in numpy: {type(error).__name__}: {error}")
        return
    spread = 1 if classification else model.target_spread
    difference = float(np.max(np.abs(got - nn_values))) / spread
    what = "probabilities" if classification else "values / the target's std"
    architecture = ", ".join(m[0] for m in modules)
    checks.report(difference <= SAFETENSORS_TOLERANCE,
                  f"{name} safetensors: the state_dict through the printed nn.Sequential({architecture}) in numpy: "
                  f"{what} within {SAFETENSORS_TOLERANCE:g} of nntrain predict's (largest difference {difference:.2e})")
    check_torch(checks, name, path, python, x, got)


def check_torch(checks, name, path, python, x, expected):
    try:
        import torch
    except ImportError:
        return
    try:
        scope = {}
        exec(python, scope)  # the Python nntrain export printed, as a user would paste it
        module = next(v for v in scope.values() if isinstance(v, torch.nn.Module))
        from safetensors.torch import load_file as load_torch
        module.load_state_dict(load_torch(path), strict=True)
        module.eval()
        with torch.no_grad():
            z = module(torch.tensor(x, dtype=torch.float32)).double().numpy()
        got = softmax(z) if expected.ndim == 2 else z[:, 0]
        difference = float(np.max(np.abs(got - expected)))
    except Exception as error:
        checks.report(False, f"{name} safetensors: PyTorch: {type(error).__name__}: {error}")
        return
    checks.report(difference <= SAFETENSORS_TOLERANCE,
                  f"{name} safetensors: load_state_dict(strict=True) in PyTorch {torch.__version__}, the model's "
                  f"output within {SAFETENSORS_TOLERANCE:g} of numpy's (largest difference {difference:.2e})")


# MARK: - The three models

def fashion_mnist(nntrain, work, data):
    checkpoint = train(nntrain, work, "fashion-mnist", "configs/fashion-mnist.txt", [
        f"data.path={data}", "training.epochs=1", "model.hidden=[64]", "model.batch_norm=true",
        "model.activation=gelu"])
    images = idx_images(os.path.join(data, "t10k-images-idx3-ubyte.gz"))
    labels = idx_labels(os.path.join(data, "t10k-labels-idx1-ubyte.gz"))
    pixels = images.astype(np.float32)
    return Model("fashion-mnist", checkpoint, os.path.join(data, "t10k-images-idx3-ubyte.gz"), pixels,
                 pixels.astype(np.float64), labels, None)


def penguins(nntrain, work, path, regression):
    if regression:
        checkpoint = train(nntrain, work, "regression", "configs/penguins.txt", [
            f"data.path={path}", "data.target=body_mass_g", "data.categorical=[species, island, sex]",
            "data.test_split=0.2", "model.hidden=[16, 8]", "model.activation=leaky_relu", "model.leaky_slope=0.1"])
    else:
        checkpoint = train(nntrain, work, "penguins", "configs/penguins.txt", [
            f"data.path={path}", "model.activation=silu"])
    schema = json.loads(checkpoint_metadata(checkpoint)["nntrain.input"])["table"]
    columns = csv_columns(path)
    missing = set(schema["missing_values"])
    target = [t for t in columns[schema["target"]] if t not in missing]
    spread = float(np.std(np.array(target, dtype=np.float64))) if regression else None
    labels = None
    if not regression:
        class_names = json.loads(checkpoint_metadata(checkpoint).get("nntrain.class_names", "[]"))
        labels = np.array([class_names.index(t) if t in class_names else -1 for t in columns[schema["target"]]])
    return Model("regression" if regression else "penguins", checkpoint, path, columns,
                 encoded_table(columns, schema), labels, spread), schema["missing_values"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nntrain", default=".build/release/nntrain")
    parser.add_argument("--work", default="runs/onnx-check")
    parser.add_argument("--fashion-mnist", default="data/fashion-mnist")
    parser.add_argument("--penguins", default="data/penguins.csv")
    args = parser.parse_args()
    if not os.access(args.nntrain, os.X_OK):
        print(f"{args.nntrain}: no nntrain binary there; expected --nntrain PATH (make build makes "
              ".build/release/nntrain)", file=sys.stderr)
        return 2
    checks = Checks()
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}", flush=True)
    models = []
    if os.path.exists(os.path.join(args.fashion_mnist, "t10k-images-idx3-ubyte.gz")):
        models.append(lambda: (fashion_mnist(args.nntrain, args.work, args.fashion_mnist), []))
    else:
        checks.skip(f"the Fashion-MNIST model: no {args.fashion_mnist}/t10k-images-idx3-ubyte.gz")
    if os.path.exists(args.penguins):
        models.append(lambda: penguins(args.nntrain, args.work, args.penguins, regression=False))
        models.append(lambda: penguins(args.nntrain, args.work, args.penguins, regression=True))
    else:
        checks.skip(f"the penguins classifier and regression: no {args.penguins}")
    for make in models:
        try:
            model, missing_values = make()
        except CommandFailed as error:
            checks.report(False, f"training: {error}")
            continue
        check_model(checks, args.nntrain, model, os.path.dirname(os.path.dirname(model.checkpoint)), missing_values)
    print(f"onnx-check: {checks.failed} check(s) failed" if checks.failed else "onnx-check: every check passed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
