#!/usr/bin/env python3
"""Splits Fashion-MNIST into two tasks for the fine-tuning demo (docs/fine-tuning.md, "A worked example").

    data-scripts/make-transfer-task.py [--source data/fashion-mnist] [--out data] [--per-class 200] [--seed 42]

Task A (OUT/fashion-mnist-a): classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat), every
training and test image of them (30,000 and 5,000), labels kept 0-4.
Task B (OUT/fashion-mnist-b): classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot), labels
remapped to 0-4; PER_CLASS training images of each class (200: 1,000 in all), drawn with SEED by
Python's random.Random(SEED).sample over each class's images in file order, kept in file order;
all 5,000 of their test images.

Each folder holds the four standard MNIST-format names (train-images-idx3-ubyte.gz, ...), so
nntrain reads it with data.dataset: idx. Standard library only; the output is the same bytes for
the same source and arguments (gzip's header time is fixed at 0).
"""

import argparse
import gzip
import os
import random
import struct
import sys

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path, rank):
    """The dimensions and the raw unsigned-byte payload of a gzipped IDX file of the given rank."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    zero, kind, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08 or dims != rank:
        sys.exit(f"{path}: not an IDX file of unsigned bytes with {rank} dimensions")
    shape = struct.unpack(f">{rank}I", data[4:4 + 4 * rank])
    payload = data[4 + 4 * rank:]
    expected = 1
    for size in shape:
        expected *= size
    if len(payload) != expected:
        sys.exit(f"{path}: {len(payload)} bytes of data, the header's shape {list(shape)} says {expected}")
    return shape, payload


def write_idx(path, shape, payload):
    """A gzipped IDX file of unsigned bytes; mtime 0 makes the file the same bytes on every run."""
    header = struct.pack(">HBB", 0, 0x08, len(shape)) + struct.pack(f">{len(shape)}I", *shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as file:
        file.write(header + payload)


def split(source, out, name, classes, per_class, rng):
    """Writes one task's folder; returns the number of training and test images written."""
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    counts = {}
    for part, (images_name, labels_name) in FILES.items():
        (count, rows, columns), pixels = read_idx(os.path.join(source, images_name), 3)
        (label_count,), labels = read_idx(os.path.join(source, labels_name), 1)
        if label_count != count:
            sys.exit(f"{source}: {count} {part} images but {label_count} labels")
        size = rows * columns
        chosen = [i for i in range(count) if labels[i] in classes]
        if part == "train" and per_class is not None:
            picked = []
            for label in classes:
                members = [i for i in chosen if labels[i] == label]
                if len(members) < per_class:
                    sys.exit(f"{source}: class {label} has {len(members)} training images, fewer than {per_class}")
                picked += rng.sample(members, per_class)
            chosen = sorted(picked)
        new_label = {label: index for index, label in enumerate(classes)}
        write_idx(os.path.join(folder, images_name), (len(chosen), rows, columns),
                  b"".join(pixels[i * size:(i + 1) * size] for i in chosen))
        write_idx(os.path.join(folder, labels_name), (len(chosen),), bytes(new_label[labels[i]] for i in chosen))
        counts[part] = len(chosen)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="data/fashion-mnist", help="the four Fashion-MNIST .gz files")
    parser.add_argument("--out", default="data", help="where fashion-mnist-a and fashion-mnist-b are written")
    parser.add_argument("--per-class", type=int, default=200, help="task B's training images per class")
    parser.add_argument("--seed", type=int, default=42, help="the draw of task B's training images")
    args = parser.parse_args()
    if args.per_class < 1:
        sys.exit("--per-class: must be at least 1")
    for images_name, labels_name in FILES.values():
        for file_name in (images_name, labels_name):
            if not os.path.exists(os.path.join(args.source, file_name)):
                sys.exit(f"{args.source}: {file_name} is missing (make data fetches Fashion-MNIST)")
    rng = random.Random(args.seed)
    a = split(args.source, args.out, "fashion-mnist-a", [0, 1, 2, 3, 4], None, rng)
    b = split(args.source, args.out, "fashion-mnist-b", [5, 6, 7, 8, 9], args.per_class, rng)
    print(f"{args.out}/fashion-mnist-a: classes 0-4, {a['train']} training and {a['test']} test images")
    print(f"{args.out}/fashion-mnist-b: classes 5-9 as 0-4, {b['train']} training and {b['test']} test images "
          f"(seed {args.seed})")


if __name__ == "__main__":
    main()
