#!/usr/bin/env bash
# Kill -9 and resume: trains a small bonus-data run straight through once (the reference), then
# trains it again while killing it with SIGKILL at random moments, restarting it each time with --resume (or --force when no checkpoint exists yet: the directory
# already holds the killed run's metrics.csv). After every kill, each checkpoint in the run
# directory must read back whole (`nntrain eval CHECKPOINT --json` exits 0), only nntrain's
# temporary files (NAME.partial-PID) may be there besides the checkpoints, and the temporary files
# of earlier kills must be gone. Whenever the run gets to its end, its checkpoints' tensors (the
# model, optimizer state, random streams and row order; not the metadata, which holds timings)
# must equal the reference's byte for byte, and its metrics.csv must too, the two timing columns
# aside; then it starts over with --force. This goes on until KILLS kills have landed in a running
# process (a kill that comes after the run ended does not count).
#
# Each session is killed after a random sleep, uniform within a quarter of the reference's duration
# (from its start: data loading, training, checkpoint writes, the final evaluation), so a session gets
# through about an eighth of the run and the kills fall all over it, its last epoch included.
#
# The config (checkpoint.every_n_epochs 1, keep_last 2, save_best, many short epochs of a model
# whose checkpoints are ~0.8 MB) spends much of its time writing checkpoints, so a good share of
# the kills land mid-write; those leave a temporary file, and the script counts them.
#
# Usage: data-scripts/kill-resume.sh [NNTRAIN_BINARY] [KILLS]   (default .build/release/nntrain, 20)
# KILL_RESUME_SEED=N repeats a sequence of sleeps. Exit status 0 when everything matched, 1 on any
# mismatch or unreadable checkpoint, 64 on bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."
nntrain=${1:-.build/release/nntrain}
kills=${2:-20}
[ -x "$nntrain" ] || { echo "usage: $0 [NNTRAIN_BINARY] [KILLS] (build it first: make build)" >&2; exit 64; }
seed=${KILL_RESUME_SEED:-$RANDOM}
work=runs/kill-resume
run=$work/run
rm -rf "$work"
mkdir -p "$work"

"$nntrain" data bonus --rows 2000 --seed 7 --out "$work/bonus.csv" > /dev/null
cat > "$work/config.txt" <<EOF
seed: 5
data: {dataset: bonus, path: $work/bonus.csv, normalize: standardize, validation_split: 0.2}
model: {hidden: [384, 384], dropout: 0.1}
loss: mse
optimizer: {name: adam, lr: 0.0005}
scheduler: {name: cosine}
training: {epochs: 20, batch_size: 100}
checkpoint: {every_n_epochs: 1, keep_last: 2, save_best: true}
logging: {every_n_steps: 5}
output: {plots: false}
EOF

fail() { echo "FAILED: $*" >&2; exit 1; }

# The tensors of two checkpoints, byte for byte (python3's standard library reads safetensors'
# three parts: an 8-byte header length, the JSON header, the data).
same_tensors() {
    python3 - "$1" "$2" <<'PY'
import json, struct, sys

def tensors(path):
    data = open(path, "rb").read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    header.pop("__metadata__", None)
    body = data[8 + length:]
    return {name: (t["dtype"], t["shape"], body[t["data_offsets"][0]:t["data_offsets"][1]]) for name, t in header.items()}

a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
differing = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
if differing:
    print(f"{sys.argv[1]}: tensors differ from {sys.argv[2]}: {', '.join(differing)}")
    sys.exit(1)
PY
}

# metrics.csv without epoch_seconds and samples_per_second (columns 9 and 10).
untimed() { cut -d, -f1-8 "$1"; }

# Every file in checkpoints/ is a checkpoint that reads back whole, or a temporary file.
check_checkpoints() {
    local name
    [ -d "$run/checkpoints" ] || return 0
    for name in $(ls -A "$run/checkpoints"); do
        case "$name" in
            last.bin|best.bin|epoch-[0-9][0-9][0-9][0-9].bin)
                "$nntrain" eval "$run/checkpoints/$name" --json > /dev/null 2> "$work/eval.err" \
                    || fail "after kill $landed: $run/checkpoints/$name does not read back: $(cat "$work/eval.err")" ;;
            *.partial-[0-9]*) ;;
            *) fail "after kill $landed: unexpected file $run/checkpoints/$name" ;;
        esac
    done
}

# Temporary files in the run directory, one per line.
# (None, and status 0, before the first session has made the directory: set -e and pipefail would
# otherwise end the script without a word.)
temporary_files() { { find "$run" -name '*.partial-*' 2> /dev/null || true; } | sort; }

# A run that got to its end against the reference: every checkpoint's tensors, metrics.csv, steps.csv.
check_finished_run() {
    local name
    grep -q '"ended" : "completed"' "$run/summary.json" || fail "the run did not complete: $(grep '"ended"' "$run/summary.json")"
    [ "$(ls "$run/checkpoints")" = "$(ls "$work/straight/checkpoints")" ] \
        || fail "checkpoints $(ls "$run/checkpoints" | tr '\n' ' ')differ from the reference's $(ls "$work/straight/checkpoints" | tr '\n' ' ')"
    for name in $(ls "$run/checkpoints"); do
        same_tensors "$run/checkpoints/$name" "$work/straight/checkpoints/$name" || fail "checkpoint $name"
    done
    diff <(untimed "$run/metrics.csv") <(untimed "$work/straight/metrics.csv") > /dev/null \
        || fail "metrics.csv differs from the reference's (timings aside)"
    diff <(cut -d, -f1-5 "$run/steps.csv") <(cut -d, -f1-5 "$work/straight/steps.csv") > /dev/null \
        || fail "steps.csv differs from the reference's (timings aside)"
}

start=$(date +%s.%N)
"$nntrain" run "$work/config.txt" --set output.dir="$work/straight" --quiet
duration=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.3f", $2 - $1 }')
window=$(echo "$duration" | awk '{ printf "%.3f", $1 / 4 }')
echo "reference: $work/straight, uninterrupted in ${duration}s; killing each session after a random 0-${window}s (seed $seed)"

landed=0; mid_write=0; sessions=0; finished=0; fresh=1; earlier_temporaries=""; earlier_epochs=0
while (( landed < kills )); do
    sessions=$((sessions + 1))
    if (( fresh )) || [ ! -f "$run/checkpoints/last.bin" ]; then how=--force; else how=--resume; fi
    "$nntrain" run "$work/config.txt" --set output.dir="$run" --quiet "$how" > "$work/session.log" 2>&1 &
    pid=$!
    pause=$(awk -v seed="$seed" -v n="$sessions" -v d="$window" 'BEGIN { srand(seed * 1000 + n); printf "%.3f", rand() * d }')
    sleep "$pause"
    kill -KILL "$pid" 2> /dev/null || true
    status=0
    wait "$pid" 2> /dev/null || status=$?  # (bash's "Killed" notice goes to the wait's standard error)
    fresh=0
    if (( status == 137 )); then
        landed=$((landed + 1))
        check_checkpoints
        temporaries=$(temporary_files)
        # (Counting only files this session left: an earlier one's may still be there, see below.)
        left_now=$(comm -13 <(echo "$earlier_temporaries") <(echo "$temporaries"))
        if [[ "$left_now" == */checkpoints/* ]]; then mid_write=$((mid_write + 1)); fi
        # (A session killed before it wrote metrics.csv's header leaves none: count 0 rows, not fail.)
        epochs=$(( $( { cat "$run/metrics.csv" 2> /dev/null || true; } | wc -l) - 1 ))
        echo "kill $landed: session $sessions ($how) killed after ${pause}s, metrics.csv at epoch $(( epochs < 0 ? 0 : epochs ))$(
            [ -n "$temporaries" ] && echo ", mid-write: $(echo $temporaries | sed "s|$run/||g")")"
        # A session deletes an earlier one's temporary files when it starts; one killed before it
        # trained an epoch may not have got that far (killed within milliseconds), so only a
        # session that got further must have deleted them.
        if [ -n "$earlier_temporaries" ] && (( epochs > earlier_epochs )) \
            && [ -n "$(comm -12 <(echo "$earlier_temporaries") <(echo "$temporaries"))" ]; then
            fail "after kill $landed: an earlier kill's temporary files are still there: $earlier_temporaries"
        fi
        earlier_temporaries=$temporaries; earlier_epochs=$epochs
    elif (( status == 0 )); then
        check_checkpoints
        [ -z "$(temporary_files)" ] || fail "a completed run left temporary files: $(temporary_files)"
        check_finished_run
        finished=$((finished + 1))
        fresh=1; earlier_temporaries=""; earlier_epochs=0
    else
        fail "session $sessions ($how) exited with status $status: $(cat "$work/session.log")"
    fi
done

# The last killed run, resumed to its end.
"$nntrain" run "$work/config.txt" --set output.dir="$run" --quiet "$( [ -f "$run/checkpoints/last.bin" ] && echo --resume || echo --force )" \
    || fail "the final resume exited with status $?"
check_checkpoints
[ -z "$(temporary_files)" ] || fail "a completed run left temporary files: $(temporary_files)"
check_finished_run
finished=$((finished + 1))

echo "kills: $landed landed in a running process over $sessions sessions, $mid_write of them mid-checkpoint-write"
echo "every checkpoint read back after every kill; runs that got to their end: $finished, each with the reference's"
echo "checkpoint tensors ($(ls "$run/checkpoints" | tr '\n' ' ' | sed 's/ $//')), metrics.csv and steps.csv (timings aside)"
echo "ok: kill -9 at any moment loses at most the steps since the last checkpoint, never a checkpoint"
