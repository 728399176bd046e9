#!/usr/bin/env bash
# Batch vs mini-batch vs stochastic gradient descent on the bonus regression (the seed tutorial's
# gd_vs_mini_gd_vs_sgd): trains configs/bonus-gd.txt, bonus-minibatch.txt and bonus-sgd.txt, then
# prints each one's loss against optimizer steps and against training seconds, read from the
# steps.csv of each run. Batch losses are noisy for small batches, so each figure is the mean loss
# over the last 256 training rows seen: 1 step of full-batch GD, 8 steps of 32 rows, 256 single rows.
# A run that ended before a column's step count or time shows "-" there.
# Usage: data-scripts/compare-gd.sh [NNTRAIN_BINARY]   (default .build/release/nntrain)
set -euo pipefail
cd "$(dirname "$0")/.."
nntrain=${1:-.build/release/nntrain}
[ -x "$nntrain" ] || { echo "usage: $0 [NNTRAIN_BINARY] (build it first: make build)" >&2; exit 64; }
[ -f data/bonus.csv ] || "$nntrain" data bonus --rows 10000 --seed 42 --out data/bonus.csv
for mode in gd minibatch sgd; do
    "$nntrain" run "configs/bonus-$mode.txt" --quiet --force
done
python3 - <<'PY'
import csv, math

def smoothed(path, batch_rows):
    rows, out = list(csv.DictReader(open(path))), []
    window = max(1, 256 // batch_rows)
    losses = [float(r["loss"]) for r in rows]
    for i, r in enumerate(rows):
        recent = losses[max(0, i + 1 - window):i + 1]
        out.append((int(r["step"]), float(r["seconds"]), sum(recent) / len(recent)))
    return out

def at(series, key, limit):  # the last point at or before `limit` on axis `key` (0: steps, 1: seconds)
    if not series or series[-1][key] < limit: return "-"  # the run had ended: its last loss is not carried on
    best = None
    for point in series:
        if point[key] <= limit: best = point
    return f"{best[2]:.3f}" if best else "-"

modes = [("gd (full batch)", "runs/bonus-gd", 256), ("mini-batch 32", "runs/bonus-minibatch", 32),
         ("stochastic 1", "runs/bonus-sgd", 1)]
series = {name: smoothed(f"{run}/steps.csv", rows) for name, run, rows in modes}
steps = [1, 10, 100, 1000, 10000]
seconds = [0.001, 0.003, 0.01, 0.03, 0.1]
print("training loss (MSE) after N optimizer steps")
print(f"{'mode':18}" + "".join(f"{s:>10}" for s in steps))
for name, _, _ in modes: print(f"{name:18}" + "".join(f"{at(series[name], 0, s):>10}" for s in steps))
print("\ntraining loss (MSE) after T seconds of training")
print(f"{'mode':18}" + "".join(f"{str(t) + ' s':>10}" for t in seconds))
for name, _, _ in modes: print(f"{name:18}" + "".join(f"{at(series[name], 1, t):>10}" for t in seconds))
print("\nafter the last epoch")
print(f"{'mode':18}{'epochs':>8}{'steps':>8}{'seconds':>10}{'val MSE':>10}{'val R2':>9}")
for name, run, _ in modes:
    last = list(csv.DictReader(open(f"{run}/metrics.csv")))[-1]
    s = series[name][-1]
    print(f"{name:18}{last['epoch']:>8}{s[0]:>8}{s[1]:>10.3f}{float(last['val_loss']):>10.4f}{float(last['val_r2']):>9.4f}")
PY
