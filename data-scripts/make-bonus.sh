#!/usr/bin/env bash
# Generates the synthetic employee-bonus dataset and its true weights with nntrain:
#
#   data-scripts/make-bonus.sh [ROWS] [SEED] [OUT]      (defaults: 10000 42 data/bonus.csv)
#
# writes OUT and, beside it, OUT's name with .weights.json instead of .csv. The same ROWS and SEED
# always give byte-identical files. nntrain is built in release first (a no-op when up to date).
set -euo pipefail

usage() {
    echo "usage: $0 [ROWS] [SEED] [OUT]   (defaults: 10000 42 data/bonus.csv)" >&2
    exit 64
}
[ $# -le 3 ] || usage
rows=${1:-10000}
seed=${2:-42}
out=${3:-data/bonus.csv}
[[ $rows =~ ^[0-9]+$ ]] && [ "$rows" -gt 0 ] || usage
[[ $seed =~ ^[0-9]+$ ]] || usage

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
swift build -c release --product nntrain --package-path "$root"
bin=$(swift build -c release --package-path "$root" --show-bin-path)
"$bin/nntrain" data bonus --rows "$rows" --seed "$seed" --out "$out"
