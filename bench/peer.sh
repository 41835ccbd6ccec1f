#!/usr/bin/env bash
# The adapter beside a Go peer adapter (grpc-go + net/http, the yardstick in
# ../shared/peers/go) and the null server, in one run, against the same nginx,
# over plain HTTP and over HTTPS (a certificate made for the run; the Go peer
# trusts it through SSL_CERT_FILE).
#
#   bench/peer.sh                 full run (about 6 minutes), table to stdout
#   PEER_WRITE=1 bench/peer.sh    also rewrites the side-by-side section of BENCHMARKS.md
#   PEER_ROUNDS (3), PEER_CALLS (60000): throughput rounds and calls per round
#   GO_PEER_DIR (../shared/peers/go): where the Go peer's build.sh is
#
# For every system, h2load (the same load generator for all) measures:
#   - calls/s at 128 in flight (4 connections x 32 streams), rounds interleaved
#     A B C A B C so that the machine's noise hits every system alike;
#   - the server process's own CPU per call (utime + stime from /proc/PID/stat
#     over the calls it answered: the load generator's and nginx's share of
#     the cores does not count);
#   - context switches per call, voluntary and involuntary, summed over the
#     process's threads (/proc/PID/task/*/status; /proc/PID/status alone
#     counts the main thread only);
#   - mean latency with one call in flight (h2load -c 1 -m 1);
#   - steady load: 1,000 calls/s from 40 connections (h2load --rps 25 each),
#     upstream answering in 20 ms: CPU and context switches per call;
# and bench/loadgen (checks every gRPC status) measures the wide case: 2,000
# calls in flight against an upstream answering in 200 ms (calls/s, failed
# calls, peak threads, peak RSS of a process started for it).
# nginx's request counter proves that every adapter and peer call went
# upstream, and a short loadgen run per server proves the calls end OK
# (h2load cannot see grpc-status). Any failure makes the run exit 1.
#
# The adapter runs with the shipped defaults: metrics endpoint on, access log
# on (to stderr, here a file).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
go_dir=$(readlink -f "${GO_PEER_DIR:-../shared/peers/go}")
[ -x "$go_dir/build.sh" ] || { echo "bench/peer.sh: no Go peer at $go_dir (set GO_PEER_DIR)" >&2; exit 64; }

scripts/install-deps.sh build bench >&2
cmake --preset default >/dev/null
cmake --build --preset default --target osm-adapter null_server loadgen >&2
GO_PEER_OUT=build/go-peer/go_peer "$go_dir/build.sh" >&2
ulimit -n "$(ulimit -Hn)"

rounds=${PEER_ROUNDS:-3} calls=${PEER_CALLS:-60000}
steady_seconds=${PEER_STEADY_SECONDS:-15} wide_time=${PEER_WIDE_TIME:-10s}
. bench/lib.sh

: >"$work/failures"
fail() { echo "$*" >>"$work/failures"; log "FAILED: $*"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_go NAME UPSTREAM [ENV...]: the Go peer on a free port; sets
# $server_pid and $server_port.
start_go() {
  local name=$1 upstream=$2 port
  shift 2
  port=$(free_port)
  env LISTEN="127.0.0.1:$port" UPSTREAM="$upstream" SSL_CERT_FILE="$work/cert.pem" "$@" \
    build/go-peer/go_peer 2>"$work/$name.log" &
  server_pid=$! server_port=$port
  pids+=("$server_pid")
  for _ in $(seq 100); do
    grep -q 'listening' "$work/$name.log" 2>/dev/null && return 0
    sleep 0.1
  done
  log "$name did not start:"; cat "$work/$name.log" >&2; exit 1
}
start_adapter() {  # NAME UPSTREAM [FLAGS...]
  local name=$1 upstream=$2
  shift 2
  start_server "$name" build/server/osm-adapter --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
    --upstream="$upstream" --upstream_ca_file="$work/cert.pem" "$@"
}
per_call() { awk -v a="$1" -v n="$2" -v f="${3:-1}" 'BEGIN {printf "%.2f", n ? a * f / n : 0}'; }

# measure NAME PID H2LOAD_ARGS...: runs h2load -d frame against the server,
# prints "calls rps cpu_us vcs_per_call ics_per_call mean_latency_us"; a
# failure unless every request completed and (for servers with an upstream,
# UPSTREAM_PROOF=1) nginx saw one request per call.
measure() {
  local name=$1 pid=$2 out status=0 n before_req after_req
  shift 2
  local cpu0 cpu1 cs0 cs1
  before_req=$(upstream_requests)
  cpu0=$(cpu_ticks "$pid") cs0=$(ctx_switches "$pid")
  out=$(h2load "$@" -d "$work/frame.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
    -H 'x-auth-token: bench-token') || status=$?
  cpu1=$(cpu_ticks "$pid") cs1=$(ctx_switches "$pid")
  after_req=$(upstream_requests)
  n=$(echo "$out" | h2load_succeeded)
  n=${n:-0}
  local want
  want=$(echo "$out" | grep -o 'requests: [0-9]* total' | awk '{print $2}')
  if [ "$status" -ne 0 ] || [ "$n" -eq 0 ] || [ "$n" != "$want" ]; then
    fail "$name: h2load: $n of ${want:-?} requests succeeded (exit status $status)"
  fi
  if [ -n "${UPSTREAM_PROOF:-}" ] && [ $((after_req - before_req - 1)) -ne "$n" ]; then
    fail "$name: nginx saw $((after_req - before_req - 1)) upstream requests for $n calls"
  fi
  local v0 i0 v1 i1
  read -r v0 i0 <<<"$cs0"
  read -r v1 i1 <<<"$cs1"
  echo "$n $(echo "$out" | h2load_rps) $(cpu_us_per_call $((cpu1 - cpu0)) "$n") \
$(per_call $((v1 - v0)) "$n") $(per_call $((i1 - i0)) "$n") \
$(echo "$out" | grep 'time for request' | awk '{print $6}' | to_us)"
}
# status_check NAME PORT: 2 s of bench/loadgen, which fails on any status but OK.
status_check() {
  local out status=0
  out=$(build/bench/loadgen --target="127.0.0.1:$2" --connections=4 --streams=32 --duration=2s \
    --warmup=0.2s) || status=$?
  [ "$status" -eq 0 ] || fail "$1: a call did not end OK: $out"
}
field() { echo "$1" | awk -v i="$2" '{print $i}'; }
med() { printf '%s\n' "$@" | median; }

grpc_url() { echo "http://127.0.0.1:$1/huaweicloud.osm.v2.MessageService/Withdraw"; }
declare -A rps cpu vcs ics lat
# throughput_rounds LABEL SYSTEM... (each SYSTEM is name:pid:port:proof)
throughput_rounds() {
  local label=$1 sys name pid port proof r
  shift
  for sys in "$@"; do
    IFS=: read -r name pid port proof <<<"$sys"
    h2load_grpc "$port" -n 20000 -c 4 -m 32 >/dev/null
    status_check "$label $name" "$port"
  done
  for r in $(seq "$rounds"); do
    for sys in "$@"; do
      IFS=: read -r name pid port proof <<<"$sys"
      local m
      m=$(UPSTREAM_PROOF=$proof measure "$label $name, round $r" "$pid" -n "$calls" -c 4 -m 32 "$(grpc_url "$port")")
      rps[$label/$name]+="$(field "$m" 2) " cpu[$label/$name]+="$(field "$m" 3) "
      vcs[$label/$name]+="$(field "$m" 4) " ics[$label/$name]+="$(field "$m" 5) "
      log "$label $name round $r: $(field "$m" 2) calls/s, $(field "$m" 3) us CPU/call"
    done
  done
  for sys in "$@"; do
    IFS=: read -r name pid port proof <<<"$sys"
    local m
    m=$(UPSTREAM_PROOF=$proof measure "$label $name, latency" "$pid" -n 10000 -c 1 -m 1 "$(grpc_url "$port")")
    lat[$label/$name]=$(field "$m" 6)
  done
}

# ---- plain HTTP -----------------------------------------------------------------
start_server null build/bench/null_server --listen=127.0.0.1:0
null_pid=$server_pid null_port=$server_port
start_adapter adapter "http://127.0.0.1:$fast_port"
a_pid=$server_pid a_port=$server_port
start_go go "http://127.0.0.1:$fast_port"
g_pid=$server_pid g_port=$server_port
log "plain: null :$null_port, adapter :$a_port, Go peer :$g_port"
throughput_rounds plain "null:$null_pid:$null_port:" "adapter:$a_pid:$a_port:1" "go:$g_pid:$g_port:1"
rest=$(measure "direct REST, latency" "$null_pid" -n 10000 --h1 -c 1 -m 1 "http://127.0.0.1:$fast_port$withdraw_path")
lat[plain/rest]=$(field "$rest" 6)
stop_server "$a_pid"; stop_server "$g_pid"; stop_server "$null_pid"

# ---- HTTPS (TLS 1.3, HTTP/1.1; the adapter with --upstream_http2 too) ---------------------
start_adapter adapter "https://127.0.0.1:$tls_port"
a_pid=$server_pid a_port=$server_port
start_adapter adapter-h2 "https://127.0.0.1:$tls_port" --upstream_http2=true
h_pid=$server_pid h_port=$server_port
start_go go "https://127.0.0.1:$tls_port"
g_pid=$server_pid g_port=$server_port
throughput_rounds https "adapter:$a_pid:$a_port:1" "adapter-h2:$h_pid:$h_port:1" "go:$g_pid:$g_port:1"
stop_server "$a_pid"; stop_server "$h_pid"; stop_server "$g_pid"

# ---- steady load: 1,000 calls/s from 40 connections, upstream answering in 20 ms -------
declare -A steady
steady_run() {  # LABEL UPSTREAM
  local label=$1 upstream=$2 n=$((steady_seconds * 1000)) m
  start_adapter "steady-$label-adapter" "$upstream"
  a_pid=$server_pid a_port=$server_port
  start_go "steady-$label-go" "$upstream"
  g_pid=$server_pid g_port=$server_port
  for sys in "adapter:$a_pid:$a_port" "go:$g_pid:$g_port"; do
    IFS=: read -r name pid port <<<"$sys"
    status_check "steady $label $name" "$port"
    m=$(UPSTREAM_PROOF=1 measure "steady $label $name" "$pid" -n "$n" -c 40 --rps 25 "$(grpc_url "$port")")
    steady[$label/$name]="$m"
    log "steady $label $name: $(field "$m" 2) calls/s, $(field "$m" 3) us CPU/call"
  done
  stop_server "$a_pid"; stop_server "$g_pid"
}
steady_run plain "http://127.0.0.1:$steady_port"
steady_run https "https://127.0.0.1:$tls_steady_port"

# ---- wide: 2,000 calls in flight, upstream answering in 200 ms -------------------------
declare -A wide
wide_run() {  # LABEL SYSTEM UPSTREAM
  local label=$1 sys=$2 upstream=$3 out status=0 before after
  if [ "$sys" = adapter ]; then start_adapter "wide-$label-$sys" "$upstream"; else start_go "wide-$label-$sys" "$upstream"; fi
  echo 0 >"$work/wide.threads"
  sample_threads "$server_pid" "$work/wide.threads" &
  local sampler=$!
  before=$(upstream_requests)
  out=$(build/bench/loadgen --target="127.0.0.1:$server_port" --connections=20 --streams=100 \
    --duration="$wide_time" --warmup=2s) || status=$?
  after=$(upstream_requests)
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  local done_calls
  done_calls=$(echo "$out" | json_field calls)
  [ $((after - before - 1)) -ge "${done_calls:-0}" ] ||
    fail "wide $label $sys: nginx saw $((after - before - 1)) upstream requests for $done_calls calls"
  wide[$label/$sys]="$(echo "$out" | json_field rps) $(echo "$out" | json_field failed) $(cat "$work/wide.threads") $(($(rss_peak_kib "$server_pid") / 1024)) $status"
  log "wide $label $sys: ${wide[$label/$sys]}"
  stop_server "$server_pid"
}
for sys in adapter go; do
  wide_run plain "$sys" "http://127.0.0.1:$slow_port"
  wide_run https "$sys" "https://127.0.0.1:$tls_slow_port"
done

# ---- report ------------------------------------------------------------------------------
mark() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {ok = (op == "<=") ? v <= t : v >= t; printf "%s %s %s: **%s**", v, op, t, ok ? "met" : "MISSED"}'; }
row() {  # LABEL/NAME TITLE
  local k=$1
  printf '| %s | %s | %s | %s / %s | %s |\n' "$2" "$(med ${rps[$k]})" "$(med ${cpu[$k]})" \
    "$(med ${vcs[$k]})" "$(med ${ics[$k]})" "${lat[$k]}"
}
ratio_of() {  # METRIC A B
  declare -n values=$1
  ratio "$(med ${values[$2]})" "$(med ${values[$3]})"
}
srow() {  # LABEL NAME TITLE
  local m=${steady[$1/$2]}
  printf '| %s | %s | %s | %s | %s / %s |\n' "$1" "$3" "$(field "$m" 2)" "$(field "$m" 3)" "$(field "$m" 4)" "$(field "$m" 5)"
}
wrow() {  # LABEL NAME TITLE
  local w=${wide[$1/$2]}
  printf '| %s | %s | %s | %s | %s | %s MiB |\n' "$1" "$3" "$(field "$w" 1)" "$(field "$w" 2)" "$(field "$w" 3)" "$(field "$w" 4)"
}
lat_sum=$(awk -v a="${lat[plain/null]}" -v b="${lat[plain/rest]}" 'BEGIN {print a + b}')
report=$(cat <<EOF
Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')),
Linux $(uname -r); adapter $(build/server/osm-adapter --version 2>&1 | head -1 | awk '{print $2}') with the shipped
defaults (metrics endpoint and access log on). Command: \`bench/peer.sh\` (PEER_ROUNDS=$rounds, PEER_CALLS=$calls).

**128 calls in flight (h2load, 4 connections x 32 streams), medians of $rounds interleaved rounds; latency: h2load, 1 call in flight, 10,000 calls**

| upstream | system | calls/s | CPU us/call | context switches/call, voluntary / involuntary | mean latency us, 1 in flight |
|---|---|---|---|---|---|
$(row plain/null "plain HTTP | null server (no upstream)")
$(row plain/adapter "plain HTTP | **osm-adapter**")
$(row plain/go "plain HTTP | Go peer")
| plain HTTP | direct REST (h2load --h1 at nginx) | | | | ${lat[plain/rest]} |
$(row https/adapter "HTTPS, HTTP/1.1 | **osm-adapter**")
$(row https/adapter-h2 "HTTPS, HTTP/2 | osm-adapter --upstream_http2")
$(row https/go "HTTPS, HTTP/1.1 | Go peer")

Rounds (calls/s): adapter ${rps[plain/adapter]}/ Go ${rps[plain/go]}(plain); adapter ${rps[https/adapter]}/ Go ${rps[https/go]}(HTTPS).

**Steady load: 1,000 calls/s from 40 connections (h2load --rps 25 each, ${steady_seconds} s), upstream answering in 20 ms**

| upstream | system | calls/s | CPU us/call | context switches/call, voluntary / involuntary |
|---|---|---|---|---|
$(srow plain adapter "**osm-adapter**")
$(srow plain go "Go peer")
$(srow https adapter "**osm-adapter**")
$(srow https go "Go peer")

**Wide: 2,000 calls in flight (bench/loadgen, 20 connections x 100 streams, ${wide_time}), upstream answering in 200 ms; a process started for it**

| upstream | system | calls/s | failed | peak threads | peak RSS |
|---|---|---|---|---|---|
$(wrow plain adapter "**osm-adapter**")
$(wrow plain go "Go peer")
$(wrow https adapter "**osm-adapter**")
$(wrow https go "Go peer")

**Targets** (ratios of the medians above)

| target | plain HTTP | HTTPS |
|---|---|---|
| CPU per call <= 0.70x the Go peer's | $(mark "$(ratio_of cpu plain/adapter plain/go)" "<=" 0.70) | $(mark "$(ratio_of cpu https/adapter https/go)" "<=" 0.70) |
| calls/s >= 1.3x the Go peer's | $(mark "$(ratio_of rps plain/adapter plain/go)" ">=" 1.3) | $(mark "$(ratio_of rps https/adapter https/go)" ">=" 1.3) |
| latency, 1 in flight, <= 0.85x the Go peer's | $(mark "$(ratio "${lat[plain/adapter]}" "${lat[plain/go]}")" "<=" 0.85) | $(mark "$(ratio "${lat[https/adapter]}" "${lat[https/go]}")" "<=" 0.85) |
| latency, 1 in flight, <= 1.15x (null server + direct REST) | $(mark "$(ratio "${lat[plain/adapter]}" "$lat_sum")" "<=" 1.15) | |
| wide: calls/s >= 9,500 | $(mark "$(field "${wide[plain/adapter]}" 1)" ">=" 9500) | $(field "${wide[https/adapter]}" 1) |
| wide: 0 failed | $(mark "$(field "${wide[plain/adapter]}" 2)" "<=" 0) | $(field "${wide[https/adapter]}" 2) |
| wide: peak RSS <= 96 MiB | $(mark "$(field "${wide[plain/adapter]}" 4)" "<=" 96) | $(field "${wide[https/adapter]}" 4) |
| steady load: CPU per call <= 0.6x the Go peer's | $(mark "$(ratio "$(field "${steady[plain/adapter]}" 3)" "$(field "${steady[plain/go]}" 3)")" "<=" 0.6) | $(mark "$(ratio "$(field "${steady[https/adapter]}" 3)" "$(field "${steady[https/go]}" 3)")" "<=" 0.6) |
| --upstream_http2: CPU per call <= HTTP/1.1's | | $(mark "$(ratio_of cpu https/adapter-h2 https/adapter)" "<=" 1.00) |
EOF
)
publish peer "$report" "${PEER_WRITE:-}"
