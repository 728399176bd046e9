#!/usr/bin/env python3
"""nntrain's TensorBoard event files read by TensorBoard's own reader (issue 19).

    tensorboard-check.py [--nntrain .build/release/nntrain] [--work runs/tensorboard-check]

Writes a small classification CSV of its own (three Gaussian classes, 4 features, 600 rows, ReLU
net [32, 16]), trains it with `logging.tensorboard`, `histograms`, `layer_stats` and
`every_n_steps: 5`, and loads RUN_DIR/tensorboard with
tensorboard.backend.event_processing.event_accumulator.EventAccumulator (every event kept):

  scalars     every metrics.csv column (this script's own table of tags, docs/tensorboard.md; the
              per-layer ones included) equals its scalar at the epoch's step (read from the `epoch`
              scalar) as a float32, and steps.csv's loss, lr, grad_norm and grad_norm_layer<i> equal
              step/loss, step/lr, step/grad_norm, step/grad_norm/layer<i>
  steps       every scalar tag has each step once, and each epoch ends at a multiple of its batches
  histograms  weights/<tensor> and gradients/<tensor> for every parameter tensor each epoch; each
              one's bucket counts add up to its num, and the weights' nums to summary.json's
              parameter count
  hparams     the experiment, session start (with the configured keys: optimizer.lr, model.hidden)
              and session end (STATUS_SUCCESS) of the HParams plugin, as its own protos parse them
  resume      the run trained again from its epoch-2 checkpoint with another lr (as after a crash
              that lost the later epochs): two event files, and after TensorBoard's purge each
              step once, equal to the new metrics.csv
  HPARAMS     a two-trial `nntrain sweep` over optimizer.lr, served by `tensorboard --logdir SWEEP_DIR`
              itself on a free local port: the hparams plugin's session_groups endpoint (what the
              HPARAMS tab shows) lists both trials with their lr, their last accuracy/val equal
              to their metrics.csv's, and status success

Prints one `ok: ...` line per check; exits 1 on the first failure. Needs tensorboard and numpy
(.ci/run pins them in .venv-onnx).
"""
import argparse
import csv
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.hparams import plugin_data_pb2

# metrics.csv column -> tag (docs/tensorboard.md); a column of layer i, `<figure>_layer<i>`, is `<figure>/layer<i>`.
TAGS = {
    "lr": "lr", "train_loss": "loss/train", "train_acc": "accuracy/train", "val_loss": "loss/val",
    "val_acc": "accuracy/val", "val_mae": "mae/val", "val_r2": "r2/val", "grad_norm_mean": "grad_norm/mean",
    "grad_norm_max": "grad_norm/max", "epoch_seconds": "time/epoch_seconds",
    "samples_per_second": "time/samples_per_second", "loss_scale": "precision/loss_scale",
    "skipped_steps": "precision/skipped_steps", "grad_underflow": "precision/grad_underflow",
    "grad_overflow": "precision/grad_overflow", "sparsity": "sparsity/all",
}


def tag(column):
    if column in TAGS:
        return TAGS[column]
    figure, found, layer = column.rpartition("_layer")
    if found:
        return f"{figure}/layer{layer}"
    if column.startswith("sparsity_"):
        return "sparsity/layer" + column[len("sparsity_"):]
    return column


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def ok(message):
    print(f"ok: {message}")


def float32(value):
    return struct.unpack("f", struct.pack("f", value))[0]


def rows(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def write_fixture(work):
    """Three Gaussian classes in 4 dimensions, 200 rows each, centres 2 apart."""
    random = np.random.default_rng(7)
    centres = np.array([[0, 0, 0, 0], [2, 0, 2, 0], [0, 2, 0, 2]], dtype=float)
    path = os.path.join(work, "blobs.csv")
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["a", "b", "c", "d", "class"])
        for label, centre in zip(["red", "green", "blue"], centres):
            for point in centre + random.normal(size=(200, 4)):
                writer.writerow([f"{x:.5f}" for x in point] + [label])
    config = os.path.join(work, "config.yaml")
    with open(config, "w") as file:
        file.write(f"""data: {{dataset: csv, path: {path}, target: class, validation_split: 0.2}}
model: {{hidden: [32, 16], activation: relu}}
optimizer: {{name: adam, lr: 0.003}}
training: {{epochs: 5, batch_size: 32}}
checkpoint: {{every_n_epochs: 1, keep_last: 5}}
logging: {{tensorboard: true, histograms: true, layer_stats: true, every_n_steps: 5}}
""")
    return config


def accumulate(run):
    folder = os.path.join(run, "tensorboard")
    files = sorted(name for name in os.listdir(folder) if name.startswith("events.out.tfevents."))
    for name in files:
        first = next(iter(EventFileLoader(os.path.join(folder, name)).Load()), None)
        if first is None or first.file_version != "brain.Event:2":
            fail(f"{folder}/{name}: the first event is not file_version brain.Event:2")
    accumulator = EventAccumulator(folder, size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator, files


def scalars_of(accumulator):
    scalars = {}
    for name in accumulator.Tags()["scalars"]:
        events = accumulator.Scalars(name)
        steps = [event.step for event in events]
        if len(set(steps)) != len(steps):
            fail(f"scalar {name}: steps {sorted({s for s in steps if steps.count(s) > 1})[:5]} appear more than once")
        if not all(math.isfinite(event.value) for event in events):
            fail(f"scalar {name}: a value is not finite")
        scalars[name] = {event.step: event.value for event in events}
    return scalars


def check_scalars(run, scalars):
    metrics = rows(os.path.join(run, "metrics.csv"))
    epoch_step = {int(value): step for step, value in scalars.get("epoch", {}).items()}
    if sorted(epoch_step) != [int(row["epoch"]) for row in metrics]:
        fail(f"{run}: the epoch scalar has epochs {sorted(epoch_step)}, metrics.csv {[row['epoch'] for row in metrics]}")
    first = epoch_step[1]
    if any(step != epoch * first for epoch, step in epoch_step.items()):
        fail(f"{run}: epochs end at steps {epoch_step}, not multiples of {first}")
    compared = 0
    for row in metrics:
        step = epoch_step[int(row["epoch"])]
        for column, text in row.items():
            if column == "epoch" or text == "":
                continue
            found = scalars.get(tag(column), {}).get(step)
            if found != float32(float(text)):
                fail(f"{run}/metrics.csv: {column} of epoch {row['epoch']} is {text}; "
                     f"the scalar {tag(column)} at step {step} is {found}")
            compared += 1
    ok(f"{run}: {compared} metrics.csv values over {len(metrics)} epochs equal their scalars at the epochs' steps")
    return metrics


def check_steps(run, scalars):
    steps = rows(os.path.join(run, "steps.csv"))
    layers = [column for column in steps[0] if column.startswith("grad_norm_layer")]
    if not layers:
        fail(f"{run}/steps.csv has no grad_norm_layer<i> columns")
    for column in ["loss", "lr", "grad_norm"] + layers:
        series = scalars.get("step/" + column.replace("_layer", "/layer"), {})
        expected = {int(row["step"]): float32(float(row[column])) for row in steps}
        if series != expected:
            fail(f"{run}: step/{column} differs from steps.csv's {column}")
    ok(f"{run}: steps.csv's {len(steps)} rows equal step/loss, step/lr, step/grad_norm, step/grad_norm/layer0-{len(layers) - 1}")


def check_histograms(run, accumulator, epochs):
    summary = json.load(open(os.path.join(run, "summary.json")))
    tags = accumulator.Tags()["histograms"]
    weights = [name for name in tags if name.startswith("weights/")]
    gradients = [name for name in tags if name.startswith("gradients/")]
    if not weights or sorted(name[len("weights/"):] for name in weights) != sorted(name[len("gradients/"):] for name in gradients):
        fail(f"{run}: histogram tags {tags}")
    totals = {}
    for name in tags:
        events = accumulator.Histograms(name)
        if len(events) != epochs:
            fail(f"{run}: histogram {name} at {len(events)} steps; expected one per epoch ({epochs})")
        for event in events:
            value = event.histogram_value
            if sum(value.bucket) != value.num or not value.min <= value.max:
                fail(f"{run}: histogram {name} at step {event.step}: counts {sum(value.bucket)}, num {value.num}")
            if name.startswith("weights/"):
                totals[event.step] = totals.get(event.step, 0) + value.num
    if set(totals.values()) != {summary["parameters"]}:
        fail(f"{run}: the weights' histograms count {totals}; summary.json has {summary['parameters']} parameters")
    ok(f"{run}: {len(weights)} weight and gradient histograms per epoch, counting the {summary['parameters']} parameters")


def check_hparams(run, accumulator):
    content = accumulator.PluginTagToContent("hparams")
    parsed = {name: plugin_data_pb2.HParamsPluginData.FromString(data) for name, data in content.items()}
    expected = {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    if set(parsed) != expected:
        fail(f"{run}: hparams tags {sorted(parsed)}; expected {sorted(expected)}")
    hparams = parsed["_hparams_/session_start_info"].session_start_info.hparams
    if hparams["optimizer.lr"].number_value != 0.003 or hparams["model.hidden"].string_value != "[32, 16]":
        fail(f"{run}: session_start_info hparams {dict(hparams)}")
    experiment = parsed["_hparams_/experiment"].experiment
    if sorted(info.name for info in experiment.hparam_infos) != sorted(hparams):
        fail(f"{run}: the experiment's hparams differ from the session's")
    metrics = [info.name.tag for info in experiment.metric_infos]
    if "accuracy/val" not in metrics:
        fail(f"{run}: the experiment's metrics are {metrics}")
    status = parsed["_hparams_/session_end_info"].session_end_info.status
    if status != 1:  # STATUS_SUCCESS
        fail(f"{run}: session_end_info status {status}; expected STATUS_SUCCESS")
    ok(f"{run}: hparams: {len(hparams)} keys, metrics {metrics}, status success")


def check_hparams_tab(args, config):
    sweep_dir = os.path.join(args.work, "sweep")
    sweep = os.path.join(args.work, "sweep.yaml")
    with open(sweep, "w") as file:
        file.write(f"base: {os.path.abspath(config)}\noutput: {os.path.abspath(sweep_dir)}\nmetric: val_loss\n"
                   "grid:\n  optimizer.lr: [0.001, 0.01]\n  checkpoint.keep_last: [0]\n")
    result = subprocess.run([args.nntrain, "sweep", sweep], capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"nntrain sweep {sweep} exited {result.returncode}: {result.stderr.strip()}")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    binary = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    server = subprocess.Popen([binary, "--logdir", sweep_dir, "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/data"
        deadline = time.monotonic() + 90
        while True:
            try:
                runs = json.load(urllib.request.urlopen(f"{base}/runs", timeout=5))
                if len(runs) == 2:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                fail(f"tensorboard --logdir {sweep_dir} did not serve the two trials' runs within 90 s")
            time.sleep(0.5)
        request = {
            "experimentName": "", "startIndex": 0, "sliceSize": 10,
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
            "colParams": [{"hparam": "optimizer.lr", "includeInResult": True},
                          {"metric": {"group": "", "tag": "accuracy/val"}, "includeInResult": True}],
        }
        post = urllib.request.Request(f"{base}/plugin/hparams/session_groups", data=json.dumps(request).encode(),
                                      headers={"Content-Type": "application/json"})
        groups = json.load(urllib.request.urlopen(post, timeout=30)).get("sessionGroups", [])
    finally:
        server.terminate()
        server.wait()
    found = {}
    for group in groups:
        trial = group["name"].split("/")[0]
        metrics = {value["name"]["tag"]: value["value"] for value in group.get("metricValues", [])}
        statuses = [session.get("status") for session in group.get("sessions", [])]
        last = rows(os.path.join(sweep_dir, trial, "metrics.csv"))[-1]
        if metrics.get("accuracy/val") != float32(float(last["val_acc"])) or statuses != ["STATUS_SUCCESS"]:
            fail(f"HPARAMS tab: {group['name']}: accuracy/val {metrics.get('accuracy/val')}, status {statuses}; "
                 f"metrics.csv's last val_acc is {last['val_acc']}")
        found[trial] = group["hparams"].get("optimizer.lr")
    if sorted(found.values()) != [0.001, 0.01]:
        fail(f"HPARAMS tab: session groups {found}; expected the two trials with optimizer.lr 0.001 and 0.01")
    ok(f"tensorboard --logdir {sweep_dir}: the HPARAMS tab lists {sorted(found.items())} with their accuracy/val")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nntrain", default=".build/release/nntrain")
    parser.add_argument("--work", default="runs/tensorboard-check")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    config = write_fixture(args.work)
    run = os.path.join(args.work, "run")

    def nntrain(*extra):
        command = [args.nntrain, "run", config, "--set", f"output.dir={run}", "--quiet", *extra]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            fail(f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()}")

    nntrain()
    accumulator, _ = accumulate(run)
    scalars = scalars_of(accumulator)
    metrics = check_scalars(run, scalars)
    check_steps(run, scalars)
    check_histograms(run, accumulator, len(metrics))
    check_hparams(run, accumulator)

    nntrain("--set", "optimizer.lr=0.001", "--resume", os.path.join(run, "checkpoints", "epoch-0002.bin"))
    accumulator, files = accumulate(run)
    if len(files) != 2:
        fail(f"{run}: {len(files)} event files after the resume; expected 2")
    scalars = scalars_of(accumulator)
    check_scalars(run, scalars)
    ok(f"{run}: resumed from epoch 2 with another lr: each step once, the stale epochs purged")
    check_hparams_tab(args, config)
    print("tensorboard-check: passed")


if __name__ == "__main__":
    main()
