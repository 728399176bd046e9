#!/usr/bin/env python3
"""`make bench-inference`: `nntrain predict` against ONNX Runtime on the same model, and ONNX Runtime's
int8 and fp16 files against its fp32 one.

The model: the reference MLP (configs/fashion-mnist.txt, 784-256-128-10 ReLU) trained for --epochs
(default 3) into OUT/inference-model, or the checkpoint --checkpoint names; `nntrain export` writes
it as fp32, fp16 and int8 ONNX. Both sides compute with the same number of threads (--threads,
default the machine's cores: NNTRAIN_THREADS for nntrain, intra_op_num_threads for ONNX Runtime,
whose inter-op pool is sequential), and alternate run by run (nntrain, ONNX Runtime, nntrain, ...)
so both see the same machine load; every figure is the median over --rounds (default 5), and each
ratio the median of the rounds' ratios, each taken between two runs made one after the other.

End to end, the 10,000 test images (t10k-images-idx3-ubyte.gz) to a predictions CSV of the same
columns (row, prediction, probability, p_<class> ...):

  nntrain predict   the whole process's wall-clock: start (with its re-exec to pick the OpenBLAS
                    kernel), reading and checking the checkpoint, inflating and reading the images,
                    the forward pass, softmax, writing the CSV (`--probabilities --out FILE`)
  ORT in process    in a fresh Python process, timed from after `import onnxruntime`: creating the
                    InferenceSession from the .onnx file (graph optimisation included), reading the
                    images (gzip + numpy), session.run on all rows at once, writing the CSV (one
                    %-format a row, 9 significant digits a probability), each phase timed
  ORT process       that Python process's wall-clock, interpreter start and imports included
  start-up out      nntrain: the 10,000-row process minus the one-row process of the same round (what
                    the rows cost beyond starting and loading the checkpoint); ORT: read + run + write

The latency of one row:

  nntrain predict   a process predicting a one-image IDX file (everything above, for one row)
  ORT run           session.run on one row in a warm session: the median of --latency-runs calls
  ORT process       a fresh Python process doing the whole job for the one-image file

ONNX Runtime's files against each other (fp32, fp16, int8 from `nntrain export --quantize`): the
file's size, the test accuracy in ONNX Runtime and `nntrain eval [--quantize ...] --json`'s, the
time of session.run on the 10,000 images at once (--latency-runs / 10 calls) and on one row
(--latency-runs calls), the three files taking turns in blocks of calls (one block each per round).

The report is printed and written to OUT/inference.md. Run it with a Python that has numpy and
onnxruntime (`make bench-inference` makes .venv-onnx with the pinned versions):

    python Benchmarks/inference.py [--nntrain .build/release/nntrain] [--data data/fashion-mnist]
                                   [--checkpoint PATH] [--epochs 3] [--rounds 5] [--threads N]
                                   [--latency-runs 1000] [--out runs/bench]
"""
import argparse
import datetime
import gzip
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

IMAGES = "t10k-images-idx3-ubyte.gz"
LABELS = "t10k-labels-idx1-ubyte.gz"


class BenchError(Exception):
    """A failure that ends the benchmark with one line on stderr."""


# MARK: - ONNX Runtime's side, in a process of its own (also this file, with --ort-worker)

def ort_session(path, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def read_images(path):
    """The IDX images file (gzip or raw) as float32 [N, rows·columns], raw pixel values."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    count, rows, columns = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(data, dtype=np.uint8, offset=16, count=count * rows * columns) \
        .reshape(count, rows * columns).astype(np.float32)


def write_predictions(path, probabilities, class_names):
    """row, prediction, probability, p_<class>...: the columns of `nntrain predict --probabilities`, each
    probability with 9 significant digits (enough to read back the same float32), one % per row."""
    quoted = [f'"{c}"' if "," in c else c for c in class_names]
    best = probabilities.argmax(axis=1)
    line = "%d,%s" + ",%.9g" * (probabilities.shape[1] + 1) + "\n"
    with open(path, "w") as f:
        f.write(",".join(["row", "prediction", "probability"] + [f"p_{c}" for c in quoted]) + "\n")
        f.writelines(line % (row, quoted[best[row]], values[best[row]], *values)
                     for row, values in enumerate(probabilities.tolist()))


def ort_worker(model, images, out, threads):
    """One end-to-end prediction in this process; prints its phases' seconds as JSON."""
    import onnxruntime  # noqa: F401  (imported before the clock starts, as the docstring says)
    started = time.perf_counter()
    session = ort_session(model, threads)
    class_names = json.loads(session.get_modelmeta().custom_metadata_map["class_names"])
    loaded = time.perf_counter()
    x = read_images(images)
    read = time.perf_counter()
    probabilities = session.run(["probabilities"], {session.get_inputs()[0].name: x})[0]
    computed = time.perf_counter()
    write_predictions(out, probabilities, class_names)
    written = time.perf_counter()
    print(json.dumps({"session": loaded - started, "read": read - loaded, "run": computed - read,
                      "write": written - computed, "total": written - started}))


# MARK: - Measuring

def wall_clock(command, env=None):
    """Seconds of `command`'s whole process, and its standard output."""
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise BenchError(f"`{shlex.join(command)}` exited with {result.returncode}: {lines[-1] if lines else ''}")
    return seconds, result.stdout


def one_row_file(images_path, out):
    """An IDX images file holding the first image of `images_path` alone (gzipped, as the test set)."""
    data = gzip.decompress(open(images_path, "rb").read())
    rows, columns = int.from_bytes(data[8:12], "big"), int.from_bytes(data[12:16], "big")
    one = data[:4] + (1).to_bytes(4, "big") + data[8:16] + data[16:16 + rows * columns]
    with gzip.open(out, "wb") as f:
        f.write(one)
    return out


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


# MARK: - The benchmark

def require_inputs(args):
    """Refuses a missing nntrain binary or Fashion-MNIST folder; makes the output folder."""
    if not os.access(args.nntrain, os.X_OK):
        raise BenchError(f"{args.nntrain}: no nntrain binary there; expected --nntrain PATH (make build)")
    if not os.path.exists(os.path.join(args.data, IMAGES)):
        raise BenchError(f"{args.data}: no {IMAGES}; expected --data with Fashion-MNIST (make data)")
    os.makedirs(args.out, exist_ok=True)


def prepare_model(args):
    if args.checkpoint:
        return args.checkpoint
    folder = os.path.join(args.out, "inference-model")
    checkpoint = os.path.join(folder, "checkpoints", "last.bin")
    command = [args.nntrain, "run", "configs/fashion-mnist.txt", "--set", f"training.epochs={args.epochs}",
               "--set", f"data.path={args.data}", "--set", f"output.dir={folder}", "--force", "--quiet"]
    print(f"training: {shlex.join(command)}", flush=True)
    wall_clock(command)
    return checkpoint


def export(args, checkpoint):
    files = {}
    for quantize in ("none", "fp16", "int8"):
        key = "fp32" if quantize == "none" else quantize
        files[key] = os.path.join(args.out, f"inference-{key}.onnx")
        wall_clock([args.nntrain, "export", checkpoint, "--out", files[key], "--quantize", quantize])
    return files


def nntrain_accuracy(args, checkpoint, quantize):
    quantized = [] if quantize == "none" else ["--quantize", quantize]
    _, out = wall_clock([args.nntrain, "eval", checkpoint, "--json", "--data", args.data] + quantized)
    return json.loads(out)["classification"]["accuracy"]


def measure(args, checkpoint, files):
    import onnxruntime as ort
    images_path = os.path.join(args.data, IMAGES)
    one_path = one_row_file(images_path, os.path.join(args.out, "inference-one-image-idx3-ubyte.gz"))
    env = dict(os.environ, NNTRAIN_THREADS=str(args.threads))
    worker = [sys.executable, os.path.abspath(__file__), "--ort-worker", "--threads", str(args.threads)]
    runs = {key: [] for key in ("nntrain", "ort_total", "ort_process", "nntrain_one", "ort_one_process")}
    phases = []
    ratios, one_ratios, marginal_ratios = [], [], []
    loads = []
    for round_index in range(args.rounds):
        loads.append(load_average())
        nntrain_s, _ = wall_clock([args.nntrain, "predict", checkpoint, images_path, "--probabilities",
                                   "--out", os.path.join(args.out, "inference-nntrain.csv")], env)
        ort_s, out = wall_clock(worker + ["--model", files["fp32"], "--images", images_path,
                                          "--predictions", os.path.join(args.out, "inference-ort.csv")])
        inside = json.loads(out)
        nntrain_one_s, _ = wall_clock([args.nntrain, "predict", checkpoint, one_path, "--probabilities",
                                       "--out", os.path.join(args.out, "inference-nntrain-one.csv")], env)
        ort_one_s, _ = wall_clock(worker + ["--model", files["fp32"], "--images", one_path,
                                            "--predictions", os.path.join(args.out, "inference-ort-one.csv")])
        runs["nntrain"].append(nntrain_s)
        runs["ort_total"].append(inside["total"])
        runs["ort_process"].append(ort_s)
        runs["nntrain_one"].append(nntrain_one_s)
        runs["ort_one_process"].append(ort_one_s)
        phases.append(inside)
        ratios.append(nntrain_s / inside["total"])
        marginal_ratios.append((nntrain_s - nntrain_one_s) / (inside["total"] - inside["session"]))
        one_ratios.append(nntrain_one_s / ort_one_s)
        print(f"round {round_index + 1}: nntrain predict {nntrain_s:.3f} s, ONNX Runtime {inside['total']:.3f} s "
              f"in process ({ort_s:.3f} s with Python's start); one row: {nntrain_one_s:.3f} s and {ort_one_s:.3f} s",
              flush=True)

    x = read_images(images_path)
    labels = np.frombuffer(gzip.open(os.path.join(args.data, LABELS)).read(), dtype=np.uint8, offset=8)
    sessions = {key: ort_session(path, args.threads) for key, path in files.items()}
    variants = {}
    for key, session in sessions.items():
        probabilities = session.run(["probabilities"], {session.get_inputs()[0].name: x})[0]
        variants[key] = {"bytes": os.path.getsize(files[key]),
                         "ort_accuracy": float(np.mean(probabilities.argmax(axis=1) == labels)),
                         "nntrain_accuracy": nntrain_accuracy(args, checkpoint, "none" if key == "fp32" else key)}
    for label, rows, calls in (("batch_s", x, max(1, args.latency_runs // 10)), ("one_s", x[:1], args.latency_runs)):
        medians, ratios_to_fp32 = blocks_of_calls(sessions, rows, max(1, calls // args.rounds), args.rounds)
        for key in sessions:
            variants[key][label] = medians[key]
            variants[key][label + "_ratio"] = ratios_to_fp32[key]
    marginal = [a - b for a, b in zip(runs["nntrain"], runs["nntrain_one"])]
    return {"runs": runs, "phases": phases, "ratio": statistics.median(ratios),
            "one_ratio": statistics.median(one_ratios), "marginal_ratio": statistics.median(marginal_ratios),
            "marginal": statistics.median(marginal), "variants": variants, "loads": loads,
            "ort_version": ort.__version__}


def blocks_of_calls(sessions, rows, calls, rounds, baseline="fp32"):
    """({key: median seconds of a call}, {key: median over rounds of the baseline's median over the file's}):
    session.run of every session on `rows`, the sessions taking turns round by round, each round a
    block of `calls` calls after one unrecorded call. Blocks, not single calls in turn: a session's
    intra-op threads spin for a while after each call, and would take the cores from the next
    session's call (fp32 measured 1.7× slower when three sessions alternated call by call)."""
    feeds = {key: {session.get_inputs()[0].name: rows} for key, session in sessions.items()}
    times = {key: [] for key in sessions}
    block_medians = {key: [] for key in sessions}
    for _ in range(rounds):
        for key, session in sessions.items():
            session.run(["probabilities"], feeds[key])
            block = []
            for _ in range(calls):
                started = time.perf_counter()
                session.run(["probabilities"], feeds[key])
                block.append(time.perf_counter() - started)
            times[key] += block
            block_medians[key].append(statistics.median(block))
    return ({key: statistics.median(values) for key, values in times.items()},
            {key: statistics.median(f / t for f, t in zip(block_medians[baseline], block_medians[key]))
             for key in sessions})


def report(args, checkpoint, result, command, started):
    runs, variants = result["runs"], result["variants"]
    median = {key: statistics.median(values) for key, values in runs.items()}
    phase = {key: statistics.median(p[key] for p in result["phases"]) for key in ("session", "read", "run", "write")}
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
    loads = [x for x in result["loads"] if x is not None]
    lines = [f"**nntrain predict against ONNX Runtime, {started:%Y-%m-%d %H:%M}** (`{command}`)", "",
             f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
             f"- model: {checkpoint} ({variants['fp32']['bytes']:,}-byte fp32 ONNX); {args.threads} threads each "
             f"(NNTRAIN_THREADS, intra_op_num_threads); ONNX Runtime {result['ort_version']}, CPUExecutionProvider",
             f"- {args.rounds} rounds, nntrain and ONNX Runtime alternating run by run"]
    if loads:
        lines.append(f"- 1-minute load average before each round: {min(loads):.2f} to {max(loads):.2f}")
    lines += ["", "| 10,000 test images → predictions CSV | seconds | rows/s |", "|---|---|---|",
              f"| nntrain predict (whole process) | {median['nntrain']:.3f} | {10000 / median['nntrain']:,.0f} |",
              f"| ONNX Runtime in process (session {phase['session']:.3f} + read {phase['read']:.3f} + run "
              f"{phase['run']:.3f} + write {phase['write']:.3f}) | {median['ort_total']:.3f} | "
              f"{10000 / median['ort_total']:,.0f} |",
              f"| ONNX Runtime, whole Python process | {median['ort_process']:.3f} | "
              f"{10000 / median['ort_process']:,.0f} |",
              f"| **nntrain / ONNX Runtime in process** | **{result['ratio']:.2f}×** | |",
              f"| nntrain predict, 10,000 rows − 1 row (the start-up and checkpoint load taken out) | "
              f"{result['marginal']:.3f} | {10000 / result['marginal']:,.0f} |",
              f"| ONNX Runtime read + run + write (the session's creation taken out) | "
              f"{median['ort_total'] - phase['session']:.3f} | {10000 / (median['ort_total'] - phase['session']):,.0f} |",
              f"| **nntrain / ONNX Runtime, start-up taken out** | **{result['marginal_ratio']:.2f}×** | |", "",
              "| one row | seconds |", "|---|---|",
              f"| nntrain predict of a one-image file (whole process) | {median['nntrain_one']:.4f} |",
              f"| ONNX Runtime, whole Python process for the one-image file | {median['ort_one_process']:.4f} |",
              f"| **nntrain / ONNX Runtime (processes)** | **{result['one_ratio']:.2f}×** |",
              f"| ONNX Runtime session.run on one row, warm (median of {args.latency_runs}) | "
              f"{variants['fp32']['one_s'] * 1e6:.1f} µs |", "",
              "| ONNX file | bytes | of fp32 | test accuracy (ORT) | nntrain eval | session.run, 10,000 rows | "
              "vs fp32 | one row | vs fp32 |", "|---|---|---|---|---|---|---|---|---|"]
    for key in ("fp32", "fp16", "int8"):
        v = variants[key]
        lines.append(f"| {key} | {v['bytes']:,} | {v['bytes'] / variants['fp32']['bytes']:.0%} | "
                     f"{v['ort_accuracy']:.2%} | {v['nntrain_accuracy']:.2%} | {v['batch_s'] * 1e3:.1f} ms | "
                     f"{v['batch_s_ratio']:.2f}× | {v['one_s'] * 1e6:.1f} µs | {v['one_s_ratio']:.2f}× |")
    lines += ["", "Seconds are medians over rounds; session.run's over calls, the three files taking turns in blocks "
              "of calls, one block each per round; \"vs fp32\" is the median over rounds of fp32's time over the file's "
              "(above 1 is faster). Benchmarks/inference.py says what each figure includes."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nntrain", default=".build/release/nntrain")
    parser.add_argument("--data", default="data/fashion-mnist")
    parser.add_argument("--checkpoint")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--latency-runs", type=int, default=1000)
    parser.add_argument("--out", default="runs/bench")
    parser.add_argument("--ort-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--images", help=argparse.SUPPRESS)
    parser.add_argument("--predictions", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ort_worker:
        ort_worker(args.model, args.images, args.predictions, args.threads)
        return 0
    command = shlex.join([sys.executable] + sys.argv)
    started = datetime.datetime.now()
    try:
        require_inputs(args)
        checkpoint = prepare_model(args)
        result = measure(args, checkpoint, export(args, checkpoint))
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = report(args, checkpoint, result, command, started)
    print("\n" + text)
    with open(os.path.join(args.out, "inference.md"), "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
