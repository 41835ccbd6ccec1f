#!/usr/bin/env bash
# The wide case alone: 2,000 calls in flight (20 connections x 100 streams)
# against an upstream that answers after 200 ms, for the adapter started with
# the given flags. Prints one line: calls/s, failed calls, peak threads and
# peak RSS. Used to check that a defence does not refuse legitimate load.
#   bench/wide.sh [osm-adapter flags...]
#   WIDE_TIME (10s): how long the load runs
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build bench >&2
cmake --preset default >/dev/null
cmake --build --preset default --target osm-adapter loadgen >&2
source bench/lib.sh

start_server adapter build/server/osm-adapter --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
  --upstream="http://127.0.0.1:$slow_port" "$@"
echo 0 >"$work/threads.max"
sample_threads "$server_pid" "$work/threads.max" &
sampler=$!
result=$(build/bench/loadgen --target="127.0.0.1:$server_port" --connections=20 --streams=100 \
  --duration="${WIDE_TIME:-10s}" --warmup=2s)
kill "$sampler"
printf 'wide %s: %s calls/s, %s failed, %s threads, %s MiB peak RSS\n' "$*" \
  "$(echo "$result" | json_field rps)" "$(echo "$result" | json_field failed)" \
  "$(cat "$work/threads.max")" "$(($(rss_peak_kib "$server_pid") / 1024))"
stop_server "$server_pid"
