#!/usr/bin/env bash
# The benchmark: one command, results into BENCHMARKS.md.
#
#   bench/run.sh            full run (about 6 minutes), rewrites the results
#                           section of BENCHMARKS.md
#   BENCH_QUICK=1 bench/run.sh   shorter runs, results to stdout only
#
# It builds the adapter (the default preset: the shipped configuration, with
# validation, JSON parsing, error mapping and logging on), starts nginx as
# OSM's stand-in (bench/nginx.conf.in), the null server, the adapter and
# the minimal adapter (bench/minimal_adapter.cc, the calibration point
# measured beside the adapter) on loopback, and measures them with h2load
# (independent, cannot see grpc-status) and bench/loadgen (checks every
# status, gives percentiles).
# nginx's stub_status counter proves every adapter call went upstream.
#
# It fails (exit 1, BENCHMARKS.md untouched) when a figure cannot be trusted:
# bench/loadgen saw a call fail (it checks every status), h2load did not
# complete every request, or nginx did not see exactly one upstream request
# per adapter call h2load completed (h2load counts a gRPC error as a success:
# HTTP 200 with the error in the trailers).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

scripts/install-deps.sh build bench >&2
cmake --preset default >/dev/null
cmake --build --preset default --target osm-adapter null_server minimal_adapter loadgen >&2
ulimit -n "$(ulimit -Hn)"

quick=${BENCH_QUICK:-}
if [ -n "$quick" ]; then
  throughput_calls=60000 null_calls=200000 rounds=1 latency_time=3s wide_time=8s
else
  throughput_calls=300000 null_calls=1500000 rounds=3 latency_time=10s wide_time=20s
fi
. bench/lib.sh

# Failures are collected in a file: they are found in command substitutions.
: >"$work/failures"
fail() { echo "$*" >>"$work/failures"; log "FAILED: $*"; }
# h2load_checked NAME N H2LOAD_ARGS...: h2load -n N with H2LOAD_ARGS; its
# output, and a failure unless all N requests succeeded.
h2load_checked() {
  local name=$1 n=$2 out status=0 succeeded
  shift 2
  out=$(h2load -n "$n" "$@") || status=$?
  succeeded=$(echo "$out" | h2load_succeeded)
  if [ "$status" -ne 0 ] || [ "${succeeded:-0}" -ne "$n" ]; then
    fail "h2load $name: ${succeeded:-0} of $n requests succeeded (exit status $status)"
  fi
  echo "$out"
}
# h2load_grpc_checked NAME PORT N ARGS...: the same with h2load_grpc.
h2load_grpc_checked() {
  local name=$1 port=$2 n=$3
  shift 3
  h2load_checked "$name" "$n" "$@" -d "$work/frame.bin" -H 'content-type: application/grpc' \
    -H 'te: trailers' -H 'x-auth-token: bench-token' \
    "http://127.0.0.1:$port/huaweicloud.osm.v2.MessageService/Withdraw"
}
# loadgen_checked NAME ARGS...: bench/loadgen's JSON, and a failure if it
# exits non-zero (a call ended otherwise than OK, or never ended).
loadgen_checked() {
  local name=$1 out status=0
  shift
  out=$(build/bench/loadgen "$@") || status=$?
  [ "$status" -eq 0 ] || fail "loadgen $name: exit status $status: $out"
  echo "$out"
}
# upstream_proof NAME BEFORE AFTER CALLS: nginx's request counter went from
# BEFORE to AFTER (each reading is a request of its own) while the adapter
# completed CALLS calls; each must have made exactly one upstream request.
upstream_proof() {
  local seen=$(($3 - $2 - 1))
  [ "$seen" -eq "$4" ] || fail "$1: nginx saw $seen upstream requests for $4 completed calls"
}

start_server null build/bench/null_server --listen=127.0.0.1:0
null_pid=$server_pid null_port=$server_port
start_server adapter build/server/osm-adapter --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
  --upstream="http://127.0.0.1:$fast_port"
adapter_pid=$server_pid adapter_port=$server_port
# The calibration point of the targets: the least an asynchronous C++
# adapter does (bench/minimal_adapter.cc), measured in the same run.
start_server minimal build/bench/minimal_adapter --listen=127.0.0.1:0 \
  --upstream="http://127.0.0.1:$fast_port"
minimal_pid=$server_pid minimal_port=$server_port
log "nginx :$fast_port/:$slow_port, null server :$null_port, adapter :$adapter_port, minimal :$minimal_port"

# Warm-up: connections, lazily started threads, allocator.
h2load_grpc "$adapter_port" -n 20000 -c 4 -m 32 >/dev/null
h2load_grpc "$null_port" -n 20000 -c 4 -m 32 >/dev/null
h2load_grpc "$minimal_port" -n 20000 -c 4 -m 32 >/dev/null

echo "0" >"$work/threads.max"
sample_threads "$adapter_pid" "$work/threads.max" &
sampler=$!
pids+=("$sampler")

# ---- 1. throughput, 4 connections x 32 streams, A B A B ----------------------
adapter_rps=() null_rps=() minimal_rps=() cpu_us=() proof=()
for round in $(seq "$rounds"); do
  before_requests=$(upstream_requests)
  before_cpu=$(cpu_ticks "$adapter_pid")
  out=$(h2load_grpc_checked "adapter, round $round" "$adapter_port" "$throughput_calls" -c 4 -m 32)
  after_cpu=$(cpu_ticks "$adapter_pid")
  after_requests=$(upstream_requests)
  done_calls=$(echo "$out" | h2load_succeeded)
  done_calls=${done_calls:-0}
  adapter_rps+=("$(echo "$out" | h2load_rps)")
  cpu_us+=("$(cpu_us_per_call $((after_cpu - before_cpu)) "$done_calls")")
  # The status query itself is one request.
  proof+=("$((after_requests - before_requests - 1))/$done_calls")
  upstream_proof "adapter, round $round" "$before_requests" "$after_requests" "$done_calls"
  null_rps+=("$(h2load_grpc_checked "null server, round $round" "$null_port" "$null_calls" -c 4 -m 32 | h2load_rps)")
  # The minimal adapter's calls are counted upstream too.
  before_requests=$(upstream_requests)
  out=$(h2load_grpc_checked "minimal adapter, round $round" "$minimal_port" "$throughput_calls" -c 4 -m 32)
  after_requests=$(upstream_requests)
  upstream_proof "minimal adapter, round $round" "$before_requests" "$after_requests" \
    "$(echo "$out" | h2load_succeeded)"
  minimal_rps+=("$(echo "$out" | h2load_rps)")
  log "round $round: adapter ${adapter_rps[-1]}/s, null ${null_rps[-1]}/s, minimal ${minimal_rps[-1]}/s, upstream saw ${proof[-1]}"
done
adapter_median=$(printf '%s\n' "${adapter_rps[@]}" | median)
null_median=$(printf '%s\n' "${null_rps[@]}" | median)
minimal_median=$(printf '%s\n' "${minimal_rps[@]}" | median)
cpu_median=$(printf '%s\n' "${cpu_us[@]}" | median)

# The same load from the status-checking generator.
loadgen_adapter=$(loadgen_checked "throughput, adapter" --target="127.0.0.1:$adapter_port" \
  --connections=4 --streams=32 --duration="$latency_time" --warmup=1s)
loadgen_null=$(loadgen_checked "throughput, null server" --target="127.0.0.1:$null_port" \
  --connections=4 --streams=32 --duration="$latency_time" --warmup=1s)
loadgen_minimal=$(loadgen_checked "throughput, minimal adapter" --target="127.0.0.1:$minimal_port" \
  --connections=4 --streams=32 --duration="$latency_time" --warmup=1s)

# ---- 2. latency, one call in flight --------------------------------------------
lat_adapter=$(loadgen_checked "latency, adapter" --target="127.0.0.1:$adapter_port" --duration="$latency_time")
lat_null=$(loadgen_checked "latency, null server" --target="127.0.0.1:$null_port" --duration="$latency_time")
lat_minimal=$(loadgen_checked "latency, minimal adapter" --target="127.0.0.1:$minimal_port" \
  --duration="$latency_time")
lat_rest=$(loadgen_checked "latency, REST" --mode=rest --url="http://127.0.0.1:$fast_port$withdraw_path" \
  --duration="$latency_time")
before_requests=$(upstream_requests)
h2_lat_adapter=$(h2load_grpc_checked "latency, adapter" "$adapter_port" 20000 -c 1 -m 1 | grep 'time for request' | awk '{print $6}')
after_requests=$(upstream_requests)
upstream_proof "latency, adapter" "$before_requests" "$after_requests" 20000
h2_lat_null=$(h2load_grpc_checked "latency, null server" "$null_port" 20000 -c 1 -m 1 | grep 'time for request' | awk '{print $6}')
h2_lat_minimal=$(h2load_grpc_checked "latency, minimal adapter" "$minimal_port" 20000 -c 1 -m 1 | grep 'time for request' | awk '{print $6}')
h2_lat_rest=$(h2load_checked "latency, REST" 20000 --h1 -c 1 -m 1 -d "$work/empty" -H 'x-auth-token: bench-token' \
  "http://127.0.0.1:$fast_port$withdraw_path" | grep 'time for request' | awk '{print $6}')

kill "$sampler" 2>/dev/null || true
peak_threads=$(cat "$work/threads.max")
peak_rss=$(rss_peak_kib "$adapter_pid")
stop_server "$adapter_pid"
stop_server "$minimal_pid"

# ---- 3. wide: 2,000 calls in flight against the 200 ms upstream ------------------
start_server adapter-wide build/server/osm-adapter --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
  --upstream="http://127.0.0.1:$slow_port"
wide_pid=$server_pid wide_port=$server_port
echo "0" >"$work/wide-threads.max"
sample_threads "$wide_pid" "$work/wide-threads.max" &
sampler=$!
pids+=("$sampler")
before_requests=$(upstream_requests)
wide=$(loadgen_checked "wide" --target="127.0.0.1:$wide_port" --connections=20 --streams=100 \
  --duration="$wide_time" --warmup=2s)
after_requests=$(upstream_requests)
kill "$sampler" 2>/dev/null || true
wide_threads=$(cat "$work/wide-threads.max")
wide_rss=$(rss_peak_kib "$wide_pid")
wide_upstream=$((after_requests - before_requests - 1))
# loadgen counts the calls of its window only (not the warm-up's, nor those
# that end after it): nginx must have seen at least those.
wide_calls=$(echo "$wide" | json_field calls)
[ "$wide_upstream" -ge "${wide_calls:-0}" ] && [ "${wide_calls:-0}" -gt 0 ] ||
  fail "wide: nginx saw $wide_upstream upstream requests for ${wide_calls:-0} calls"
stop_server "$wide_pid"

# ---- 4. HTTPS upstream: HTTP/1.1 and HTTP/2; what TLS costs ---------------------------
https_rows=""
for http2 in false true; do
  start_server "adapter-tls-$http2" build/server/osm-adapter --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
    --upstream="https://127.0.0.1:$tls_port" --upstream_ca_file="$work/cert.pem" --upstream_http2=$http2
  tls_pid=$server_pid tls_port_grpc=$server_port
  h2load_grpc "$tls_port_grpc" -n 20000 -c 4 -m 32 >/dev/null
  before_requests=$(upstream_requests)
  before_cpu=$(cpu_ticks "$tls_pid")
  out=$(h2load_grpc_checked "HTTPS upstream, http2=$http2" "$tls_port_grpc" "$throughput_calls" -c 4 -m 32)
  after_cpu=$(cpu_ticks "$tls_pid")
  after_requests=$(upstream_requests)
  upstream_proof "HTTPS upstream, http2=$http2" "$before_requests" "$after_requests" \
    "$(echo "$out" | h2load_succeeded)"
  tls_lat=$(loadgen_checked "HTTPS upstream latency, http2=$http2" --target="127.0.0.1:$tls_port_grpc" \
    --duration="$latency_time")
  https_rows+="| HTTPS, $([ $http2 = true ] && echo "HTTP/2" || echo "HTTP/1.1") | $(echo "$out" | h2load_rps) | $(cpu_us_per_call $((after_cpu - before_cpu)) "$(echo "$out" | h2load_succeeded)") | $(echo "$tls_lat" | json_field mean_us) |"$'\n'
  stop_server "$tls_pid"
done
rest_url="https://127.0.0.1:$tls_port$withdraw_path"
rest_tls=$(loadgen_checked "REST over TLS" --mode=rest --url="$rest_url" --ca_file="$work/cert.pem" --duration="$latency_time")
rest_tls_fresh=$(loadgen_checked "REST over TLS, fresh connections" --mode=rest --url="$rest_url" --ca_file="$work/cert.pem" --fresh_connect --duration="$latency_time")
rest_plain_fresh=$(loadgen_checked "REST, fresh connections" --mode=rest --url="http://127.0.0.1:$fast_port$withdraw_path" --fresh_connect --duration="$latency_time")

# ---- report ------------------------------------------------------------------------
lat_sum=$(awk -v a="$(echo "$lat_null" | json_field mean_us)" -v b="$(echo "$lat_rest" | json_field mean_us)" 'BEGIN {print a + b}')
h2_lat_sum=$(awk -v a="$(echo "$h2_lat_null" | to_us)" -v b="$(echo "$h2_lat_rest" | to_us)" 'BEGIN {print a + b}')
report=$(cat <<EOF
Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')),
Linux $(uname -r); adapter $(build/server/osm-adapter --version 2>&1 | head -1 | awk '{print $2}'), shipped defaults.
Command: \`bench/run.sh\`${quick:+ (BENCH_QUICK=1)}.

**Throughput, 128 calls in flight (4 connections x 32 streams), h2load, medians of $rounds A/B rounds**

| | calls/s | rounds |
|---|---|---|
| adapter | $adapter_median | ${adapter_rps[*]} |
| null server | $null_median | ${null_rps[*]} |
| **ratio** | **$(ratio "$adapter_median" "$null_median")** (target >= 0.40) | |
| minimal adapter (calibration) | $minimal_median (ratio $(ratio "$minimal_median" "$null_median")) | ${minimal_rps[*]} |

Upstream requests seen by nginx per round / calls h2load completed: ${proof[*]}.
Adapter CPU per call (from /proc): ${cpu_us[*]} us (median $cpu_median us).

Same load from the status-checking generator (bench/loadgen, ${latency_time}):

| | calls/s | failed | mean us | p50 us | p99 us |
|---|---|---|---|---|---|
| adapter | $(echo "$loadgen_adapter" | json_field rps) | $(echo "$loadgen_adapter" | json_field failed) | $(echo "$loadgen_adapter" | json_field mean_us) | $(echo "$loadgen_adapter" | json_field p50_us) | $(echo "$loadgen_adapter" | json_field p99_us) |
| null server | $(echo "$loadgen_null" | json_field rps) | $(echo "$loadgen_null" | json_field failed) | $(echo "$loadgen_null" | json_field mean_us) | $(echo "$loadgen_null" | json_field p50_us) | $(echo "$loadgen_null" | json_field p99_us) |
| **ratio** | **$(ratio "$(echo "$loadgen_adapter" | json_field rps)" "$(echo "$loadgen_null" | json_field rps)")** | | | | |
| minimal adapter (calibration) | $(echo "$loadgen_minimal" | json_field rps) (ratio $(ratio "$(echo "$loadgen_minimal" | json_field rps)" "$(echo "$loadgen_null" | json_field rps)")) | $(echo "$loadgen_minimal" | json_field failed) | $(echo "$loadgen_minimal" | json_field mean_us) | $(echo "$loadgen_minimal" | json_field p50_us) | $(echo "$loadgen_minimal" | json_field p99_us) |

**Latency, one call in flight** (bench/loadgen, ${latency_time} each; h2load mean as a cross-check)

| | mean us | p50 us | p99 us | h2load mean |
|---|---|---|---|---|
| adapter | $(echo "$lat_adapter" | json_field mean_us) | $(echo "$lat_adapter" | json_field p50_us) | $(echo "$lat_adapter" | json_field p99_us) | $h2_lat_adapter |
| null server | $(echo "$lat_null" | json_field mean_us) | $(echo "$lat_null" | json_field p50_us) | $(echo "$lat_null" | json_field p99_us) | $h2_lat_null |
| direct REST (nginx) | $(echo "$lat_rest" | json_field mean_us) | $(echo "$lat_rest" | json_field p50_us) | $(echo "$lat_rest" | json_field p99_us) | $h2_lat_rest |
| **adapter / (null + REST)** | **$(ratio "$(echo "$lat_adapter" | json_field mean_us)" "$lat_sum")** (target <= 1.25) | | | **$(ratio "$(echo "$h2_lat_adapter" | to_us)" "$h2_lat_sum")** |
| minimal adapter (calibration) | $(echo "$lat_minimal" | json_field mean_us) (ratio $(ratio "$(echo "$lat_minimal" | json_field mean_us)" "$lat_sum")) | $(echo "$lat_minimal" | json_field p50_us) | $(echo "$lat_minimal" | json_field p99_us) | $h2_lat_minimal (ratio $(ratio "$(echo "$h2_lat_minimal" | to_us)" "$h2_lat_sum")) |

Adapter process over the throughput and latency runs: peak RSS $((peak_rss / 1024)) MiB, peak threads $peak_threads.

**Wide: 2,000 calls in flight (20 connections x 100 streams), upstream answers after 200 ms, HTTP/1.1** (bench/loadgen, ${wide_time})

| calls/s | failed | p50 us | p99 us | peak threads | peak RSS | upstream requests |
|---|---|---|---|---|---|---|
| $(echo "$wide" | json_field rps) (target >= 9,500) | $(echo "$wide" | json_field failed) | $(echo "$wide" | json_field p50_us) | $(echo "$wide" | json_field p99_us) | $wide_threads (target <= 24) | $((wide_rss / 1024)) MiB (target <= 150) | $wide_upstream |

**HTTPS upstream** (nginx with a certificate made for the run, \`--upstream_ca_file\`; 128 in flight by h2load, latency by loadgen)

| upstream | calls/s | adapter CPU us per call | mean latency us, 1 in flight |
|---|---|---|---|
| plain HTTP/1.1 (above) | $adapter_median | $cpu_median | $(echo "$lat_adapter" | json_field mean_us) |
${https_rows}
What TLS costs, one REST request at a time straight at nginx (bench/loadgen --mode=rest):
mean $(echo "$lat_rest" | json_field mean_us) us plain with a kept-alive connection,
$(echo "$rest_tls" | json_field mean_us) us over TLS with a kept-alive connection,
$(echo "$rest_plain_fresh" | json_field mean_us) us plain with a new connection per request,
$(echo "$rest_tls_fresh" | json_field mean_us) us over TLS with a new connection (and full handshake) per request.
EOF
)
publish results "$report" "$([ -z "$quick" ] && echo 1)"
