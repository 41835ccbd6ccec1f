#!/usr/bin/env bash
# Before/after comparison of two adapter binaries in one run, alternating
# A B A B so that the machine's noise hits both alike:
#   bench/compare.sh OLD_BINARY NEW_BINARY [rounds]
# OLD_ARGS and NEW_ARGS add flags to either side (the same binary twice with
# different flags measures what a feature costs).
# Prints the medians of throughput (h2load, 128 calls in flight), CPU time
# per call and mean latency with one call in flight (bench/loadgen).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench/compare.sh OLD_BINARY NEW_BINARY [rounds]" >&2; exit 64; }
old=$(readlink -f "$1") new=$(readlink -f "$2") rounds=${3:-5}
cd "$(dirname "$0")/.."
cmake --build --preset default --target loadgen >&2
ulimit -n "$(ulimit -Hn)"
. bench/lib.sh

# shellcheck disable=SC2086
start_server old "$old" --listen=127.0.0.1:0 --upstream="http://127.0.0.1:$fast_port" \
  --metrics_listen=127.0.0.1:0 ${OLD_ARGS:-}
old_pid=$server_pid old_port=$server_port
# shellcheck disable=SC2086
start_server new "$new" --listen=127.0.0.1:0 --upstream="http://127.0.0.1:$fast_port" \
  --metrics_listen=127.0.0.1:0 ${NEW_ARGS:-}
new_pid=$server_pid new_port=$server_port
for port in "$old_port" "$new_port"; do h2load_grpc "$port" -n 20000 -c 4 -m 32 >/dev/null; done

calls=${COMPARE_CALLS:-200000}
declare -A rps cpu lat
for round in $(seq "$rounds"); do
  for side in old new; do
    pid_var=${side}_pid port_var=${side}_port
    before=$(cpu_ticks "${!pid_var}")
    out=$(h2load_grpc "${!port_var}" -n "$calls" -c 4 -m 32)
    after=$(cpu_ticks "${!pid_var}")
    rps[$side]+="$(echo "$out" | h2load_rps) "
    cpu[$side]+="$(awk -v t=$((after - before)) -v n="$calls" -v hz="$hz" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}') "
    lat[$side]+="$(build/bench/loadgen --target="127.0.0.1:${!port_var}" --duration=3s --warmup=0.3s | json_field mean_us) "
  done
  log "round $round done"
done
m() { printf '%s\n' $1 | median; }
printf '| | old | new | new/old |\n|---|---|---|---|\n'
for metric in rps cpu lat; do
  declare -n values=$metric
  o=$(m "${values[old]}") n=$(m "${values[new]}")
  case $metric in
    rps) name="calls/s, 128 in flight (h2load)" ;;
    cpu) name="adapter CPU us per call" ;;
    lat) name="mean latency us, 1 in flight (loadgen)" ;;
  esac
  printf '| %s | %s | %s | %s |\n' "$name" "$o" "$n" "$(ratio "$n" "$o")"
done
