#!/usr/bin/env bash
# make profile: where a loaded icc cluster spends its CPU, as a flame graph.
#
# Builds iccd and icc-bench in release mode, starts the bench cluster (deploy/bench/cluster.toml,
# three nodes on loopback, data under $CARGO_TARGET_DIR/profile/), runs the make-bench load
# (PROFILE_CLIENTS clients, default 64) and records every iccd with perf (DWARF call graphs) for
# PROFILE_SECONDS (default 10) in the middle of it. Writes:
#   docs/profiles/$PROFILE_NAME.svg   the flame graph (all three nodes; the leader dominates)
#   docs/profiles/$PROFILE_NAME.txt   the load's figures and the top functions by own CPU time
# PROFILE_NAME defaults to the short commit id; PROFILE_ICCD=<another iccd build> profiles that
# binary instead (an A/B of a server change; name the profile after it). Needs perf (Debian: linux-perf) and inferno
# (`cargo install inferno`); installs both when missing. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icc-target}"
export ICC_INSECURE_PLAINTEXT=1
BIN="$CARGO_TARGET_DIR/release"
WORK="$CARGO_TARGET_DIR/profile"
CLIENTS=${PROFILE_CLIENTS:-64}
SECONDS_RECORDED=${PROFILE_SECONDS:-10}
NAME=${PROFILE_NAME:-$(git rev-parse --short HEAD)}
EPS=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
OUT="$ROOT/docs/profiles"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
command -v perf >/dev/null || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq linux-perf >/dev/null; }
command -v inferno-flamegraph >/dev/null || cargo install --locked inferno
scripts/ensure-deps.sh
cargo build --release -p icc-node -p icc-bench

for port in 7101 7102 7103; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "error: port $port is in use (make bench running?); stop it and retry" >&2
    exit 1
  fi
done

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM
rm -rf "$WORK"
mkdir -p "$WORK" "$OUT"
for n in 1 2 3; do
  "${PROFILE_ICCD:-$BIN/iccd}" --config deploy/bench/cluster.toml --node-id "$n" --data-dir "$WORK/node$n" \
    </dev/null >"$WORK/node$n.log" 2>&1 &
  pids+=($!)
done
"$BIN/icc-bench" --endpoints "$EPS" wait --within 60s

duration=$((SECONDS_RECORDED + 10))
"$BIN/icc-bench" --endpoints "$EPS" --clients "$CLIENTS" --warmup 5s --duration "${duration}s" \
  >"$WORK/load.txt" 2>&1 &
load=$!
sleep 8 # the warm-up and a little: record the steady state only
perf record -F 199 --call-graph dwarf,8192 -o "$WORK/perf.data" \
  -p "$(IFS=,; echo "${pids[*]}")" -- sleep "$SECONDS_RECORDED" 2>"$WORK/perf.log"
wait "$load"

perf script -i "$WORK/perf.data" 2>/dev/null | inferno-collapse-perf >"$WORK/folded.txt"
inferno-flamegraph --minwidth 1 --title "icc, $CLIENTS clients, $NAME" <"$WORK/folded.txt" >"$OUT/$NAME.svg"
{
  echo "# $NAME: $CLIENTS clients, ${SECONDS_RECORDED}s of perf on all three iccd ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  cat "$WORK/load.txt"
  echo
  echo "## Where the time goes: share of samples whose stack contains (inclusive; rows overlap)"
  python3 - "$WORK/folded.txt" <<'PY'
import re, sys
groups = [
    ("JSON (serde_json)", r"serde_json"),
    ("postcard", r"postcard"),
    ("RocksDB write (WriteImpl)", r"rocksdb::DBImpl::WriteImpl"),
    ("RocksDB reads (Get, iterators)", r"rocksdb::DBImpl::GetImpl|rocksdb::DBIter"),
    ("RocksDB background (flush, compaction)", r"rocksdb::(FlushJob|CompactionJob)"),
    ("WAL fsync (flush_wal)", r"FlushWAL|fdatasync|fsync"),
    ("state machine apply (store::apply)", r"icc_node::store::apply"),
    ("log append (LogStore::append)", r"log_store.*append|LogStore.*append"),
    ("log reads (try_get_log_entries)", r"try_get_log_entries"),
    ("openraft core", r"openraft::core::raft_core"),
    ("gRPC (h2, tonic, hyper)", r"\bh2::|tonic::|hyper::"),
    ("allocator (malloc, free, mimalloc)", r"malloc|cfree|_int_free|mi_"),
    ("audit hash (sha2)", r"sha2::"),
    ("kernel", r"\[k\]|entry_SYSCALL|do_syscall"),
]
total = 0
hits = {name: 0 for name, _ in groups}
for line in open(sys.argv[1]):
    stack, _, n = line.rstrip().rpartition(" ")
    n = int(n)
    total += n
    for name, pat in groups:
        if re.search(pat, stack):
            hits[name] += n
print()
print("| component | share |")
print("|---|---:|")
for name, _ in groups:
    print(f"| {name} | {100.0 * hits[name] / max(total, 1):.1f}% |")
print()
PY
  echo "## Top functions by own (self) CPU time"
  perf report -i "$WORK/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null |
    grep -E '^ +[0-9]' | sed -E 's/[ -]+$//' | sed -n 1,40p
} >"$OUT/$NAME.txt"
echo "wrote $OUT/$NAME.svg and $OUT/$NAME.txt"
