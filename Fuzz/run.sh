#!/usr/bin/env bash
# Builds the libFuzzer targets (one per reader: Config, IDX, CSV, Checkpoint) and runs each for
# FUZZ_SECONDS seconds (default 60), FUZZ_JOBS at a time (default: the number of cores).
#
#   Fuzz/run.sh                         every target, 60 s each
#   FUZZ_SECONDS=3600 Fuzz/run.sh CSV   one target for an hour
#
# The corpus of each target lives in .build-fuzz/corpus/<Target> and grows from run to run; it
# starts from valid inputs made in code (NNTRAIN_FUZZ_SEEDS, see Fuzz/ReaderFuzzing). A crash, a
# timeout (-timeout=10 s per input), a leak of memory past -rss_limit_mb or a broken property (an
# error of the wrong kind or on two lines) is saved as .build-fuzz/crashes/<Target>-crash-<sha1>,
# and the script exits 1 after naming it. Reproduce one with:
#   .build-fuzz/x86_64-unknown-linux-gnu/debug/FuzzCSV .build-fuzz/crashes/CSV-crash-<sha1>
# then add it to Tests/NNTrainTests/MalformedInputTests.swift and fix it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(Config IDX CSV Checkpoint)
scratch=.build-fuzz
flags=(-c debug --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
export NNTRAIN_FUZZ=1

start=$(date +%s)
for target in "${targets[@]}"; do
    swift build "${flags[@]}" --product "Fuzz$target" 2>&1 | grep -v "Cannot export local symbol" | grep -E "error|warning: |Compiling|Build complete" || true
    [ -x "$(swift build "${flags[@]}" --show-bin-path)/Fuzz$target" ] || { echo "Fuzz$target did not build"; exit 1; }
done
bin=$(swift build "${flags[@]}" --show-bin-path)
echo "built in $(( $(date +%s) - start )) s: ${targets[*]/#/Fuzz}"

mkdir -p "$scratch/crashes" "$scratch/logs"
run() {  # run TARGET: seeds, then libFuzzer for $seconds; the log goes to $scratch/logs/TARGET.log
    local target=$1 corpus=$scratch/corpus/$1 log=$scratch/logs/$1.log
    local deadline=$(( $(date +%s) + seconds )) left unit
    NNTRAIN_FUZZ_SEEDS="$corpus" "$bin/Fuzz$target" > /dev/null
    : > "$log"
    while left=$(( deadline - $(date +%s) )); [ "$left" -gt 0 ]; do
        "$bin/Fuzz$target" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$scratch/crashes/$target-" "$corpus" >> "$log" 2>&1 && return 0
        # libFuzzer's timeout is wall time: a machine that stalls (a busy or paused virtual
        # machine) makes any input time out. A timeout counts only if the input is slow again on
        # its own; if it is not, fuzzing goes on for the time left.
        unit=$(sed -n 's/.*Test unit written to \(.*timeout-[0-9a-f]*\)$/\1/p' "$log" | tail -n 1)
        [ -n "$unit" ] && [ -f "$unit" ] || return 1
        timeout 120 "$bin/Fuzz$target" -timeout=10 -runs=1 "$unit" >> "$log" 2>&1 || return 1
        mv "$unit" "${unit/timeout-/unreproduced-timeout-}"
        echo "Fuzz$target: a timeout that did not happen again on its own (the machine stalled?): ${unit/timeout-/unreproduced-timeout-}" | tee -a "$log"
    done
}

start=$(date +%s)
failed=()
pending=("${targets[@]}")
while [ ${#pending[@]} -gt 0 ]; do
    batch=("${pending[@]:0:$jobs}")
    pending=("${pending[@]:$jobs}")
    pids=()
    for target in "${batch[@]}"; do run "$target" & pids+=($!); done
    for i in "${!batch[@]}"; do
        target=${batch[$i]}
        if wait "${pids[$i]}"; then status=ok; else status=FAILED; failed+=("$target"); fi
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/logs/$target.log" | awk '{ total += $1 } END { print total }')
        corpus=$(ls "$scratch/corpus/$target" | wc -l)
        echo "Fuzz$target: $status, ${runs:-?} inputs in ${seconds} s, corpus $corpus files (log: $scratch/logs/$target.log)"
    done
done
echo "fuzzed in $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
    for target in "${failed[@]}"; do
        grep -E "SUMMARY|Fatal error|ERROR: libFuzzer|Test unit written" "$scratch/logs/$target.log" | head -5 || true
    done
    exit 1
fi
