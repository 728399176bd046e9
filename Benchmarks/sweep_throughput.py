#!/usr/bin/env python3
"""`make bench-sweep`: what `nntrain sweep --jobs N` buys on this machine, the figure of the README's
"Results" table.

The same 8 trials (configs/fashion-mnist.txt, the reference 784-256-128-10 model, seeds 1 to 8,
EPOCHS epochs each) run as a sweep three ways, each in a fresh sweep folder:

  sequential   --jobs 1: one trial after another, each computing on every core (NNTRAIN_THREADS = cores)
  parallel     --jobs CORES: CORES trials at once, each on one thread
  oversubscribed  --jobs 8: all 8 trials at once, each on one thread (more processes than cores)

The three take turns for ROUNDS rounds (so drifts in the machine's speed fall on all of them); the
figure is each way's median wall time (the whole `nntrain sweep` process, data loading included),
the throughput in trials per minute, and the ratio of the sequential median to each one's. Every
trial's test accuracy is checked to be the same whichever way it ran (the runs are seeded; only the
threads differ, which may change the last bits of a product), to within 0.5 points.

    python Benchmarks/sweep_throughput.py [--nntrain .build/release/nntrain] [--data data/fashion-mnist]
                                          [--out runs/bench-sweep] [--rounds 3] [--epochs 2]
"""
import argparse
import csv
import datetime
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time

TRIALS = 8


def sweep_file(args, folder):
    """Writes the sweep file of the 8 trials into `folder`; its path."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "sweep.yaml")
    with open(path, "w") as file:
        file.write(f"base: {os.path.abspath('configs/fashion-mnist.txt')}\n"
                   f"output: {folder}/trials\n"
                   "metric: test_acc\n"
                   "grid:\n"
                   f"  seed: [{', '.join(str(seed) for seed in range(1, TRIALS + 1))}]\n"
                   f"  training.epochs: [{args.epochs}]\n"
                   f"  data.path: [{os.path.abspath(args.data)}]\n")
    return path


def run_sweep(args, name, jobs, round_number):
    """One sweep of the 8 trials with --jobs `jobs` in a fresh folder; (seconds, {trial: test_acc})."""
    folder = os.path.abspath(os.path.join(args.out, f"{name}-{round_number}"))
    shutil.rmtree(folder, ignore_errors=True)
    path = sweep_file(args, folder)
    command = [args.nntrain, "sweep", path, "--jobs", str(jobs)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{shlex.join(command)} exited with {result.returncode}: {result.stderr.strip()}")
    with open(os.path.join(folder, "trials", "results.csv")) as file:
        accuracy = {row["trial"]: float(row["test_acc"]) for row in csv.DictReader(file)}
    if len(accuracy) != TRIALS:
        sys.exit(f"{folder}: {len(accuracy)} trials in results.csv; expected {TRIALS}")
    return seconds, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nntrain", default=".build/release/nntrain")
    parser.add_argument("--data", default="data/fashion-mnist")
    parser.add_argument("--out", default="runs/bench-sweep")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    for path, what in [(args.nntrain, "the nntrain binary (make build)"), (args.data, "Fashion-MNIST (make data)")]:
        if not os.path.exists(path):
            sys.exit(f"{path}: missing; expected {what}")
    cores = os.cpu_count() or 1
    ways = [("sequential", 1), ("parallel", cores), ("oversubscribed", TRIALS)]
    seconds = {name: [] for name, _ in ways}
    accuracy = {}
    for round_number in range(1, args.rounds + 1):
        for name, jobs in ways:
            elapsed, figures = run_sweep(args, name, jobs, round_number)
            seconds[name].append(elapsed)
            for trial, value in figures.items():
                accuracy.setdefault(trial, []).append(value)
            print(f"round {round_number}: {name} (--jobs {jobs}) {elapsed:.1f} s", flush=True)
    spread = max(max(values) - min(values) for values in accuracy.values())
    if spread > 0.005:
        sys.exit(f"a trial's test accuracy differs by {spread:.4f} between the ways it ran; expected at most 0.005")
    base = statistics.median(seconds["sequential"])
    lines = [f"# nntrain sweep throughput ({datetime.date.today()}, {cores} cores)", "",
             f"{TRIALS} trials of configs/fashion-mnist.txt, {args.epochs} epochs each, seeds 1-{TRIALS}; "
             f"median of {args.rounds} rounds, the ways taking turns", "",
             "| way | --jobs | threads per trial | wall time (median) | trials per minute | speed-up |",
             "|---|---|---|---|---|---|"]
    for name, jobs in ways:
        median = statistics.median(seconds[name])
        threads = max(1, cores // jobs)
        lines.append(f"| {name} | {jobs} | {threads} | {median:.1f} s ({', '.join(f'{s:.1f}' for s in seconds[name])}) "
                     f"| {TRIALS * 60 / median:.1f} | {base / median:.2f}x |")
    lines += ["", f"Test accuracy agreed across the ways within {spread * 100:.2f} points."]
    report = "\n".join(lines) + "\n"
    print(report)
    with open(os.path.join(args.out, "sweep-throughput.md"), "w") as file:
        file.write(report)


if __name__ == "__main__":
    main()
