#!/usr/bin/env bash
# Starts the local cluster described in deploy/local/cluster.toml: three regions (us-east, eu-west,
# ap-south) of three nodes each on 127.0.0.1:7001-7009, data under .icc-run/. The first start initialises the Raft group; later
# starts reuse the data. Ctrl-C stops every node cleanly (SIGTERM, then waits). A node that exits
# on its own (a crash, `icc drill failover --kill`) is restarted, as a supervisor would.
#
# Mutual TLS: the first start creates a cluster CA and one certificate per node in $DATA/certs
# (plus the bootstrap admin's client certificate) and writes $DATA/icc.toml, the CLI's config
# file (endpoints, CA, admin certificate): `export ICC_CONFIG=$PWD/.icc-run/icc.toml`.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=deploy/local/cluster.toml
DATA=${ICC_RUN_DIR:-.icc-run}
BIN="${CARGO_TARGET_DIR:-$HOME/.cache/icc-target}/debug"
[ -x "$BIN/iccd" ] && [ -x "$BIN/icc" ] || { echo "error: $BIN/iccd or icc missing; run 'make run' (it builds them)" >&2; exit 1; }

mkdir -p "$DATA"
CERTS="$DATA/certs"
if [ ! -f "$CERTS/ca.crt" ]; then
  echo "creating the cluster CA and certificates in $CERTS"
  "$BIN/icc" certs init --dir "$CERTS" >/dev/null
  for id in $(seq 1 9); do "$BIN/icc" certs issue --dir "$CERTS" --node "$id" >/dev/null; done
fi
# The CLI's config file: paths are relative to it.
cat >"$DATA/icc.toml" <<TOML
# Written by scripts/run-local.sh for the local cluster; use with: export ICC_CONFIG=$PWD/$DATA/icc.toml
endpoints = ["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"]
ca = "certs/ca.crt"
cert = "certs/admin.crt"
key = "certs/admin.key"
TOML
export ICC_CONFIG="$PWD/$DATA/icc.toml"
case "$DATA" in /*) export ICC_CONFIG="$DATA/icc.toml" ;; esac
if [ -d "$DATA/node1/rocksdb" ]; then
  echo "reusing the cluster data in $DATA (make clean-run to start afresh)"
else
  echo "first start: node 1 will initialise the cluster"
fi

pids=()           # every process to stop on Ctrl-C
declare -A node_pid # node id -> pid of its current process
# The webhook receiver the cluster file's [[channel]]s point at (127.0.0.1:8090), so the outbox
# has somewhere to deliver: every notification lands in $DATA/webhooks.log.
"$BIN/icc" notifications sink --listen 127.0.0.1:8090 >>"$DATA/webhooks.log" 2>&1 &
pids+=("$!")
stop() {
  trap - INT TERM
  echo
  echo "stopping the nodes..."
  for pid in "${pids[@]}" "${node_pid[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}" "${node_pid[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped; data kept in $DATA"
  exit 0
}
trap stop INT TERM

start_node() {
  "$BIN/iccd" --config "$CONFIG" --node-id "$1" --data-dir "$DATA/node$1" \
    --tls-ca "$CERTS/ca.crt" --tls-cert "$CERTS/node-$1.crt" --tls-key "$CERTS/node-$1.key" \
    >>"$DATA/node$1.log" 2>&1 &
  node_pid[$1]=$!
}
for id in $(seq 1 9); do start_node "$id"; done

for _ in $(seq 1 300); do
  # Ready when every group (three regions and the global one) has a leader.
  out=$("$BIN/icc" --timeout 2s cluster status 2>/dev/null || true)
  if [ "$(grep -c '^group .*: leader [0-9]' <<<"$out")" -eq 4 ]; then break; fi
  for pid in "${node_pid[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "error: a node exited; see $DATA/node*.log" >&2; tail -n 5 "$DATA"/node*.log >&2; stop; }
  done
  sleep 0.1
done
"$BIN/icc" cluster status || true

cat <<TXT

icc is running with mutual TLS (logs in $DATA/node*.log, certificates in $CERTS):
  us-east  (US): nodes 1-3 on 127.0.0.1:7001-7003
  eu-west  (EU): nodes 4-6 on 127.0.0.1:7004-7006
  ap-south (IN): nodes 7-9 on 127.0.0.1:7007-7009
  global group: voters 1, 2 (us-east), 4, 5 (eu-west), 7 (ap-south)
Any node serves any request; icc's default endpoints are 7001-7003.
Notifications (channels ops-chat and customers) are delivered to a local sink: tail -f $DATA/webhooks.log
Public status page (every region, shareable fields only): http://127.0.0.1:8001/ (any of 8001-8009; JSON at /status.json)
In another shell:

  export PATH="$BIN:\$PATH"
  export ICC_CONFIG=$ICC_CONFIG     # endpoints, cluster CA, admin certificate
  icc incident declare --title "checkout errors" --severity sev2 --service checkout
  icc incident list
  icc cluster status

A node that exits (a crash, or \`icc drill failover --kill\`) is restarted by this script.
Ctrl-C here stops the cluster.
TXT

# Supervise, as systemd would: restart a node whose process died, keeping its data and log.
while true; do
  for id in $(seq 1 9); do
    if ! kill -0 "${node_pid[$id]}" 2>/dev/null; then
      code=0
      wait "${node_pid[$id]}" 2>/dev/null || code=$?
      echo "node $id exited (status $code); restarting it (log: $DATA/node$id.log)"
      start_node "$id"
    fi
  done
  sleep 1
done
