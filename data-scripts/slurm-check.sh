#!/usr/bin/env bash
# A sweep through a real Slurm, end to end: starts the one-node cluster of data-scripts/slurm-local.sh
# (in runs/slurm-check/cluster), submits a 4-trial sweep of the bonus regression (2 learning rates ×
# 2 random dropouts, 3 epochs each) with `nntrain sweep --slurm --jobs 2`, waits for the job array to
# leave the queue (at most SLURM_CHECK_SECONDS, default 300), then checks that `nntrain sweep --report`
# finds all 4 trials finished, that results.csv ranks them, that best.yaml exists, and that every array
# task's output file is there; a second `--slurm` must find nothing to submit. The daemons it started
# are stopped on every exit (their PIDs).
#
# Usage: data-scripts/slurm-check.sh [NNTRAIN_BINARY]   (default .build/release/nntrain)
# Exit status 0 when everything held, 1 otherwise, 64 on bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."
nntrain=$(cd "$(dirname "${1:-.build/release/nntrain}")" && pwd)/$(basename "${1:-.build/release/nntrain}")
[ -x "$nntrain" ] || { echo "usage: $0 [NNTRAIN_BINARY] (build it first: make build)" >&2; exit 64; }
work=$PWD/runs/slurm-check
scripts=$PWD/data-scripts
job=
# On every exit: the job cancelled (its tasks would run on without the daemons), then the daemons.
finish() {
    if [ -n "$job" ]; then
        scancel "$job" 2>/dev/null || true
        for _ in $(seq 100); do [ -z "$(squeue --noheader --jobs "$job" 2>/dev/null)" ] && break; sleep 0.1; done
    fi
    "$scripts"/slurm-local.sh stop "$work/cluster"
}
"$scripts"/slurm-local.sh stop "$work/cluster" > /dev/null 2>&1 || true  # daemons an earlier check left
rm -rf "$work"
mkdir -p "$work"
trap finish EXIT
"$scripts"/slurm-local.sh start "$work/cluster"
export SLURM_CONF=$work/cluster/slurm.conf

cd "$work"
"$nntrain" data bonus --rows 2000 --seed 7 --out bonus.csv > /dev/null
cat > sweep.yaml <<'EOF'
base:
  data: {dataset: bonus, path: bonus.csv}
  loss: mse
  model: {hidden: [16]}
  training: {epochs: 3, batch_size: 64}
output: sweep
grid:
  optimizer.lr: [0.003, 0.03]
random:
  trials: 2
  seed: 1
  params:
    model.dropout: {uniform: [0.0, 0.2]}
EOF
submitted=$("$nntrain" sweep sweep.yaml --slurm --jobs 2 2>&1)
echo "$submitted"
job=$(echo "$submitted" | sed -n 's/^submitted Slurm job \([0-9]*\):.*/\1/p')
[ -n "$job" ] || { echo "FAILED: nntrain sweep --slurm printed no job id"; exit 1; }

deadline=$((SECONDS + ${SLURM_CHECK_SECONDS:-300}))
while [ -n "$(squeue --noheader --jobs "$job" 2>/dev/null)" ]; do
    if [ $SECONDS -ge $deadline ]; then
        echo "FAILED: Slurm job $job still queued or running after ${SLURM_CHECK_SECONDS:-300} s:"
        squeue --jobs "$job" || true
        "$nntrain" sweep sweep.yaml --status || true
        exit 1
    fi
    sleep 1
done
"$nntrain" sweep sweep.yaml --status
"$nntrain" sweep sweep.yaml --report

finished=$(grep -c ',finished,' sweep/results.csv || true)
outputs=$(find sweep/slurm -name "${job}_*.out" | wc -l)
if [ "$finished" -eq 4 ] && [ -s sweep/best.yaml ] && [ "$outputs" -eq 4 ]; then
    echo "ok: a 4-trial sweep ran through sbatch as Slurm job array $job: 4 trials finished, results.csv and best.yaml written"
else
    echo "FAILED: $finished of 4 trials finished, $outputs of 4 task outputs; results.csv:"
    cat sweep/results.csv
    for out in sweep/slurm/*.out; do echo "== $out"; cat "$out"; done
    exit 1
fi
again=$("$nntrain" sweep sweep.yaml --slurm 2>&1)
case $again in
*"nothing to submit"*) echo "ok: submitted again, the finished sweep has nothing to submit" ;;
*) echo "FAILED: a finished sweep submitted again said: $again"; exit 1 ;;
esac
