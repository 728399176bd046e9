#!/usr/bin/env python3
"""`make bench`: nntrain against PyTorch on the reference MLP, measured side by side in one run.

What runs: configs/fashion-mnist.txt (784-256-128-10 ReLU MLP, Adam lr 1e-3) on the real
Fashion-MNIST for 3 epochs, at batch 32, 128 and 256, in fp32 and in fp16 emulation
(`--set training.precision=fp16`), each configuration once per round for R rounds (default 3,
BENCH_ROUNDS). When PyTorch can be imported (python3, or the interpreter TORCH_PYTHON names),
Benchmarks/pytorch_mlp.py does the same work in PyTorch, and the two alternate run by run
(nntrain, PyTorch, nntrain, PyTorch, ...) so that both see the same machine load.

What is reported, per configuration (median over rounds; the ratio nntrain/PyTorch is the median
of the rounds' ratios, each taken between two runs made one after the other):

  epoch s       the median over the run's epochs of the training seconds of one epoch (nntrain:
                metrics.csv's epoch_seconds; PyTorch: the same loop timed with perf_counter)
  samples/s     60,000 training images / epoch s
  GFLOP/s       training FLOPs per epoch / epoch s / 1e9 (the count is `training_flops_per_sample`)
  load s        reading the four .gz files into the training and test sets (nntrain: summary.json's
                load_seconds; PyTorch: gzip + numpy + float conversion, as the baseline does it)
  peak RSS MB   the child process's peak resident memory, os.wait4's ru_maxrss (KiB on Linux),
                / 1024; the same measure for both, taken by this script
  test s        one evaluation of the 10,000 test images (nntrain: summary.json's test.seconds, its
                only test pass; PyTorch: the pass after the last epoch, warm from the earlier ones)

a second table for `nntrain predict` (the median of --predict-rounds runs, wall-clock of the whole
process, checkpoint loading included; peak RSS as above):

  images        the 10,000 test images (t10k-images-idx3-ubyte.gz) through the first run's
                checkpoint, CSV out with --probabilities: rows/s
  CSV           a generated 1,000,000-row bonus CSV (`nntrain data bonus`) through a linear model
                trained on 10,000 other bonus rows, CSV out: rows/s
  one row       a process predicting a one-row file with that model: seconds (latency)

and a third with the project's speed targets and whether each is met. The report is
printed and written to runs/bench/bench.md; each run keeps its output under runs/bench/.

Before anything is compared, the kernel of nntrain's first run (summary.json's blas_kernel) is
checked: on a CPU whose /proc/cpuinfo flags include avx2, a kernel weaker than the one nntrain's
selection asks for (SkylakeX with AVX-512, Haswell with AVX2 and FMA) ends the benchmark with
exit status 2 and one line, since every figure after it would measure the fallback.

Usage:
    python3 Benchmarks/bench.py [--nntrain PATH] [--data DIR] [--rounds R] [--batches 32,128,256]
                                [--precisions fp32,fp16] [--epochs 3] [--out runs/bench]
                                [--predict-rounds 5] [--predict-rows 1000000]
Quick try:  BENCH_ROUNDS=1 python3 Benchmarks/bench.py --batches 128 --precisions fp32
Environment: BENCH_ROUNDS, BENCH_BATCHES, BENCH_PRECISIONS (defaults for the flags), TORCH_PYTHON.
Python 3 standard library only.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time

CONFIG = "configs/fashion-mnist.txt"
TRAIN_ROWS = 60_000
# The reference MLP's layers as (in, out); configs/fashion-mnist.txt has hidden [256, 128].
LAYERS = [(784, 256), (256, 128), (128, 10)]
TORCH_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytorch_mlp.py")


def training_flops_per_sample(layers=LAYERS):
    """Floating-point operations of one training sample through the MLP, counting a multiply-add
    as 2 and only the matrix products (bias, activation, loss and optimizer are O(width), under 1%):

        forward           2·Σ in·out   (x·Wᵀ for every layer)
        weight gradients  2·Σ in·out   (dzᵀ·x for every layer)
        input gradients   2·Σ in·out over every layer but the first (dz·W), whose input is the
                          image, which needs no gradient; PyTorch skips that product too

    For 784-256-128-10: 2·234,752 + 2·234,752 + 2·34,048 = 1,007,104 FLOP per sample, so
    60.4 GFLOP per epoch of 60,000 images (the rougher estimate of "about 85 GFLOP" is
    6 · parameters · samples, which includes the first layer's input gradient and the biases).
    """
    products = [i * o for i, o in layers]
    return 2 * sum(products) + 2 * sum(products) + 2 * sum(products[1:])


# OpenBLAS kernels that run AVX2 (and, for the first group, AVX-512), lower case, as
# openblas_get_corename() names them; the same families as BLASKernelSelection in BLAS.swift.
AVX512_KERNELS = {"skylakex", "cooperlake", "sapphirerapids"}
AVX2_KERNELS = AVX512_KERNELS | {"haswell", "zen"}
AVX512_FLAGS = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}

# Issue 7's targets on the 2-core machine.
EPOCH_RATIO_TARGETS = {128: 0.45, 32: 0.3, 256: 0.6}
LOAD_TARGET_S = 0.4
RSS_TARGET_MB = 150
FP16_OVER_FP32_TARGET = 1.3
TEST_TARGET_S = 0.1
# Issue 15's bound on predict's peak memory for a 1,000,000-row CSV.
PREDICT_RSS_TARGET_MB = 150


class BenchError(Exception):
    """A failure that ends the benchmark with one line on stderr."""


def cpu_info():
    """(model name, flags) from /proc/cpuinfo; ("unknown", empty set) elsewhere."""
    model, flags = None, None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip()
                elif key == "flags" and flags is None:
                    flags = set(value.split())
    except OSError:
        pass
    return model or platform.processor() or "unknown", flags or set()


def check_kernel(kernel, flags):
    """Raises when nntrain's OpenBLAS kernel is weaker than what the CPU runs (the kernel
    selection must never fall back on a CPU with AVX2 or AVX-512)."""
    name = kernel.lower()
    if AVX512_FLAGS <= flags and name not in AVX512_KERNELS:
        wanted = "SkylakeX (the CPU has AVX-512)"
    elif "avx2" in flags and name not in AVX2_KERNELS:
        wanted = "Haswell or stronger (the CPU has AVX2)"
    else:
        return
    raise BenchError(f"nntrain ran on OpenBLAS's {kernel!r} kernel, a fallback on this CPU; expected {wanted}: "
                     "kernel selection failed (see docs/performance.md, 'The OpenBLAS kernel'; OPENBLAS_CORETYPE="
                     f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')})")


def load_average():
    """The 1-minute load average (/proc/loadavg), or None where there is none."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


LOADS = []  # the 1-minute load average just before each run, for the report


def machine_was_busy():
    """Whether other processes held more than half the cores before the first run."""
    return bool(LOADS) and LOADS[0] is not None and LOADS[0] > 0.5 * (os.cpu_count() or 1)


def run_measured(command, log_path):
    """Runs `command` with stdout and stderr into `log_path`; returns (exit status, peak RSS in MB)
    from os.wait4's rusage of the child, which covers the process whatever it exec'd itself into."""
    LOADS.append(load_average())
    with open(log_path, "wb") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)  # so Popen's own cleanup does not wait again
    return child.returncode, usage.ru_maxrss / 1024


def tail(path, lines=5):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-lines:])
    except OSError:
        return ""


def run_nntrain(args, batch, precision, round_index):
    """One nntrain run: its figures, read from its run directory."""
    out = os.path.join(args.out, f"nntrain-b{batch}-{precision}-r{round_index}")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    command = [args.nntrain, "run", args.config, "--quiet",
               "--set", f"training.epochs={args.epochs}", "--set", f"training.batch_size={batch}",
               "--set", f"training.precision={precision}", "--set", f"data.path={args.data}",
               "--set", f"output.dir={out}", "--set", "output.plots=false"]
    status, rss = run_measured(command, os.path.join(out, "nntrain.log"))
    if status != 0:
        raise BenchError(f"nntrain failed (exit {status}): {shlex.join(command)}: {tail(os.path.join(out, 'nntrain.log'))}")
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out, "metrics.csv")) as f:
        epochs = [float(row["epoch_seconds"]) for row in csv.DictReader(f)]
    test = summary.get("test") or {}
    return {"epoch": statistics.median(epochs), "load": summary["load_seconds"], "rss": rss,
            "test": test.get("seconds"), "accuracy": test.get("accuracy"),
            "kernel": summary.get("blas_kernel", "unknown"), "threads": summary.get("blas_threads")}


def run_torch(args, batch, precision, round_index, threads):
    """One PyTorch run of Benchmarks/pytorch_mlp.py: its figures, from its last line (JSON)."""
    log_path = os.path.join(args.out, f"pytorch-b{batch}-{precision}-r{round_index}.log")
    command = [args.torch_python, TORCH_SCRIPT, args.data, "--epochs", str(args.epochs), "--batch", str(batch),
               "--precision", precision, "--threads", str(threads)]
    status, rss = run_measured(command, log_path)
    result = None
    with open(log_path, errors="replace") as f:
        for line in reversed(f.read().strip().splitlines()):
            if line.startswith("{"):
                result = json.loads(line)
                break
    if result is not None and "error" in result:
        return {"error": result["error"]}
    if status != 0 or result is None:
        raise BenchError(f"PyTorch failed (exit {status}): {shlex.join(command)}: {tail(log_path)}")
    return {"epoch": statistics.median(result["epoch_seconds"]), "load": result["load_seconds"], "rss": rss,
            "test": result["test_seconds"], "accuracy": result["test_accuracy"],
            "version": result["torch_version"], "threads": result["threads"]}


def find_torch():
    """The Python interpreter that has torch: TORCH_PYTHON when set, else python3 when it imports
    torch; (interpreter or None, why not)."""
    given = os.environ.get("TORCH_PYTHON")
    candidate = given or sys.executable or "python3"
    try:
        ok = subprocess.run([candidate, "-c", "import torch, numpy"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    if ok:
        return candidate, None
    if given:
        raise BenchError(f"TORCH_PYTHON={given} cannot import torch and numpy; expected an interpreter with both "
                         "(python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy)")
    return None, f"{candidate} cannot import torch and numpy"


def run_predict(args, arguments, name):
    """One `nntrain predict` process: (wall-clock seconds, peak RSS in MB)."""
    command = [args.nntrain, "predict"] + arguments
    log_path = os.path.join(args.out, f"predict-{name}.log")
    started = time.perf_counter()
    status, rss = run_measured(command, log_path)
    seconds = time.perf_counter() - started
    if status != 0:
        raise BenchError(f"nntrain predict failed (exit {status}): {shlex.join(command)}: {tail(log_path)}")
    return seconds, rss


def predict_benchmarks(args, image_checkpoint):
    """nntrain predict's rows: images and a large CSV (rows/s, peak RSS), one row (latency); each
    the median of args.predict_rounds processes."""
    folder = os.path.join(args.out, "predict")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    rows = []

    def measure(name, arguments, count):
        runs = [run_predict(args, arguments, name) for _ in range(args.predict_rounds)]
        seconds = statistics.median(r[0] for r in runs)
        rows.append({"name": name, "rows": count, "seconds": seconds, "rate": count / seconds,
                     "rss": max(r[1] for r in runs)})
        print(f"predict {name}: {count / seconds:,.0f} rows/s, {seconds:.3f} s", file=sys.stderr, flush=True)

    images = os.path.join(args.data, "t10k-images-idx3-ubyte.gz")
    measure("10,000 test images", [image_checkpoint, images, "--probabilities", "--out",
                                   os.path.join(folder, "images.csv")], 10_000)

    # A linear bonus model (trained on 10,000 rows) and new rows to predict: 1,000,000 and one.
    def nntrain(*arguments):
        done = subprocess.run([args.nntrain, *arguments], capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchError(f"nntrain {shlex.join(arguments)} failed (exit {done.returncode}): {done.stderr.strip()}")
    nntrain("data", "bonus", "--rows", "10000", "--seed", "1", "--out", os.path.join(folder, "train.csv"))
    nntrain("data", "bonus", "--rows", str(args.predict_rows), "--seed", "2", "--out", os.path.join(folder, "big.csv"))
    config = os.path.join(folder, "bonus.txt")
    with open(config, "w") as f:
        f.write(f"data: {{dataset: bonus, path: {json.dumps(os.path.abspath(os.path.join(folder, 'train.csv')))}, "
                "validation_split: 0}\nmodel: {hidden: []}\nloss: mse\ntraining: {epochs: 1}\n"
                f"output: {{dir: {json.dumps(os.path.abspath(os.path.join(folder, 'run')))}, plots: false}}\n")
    nntrain("run", config, "--quiet")
    bonus = os.path.join(folder, "run", "checkpoints", "last.bin")
    with open(os.path.join(folder, "big.csv")) as big, open(os.path.join(folder, "one.csv"), "w") as one:
        one.write(big.readline() + big.readline())
    measure(f"{args.predict_rows:,}-row CSV", [bonus, os.path.join(folder, "big.csv"), "--out",
                                               os.path.join(folder, "big-predictions.csv")], args.predict_rows)
    measure("one row (latency)", [bonus, os.path.join(folder, "one.csv"), "--out",
                                  os.path.join(folder, "one-predictions.csv")], 1)
    return rows


def predict_table(rows):
    """The Markdown table of predict_benchmarks' rows."""
    lines = ["| nntrain predict | rows | seconds | rows/s | peak RSS MB |", "|---|---|---|---|---|"]
    for row in rows:
        rate = "—" if row["rows"] == 1 else f"{row['rate']:,.0f}"  # one row measures latency, not a rate
        lines.append(f"| {row['name']} | {row['rows']:,} | {row['seconds']:.3f} | {rate} | {row['rss']:.0f} |")
    return lines + ["", "Wall-clock seconds of the whole process (start, checkpoint, input, output), median of "
                    "the rounds; peak RSS the largest of them.", ""]


def figures(run):
    """The per-run figures derived from epoch seconds."""
    flops = training_flops_per_sample() * TRAIN_ROWS
    return dict(run, samples=TRAIN_ROWS / run["epoch"], gflops=flops / run["epoch"] / 1e9)


def median_of(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def paired_ratio(left, right, key):
    """The median over rounds of left[r][key] / right[r][key]."""
    ratios = [a[key] / b[key] for a, b in zip(left, right) if a.get(key) and b.get(key)]
    return statistics.median(ratios) if ratios else None


def fmt(value, digits):
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


COLUMNS = [("epoch s", "epoch", 3), ("samples/s", "samples", 0), ("GFLOP/s", "gflops", 1),
           ("load s", "load", 3), ("peak RSS MB", "rss", 0), ("test s", "test", 3)]


def report(args, results, torch_python, torch_skip, cpu_model, flags, started, command, predictions):
    """The Markdown report: header lines, the figures table, the targets table."""
    configs = [(b, p) for b in args.batches for p in args.precisions]
    first = results[configs[0]]["nntrain"][0]
    torch_version = next((r["version"] for c in configs for r in results[c]["torch"] if "version" in r), None)
    simd = "AVX-512" if AVX512_FLAGS <= flags else ("AVX2" if "avx2" in flags else "no AVX2")
    lines = [f"### nntrain vs PyTorch, {started:%Y-%m-%d %H:%M}", "",
             f"- machine: {cpu_model}, {os.cpu_count()} cores ({simd}), Linux {platform.release()}",
             f"- nntrain: OpenBLAS kernel {first['kernel']}, {first['threads']} threads"
             + (f"; PyTorch {torch_version}, {results[configs[0]]['torch'][0].get('threads', '?')} threads"
                if torch_version else ""),
             f"- work: {args.config}, {args.epochs} epoch(s) per run, {args.rounds} round(s)"
             + (", nntrain and PyTorch alternating run by run" if torch_python else ""),
             f"- command: `{command}`"]
    loads = [x for x in LOADS if x is not None]
    if loads:
        lines.append(f"- 1-minute load average before each run: {min(loads):.2f} to {max(loads):.2f} "
                     f"(this benchmark's previous run counts in it too)")
        if machine_was_busy():
            lines.append(f"- **warning**: the machine was busy before the first run (load {loads[0]:.2f} on "
                         f"{os.cpu_count()} cores); multi-threaded timings are then unreliable, PyTorch's "
                         "(OpenMP threads wait for each other) most of all")
    lines.append("")
    if torch_skip:
        lines += [f"PyTorch comparison skipped: {torch_skip}; enable it with TORCH_PYTHON=/path/to/python "
                  "(an interpreter with torch and numpy) or by installing torch for python3.", ""]
    head = "| batch | precision | run | " + " | ".join(name for name, _, _ in COLUMNS) + " |"
    lines += [head, "|" + "---|" * (3 + len(COLUMNS))]
    for batch, precision in configs:
        ours = [figures(r) for r in results[(batch, precision)]["nntrain"]]
        theirs_raw = results[(batch, precision)]["torch"]
        row = [str(batch), precision, "nntrain"] + [fmt(median_of(ours, key), d) for _, key, d in COLUMNS]
        lines.append("| " + " | ".join(row) + " |")
        if not torch_python:
            continue
        error = next((r["error"] for r in theirs_raw if "error" in r), None)
        if error:
            lines.append(f"| {batch} | {precision} | PyTorch | {error} |" + " |" * (len(COLUMNS) - 1))
            continue
        theirs = [figures(r) for r in theirs_raw]
        row = [str(batch), precision, "PyTorch"] + [fmt(median_of(theirs, key), d) for _, key, d in COLUMNS]
        lines.append("| " + " | ".join(row) + " |")
        ratios = [paired_ratio(ours, theirs, key) for _, key, _ in COLUMNS]
        row = [str(batch), precision, "**nntrain / PyTorch**"] + [
            "n/a" if r is None else f"**{r:.2f}×**" for r in ratios]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "samples/s = 60,000 / epoch s; GFLOP/s counts "
              f"{training_flops_per_sample():,} training FLOP per sample (Benchmarks/bench.py, "
              "training_flops_per_sample); figures are medians over rounds, ratios medians of the rounds' ratios.", ""]
    lines += predict_table(predictions)
    lines += target_table(args, results, torch_python, predictions)
    return "\n".join(lines) + "\n"


def target_table(args, results, torch_python, predictions):
    """Issue 7's targets against what was measured; worst case over the runs where a bound is absolute."""
    rows = []

    def add(target, measured, met):
        rows.append(f"| {target} | {measured} | {'yes' if met else 'no'} |" if met is not None
                    else f"| {target} | {measured} | not measured |")

    for batch, bound in sorted(EPOCH_RATIO_TARGETS.items(), key=lambda item: [128, 32, 256].index(item[0])):
        config = (batch, "fp32")
        target = f"epoch at batch {batch} (fp32) ≤ {bound}× PyTorch"
        if config not in results:
            add(target, f"batch {batch} not run", None)
        elif not torch_python:
            add(target, "no PyTorch", None)
        else:
            theirs = [r for r in results[config]["torch"] if "epoch" in r]
            ratio = paired_ratio(results[config]["nntrain"], theirs, "epoch") if theirs else None
            busy = " (busy machine: see the warning)" if machine_was_busy() else ""
            add(target, "n/a" if ratio is None else f"{ratio:.2f}×{busy}", None if ratio is None else ratio <= bound)
    every = [r for c in results.values() for r in c["nntrain"]]
    load = max(r["load"] for r in every)
    add(f"loading the four .gz files < {LOAD_TARGET_S} s", f"{load:.3f} s (slowest of {len(every)} runs)",
        load < LOAD_TARGET_S)
    rss = max(r["rss"] for r in every)
    add(f"peak resident memory < {RSS_TARGET_MB} MB", f"{rss:.0f} MB (largest of {len(every)} runs)",
        rss < RSS_TARGET_MB)
    for batch in args.batches:
        target = f"fp16 epoch ≤ {FP16_OVER_FP32_TARGET}× fp32, batch {batch}"
        if (batch, "fp16") in results and (batch, "fp32") in results:
            ratio = paired_ratio(results[(batch, "fp16")]["nntrain"], results[(batch, "fp32")]["nntrain"], "epoch")
            add(target, f"{ratio:.2f}×", ratio <= FP16_OVER_FP32_TARGET)
        else:
            add(target, "needs both precisions", None)
    tests = [r["test"] for r in every if r["test"] is not None]
    if tests:
        add(f"evaluating the 10,000 test images < {TEST_TARGET_S} s", f"{max(tests):.3f} s (slowest)",
            max(tests) < TEST_TARGET_S)
    large = next((row for row in predictions if row["name"].endswith("-row CSV")), None)
    if large:
        add(f"predict a {large['rows']:,}-row CSV in < {PREDICT_RSS_TARGET_MB} MB", f"{large['rss']:.0f} MB",
            large["rss"] < PREDICT_RSS_TARGET_MB)
    add("OpenBLAS kernel not a generic fallback", every[0]["kernel"], True)
    return ["| target | measured | met |", "|---|---|---|"] + rows


def parse_list(text, kind, allowed=None):
    try:
        values = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list")
    if not values or (allowed and any(v not in allowed for v in values)) or (kind is int and min(values) < 1):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list of "
                                         + (", ".join(allowed) if allowed else "positive integers"))
    return values


def main():
    env = os.environ
    p = argparse.ArgumentParser(description="nntrain against PyTorch on the reference MLP (make bench).")
    p.add_argument("--nntrain", default=".build/release/nntrain", help="the nntrain binary (release build)")
    p.add_argument("--config", default=CONFIG)
    p.add_argument("--data", default="data/fashion-mnist", help="folder of the four Fashion-MNIST .gz files")
    p.add_argument("--rounds", type=int, default=int(env.get("BENCH_ROUNDS", "3")),
                   help="runs of each configuration per side (BENCH_ROUNDS, default 3)")
    p.add_argument("--batches", type=lambda t: parse_list(t, int), default=env.get("BENCH_BATCHES", "32,128,256"),
                   help="batch sizes (BENCH_BATCHES, default 32,128,256)")
    p.add_argument("--precisions", type=lambda t: parse_list(t, str, ["fp32", "fp16"]),
                   default=env.get("BENCH_PRECISIONS", "fp32,fp16"), help="fp32 and/or fp16 (BENCH_PRECISIONS)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--out", default="runs/bench", help="where runs and bench.md go")
    p.add_argument("--predict-rounds", type=int, default=5, help="processes per nntrain predict row (median)")
    p.add_argument("--predict-rows", type=int, default=1_000_000, help="rows of the generated CSV predict reads")
    args = p.parse_args()
    # argparse applies `type` to string defaults, so the environment's values are checked as flags are.
    if args.rounds < 1 or args.epochs < 1 or args.predict_rounds < 1 or args.predict_rows < 1:
        p.error("--rounds, --epochs, --predict-rounds and --predict-rows must be at least 1")
    for name in ("nntrain", "config"):
        if not os.path.isfile(getattr(args, name)):
            raise BenchError(f"{getattr(args, name)}: no such file (run `make bench`, which builds nntrain first)")
    if not os.path.isfile(os.path.join(args.data, "train-images-idx3-ubyte.gz")):
        raise BenchError(f"{args.data}: no Fashion-MNIST there; expected the four .gz files (make data)")

    started = datetime.datetime.now()
    cpu_model, flags = cpu_info()
    torch_python, torch_skip = find_torch()
    args.torch_python = torch_python
    os.makedirs(args.out, exist_ok=True)
    shown = [f"{k}={env[k]}" for k in ("BENCH_ROUNDS", "BENCH_BATCHES", "BENCH_PRECISIONS", "TORCH_PYTHON")
             if k in env]
    command = " ".join(shown + ["python3", "Benchmarks/bench.py"] + [shlex.quote(a) for a in sys.argv[1:]])

    configs = [(b, p) for b in args.batches for p in args.precisions]
    results = {c: {"nntrain": [], "torch": []} for c in configs}
    total = args.rounds * len(configs) * (2 if torch_python else 1)
    done = 0
    threads = None
    for round_index in range(1, args.rounds + 1):
        for batch, precision in configs:
            ours = run_nntrain(args, batch, precision, round_index)
            if threads is None:
                check_kernel(ours["kernel"], flags)
                threads = ours["threads"] or os.cpu_count()
            results[(batch, precision)]["nntrain"].append(ours)
            done += 1
            print(f"[{done}/{total}] round {round_index}, batch {batch}, {precision}: nntrain epoch "
                  f"{ours['epoch']:.3f} s", file=sys.stderr, flush=True)
            if torch_python:
                theirs = run_torch(args, batch, precision, round_index, threads)
                results[(batch, precision)]["torch"].append(theirs)
                done += 1
                print(f"[{done}/{total}] round {round_index}, batch {batch}, {precision}: PyTorch "
                      + (f"epoch {theirs['epoch']:.3f} s" if "epoch" in theirs else theirs["error"]),
                      file=sys.stderr, flush=True)
    first = args.batches[0], args.precisions[0]
    image_checkpoint = os.path.join(args.out, f"nntrain-b{first[0]}-{first[1]}-r1", "checkpoints", "last.bin")
    predictions = predict_benchmarks(args, image_checkpoint)
    text = report(args, results, torch_python, torch_skip, cpu_model, flags, started, command, predictions)
    print(text, end="")
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(text)
    print(f"(written to {os.path.join(args.out, 'bench.md')})", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
