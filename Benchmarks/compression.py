#!/usr/bin/env python3
"""`make bench-compression`: pruning and knowledge distillation measured on Fashion-MNIST, the figures
of the README's "Smaller models" section.

Pruning (configs/fashion-mnist-pruned.txt: the reference 784-256-128-10 model, 30 epochs, gradual global
magnitude pruning from epoch 3 to epoch 20, then 10 epochs of fine-tuning with the masks fixed):

  curve      sparsity 50, 80, 90, 95 and 98%, against the same 30 epochs without pruning (the dense
             control) and the reference run (configs/fashion-mnist.txt, 15 epochs); test accuracy of
             each; OUT/pruning-curve.svg draws it
  neurons    the same 30 epochs pruning half of each hidden layer's units (method neurons): 256-128
             becomes 128-64. Exported to ONNX beside the dense control and the 90% magnitude model:
             each file's size, its size compressed (zlib level 9, checked against nntrain export's
             report for the pruned file), and
             ONNX Runtime's session.run on the 10,000 test images and on one row (median of blocks of
             calls, the files taking turns; the ratio is the dense file's time over the file's)

Distillation (configs/fashion-mnist-student.txt: a 784-64-10 student, 30 epochs, T 1, alpha 0.5):

  teachers   configs/fashion-mnist-best.txt (512-256, 100 epochs) with seeds 42, 1 and 2
  students   seeds 1, 2 and 3 of: the student alone (configs/fashion-mnist.txt with hidden [64] and
             30 epochs: the same config without distillation), distilled from the seed-42 teacher and
             from the three teachers as an ensemble, each at the config's T 1, alpha 0.5 and at
             distillation's defaults T 4, alpha 0.9; mean and sample standard deviation of the test
             accuracy, and the training time per epoch (the teachers' forward passes are part of it)

Every run is a normal run directory under OUT (default runs/compression); a run whose summary.json
exists is not run again, so an interrupted benchmark picks up where it stopped. The report is printed
and written to OUT/compression.md. ONNX Runtime comes from .venv-onnx (make bench-compression).

    python Benchmarks/compression.py [--nntrain .build/release/nntrain] [--data data/fashion-mnist]
                                     [--out runs/compression] [--rounds 5] [--threads N]
"""
import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inference import BenchError, IMAGES, blocks_of_calls, ort_session, read_images, require_inputs  # noqa: E402

SPARSITIES = (0.5, 0.8, 0.9, 0.95, 0.98)
STUDENT_SEEDS = (1, 2, 3)
TEACHER_SEEDS = (42, 1, 2)


def nntrain(args, arguments, quiet=True):
    """Runs nntrain with `arguments`; its standard output."""
    command = [args.nntrain] + arguments
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BenchError(f"{shlex.join(command)} exited with {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def train(args, name, config, settings):
    """The summary.json of run OUT/name (config with --set settings), training it unless it exists."""
    folder = os.path.join(args.out, name)
    summary = os.path.join(folder, "summary.json")
    if not os.path.exists(summary):
        overrides = [f"data.path={args.data}", f"output.dir={folder}"] + settings
        command = ["run", config, "--quiet", "--force"] + [part for item in overrides for part in ("--set", item)]
        print(f"training {name}: nntrain {shlex.join(command)}", flush=True)
        nntrain(args, command)
    with open(summary) as f:
        result = json.load(f)
    result["folder"] = folder
    return result


def accuracy(summary):
    return summary["test"]["accuracy"]


def epoch_seconds(summary):
    return summary["train_seconds"] / summary["epochs_completed"]


def pruning(args):
    pruned = "configs/fashion-mnist-pruned.txt"
    runs = {"reference": train(args, "reference", "configs/fashion-mnist.txt", []),
            "dense": train(args, "dense", "configs/fashion-mnist.txt", ["training.epochs=30"])}
    for sparsity in SPARSITIES:
        runs[sparsity] = train(args, f"magnitude-{sparsity:g}", pruned, [f"pruning.sparsity={sparsity}"])
    runs["neurons"] = train(args, "neurons-0.5", "configs/fashion-mnist.txt", [
        "training.epochs=30", "pruning.method=neurons", "pruning.sparsity=0.5", "pruning.start_epoch=3",
        "pruning.end_epoch=20", "pruning.every_n_steps=100"])
    return runs


def exported(args, runs):
    """ONNX files of the dense control, the 90% magnitude model and the neurons model, with their sizes,
    compressed sizes and ONNX Runtime's times."""
    files = {}
    for key in ("dense", 0.9, "neurons"):
        path = os.path.join(args.out, f"{runs[key]['folder'].split('/')[-1]}.onnx")
        report = json.loads(nntrain(args, ["export", os.path.join(runs[key]["folder"], "checkpoints", "last.bin"),
                                           "--out", path, "--json"]))
        with open(path, "rb") as f:
            compressed = len(zlib.compress(f.read(), 9))
        # nntrain export reports a pruned file's compressed size with the same zlib call (compress2, level 9).
        reported = report.get("sparsity", {}).get("compressed_bytes", compressed)
        if reported != compressed:
            raise BenchError(f"{path}: nntrain export reports {reported} bytes compressed, Python's zlib {compressed}")
        files[key] = {"path": path, "bytes": report["bytes"], "layers": report["layers"], "compressed": compressed}
    sessions = {key: ort_session(file["path"], args.threads) for key, file in files.items()}
    x = read_images(os.path.join(args.data, IMAGES))
    for label, rows, calls in (("batch_s", x, 100), ("one_s", x[:1], 1000)):
        medians, ratios = blocks_of_calls(sessions, rows, max(1, calls // args.rounds), args.rounds, baseline="dense")
        for key in sessions:
            files[key][label] = medians[key]
            files[key][label + "_ratio"] = ratios[key]
    return files


def distillation(args):
    teachers = {seed: train(args, f"teacher-{seed}", "configs/fashion-mnist-best.txt", [f"seed={seed}"])
                for seed in TEACHER_SEEDS}
    last = {seed: os.path.join(run["folder"], "checkpoints", "last.bin") for seed, run in teachers.items()}
    ensemble = "[" + ", ".join(last[seed] for seed in TEACHER_SEEDS) + "]"
    student = "configs/fashion-mnist-student.txt"
    defaults = ["distillation.temperature=4", "distillation.alpha=0.9"]
    kinds = {"alone": ("configs/fashion-mnist.txt", ["model.hidden=[64]", "training.epochs=30"]),
             "distilled": (student, [f"distillation.teacher={last[42]}"]),
             "ensemble": (student, [f"distillation.teacher={ensemble}"]),
             "defaults": (student, [f"distillation.teacher={last[42]}"] + defaults),
             "ensemble-T4": (student, [f"distillation.teacher={ensemble}"] + defaults)}
    students = {kind: [train(args, f"student-{kind}-{seed}", config, [f"seed={seed}"] + settings)
                       for seed in STUDENT_SEEDS] for kind, (config, settings) in kinds.items()}
    return teachers, students


def curve_svg(runs):
    """The sparsity/accuracy curve: test accuracy against sparsity, the dense control as a dashed line."""
    width, height, left, right, top, bottom = 560, 350, 64, 24, 40, 52
    points = [(s * 100, accuracy(runs[s]) * 100) for s in SPARSITIES]
    dense = accuracy(runs["dense"]) * 100
    low = min([y for _, y in points] + [dense]) - 0.5
    high = max([y for _, y in points] + [dense]) + 0.5
    low, high = float(int(low * 2)) / 2, float(int(high * 2) + 1) / 2

    def px(x):
        return left + (x - 40) / (100 - 40) * (width - left - right)

    def py(y):
        return top + (high - y) / (high - low) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14">Fashion-MNIST test accuracy '
             f'after gradual global magnitude pruning</text>']
    tick = low
    while tick <= high + 1e-9:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" '
                     f'stroke="#e5e5e5"/><text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end">'
                     f'{tick:.1f}%</text>')
        tick += 0.5
    for x in (40, 50, 60, 70, 80, 90, 100):
        parts.append(f'<text x="{px(x):.1f}" y="{height - bottom + 18}" text-anchor="middle">{x}%</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">'
                 f'sparsity (fraction of the hidden layers\' weights pruned)</text>')
    parts.append(f'<line x1="{px(40):.1f}" x2="{px(100):.1f}" y1="{py(dense):.1f}" y2="{py(dense):.1f}" '
                 f'stroke="#888" stroke-dasharray="6 4"/><text x="{px(41):.1f}" y="{py(dense) - 6:.1f}" '
                 f'fill="#555">dense, same 30 epochs: {dense:.2f}%</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for i, (x, y) in enumerate(points))
    parts.append(f'<path d="{path}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    for x, y in points:
        parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="#1f77b4"/>'
                     f'<text x="{px(x):.1f}" y="{py(y) + 18:.1f}" text-anchor="middle">{y:.2f}%</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def spread(values):
    mean = statistics.mean(values)
    return f"{mean:.2%} ± {statistics.stdev(values):.2%}" if len(values) > 1 else f"{mean:.2%}"


def report(args, runs, files, teachers, students, command, started):
    lines = [f"**Pruning and distillation on Fashion-MNIST, {started:%Y-%m-%d %H:%M}** (`{command}`)", "",
             "| pruning (784-256-128-10, 30 epochs) | sparsity | test accuracy |", "|---|---|---|",
             f"| reference run, 15 epochs (configs/fashion-mnist.txt) | 0% | {accuracy(runs['reference']):.2%} |",
             f"| dense control, 30 epochs | 0% | {accuracy(runs['dense']):.2%} |"]
    for s in SPARSITIES:
        lines.append(f"| gradual global magnitude | {runs[s]['pruning']['sparsity']:.1%} | {accuracy(runs[s]):.2%} |")
    widths = "-".join(str(w) for w in runs["neurons"]["pruning"]["hidden_widths"])
    lines.append(f"| neurons, half of each hidden layer's units (hidden {widths}) | "
                 f"{runs['neurons']['pruning']['sparsity']:.1%} | {accuracy(runs['neurons']):.2%} |")
    lines += ["", "| exported ONNX | layers | bytes | zlib -9 | ORT 10,000 rows | vs dense | ORT one row | vs dense |",
              "|---|---|---|---|---|---|---|---|"]
    names = {"dense": "dense control", 0.9: "90% magnitude (zeros stored dense)", "neurons": "neurons 50%"}
    for key in ("dense", 0.9, "neurons"):
        f = files[key]
        shape = "-".join([str(f["layers"][0]["inputs"])] + [str(layer["outputs"]) for layer in f["layers"]])
        lines.append(f"| {names[key]} | {shape} | {f['bytes']:,} | {f['compressed']:,} | {f['batch_s'] * 1e3:.2f} ms | "
                     f"{f['batch_s_ratio']:.2f}× | {f['one_s'] * 1e6:.1f} µs | {f['one_s_ratio']:.2f}× |")
    lines += ["", "| distillation (784-64-10 student, 30 epochs, seeds 1, 2, 3) | test accuracy (mean ± sd) | "
              "per seed | s/epoch |", "|---|---|---|---|"]
    for seed in TEACHER_SEEDS:
        lines.append(f"| teacher: configs/fashion-mnist-best.txt, seed {seed} | {accuracy(teachers[seed]):.2%} | | "
                     f"{epoch_seconds(teachers[seed]):.2f} |")
    names = {"alone": "student alone",
             "distilled": "distilled from the seed-42 teacher, T 1, alpha 0.5 (the config's)",
             "ensemble": "distilled from the three teachers (ensemble), T 1, alpha 0.5",
             "defaults": "distilled from the seed-42 teacher at the defaults, T 4, alpha 0.9",
             "ensemble-T4": "distilled from the ensemble at the defaults, T 4, alpha 0.9"}
    for kind, name in names.items():
        values = [accuracy(run) for run in students[kind]]
        seconds = statistics.median(epoch_seconds(run) for run in students[kind])
        lines.append(f"| {name} | {spread(values)} | {', '.join(f'{v:.2%}' for v in values)} | {seconds:.2f} |")
    lines += ["", f"ONNX Runtime: {args.threads} threads, median of blocks of calls over {args.rounds} rounds, the "
              "three files taking turns; \"vs dense\" is the dense file's time over the file's (above 1 is faster)."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nntrain", default=".build/release/nntrain")
    parser.add_argument("--data", default="data/fashion-mnist")
    parser.add_argument("--out", default="runs/compression")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    command = shlex.join([os.path.basename(sys.executable)] + sys.argv)
    started = datetime.datetime.now()
    try:
        require_inputs(args)
        runs = pruning(args)
        teachers, students = distillation(args)
        files = exported(args, runs)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = report(args, runs, files, teachers, students, command, started)
    print("\n" + text)
    with open(os.path.join(args.out, "compression.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "pruning-curve.svg"), "w") as f:
        f.write(curve_svg(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
