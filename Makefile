# icc: the two commands are `make run` and `make test`.
#
# The build directory lives outside the checkout so a fresh clone (CI, a second worktree) reuses
# the ~20 minutes a RocksDB build takes. Override with CARGO_TARGET_DIR=... if you like.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/icc-target
CARGO ?= cargo

.PHONY: run test deps build fmt lint unit clean-run help bench

help:
	@echo "make run    build iccd and icc, start a local 3-node cluster (Ctrl-C stops it)"
	@echo "make test   format check, clippy -D warnings, every unit and integration test"
	@echo "make deps   install the system packages the build needs (libclang-dev)"
	@echo "make bench  icc against etcd (3 members each, loopback): load and failover -> docs/benchmarks.md"

## System packages: RocksDB's bindgen needs libclang's C API (libclang.so).
deps:
	@scripts/ensure-deps.sh

build: deps
	$(CARGO) build --workspace --bins

run: build
	@scripts/run-local.sh

test: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace

fmt:
	$(CARGO) fmt --all

## icc against etcd on this machine (about 10-15 minutes after the release build); installs
## etcd 3.4 from Debian when missing. See scripts/bench.sh for the knobs.
bench: deps
	@scripts/bench.sh

## Forget the local cluster's data (the next `make run` initialises a new cluster).
clean-run:
	rm -rf .icc-run
