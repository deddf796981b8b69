#!/usr/bin/env bash
# make bench: icc against etcd on this machine, with one load generator (`icc-bench`).
#
# Builds iccd and icc-bench in release mode, installs etcd 3.4 from Debian when missing. Runs a
# 3-node icc cluster (deploy/bench/cluster.toml, ports 7101-7103) and a 3-member etcd cluster
# (client ports 23791-23793, peer ports 23801-23803), all on loopback with data under
# $CARGO_TARGET_DIR/bench/. Every scenario starts from wiped, freshly started clusters (both
# systems stopped, their data directories removed, started again, waited for): the same
# workload against both at 1, 64 and 256 clients (one fresh pair of clusters per client count),
# then the leader of each killed 20 times (a fresh pair again), then the scale scenario (a fresh
# icc cluster alone): preload 1M incidents with 10 notes each (about an hour), the 64-client
# load on that, the members' memory and disk, snapshot times from their logs, and a wiped
# follower's catch-up. Prints the markdown tables and writes them with both systems' Raft
# timings, the machine description and the exact commands into docs/benchmarks.md (between
# the bench markers; the rest of that file, the analysis, is kept). Logs of each scenario are
# kept under $CARGO_TARGET_DIR/bench/logs/<scenario>/. Everything it starts is stopped on exit.
#
# Neither system's load client retries: each request is one call with BENCH_TIMEOUT as its
# deadline, and a failed one counts as an error (only the scale preload retries, through
# icc-client, since it is not measured per request).
#
# Knobs (environment): BENCH_CLIENTS="1 64 256" BENCH_DURATION=30s BENCH_WARMUP=5s
# BENCH_CONNS=1 BENCH_TIMEOUT=10s BENCH_KILLS=20 BENCH_MIX=declare=20,append=60,update=20
# BENCH_NOTE_BYTES=256-1024 BENCH_DOC=docs/benchmarks.md (empty: do not write it)
# BENCH_ICC_CONFIG=deploy/bench/cluster.toml BENCH_ICCD=<another iccd build, for A/B of a
# server change; the report says so>
# Scale: BENCH_SCALE=1 (0: skip it) BENCH_SCALE_INCIDENTS=1000000 BENCH_SCALE_EVENTS=10 (notes
# per incident) BENCH_SCALE_NOTE_BYTES=64-256 BENCH_SCALE_PRELOAD_CLIENTS=256
# BENCH_SCALE_CLIENTS=64 (the load on the full cluster; compared with the plain run of as many
# clients, so keep it in BENCH_CLIENTS)
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
TIMEOUT=${BENCH_TIMEOUT:-10s}
SCALE=${BENCH_SCALE:-1}
SCALE_INCIDENTS=${BENCH_SCALE_INCIDENTS:-1000000}
SCALE_EVENTS=${BENCH_SCALE_EVENTS:-10}
# Shorter than the load's notes: 10 million notes of 256-1024 B would need about 20 GB of disk
# per member before compaction; 64-256 B is the length of a typical timeline entry.
SCALE_NOTE_BYTES=${BENCH_SCALE_NOTE_BYTES:-64-256}
SCALE_PRELOAD_CLIENTS=${BENCH_SCALE_PRELOAD_CLIENTS:-256}
SCALE_CLIENTS=${BENCH_SCALE_CLIENTS:-64}

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
      # Defaults otherwise (heartbeat 100 ms, election timeout 1 s, snapshot every 100000
      # entries; the report reads them from `etcd --help`): etcd as people run it.
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

# Starts a scenario on clean ground: stops every member, keeps the logs of the scenario before
# under $BENCH/logs/<its name>/, removes both systems' data directories, starts the given
# systems (icc, etcd) afresh and waits until each has a leader that every member follows.
# Neither system then pays for the data, compaction or snapshot state an earlier run left.
SCENARIO=""
fresh_clusters() {
  local scenario=$1 system n f
  shift
  stop_all
  if [ -n "$SCENARIO" ]; then
    mkdir -p "$BENCH/logs/$SCENARIO"
    for f in "$BENCH"/icc/*.log "$BENCH"/etcd/*.log; do
      if [ -f "$f" ]; then mv "$f" "$BENCH/logs/$SCENARIO/"; fi
    done
  fi
  rm -rf "$BENCH/icc" "$BENCH/etcd"
  SCENARIO=$scenario
  for system in "$@"; do
    for n in 1 2 3; do start_member "$system" "$n"; done
  done
  for system in "$@"; do
    case "$system" in
      # `|| return`: errexit does not reach into a function called in a condition (the scale
      # scenario's).
      icc) "$ICC_BENCH" --endpoints "$ICC_EPS" wait --within 60s || return 1 ;;
      etcd) "$ICC_BENCH" wait --target etcd --etcd-endpoints "$ETCD_EPS" --within 60s || return 1 ;;
    esac
  done
  echo "fresh: $* (empty data directories, just started)"
}

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

# The load run's flags, the same for every run of either system.
LOAD_FLAGS=(--conns "$CONNS" --mix "$MIX" --note-bytes "$NOTE_BYTES" --warmup "$WARMUP" --duration "$DURATION")

# icc then etcd at each client count, so slow drift of the machine touches both alike; both
# clusters fresh for each client count. Data and logs in $BENCH.
for c in $CLIENTS; do
  say "fresh icc (3 nodes) and etcd (3 members) for $c client(s)"
  fresh_clusters "load-c$c" icc etcd
  for system in icc etcd; do
    say "load: $system, $c client(s)"
    note_interference "before load $system c=$c"
    run "$ICC_BENCH" --endpoints "$ICC_EPS" --timeout "$TIMEOUT" -o json --target "$system" \
      --etcd-endpoints "$ETCD_EPS" --clients "$c" "${LOAD_FLAGS[@]}" >"$RES/load-$system-c$c.json"
    "$ICC_BENCH" compare "$RES/load-$system-c$c.json" |
      awk -F'|' 'NR > 2 && $3 ~ /writes|p50|p99 ms|errors|leader/ {v = ($4 ~ /-/) ? $5 : $4; gsub(/ /, "", v); printf "  %s %s\n", $3, v}'
    note_interference "after load $system c=$c"
  done
done

say "fresh icc and etcd for the failover runs"
fresh_clusters failover icc etcd
for system in icc etcd; do
  say "failover: $system, $KILLS kills of the leader"
  if [ "$system" = icc ]; then pidfile="$BENCH/icc/node{n}.pid"; else pidfile="$BENCH/etcd/e{n}.pid"; fi
  run "$ICC_BENCH" --endpoints "$ICC_EPS" -o json failover --target "$system" --etcd-endpoints "$ETCD_EPS" \
    --kills "$KILLS" --pid-file "$pidfile" --restart "$ROOT/scripts/bench.sh start-member $system {n}" \
    >"$RES/failover-$system.json"
  note_interference "failover $system"
done

# The scale scenario, on a fresh icc cluster alone: preload, measure the members, the load on
# the full cluster, a wiped follower's catch-up, measure again. Its failure is reported, and
# the other scenarios' results still stand.
ICC_PIDS="$BENCH/icc/node{n}.pid"
scale_scenario() {
  local wipe
  wipe="rm -rf $(printf %q "$BENCH")/icc/node{n}"
  fresh_clusters scale icc || return 1
  say "scale: preload $SCALE_INCIDENTS incidents x $SCALE_EVENTS notes ($SCALE_PRELOAD_CLIENTS clients)"
  note_interference "before the scale preload"
  run "$ICC_BENCH" --endpoints "$ICC_EPS" --timeout "$TIMEOUT" -o json preload \
    --incidents "$SCALE_INCIDENTS" --notes-per-incident "$SCALE_EVENTS" \
    --clients "$SCALE_PRELOAD_CLIENTS" --conns "$CONNS" --note-bytes "$SCALE_NOTE_BYTES" \
    >"$RES/scale-preload.json" || return 1
  run "$ICC_BENCH" --endpoints "$ICC_EPS" -o json nodes --label "after preload" \
    --pid-file "$ICC_PIDS" --data-dir "$BENCH/icc/node{n}" --log-file "$BENCH/icc/node{n}.log" \
    >"$RES/scale-nodes-1.json" || return 1
  say "scale: load, $SCALE_CLIENTS client(s), on the preloaded cluster"
  note_interference "before load icc scale c=$SCALE_CLIENTS"
  run "$ICC_BENCH" --endpoints "$ICC_EPS" --timeout "$TIMEOUT" -o json --target icc \
    --label "after preload" --clients "$SCALE_CLIENTS" "${LOAD_FLAGS[@]}" \
    >"$RES/scale-load.json" || return 1
  note_interference "after load icc scale c=$SCALE_CLIENTS"
  say "scale: a follower stopped, wiped and restarted; its catch-up"
  # --rejoin membership: today's iccd sends a wiped member nothing when it is just restarted
  # (openraft's leader takes the lost log for a bug), so it leaves the region group's voters
  # before the restart and comes back as a learner, as a new node joins (`icc-bench catch-up
  # --help`). Once the server lets a wiped member rejoin, `--rejoin restart` measures that.
  run "$ICC_BENCH" --endpoints "$ICC_EPS" -o json catch-up --rejoin membership --pid-file "$ICC_PIDS" \
    --wipe "$wipe" --restart "$ROOT/scripts/bench.sh start-member icc {n}" \
    >"$RES/scale-catch-up.json" || return 1
  run "$ICC_BENCH" --endpoints "$ICC_EPS" -o json nodes --label "at the end" \
    --pid-file "$ICC_PIDS" --data-dir "$BENCH/icc/node{n}" --log-file "$BENCH/icc/node{n}.log" \
    >"$RES/scale-nodes-2.json" || return 1
}
SCALE_STATUS="not run (BENCH_SCALE=$SCALE)"
if [ "$SCALE" = 1 ]; then
  if scale_scenario; then
    SCALE_STATUS=ok
  else
    SCALE_STATUS="failed before its end (the output of \`make bench\` and the logs in \$CARGO_TARGET_DIR/bench/ say why); what it measured is below"
    echo "warning: the scale scenario failed; the other results stand" >&2
  fi
fi

say "results"
files=()
for c in $CLIENTS; do files+=("$RES/load-icc-c$c.json" "$RES/load-etcd-c$c.json"); done
files+=("$RES/failover-icc.json" "$RES/failover-etcd.json")
"$ICC_BENCH" compare "${files[@]}" >"$RES/table.md"
cat "$RES/table.md"
# The scale table: its results (those written in full) and the plain run it is set against.
scale_files=()
for f in "$RES/load-icc-c$SCALE_CLIENTS.json" "$RES"/scale-*.json; do
  if [ -s "$f" ]; then scale_files+=("$f"); fi
done
: >"$RES/scale.md"
if [ "$SCALE" = 1 ] && [ ${#scale_files[@]} -gt 0 ]; then
  "$ICC_BENCH" compare --scale "${scale_files[@]}" >"$RES/scale.md"
  echo
  cat "$RES/scale.md"
fi

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

# Both systems' Raft timings as they ran: icc's from the [raft] table of the cluster file (the
# region group the benchmark writes to; a key not set there is iccd's default), etcd's from
# `etcd --help` (bench.sh passes none of these flags), else etcd 3.4's documented defaults.
icc_raft() {
  local v
  v=$(awk -v key="$1" '
    /^[[:space:]]*\[/ { section = $0; gsub(/[[:space:]]/, "", section); next }
    section == "[raft]" {
      line = $0; sub(/#.*/, "", line)
      if (split(line, kv, "=") == 2) {
        k = kv[1]; v = kv[2]; gsub(/[[:space:]]/, "", k); gsub(/[[:space:]"]/, "", v)
        if (k == key) { print v; exit }
      }
    }' "$ICC_CONFIG")
  echo "${v:-iccd default}"
}
ETCD_HELP=$(etcd --help 2>&1 || true)
etcd_flag() {
  local v
  v=$(printf '%s\n' "$ETCD_HELP" | sed -n "s/^ *--$1 '\([^']*\)'.*/\1/p" | head -1)
  echo "${v:-$2 (etcd 3.4 docs)}"
}

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
  echo "Fresh clusters: each client count, the failover runs and the scale scenario start from"
  echo "wiped data directories: both systems stopped, their data removed, started again and waited"
  echo "for (a leader every member follows). No run inherits the data, compaction or snapshot state"
  echo "of an earlier one. icc runs before etcd within each pair; the scale scenario runs icc alone."
  echo
  echo "Retries: none, for either system, in the load and failover runs. Each request is one gRPC"
  echo "call with a $TIMEOUT deadline; a request that fails (an error from the member, or no answer"
  echo "in time) counts as an error and the client goes on with its next one (icc-client's retry"
  echo "loop, which \`icc\` uses, is not in the measured path). Only the scale preload retries,"
  echo "through icc-client with one request id per write, as it is not measured per request."
  echo
  echo "### Raft timings"
  echo
  echo "| | icc (region group, \`[raft]\` of ${ICC_CONFIG#"$ROOT"/}) | etcd (flags; bench.sh sets none) |"
  echo "|---|---|---|"
  echo "| heartbeat | $(icc_raft heartbeat_ms) ms | $(etcd_flag heartbeat-interval 100) ms |"
  echo "| election timeout | $(icc_raft election_min_ms)–$(icc_raft election_max_ms) ms | $(etcd_flag election-timeout 1000) ms (etcd/raft randomises it up to twice that) |"
  echo "| snapshot every | $(icc_raft snapshot_every) applied entries | $(etcd_flag snapshot-count 100000) committed entries |"
  echo "| log kept behind a snapshot | $(icc_raft keep_logs_after_snapshot) entries | 5000 entries (etcd's fixed catch-up count) |"
  echo "| pre-vote | $(icc_raft pre_vote) | $(etcd_flag pre-vote false) |"
  echo
  echo "### Scale: icc holding $SCALE_INCIDENTS incidents"
  echo
  if [ "$SCALE" = 1 ]; then
    echo "A fresh icc cluster (etcd stopped) was preloaded with $SCALE_INCIDENTS incidents of"
    echo "$SCALE_EVENTS timeline notes each (notes $SCALE_NOTE_BYTES B; $SCALE_PRELOAD_CLIENTS clients"
    echo "through icc-client); then the members were measured, the $SCALE_CLIENTS-client load (mix,"
    echo "warm-up and duration as above) ran on the full cluster and is set against the same load on"
    echo "the empty cluster, a follower was stopped"
    echo "(SIGTERM), its data directory removed and the follower started again (never the lowest-id"
    echo "member: on an empty data directory that one bootstraps the group), timed until its applied"
    echo "index reached the leader's commit index as of the restart, and the members were measured"
    echo "again. The wiped follower rejoins the region group by leaving its voters before the restart"
    echo "and coming back as a learner (made a voter again once caught up): iccd does not let a wiped"
    echo "member back in by a restart alone (openraft's leader takes the lost log for a bug and sends"
    echo "it nothing), so this times a new node's catch-up (in the global group, where it votes too,"
    echo "the wiped member is left behind)."
    echo "Disk: du of each member's data directory (per preloaded incident: divided by the incidents"
    echo "preloaded; \"at the end\" also holds the load's writes). RSS: VmRSS of each iccd."
    echo "Snapshot times: the \`snapshot built\` / \`snapshot installed\` lines of the iccd logs."
    [ "$SCALE_STATUS" = ok ] || echo "**The scale scenario $SCALE_STATUS.**"
    echo
    if [ -s "$RES/scale.md" ]; then cat "$RES/scale.md"; else echo "No scale results."; fi
  else
    echo "Not run (BENCH_SCALE=$SCALE)."
  fi
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
  echo "\`make bench\` (CARGO_TARGET_DIR=$CARGO_TARGET_DIR) ran, each scenario after starting fresh"
  echo "clusters as \`scripts/bench.sh start-member icc|etcd N\` does:"
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
