#!/usr/bin/env python3
"""`make bench-tabular`: nntrain's defaults for small tables against scikit-learn's MLP, on the same splits.

The datasets are ones nntrain's defaults were not tuned on: scikit-learn's bundled copies of iris
(150 rows, 3 classes), wine (178, 3), breast cancer (569, 2) and diabetes (442, regression), read
from the installed package (no network), and Palmer penguins (344 rows, text categories, NA values)
when the mirror folder exists. For each dataset and seed, the rows are split 80/20 with
`train_test_split(stratify=y)` for classification (plain for regression) and written as train.csv
and test.csv; then

  nntrain      `data: {dataset: csv, path: train.csv, test_path: test.csv, target: <target>}`,
               every other key at its default (the config names nothing else), with the seed;
  scikit-learn `make_pipeline(ColumnTransformer(SimpleImputer + StandardScaler for numbers,
               SimpleImputer(most_frequent) + OneHotEncoder(handle_unknown='ignore') for text),
               MLPClassifier() or MLPRegressor())` with its defaults and `random_state=seed`; the
               regressor's target standardised (TransformedTargetRegressor with StandardScaler),
               without which MLPRegressor's 200 epochs do not reach diabetes' targets (R² < 0).

What is reported per dataset (mean over the seeds): test accuracy (classification) or R²
(regression) of each, and each one's wall-clock seconds for fitting (nntrain: the whole process,
loading included). Printed as a Markdown table and written to runs/bench-tabular/tabular.md.

Usage: python3 Benchmarks/tabular.py [--nntrain PATH] [--seeds 1,2,3] [--out runs/bench-tabular]
Needs scikit-learn and pandas (the Makefile's bench-tabular target installs pinned versions into a
virtual environment).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

import pandas as pd
from sklearn import datasets
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

PENGUINS = "../shared/data/penguins/penguins.csv"


def bundled(loader, classification):
    """A scikit-learn bundled dataset as (frame, target column, is classification)."""
    bunch = loader(as_frame=True)
    frame = bunch.frame.copy()
    if classification:
        frame["target"] = [bunch.target_names[i] for i in bunch.target]
    return frame, "target", classification


def tables():
    """The datasets: name -> (frame, target, classification)."""
    found = {
        "iris": bundled(datasets.load_iris, True),
        "wine": bundled(datasets.load_wine, True),
        "breast_cancer": bundled(datasets.load_breast_cancer, True),
        "diabetes": bundled(datasets.load_diabetes, False),
    }
    if os.path.exists(PENGUINS):
        frame = pd.read_csv(PENGUINS)
        found["penguins"] = (frame[frame["species"].notna()], "species", True)
    return found


def sklearn_score(train, test, target, classification, seed):
    """scikit-learn's default MLP in the usual preprocessing pipeline: (score, seconds)."""
    features = [c for c in train.columns if c != target]
    text = [c for c in features if not pd.api.types.is_numeric_dtype(train[c])]
    numbers = [c for c in features if c not in text]
    prepare = ColumnTransformer([
        ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numbers),
        ("text", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), text),
    ])
    model = MLPClassifier(random_state=seed) if classification else TransformedTargetRegressor(
        MLPRegressor(random_state=seed), transformer=StandardScaler())
    pipeline = make_pipeline(prepare, model)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(train[features], train[target])
    seconds = time.perf_counter() - start
    predicted = pipeline.predict(test[features])
    score = accuracy_score(test[target], predicted) if classification else r2_score(test[target], predicted)
    return score, seconds


def nntrain_score(nntrain, folder, target, classification, seed):
    """nntrain with its defaults on train.csv / test.csv: (score, seconds)."""
    config = os.path.join(folder, "config.txt")
    with open(config, "w") as file:
        file.write(f"seed: {seed}\n"
                   f"data: {{dataset: csv, path: train.csv, test_path: test.csv, target: {target}, missing: impute}}\n"
                   f"output: {{dir: run, plots: false}}\n")
    start = time.perf_counter()
    subprocess.run([nntrain, "run", "config.txt", "--force"], cwd=folder, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    if classification:
        summary = json.load(open(os.path.join(folder, "run", "summary.json")))
        return summary["test"]["accuracy"], seconds
    evaluation = subprocess.run([nntrain, "eval", "run/checkpoints/last.bin", "--json"], cwd=folder, check=True,
                                capture_output=True, text=True)
    return json.loads(evaluation.stdout)["regression"]["r2"], seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nntrain", default=".build/release/nntrain")
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--out", default="runs/bench-tabular")
    arguments = parser.parse_args()
    nntrain = os.path.abspath(arguments.nntrain)
    seeds = [int(s) for s in arguments.seeds.split(",")]
    rows = ["| dataset | rows | task | nntrain | scikit-learn | nntrain s | scikit-learn s |",
            "|---|---:|---|---:|---:|---:|---:|"]
    for name, (frame, target, classification) in tables().items():
        results = {"nntrain": [], "sklearn": []}
        for seed in seeds:
            folder = os.path.join(arguments.out, name, f"seed-{seed}")
            os.makedirs(folder, exist_ok=True)
            train, test = train_test_split(frame, test_size=0.2, random_state=seed,
                                           stratify=frame[target] if classification else None)
            train.to_csv(os.path.join(folder, "train.csv"), index=False)
            test.to_csv(os.path.join(folder, "test.csv"), index=False)
            results["nntrain"].append(nntrain_score(nntrain, folder, target, classification, seed))
            results["sklearn"].append(sklearn_score(train, test, target, classification, seed))
        mean = {tool: (statistics.mean(s for s, _ in runs), statistics.mean(t for _, t in runs))
                for tool, runs in results.items()}
        measure = "accuracy" if classification else "R²"
        rows.append(f"| {name} | {len(frame)} | {measure} | {mean['nntrain'][0]:.3f} | {mean['sklearn'][0]:.3f} "
                    f"| {mean['nntrain'][1]:.2f} | {mean['sklearn'][1]:.2f} |")
        print(rows[-1], file=sys.stderr)
    report = "\n".join(rows) + "\n" + f"\nmean over seeds {arguments.seeds}; test split 20%, stratified for classes\n"
    os.makedirs(arguments.out, exist_ok=True)
    with open(os.path.join(arguments.out, "tabular.md"), "w") as file:
        file.write(report)
    print(report)


if __name__ == "__main__":
    main()
