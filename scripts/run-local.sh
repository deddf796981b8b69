#!/usr/bin/env bash
# Starts the local cluster described in deploy/local/cluster.toml: three regions (us-east, eu-west,
# ap-south) of three nodes each on 127.0.0.1:7001-7009, data under .icc-run/. The first start initialises the Raft group; later
# starts reuse the data. Ctrl-C stops every node cleanly (SIGTERM, then waits).
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=deploy/local/cluster.toml
DATA=${ICC_RUN_DIR:-.icc-run}
BIN="${CARGO_TARGET_DIR:-$HOME/.cache/icc-target}/debug"
[ -x "$BIN/iccd" ] && [ -x "$BIN/icc" ] || { echo "error: $BIN/iccd or icc missing; run 'make run' (it builds them)" >&2; exit 1; }

mkdir -p "$DATA"
if [ -d "$DATA/node1/rocksdb" ]; then
  echo "reusing the cluster data in $DATA (make clean-run to start afresh)"
else
  echo "first start: node 1 will initialise the cluster"
fi

pids=()
stop() {
  trap - INT TERM
  echo
  echo "stopping the nodes..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped; data kept in $DATA"
  exit 0
}
trap stop INT TERM

for id in $(seq 1 9); do
  "$BIN/iccd" --config "$CONFIG" --node-id "$id" --data-dir "$DATA/node$id" >>"$DATA/node$id.log" 2>&1 &
  pids+=("$!")
done

export ICC_ENDPOINTS=127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
for _ in $(seq 1 300); do
  # Ready when every group (three regions and the global one) has a leader.
  out=$("$BIN/icc" --timeout 2s cluster status 2>/dev/null || true)
  if [ "$(grep -c '^group .*: leader [0-9]' <<<"$out")" -eq 4 ]; then break; fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "error: a node exited; see $DATA/node*.log" >&2; tail -n 5 "$DATA"/node*.log >&2; stop; }
  done
  sleep 0.1
done
"$BIN/icc" cluster status || true

cat <<TXT

icc is running (logs in $DATA/node*.log):
  us-east  (US): nodes 1-3 on 127.0.0.1:7001-7003
  eu-west  (EU): nodes 4-6 on 127.0.0.1:7004-7006
  ap-south (IN): nodes 7-9 on 127.0.0.1:7007-7009
  global group: voters 1, 2 (us-east), 4, 5 (eu-west), 7 (ap-south)
Any node serves any request; icc's default endpoints are 7001-7003.
In another shell:

  export PATH="$BIN:\$PATH"
  icc incident declare --title "checkout errors" --severity sev2 --service checkout
  icc incident list
  icc cluster status

Ctrl-C here stops the cluster.
TXT
wait
