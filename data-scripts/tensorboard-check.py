#!/usr/bin/env python3
"""nntrain's TensorBoard event files read by TensorBoard's own reader (issue 19).

    tensorboard-check.py LOGDIR [--metrics metrics.csv --tag COLUMN=TAG ...]

Loads LOGDIR's event files (every events.out.tfevents.* in it, as one run) with
tensorboard.backend.event_processing.event_accumulator.EventAccumulator, keeping every event, and
checks what TensorBoard would show:

  - the files hold at least one scalar or histogram, and every event file starts with
    file_version "brain.Event:2" (TensorBoard skips a file without it);
  - each scalar tag has each step once, with a finite value (after a resumed run too: the resumed
    file's session_log START at its purge step makes the reader drop the interrupted file's events
    from that step on; checked locally on two files TensorBoardWriter wrote);
  - each histogram's bucket counts add up to its num (every value lands in a bucket: the default
    edges reach ±1e20), its bucket limits increase, and min <= max;
  - with --metrics, each --tag COLUMN=TAG pairs a metrics.csv column with a scalar tag: the tag's
    value at the step of each row (the column `step` when there is one, else `epoch`) equals the
    column's as a float32 (simple_value's precision).

Prints one line per tag and exits 1 on the first failed check. Needs tensorboard (pinned where the
caller installs it, e.g. `pip install tensorboard==2.21.0`). Not yet run by .ci/run or the Makefile:
the trainer does not write event files yet (issue 19's next step).
"""

import argparse
import csv
import glob
import math
import os
import struct
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader


def fail(message):
    print(f"tensorboard-check: {message}", file=sys.stderr)
    sys.exit(1)


def float32(value):
    return struct.unpack("f", struct.pack("f", value))[0]


def check_file_versions(logdir):
    files = sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*")))
    if not files:
        fail(f"{logdir}: no events.out.tfevents.* file")
    for path in files:
        first = next(iter(EventFileLoader(path).Load()), None)
        if first is None or first.file_version != "brain.Event:2":
            fail(f"{path}: the first event is not file_version brain.Event:2")
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("logdir")
    parser.add_argument("--metrics", help="a metrics.csv whose columns the scalars must equal")
    parser.add_argument("--tag", action="append", default=[], metavar="COLUMN=TAG")
    args = parser.parse_args()

    files = check_file_versions(args.logdir)
    accumulator = EventAccumulator(args.logdir, size_guidance={"scalars": 0, "histograms": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    if not tags["scalars"] and not tags["histograms"]:
        fail(f"{args.logdir}: no scalars or histograms in {len(files)} event file(s)")

    scalars = {}
    for tag in tags["scalars"]:
        events = accumulator.Scalars(tag)
        steps = [event.step for event in events]
        repeated = sorted({step for step in steps if steps.count(step) > 1})
        if repeated:
            fail(f"scalar {tag}: steps {repeated[:5]} appear more than once")
        bad = [event.step for event in events if not math.isfinite(event.value)]
        if bad:
            fail(f"scalar {tag}: not finite at steps {bad[:5]}")
        scalars[tag] = {event.step: event.value for event in events}
        print(f"scalar {tag}: {len(events)} steps, {min(steps)} to {max(steps)}")

    for tag in tags["histograms"]:
        events = accumulator.Histograms(tag)
        for event in events:
            histogram = event.histogram_value
            limits = list(histogram.bucket_limit)
            if sum(histogram.bucket) != histogram.num:
                fail(f"histogram {tag} at step {event.step}: counts add up to {sum(histogram.bucket)}, "
                     f"num is {histogram.num}")
            if any(b <= a for a, b in zip(limits, limits[1:])):
                fail(f"histogram {tag} at step {event.step}: bucket limits do not increase")
            if not histogram.min <= histogram.max:
                fail(f"histogram {tag} at step {event.step}: min {histogram.min} > max {histogram.max}")
        print(f"histogram {tag}: {len(events)} steps")

    if args.metrics:
        with open(args.metrics, newline="") as file:
            rows = list(csv.DictReader(file))
        for pair in args.tag:
            column, _, tag = pair.partition("=")
            if tag not in scalars:
                fail(f"--tag {pair}: no scalar tag {tag} in {args.logdir}")
            for row in rows:
                step = int(row["step"] if "step" in row else row["epoch"])
                if row.get(column, "") == "":
                    continue
                expected = float32(float(row[column]))
                if scalars[tag].get(step) != expected:
                    fail(f"{args.metrics}: {column} at step {step} is {expected}, "
                         f"the scalar {tag} there is {scalars[tag].get(step)}")
            print(f"{column} = {tag}: {len(rows)} rows equal")
    print(f"tensorboard-check: {args.logdir}: passed")


if __name__ == "__main__":
    main()
