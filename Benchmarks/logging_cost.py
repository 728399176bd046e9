#!/usr/bin/env python3
"""`make bench-logging`: what TensorBoard logging and per-layer statistics cost (issue 19's bar: at
most 3% of epoch time with scalars only), the figure in docs/performance.md.

The reference run (configs/fashion-mnist.txt, 784-256-128-10, batch 128, 469 steps an epoch) trains
EPOCHS epochs in each of these settings, which take turns for ROUNDS rounds (so drifts in the
machine's speed fall on all of them):

  plain        no logging beyond metrics.csv
  tensorboard  logging.tensorboard: every metrics.csv figure as a scalar each epoch, hparams
  histograms   tensorboard and logging.histograms: 2 histograms per parameter tensor each epoch
  steps        tensorboard and logging.every_n_steps 1: steps.csv and step scalars every step
  layer_stats  logging.layer_stats: per-layer gradient norms every step, weight norms and dead
               units each epoch (metrics.csv and steps.csv columns)

Two figures per setting, each the median over rounds: the mean epoch_seconds of metrics.csv (the
steps alone: per-step work such as layer statistics shows here) and the process's wall time per epoch
(everything: loading, the epoch-end writes such as histograms, the test pass), with each one's ratio
to plain's. Prints a Markdown table and writes it to OUT/logging.md.

    python Benchmarks/logging_cost.py [--nntrain .build/release/nntrain] [--out runs/bench-logging]
                                      [--rounds 5] [--epochs 3]
"""
import argparse
import csv
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import time

SETTINGS = {
    "plain": [],
    "tensorboard": ["logging.tensorboard=true"],
    "histograms": ["logging.tensorboard=true", "logging.histograms=true"],
    "steps": ["logging.tensorboard=true", "logging.every_n_steps=1"],
    "layer_stats": ["logging.layer_stats=true"],
}


def run(args, name, round_):
    folder = os.path.join(args.out, f"{name}-{round_}")
    shutil.rmtree(folder, ignore_errors=True)
    command = [args.nntrain, "run", "configs/fashion-mnist.txt", "--quiet", "--set", f"training.epochs={args.epochs}",
               "--set", f"output.dir={folder}"]
    for override in SETTINGS[name]:
        command += ["--set", override]
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()}")
    with open(os.path.join(folder, "metrics.csv"), newline="") as file:
        epochs = [float(row["epoch_seconds"]) for row in csv.DictReader(file)]
    return statistics.mean(epochs), wall / args.epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nntrain", default=".build/release/nntrain")
    parser.add_argument("--out", default="runs/bench-logging")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    figures = {name: ([], []) for name in SETTINGS}
    for round_ in range(1, args.rounds + 1):
        for name in SETTINGS:
            epoch, wall = run(args, name, round_)
            figures[name][0].append(epoch)
            figures[name][1].append(wall)
            print(f"round {round_} {name}: epoch {epoch:.3f} s, wall per epoch {wall:.3f} s", flush=True)
    base_epoch = statistics.median(figures["plain"][0])
    base_wall = statistics.median(figures["plain"][1])
    lines = [
        f"Logging cost, configs/fashion-mnist.txt, {args.epochs} epochs, median of {args.rounds} rounds "
        f"({datetime.date.today()}, `python Benchmarks/logging_cost.py`):",
        "",
        "| setting | epoch_seconds | ratio | wall s / epoch | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, (epochs, walls) in figures.items():
        epoch, wall = statistics.median(epochs), statistics.median(walls)
        lines.append(f"| {name} | {epoch:.3f} | {epoch / base_epoch:.3f} | {wall:.3f} | {wall / base_wall:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(args.out, "logging.md"), "w") as file:
        file.write(text)


if __name__ == "__main__":
    main()
