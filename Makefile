# nntrain: the two commands of the README, and the steps they are made of.
#   make run    install the system libraries if missing, build (release), fetch Fashion-MNIST, train
#   make test   install the system libraries if missing, run the test suite
#   make fuzz   build the libFuzzer targets (one per reader) and run each for FUZZ_SECONDS
.PHONY: run test deps build data bonus compare-gd fuzz clean

SWIFT ?= swift
NNTRAIN := .build/release/nntrain
# Where Fashion-MNIST is copied from instead of downloaded, when that folder exists (offline machines, CI).
NNTRAIN_DATA_MIRROR ?= $(wildcard ../shared/data/fashion-mnist)
export NNTRAIN_DATA_MIRROR

run: build data
	$(NNTRAIN) run configs/fashion-mnist.txt

test: deps
	$(SWIFT) test

# The Debian packages Package.swift's system-library targets name (libopenblas-dev, zlib1g-dev).
deps:
	@if ! pkg-config --exists openblas zlib 2>/dev/null; then \
		echo "installing libopenblas-dev zlib1g-dev pkg-config"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libopenblas-dev zlib1g-dev pkg-config; \
	fi

build: deps
	$(SWIFT) build -c release --product nntrain

data:
	data-scripts/fetch-fashion-mnist.sh data/fashion-mnist

# The bonus regression: generate 10,000 employees, fit the linear model, compare weights.
bonus: build
	$(NNTRAIN) data bonus --rows 10000 --seed 42 --out data/bonus.csv
	$(NNTRAIN) run configs/bonus.txt

# Batch vs mini-batch vs stochastic gradient descent on the bonus data: loss against steps and seconds.
compare-gd: build
	data-scripts/compare-gd.sh $(NNTRAIN)

# The readers under libFuzzer with AddressSanitizer (Fuzz/run.sh): FUZZ_SECONDS each, corpus and
# crashes in .build-fuzz/.
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/run.sh

clean:
	rm -rf .build .build-fuzz runs
