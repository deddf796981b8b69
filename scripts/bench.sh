#!/usr/bin/env bash
# make bench: icc against etcd on this machine, with one load generator (`icc-bench`).
#
# Builds iccd and icc-bench in release mode, installs etcd 3.4 from Debian when missing, starts a
# 3-node icc cluster (deploy/bench/cluster.toml, ports 7101-7103) and a 3-member etcd cluster
# (client ports 23791-23793, peer ports 23801-23803), all on loopback with data under
# $CARGO_TARGET_DIR/bench/. Runs the same workload against both at 1, 64 and 256 clients, then
# kills the leader of each 20 times, prints one markdown table and writes it with the machine
# description and the exact commands into docs/benchmarks.md (between the bench markers; the
# rest of that file, the analysis, is kept). Everything it starts is stopped on exit.
#
# Knobs (environment): BENCH_CLIENTS="1 64 256" BENCH_DURATION=30s BENCH_WARMUP=5s
# BENCH_CONNS=1 BENCH_KILLS=20 BENCH_MIX=declare=20,append=60,update=20
# BENCH_NOTE_BYTES=256-1024 BENCH_DOC=docs/benchmarks.md (empty: do not write it)
# BENCH_ICC_CONFIG=deploy/bench/cluster.toml BENCH_ICCD=<another iccd build, for A/B of a
# server change; the report says so>
#
# `scripts/bench.sh start-member icc|etcd N` starts one member in the background (used by
# `icc-bench failover` to restart a killed member).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icc-target}"
BIN="$CARGO_TARGET_DIR/release"
BENCH="$CARGO_TARGET_DIR/bench"
ICC_CONFIG="${BENCH_ICC_CONFIG:-$ROOT/deploy/bench/cluster.toml}"
ICC_EPS=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
# The bench cluster runs plaintext (deploy/bench/cluster.toml [tls]); so does the CLI here.
export ICC_INSECURE_PLAINTEXT=1
ETCD_EPS=127.0.0.1:23791,127.0.0.1:23792,127.0.0.1:23793
ETCD_CLUSTER=e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803

CLIENTS=${BENCH_CLIENTS:-1 64 256}
DURATION=${BENCH_DURATION:-30s}
WARMUP=${BENCH_WARMUP:-5s}
CONNS=${BENCH_CONNS:-1}
KILLS=${BENCH_KILLS:-20}
MIX=${BENCH_MIX:-declare=20,append=60,update=20}
NOTE_BYTES=${BENCH_NOTE_BYTES:-256-1024}
DOC=${BENCH_DOC-docs/benchmarks.md}

# Starts member N of icc or etcd in the background; its pid goes to $BENCH/<system>/<name>.pid.
start_member() {
  local system=$1 n=$2
  case "$system" in
    icc)
      mkdir -p "$BENCH/icc"
      "${BENCH_ICCD:-$BIN/iccd}" --config "$ICC_CONFIG" --node-id "$n" --data-dir "$BENCH/icc/node$n" \
        </dev/null >>"$BENCH/icc/node$n.log" 2>&1 &
      echo $! >"$BENCH/icc/node$n.pid"
      disown
      ;;
    etcd)
      mkdir -p "$BENCH/etcd"
      # Defaults otherwise (heartbeat 100 ms, election timeout 1 s): etcd as people run it.
      etcd --name "e$n" --data-dir "$BENCH/etcd/e$n" \
        --listen-client-urls "http://127.0.0.1:2379$n" --advertise-client-urls "http://127.0.0.1:2379$n" \
        --listen-peer-urls "http://127.0.0.1:2380$n" --initial-advertise-peer-urls "http://127.0.0.1:2380$n" \
        --initial-cluster "$ETCD_CLUSTER" --initial-cluster-state new --initial-cluster-token icc-bench \
        --logger zap </dev/null >>"$BENCH/etcd/e$n.log" 2>&1 &
      echo $! >"$BENCH/etcd/e$n.pid"
      disown
      ;;
    *) echo "error: unknown system $system (icc or etcd)" >&2; return 2 ;;
  esac
}

if [ "${1:-}" = "start-member" ]; then
  start_member "$2" "$3"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: scripts/bench.sh [start-member icc|etcd N]" >&2; exit 2; }

# Stops every member this run started (SIGTERM, then SIGKILL after 10 s), also on failure.
stop_all() {
  local pids=() f pid
  for f in "$BENCH"/icc/*.pid "$BENCH"/etcd/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
    rm -f "$f"
  done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  echo "== stopping the clusters"
  stop_all
  [ "$rc" = 0 ] || echo "bench failed (exit $rc); logs and results in $BENCH" >&2
  exit "$rc"
}

say() { echo; echo "== $*"; }

# Other busy processes (a compiler, say) distort the numbers; the report lists the runs they
# overlapped.
INTERFERENCE=()
note_interference() {
  local busy
  # CPU use over one second now (top's second sample), not ps's lifetime average.
  busy=$(top -b -n 2 -d 1 -w 200 | awk '/^top -/ {n++} n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 > 20 && $12 !~ /^(iccd|etcd|icc-bench|top)$/ {printf "%s(%s%%) ", $12, $9}')
  if [ -n "$busy" ]; then
    echo "  warning: other busy processes: $busy" >&2
    INTERFERENCE+=("$1: $busy")
  fi
}
# Runs a command after printing it, and records it for the report.
COMMANDS=()
run() {
  local line
  line=$(printf '%q ' "$@")
  echo "+ $line" >&2
  COMMANDS+=("${line% }")
  "$@"
}

say "dependencies"
scripts/ensure-deps.sh
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  echo "installing etcd-server and etcd-client (Debian's etcd 3.4)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq etcd-server etcd-client >/dev/null
fi

say "build (release, in $CARGO_TARGET_DIR)"
cargo build --release -p icc-node -p icc-bench
ICC_BENCH="$BIN/icc-bench"

for port in 7101 7102 7103 23791 23792 23793 23801 23802 23803; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "error: port $port is in use; stop what listens there (a previous bench?) and retry" >&2
    exit 1
  fi
done

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
trap cleanup EXIT INT TERM
rm -rf "$BENCH"
mkdir -p "$BENCH/results"
RES="$BENCH/results"

say "starting icc (3 nodes) and etcd (3 members); data and logs in $BENCH"
for n in 1 2 3; do start_member icc "$n"; start_member etcd "$n"; done
"$ICC_BENCH" --endpoints "$ICC_EPS" wait --within 60s
"$ICC_BENCH" wait --target etcd --etcd-endpoints "$ETCD_EPS" --within 60s
echo "both clusters are up"

# icc then etcd at each client count, so slow drift of the machine touches both alike.
for c in $CLIENTS; do
  for system in icc etcd; do
    say "load: $system, $c client(s)"
    note_interference "before load $system c=$c"
    run "$ICC_BENCH" --endpoints "$ICC_EPS" -o json --target "$system" --etcd-endpoints "$ETCD_EPS" \
      --clients "$c" --conns "$CONNS" --mix "$MIX" --note-bytes "$NOTE_BYTES" \
      --warmup "$WARMUP" --duration "$DURATION" >"$RES/load-$system-c$c.json"
    "$ICC_BENCH" compare "$RES/load-$system-c$c.json" |
      awk -F'|' 'NR > 2 && $3 ~ /writes|p50|p99 ms|errors|leader/ {v = ($4 ~ /-/) ? $5 : $4; gsub(/ /, "", v); printf "  %s %s\n", $3, v}'
    note_interference "after load $system c=$c"
  done
done

for system in icc etcd; do
  say "failover: $system, $KILLS kills of the leader"
  if [ "$system" = icc ]; then pidfile="$BENCH/icc/node{n}.pid"; else pidfile="$BENCH/etcd/e{n}.pid"; fi
  run "$ICC_BENCH" --endpoints "$ICC_EPS" -o json failover --target "$system" --etcd-endpoints "$ETCD_EPS" \
    --kills "$KILLS" --pid-file "$pidfile" --restart "$ROOT/scripts/bench.sh start-member $system {n}" \
    >"$RES/failover-$system.json"
  note_interference "failover $system"
done

say "results"
files=()
for c in $CLIENTS; do files+=("$RES/load-icc-c$c.json" "$RES/load-etcd-c$c.json"); done
files+=("$RES/failover-icc.json" "$RES/failover-etcd.json")
"$ICC_BENCH" compare "${files[@]}" >"$RES/table.md"
cat "$RES/table.md"

[ -n "$DOC" ] || exit 0

# ---- docs/benchmarks.md: the generated section between the markers ----------------------
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
disk_dev=$(df --output=source "$BENCH" | tail -1)
disk_fs=$(df --output=fstype "$BENCH" | tail -1)
# One 4 KiB write + fsync per dd block: what a group commit costs on this disk at best.
fsync=$(dd if=/dev/zero of="$BENCH/fsync-probe" bs=4k count=200 oflag=dsync 2>&1 | awk '/copied/ {printf "%.2f ms", $(NF-3)*1000/200}')
rm -f "$BENCH/fsync-probe"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain -- proto policy client node tools deploy scripts 2>/dev/null)" ]; then commit="$commit (with uncommitted changes)"; fi

gen="$RES/section.md"
{
  echo "<!-- bench:begin (written by scripts/bench.sh; edits here are overwritten) -->"
  echo "## Latest run"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), icc commit $commit. Three members of each system on one"
  echo "machine over loopback; only the system being measured is loaded (the other idles)."
  echo
  cat "$RES/table.md"
  echo
  echo "Load: closed loop, each client one request in flight, all to the leader over $CONNS"
  echo "connection(s); mix \`$MIX\`, notes $NOTE_BYTES B; $WARMUP warm-up, then $DURATION measured."
  echo "etcd gets a put of the same encoded bytes for every icc operation. Failover: kill -9 of the"
  echo "leader, then a write offered to each surviving member every 10 ms (250 ms per attempt);"
  echo "the time is from just before the kill to the first acknowledgement."
  echo
  if [ ${#INTERFERENCE[@]} -gt 0 ]; then
    echo "**Other busy processes during this run** (these rows are less trustworthy):"
    for i in "${INTERFERENCE[@]}"; do echo "- $i"; done
    echo
  fi
  echo "### Machine"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| CPUs | $(nproc) × $cpu |"
  echo "| memory | $mem |"
  echo "| kernel | $(uname -sr) |"
  echo "| OS | $(. /etc/os-release && echo "$PRETTY_NAME") |"
  echo "| disk | $disk_dev ($disk_fs); 4 KiB write + fsync: $fsync |"
  echo "| icc | $("$ICC_BENCH" --version), $(rustc --version)${BENCH_ICCD:+; server binary: $BENCH_ICCD (not built from this checkout)} |"
  echo "| load average at start | $LOADAVG |"
  echo "| etcd | $(etcd --version | head -1 | sed 's/etcd Version: //') (Debian $(dpkg-query -W -f='${Version}' etcd-server 2>/dev/null || echo '?')), $(etcd --version | grep 'Go Version' | sed 's/Go Version: //') |"
  echo
  echo "### Commands"
  echo
  echo "\`make bench\` (CARGO_TARGET_DIR=$CARGO_TARGET_DIR) ran, after starting the clusters as"
  echo "\`scripts/bench.sh start-member icc|etcd N\` does:"
  echo
  echo '```sh'
  for c in "${COMMANDS[@]}"; do echo "${c//$CARGO_TARGET_DIR/\$CARGO_TARGET_DIR}" | sed "s|$ROOT/||g"; done
  echo "icc-bench compare \$CARGO_TARGET_DIR/bench/results/*.json"
  echo '```'
  echo "<!-- bench:end -->"
} >"$gen"

if [ -f "$DOC" ] && grep -q '^<!-- bench:begin' "$DOC" && grep -q '^<!-- bench:end' "$DOC"; then
  awk -v gen="$gen" '
    /^<!-- bench:begin/ { while ((getline line < gen) > 0) print line; skip = 1; next }
    /^<!-- bench:end/ { skip = 0; next }
    !skip { print }' "$DOC" >"$DOC.tmp"
  mv "$DOC.tmp" "$DOC"
else
  { echo "# Benchmarks: icc against etcd"; echo; cat "$gen"; } >"$DOC"
fi
say "wrote $DOC"
