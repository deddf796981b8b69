# icc: the two commands are `make run` and `make test`.
#
# The build directory lives outside the checkout so a fresh clone (CI, a second worktree) reuses
# the ~20 minutes a RocksDB build takes. Override with CARGO_TARGET_DIR=... if you like.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/icc-target
CARGO ?= cargo

.PHONY: run test deps build fmt lint unit clean-run help bench profile chaos chaos-broken

help:
	@echo "make run    build iccd and icc, start a local 9-node, 3-region cluster (Ctrl-C stops it)"
	@echo "make test   format check, clippy -D warnings, every unit and integration test"
	@echo "make deps   install the system packages the build needs (libclang-dev)"
	@echo "make bench  icc-bench: icc against etcd (3 members each, loopback): load and failover -> docs/benchmarks.md"
	@echo "make profile  flame graph of a loaded 3-node cluster (perf) -> docs/profiles/<commit>.svg"
	@echo "make chaos  every chaos scenario with CHAOS_SEEDS seeds (default 10): table of scenario x runs x failures"
	@echo "make chaos-broken  the suite against a deliberately broken iccd (acks before fsync): must fail"

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

## icc against etcd on this machine with icc-bench (tools/bench): loads at 1, 64 and 256 clients on
## fresh clusters and failover (about 15 minutes after the release build), then the scale scenario
## (1M incidents x 10 notes preloaded: about an hour at 3-4k writes/s; BENCH_SCALE_INCIDENTS=N for
## less, BENCH_SCALE=0 to skip). Installs etcd 3.4 from Debian when missing. Knobs: scripts/bench.sh.
bench: deps
	@scripts/bench.sh

## Where a loaded cluster spends its CPU: perf on the three bench nodes under the 64-client load,
## a flame graph and a top-functions summary in docs/profiles/ (see scripts/profile.sh).
profile: deps
	@scripts/profile.sh

## The chaos suite's long profile (chaos-tests/, crate icc-chaos): every scenario with many seeds,
## a markdown table at the end; failing runs keep a report in $(CARGO_TARGET_DIR)/chaos-reports/.
## `make test` runs the short profile (one fixed seed per scenario).
CHAOS_SEEDS ?= 10
chaos: deps
	$(CARGO) build -p icc-node --features failpoints --bin iccd
	$(CARGO) build -p icc-chaos --bin icc-chaos
	$(CARGO_TARGET_DIR)/debug/icc-chaos run --seeds $(CHAOS_SEEDS)

## Proof that the suite can fail: iccd built with chaos-ack-before-fsync (appends acknowledged
## before their WAL sync) must lose acknowledged writes under kill-all. Succeeds when the suite
## reports failures.
chaos-broken: deps
	$(CARGO) build -p icc-node --features chaos-ack-before-fsync --bin iccd
	cp $(CARGO_TARGET_DIR)/debug/iccd $(CARGO_TARGET_DIR)/debug/iccd-ack-before-fsync
	$(CARGO) build -p icc-node --features failpoints --bin iccd
	$(CARGO) build -p icc-chaos --bin icc-chaos
	! ICC_CHAOS_ICCD=$(CARGO_TARGET_DIR)/debug/iccd-ack-before-fsync \
		$(CARGO_TARGET_DIR)/debug/icc-chaos run --scenario kill-all --seeds 3 --first-seed 100

## Forget the local cluster's data (the next `make run` initialises a new cluster).
clean-run:
	rm -rf .icc-run
