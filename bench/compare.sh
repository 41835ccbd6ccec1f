#!/usr/bin/env bash
# Before/after comparison of two adapter binaries in one run, alternating
# A B A B so that the machine's noise hits both alike:
#   bench/compare.sh OLD_BINARY NEW_BINARY [rounds]
# OLD_ARGS and NEW_ARGS add flags to either side (the same binary twice with
# different flags measures what a feature costs). COMPARE_UPSTREAM=https
# measures against nginx over HTTPS (TLS 1.3, HTTP/1.1 unless the flags say
# --upstream_http2) with the run's certificate, instead of plain HTTP.
# Prints the medians of throughput (h2load, 128 calls in flight), CPU time
# per call and mean latency with one call in flight (bench/loadgen), and
# CPU time and context switches per call at a steady 1,000 calls/s from 40
# connections against an upstream answering in 20 ms (h2load --rps; each
# binary has a second process for it). COMPARE_STEADY_SECONDS (10): its
# length per round; 0 leaves it out.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench/compare.sh OLD_BINARY NEW_BINARY [rounds]" >&2; exit 64; }
old=$(readlink -f "$1") new=$(readlink -f "$2") rounds=${3:-5}
cd "$(dirname "$0")/.."
cmake --build --preset default --target loadgen >&2
ulimit -n "$(ulimit -Hn)"
. bench/lib.sh
upstream_args=(--upstream="http://127.0.0.1:$fast_port")
steady_upstream_args=(--upstream="http://127.0.0.1:$steady_port")
if [ "${COMPARE_UPSTREAM:-http}" = https ]; then
  upstream_args=(--upstream="https://127.0.0.1:$tls_port" --upstream_ca_file="$work/cert.pem")
  steady_upstream_args=(--upstream="https://127.0.0.1:$tls_steady_port" --upstream_ca_file="$work/cert.pem")
fi

# shellcheck disable=SC2086
start_server old "$old" --listen=127.0.0.1:0 "${upstream_args[@]}" \
  --metrics_listen=127.0.0.1:0 ${OLD_ARGS:-}
old_pid=$server_pid old_port=$server_port
# shellcheck disable=SC2086
start_server new "$new" --listen=127.0.0.1:0 "${upstream_args[@]}" \
  --metrics_listen=127.0.0.1:0 ${NEW_ARGS:-}
new_pid=$server_pid new_port=$server_port
steady_seconds=${COMPARE_STEADY_SECONDS:-10}
if [ "$steady_seconds" -gt 0 ]; then
  # shellcheck disable=SC2086
  start_server old-steady "$old" --listen=127.0.0.1:0 "${steady_upstream_args[@]}" \
    --metrics_listen=127.0.0.1:0 ${OLD_ARGS:-}
  old_steady_pid=$server_pid old_steady_port=$server_port
  # shellcheck disable=SC2086
  start_server new-steady "$new" --listen=127.0.0.1:0 "${steady_upstream_args[@]}" \
    --metrics_listen=127.0.0.1:0 ${NEW_ARGS:-}
  new_steady_pid=$server_pid new_steady_port=$server_port
fi
cs_total() { ctx_switches "$1" | awk '{print $1 + $2}'; }
for port in "$old_port" "$new_port"; do h2load_grpc "$port" -n 20000 -c 4 -m 32 >/dev/null; done

calls=${COMPARE_CALLS:-200000}
declare -A rps cpu lat steady_cpu steady_cs
for round in $(seq "$rounds"); do
  for side in old new; do
    pid_var=${side}_pid port_var=${side}_port
    before=$(cpu_ticks "${!pid_var}")
    out=$(h2load_grpc "${!port_var}" -n "$calls" -c 4 -m 32)
    after=$(cpu_ticks "${!pid_var}")
    rps[$side]+="$(echo "$out" | h2load_rps) "
    cpu[$side]+="$(cpu_us_per_call $((after - before)) "$calls") "
    lat[$side]+="$(build/bench/loadgen --target="127.0.0.1:${!port_var}" --duration=3s --warmup=0.3s | json_field mean_us) "
    if [ "$steady_seconds" -gt 0 ]; then
      pid_var=${side}_steady_pid port_var=${side}_steady_port
      before=$(cpu_ticks "${!pid_var}") cs_before=$(cs_total "${!pid_var}")
      n=$((steady_seconds * 1000))
      done_calls=$(h2load_grpc "${!port_var}" -n "$n" -c 40 --rps 25 | h2load_succeeded)
      [ "${done_calls:-0}" -eq "$n" ] || { log "steady load: ${done_calls:-0} of $n succeeded"; exit 1; }
      after=$(cpu_ticks "${!pid_var}") cs_after=$(cs_total "${!pid_var}")
      steady_cpu[$side]+="$(cpu_us_per_call $((after - before)) "$n") "
      steady_cs[$side]+="$(awk -v c=$((cs_after - cs_before)) -v n="$n" 'BEGIN {printf "%.2f", c / n}') "
    fi
  done
  log "round $round done"
done
m() { printf '%s\n' $1 | median; }
printf '| | old | new | new/old |\n|---|---|---|---|\n'
metrics="rps cpu lat"
[ "$steady_seconds" -gt 0 ] && metrics+=" steady_cpu steady_cs"
for metric in $metrics; do
  declare -n values=$metric
  o=$(m "${values[old]}") n=$(m "${values[new]}")
  case $metric in
    rps) name="calls/s, 128 in flight (h2load)" ;;
    cpu) name="adapter CPU us per call" ;;
    lat) name="mean latency us, 1 in flight (loadgen)" ;;
    steady_cpu) name="adapter CPU us per call, steady 1,000 calls/s" ;;
    steady_cs) name="context switches per call, steady 1,000 calls/s" ;;
  esac
  printf '| %s | %s | %s | %s |\n' "$name" "$o" "$n" "$(ratio "$n" "$o")"
done
