# nntrain: the two commands of the README, and the steps they are made of.
#   make run            install the system libraries if missing, build (release), fetch Fashion-MNIST, train
#   make test           install the system libraries if missing, run the test suite
#   make bench          nntrain against PyTorch (when importable) on the reference MLP: epoch time,
#                       throughput, GFLOP/s, load time, peak memory, test-evaluation time
#                       (Benchmarks/bench.py; BENCH_ROUNDS=1, BENCH_ARGS="--batches 128 --precisions fp32"
#                       for a quick try; TORCH_PYTHON=/path/to/python picks PyTorch's interpreter); then
#                       the inference table of make bench-inference
#   make bench-tabular  nntrain's defaults against scikit-learn's MLP on five small public tables (Benchmarks/tabular.py)
#   make bench-kernels  micro-benchmarks of the hot kernels (Benchmarks/NNTrainKernels, package-benchmark)
#   make bench-inference  nntrain predict against ONNX Runtime on the reference model's exported file (end to
#                       end over the 10,000 test images, and one row), and ONNX Runtime's int8 and fp16
#                       files against fp32 (Benchmarks/inference.py; ONNX_PYTHON=/path/to/python picks
#                       an interpreter with onnxruntime, else .venv-onnx is made)
#   make bench-compression  pruning (sparsity/accuracy curve, neurons' smaller ONNX) and distillation (a
#                       784-64-10 student from the 512-256 model, alone against distilled, 3 seeds;
#                       Benchmarks/compression.py)
#   make bench-logging  what TensorBoard logging and layer statistics cost per epoch (Benchmarks/logging_cost.py)
#   make bench-sweep    8 trials of the reference config as a sweep: --jobs 1, --jobs <cores> (one thread
#                       each) and --jobs 8, taking turns; median wall times and the throughput ratio
#                       (Benchmarks/sweep_throughput.py)
#   make transfer-data  Fashion-MNIST split into the fine-tuning demo's two tasks: data/fashion-mnist-a (classes
#                       0-4, all images) and data/fashion-mnist-b (classes 5-9 as 0-4, 1,000 training images)
#                       (data-scripts/make-transfer-task.py; docs/fine-tuning.md, "A worked example")
#   make transfer-torch  task A of make transfer-data trained by PyTorch, saved with safetensors for model.init_from
#                       (data-scripts/torch-pretrain.py)
#   make onnx-check     the exports checked by the real runtime: ONNX files in ONNX Runtime, the safetensors
#                       state_dict in numpy, against nntrain predict (data-scripts/onnx-check.py; CI runs it)
#   make kill-resume    kill -9 a run at 20 random moments and resume it each time
#   make tensorboard-check  a small run's event files read by TensorBoard's own reader (data-scripts/tensorboard-check.py)
#   make torch-check    optimizers, schedules and layers step by step against real PyTorch (pinned in
#                       .venv-torch; TORCH_PYTHON=/path/to/python uses another; data-scripts/torch-check.py)
#   make slurm-check    a 4-trial sweep through sbatch on a one-node Slurm cluster started for it
#   make fuzz           build the libFuzzer targets (one per reader) and run each for FUZZ_SECONDS
#   make lint           swift format lint with the checked-in .swift-format, and lines within its lineLength
#                       (docs/testing.md, "Style")
#   make docs           write docs/config.md, the config reference, from the key table (nntrain config --markdown)
#   make proto          regenerate Sources/NNTrain/Export/onnx.pb.swift from onnx.proto and
#                       Reporting/TensorBoard/tensorboard.pb.swift from tensorboard.proto with protoc and
#                       protoc-gen-swift (built first into .build-protoc when missing, which takes minutes;
#                       neither make test nor CI runs it: the generated file is committed)
.PHONY: run test lint deps build data transfer-data bonus compare-gd kill-resume slurm-check bench bench-tabular bench-kernels fuzz docs proto clean

SWIFT ?= swift
# Swift's build folder; another (make bench SCRATCH=.build-x) keeps parallel builds of one checkout apart.
SCRATCH ?= .build
NNTRAIN := $(SCRATCH)/release/nntrain
# Where Fashion-MNIST is copied from instead of downloaded, when that folder exists (offline machines, CI).
NNTRAIN_DATA_MIRROR ?= $(wildcard ../shared/data/fashion-mnist)
export NNTRAIN_DATA_MIRROR

run: build data
	$(NNTRAIN) run configs/fashion-mnist.txt --force

test: deps
	$(SWIFT) test --scratch-path $(SCRATCH)

# swift-format's rules with .swift-format's choices, every finding an error. Its pretty-printer
# findings are left out (--debug-disable-pretty-print): they would re-wrap most of the hand-aligned
# code (tables in doc comments, aligned argument lists), which swift-format offers no setting to keep.
# That leaves .swift-format's lineLength unchecked, so a grep does it: every longer line is printed as
# file:line and fails the lint. Characters are counted, not bytes (C.UTF-8: '≤', '×', '—' are one each).
# Generated protobuf code (*.pb.swift, make proto) is left out of the line check, as swift-format
# leaves it out (swift-format-ignore-file).
LINT_PATHS := Package.swift Sources Tests Fuzz Benchmarks
LINE_LENGTH := $(shell sed -n 's/.*"lineLength": *\([0-9]*\).*/\1/p' .swift-format)
lint:
	$(SWIFT) format lint --strict --parallel --debug-disable-pretty-print --recursive $(LINT_PATHS)
	@long=$$(find $(LINT_PATHS) -name '*.swift' -not -name '*.pb.swift' -exec env LC_ALL=C.UTF-8 grep -nHE '^.{$(LINE_LENGTH)}.' {} + | cut -d: -f1,2); \
	if [ -n "$$long" ]; then \
		echo "$$long"; \
		echo "error: the lines above are longer than $(LINE_LENGTH) characters (.swift-format's lineLength)"; \
		exit 1; \
	fi

# The Debian packages Package.swift's system-library targets name (libopenblas-dev, zlib1g-dev).
deps:
	@if ! pkg-config --exists openblas zlib 2>/dev/null; then \
		echo "installing libopenblas-dev zlib1g-dev pkg-config"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libopenblas-dev zlib1g-dev pkg-config; \
	fi

build: deps
	$(SWIFT) build -c release --scratch-path $(SCRATCH) --product nntrain

data:
	data-scripts/fetch-fashion-mnist.sh data/fashion-mnist

# The fine-tuning demo's two tasks, cut from Fashion-MNIST (the same bytes on every run).
transfer-data: data
	python3 data-scripts/make-transfer-task.py --source data/fashion-mnist --out data

# The bonus regression: generate 10,000 employees, fit the linear model, compare weights.
bonus: build
	$(NNTRAIN) data bonus --rows 10000 --seed 42 --out data/bonus.csv
	$(NNTRAIN) run configs/bonus.txt --force

# Batch vs mini-batch vs stochastic gradient descent on the bonus data: loss against steps and seconds.
compare-gd: build
	data-scripts/compare-gd.sh $(NNTRAIN)

# kill -9 at 20 random moments, resuming each time: every checkpoint stays readable and the final
# weights and metrics equal an uninterrupted run's.
kill-resume: build
	data-scripts/kill-resume.sh $(NNTRAIN)

# A 4-trial sweep through sbatch on a one-node Slurm cluster of this machine (needs slurm-wlm, munge, root).
slurm-check: build
	data-scripts/slurm-check.sh $(NNTRAIN)

# ONNX Runtime and the libraries the ONNX checks read files with, pinned, in a virtual environment of
# their own (.venv-onnx, made on first use; ONNX_PYTHON=/path/to/python uses another interpreter).
ONNX_VENV := .venv-onnx
ONNX_PACKAGES := onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 safetensors==0.8.0 tensorboard==2.21.0
# The file `pinned` is written once the install has succeeded, so an interrupted one is redone; a change
# to this Makefile (a new pin) installs again (pip skips what is already there).
ifdef ONNX_PYTHON
ONNX_ENV :=
else
ONNX_PYTHON := $(ONNX_VENV)/bin/python
ONNX_ENV := $(ONNX_VENV)/pinned
endif
$(ONNX_VENV)/pinned: Makefile
	python3 -m venv $(ONNX_VENV)
	$(ONNX_VENV)/bin/pip install -q $(ONNX_PACKAGES)
	echo $(ONNX_PACKAGES) > $@

# Both sides train configs/fashion-mnist.txt for 3 epochs at batch 32, 128, 256 in fp32 and fp16,
# alternating run by run; prints a Markdown table and writes it to runs/bench/bench.md. Then the
# inference table (bench-inference below) to runs/bench/inference.md.
bench: build data $(ONNX_ENV)
	python3 Benchmarks/bench.py --nntrain $(NNTRAIN) $(BENCH_ARGS)
	$(ONNX_PYTHON) Benchmarks/inference.py --nntrain $(NNTRAIN) $(BENCH_INFERENCE_ARGS)

# nntrain's defaults against scikit-learn's MLP on small public tables (iris, wine, breast cancer,
# diabetes from scikit-learn's own package; penguins when its mirror exists), same splits, 3 seeds;
# scikit-learn and pandas pinned, in a virtual environment of their own (.venv-bench).
BENCH_VENV := .venv-bench
bench-tabular: build
	@[ -x $(BENCH_VENV)/bin/python ] || (python3 -m venv $(BENCH_VENV) && \
		$(BENCH_VENV)/bin/pip install -q scikit-learn==1.5.2 pandas==3.1.1)
	$(BENCH_VENV)/bin/python Benchmarks/tabular.py --nntrain $(NNTRAIN) $(BENCH_TABULAR_ARGS)

# Three small models (Fashion-MNIST with batch norm and gelu, the penguins classifier, a penguins
# regression) exported as fp32, fp16 and int8 ONNX and safetensors, each run by ONNX Runtime or numpy
# and compared with nntrain predict (docs/testing.md, "CI"); a model whose data (data/fashion-mnist,
# data/penguins.csv) is not there is skipped.
.PHONY: onnx-check tensorboard-check bench-inference
onnx-check: build $(ONNX_ENV)
	$(ONNX_PYTHON) data-scripts/onnx-check.py --nntrain $(NNTRAIN) $(ONNX_CHECK_ARGS)

# A small run's TensorBoard files read by TensorBoard's own EventAccumulator (pinned in the same
# environment): scalars equal to metrics.csv and steps.csv, histograms, hparams, a resume's purge.
tensorboard-check: build $(ONNX_ENV)
	$(ONNX_PYTHON) data-scripts/tensorboard-check.py --nntrain $(NNTRAIN)

# PyTorch itself, pinned, in a virtual environment of its own (.venv-torch, made on first use: PyPI's
# build, about 3 GB with its CUDA libraries, or a local CPU wheel of the same version that pip's
# find-links offers; == matches either, and the computation is on the CPU in both);
# TORCH_PYTHON=/path/to/python uses another interpreter with torch and numpy.
TORCH_VENV := .venv-torch
TORCH_VERSION := 2.13.0
ifdef TORCH_PYTHON
TORCH_ENV :=
else
TORCH_PYTHON := $(TORCH_VENV)/bin/python
TORCH_ENV := $(TORCH_VENV)/pinned
endif
$(TORCH_VENV)/pinned: Makefile
	python3 -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/pip install -q torch==$(TORCH_VERSION) numpy==2.4.6 safetensors==0.8.0
	echo torch==$(TORCH_VERSION) numpy==2.4.6 safetensors==0.8.0 > $@

# The fine-tuning demo's task A trained by PyTorch, saved as a safetensors state_dict
# (runs/transfer-torch/model.safetensors) for model.init_from (docs/fine-tuning.md, "A worked example").
.PHONY: transfer-torch
transfer-torch: transfer-data $(TORCH_ENV)
	$(TORCH_PYTHON) data-scripts/torch-pretrain.py

# nntrain's optimizers, schedules and layers against torch.optim, torch.optim.lr_scheduler and torch.nn:
# full-batch runs whose checkpoints after steps 2-6 must equal torch's steps from the checkpoint of step 1.
.PHONY: torch-check
torch-check: build $(TORCH_ENV)
	$(TORCH_PYTHON) data-scripts/torch-check.py $(NNTRAIN) $(TORCH_CHECK_ARGS)

# The reference model (3 epochs of configs/fashion-mnist.txt) exported and predicted by both, 5 rounds;
# prints a Markdown table and writes it to runs/bench/inference.md.
bench-inference: build data $(ONNX_ENV)
	$(ONNX_PYTHON) Benchmarks/inference.py --nntrain $(NNTRAIN) $(BENCH_INFERENCE_ARGS)

# Pruning and distillation on Fashion-MNIST (the README's "Smaller models"): about 40 minutes on 2 cores;
# every run is kept in runs/compression and not run again; writes runs/compression/compression.md and
# pruning-curve.svg (docs/pruning-curve.svg is a copy).
.PHONY: bench-compression bench-sweep bench-logging
bench-sweep: build data
	python3 Benchmarks/sweep_throughput.py --nntrain $(NNTRAIN) $(BENCH_SWEEP_ARGS)

# The reference run with TensorBoard scalars, histograms, step scalars and layer statistics against
# none, taking turns (docs/performance.md, "Logging").
bench-logging: build data
	python3 Benchmarks/logging_cost.py --nntrain $(NNTRAIN) $(BENCH_LOGGING_ARGS)

bench-compression: build data $(ONNX_ENV)
	$(ONNX_PYTHON) Benchmarks/compression.py --nntrain $(NNTRAIN) $(BENCH_COMPRESSION_ARGS)

# package-benchmark (ordo-one) is a dependency only with NNTRAIN_BENCHMARKS=1 (see Package.swift), in
# its own build folder, so that make test neither fetches nor builds it. Its plugin builds the
# benchmark target in release mode and prints one table per benchmark.
bench-kernels: deps
	NNTRAIN_BENCHMARKS=1 $(SWIFT) package --scratch-path .build-benchmarks benchmark $(BENCH_KERNELS_ARGS)

# The readers under libFuzzer with AddressSanitizer (Fuzz/run.sh): FUZZ_SECONDS each, corpus and
# crashes in .build-fuzz/.
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/run.sh

docs: build
	$(NNTRAIN) config --markdown > docs/config.md

# protoc (Debian's protobuf-compiler) with swift-protobuf's plugin, the version Package.swift resolves,
# built in its own folder; Visibility=Internal keeps the ONNX and TensorBoard messages inside the NNTrain module.
PROTOC_GEN_SWIFT := .build-protoc/release/protoc-gen-swift
# tensorboard.proto imports google/protobuf/struct.proto (the hparams' values), which Debian's
# libprotobuf-dev installs here; its Swift types come with swift-protobuf.
TENSORBOARD_PROTO := Sources/NNTrain/Reporting/TensorBoard
PROTOBUF_INCLUDE ?= /usr/include
proto:
	@[ -x $(PROTOC_GEN_SWIFT) ] || $(SWIFT) build -c release --scratch-path .build-protoc --product protoc-gen-swift
	protoc --plugin=protoc-gen-swift=$(PROTOC_GEN_SWIFT) --swift_opt=Visibility=Internal \
		--proto_path=Sources/NNTrain/Export --swift_out=Sources/NNTrain/Export Sources/NNTrain/Export/onnx.proto
	protoc --plugin=protoc-gen-swift=$(PROTOC_GEN_SWIFT) --swift_opt=Visibility=Internal \
		--proto_path=$(TENSORBOARD_PROTO) --proto_path=$(PROTOBUF_INCLUDE) --swift_out=$(TENSORBOARD_PROTO) \
		$(TENSORBOARD_PROTO)/tensorboard.proto

clean:
	rm -rf $(SCRATCH) .build-benchmarks .build-fuzz $(BENCH_VENV) $(ONNX_VENV) runs
