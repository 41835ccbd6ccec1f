# Shared by bench/run.sh, bench/compare.sh and bench/soak.sh: nginx, servers,
# load, parsing.
# Expects the caller to be in the repository root, with the binaries built.

fast_port=${BENCH_FAST_PORT:-18481}
slow_port=${BENCH_SLOW_PORT:-18482}
tls_port=${BENCH_TLS_PORT:-18484}
status_port=${BENCH_STATUS_PORT:-18483}
steady_port=${BENCH_STEADY_PORT:-18485}
tls_steady_port=${BENCH_TLS_STEADY_PORT:-18486}
tls_slow_port=${BENCH_TLS_SLOW_PORT:-18487}

work=$(mktemp -d /tmp/osm-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT

log() { echo "bench: $*" >&2; }

# ---- nginx -------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
sed -e "s|@FAST_PORT@|$fast_port|; s|@SLOW_PORT@|$slow_port|; s|@TLS_PORT@|$tls_port|" \
    -e "s|@STEADY_PORT@|$steady_port|; s|@TLS_STEADY_PORT@|$tls_steady_port|; s|@TLS_SLOW_PORT@|$tls_slow_port|" \
    -e "s|@STATUS_PORT@|$status_port|; s|@PREFIX@|$work|g" bench/nginx.conf.in >"$work/nginx.conf"
/usr/sbin/nginx -e stderr -p "$work" -c "$work/nginx.conf"
upstream_requests() {
  curl -s "http://127.0.0.1:$status_port/status" | awk 'NR==3 {print $3}'
}
withdraw_path=/v2/servicerequest/cases/bench-case/instant-messages/msg-1/withdraw
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$status_port/status" && break; sleep 0.1; done

# ---- servers -------------------------------------------------------------------
# start_server NAME COMMAND...: starts it, waits for its "listening" line,
# sets $server_pid and $server_port.
start_server() {
  local name=$1; shift
  "$@" 2>"$work/$name.log" &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 100); do
    server_port=$(grep -o '"address":"127.0.0.1:[0-9]*"' "$work/$name.log" 2>/dev/null |
                  head -1 | grep -o '[0-9]*"$' | tr -d '"') || true
    [ -n "$server_port" ] && return 0
    sleep 0.1
  done
  log "$name did not start:"; cat "$work/$name.log" >&2; exit 1
}
stop_server() { kill "$1"; wait "$1" 2>/dev/null || true; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_peak_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
threads_now() { awk '/Threads/ {print $2}' "/proc/$1/status"; }
# Samples the thread count of $1 every 100 ms into $2 until killed.
sample_threads() {
  local max=0 now
  while now=$(threads_now "$1" 2>/dev/null); do
    [ "$now" -gt "$max" ] && max=$now && echo "$max" >"$2"
    sleep 0.1
  done
}
hz=$(getconf CLK_TCK)
# cpu_us_per_call TICKS CALLS: microseconds of CPU per call.
cpu_us_per_call() { awk -v t="$1" -v n="$2" -v hz="$hz" 'BEGIN {printf "%.1f", n ? t * 1e6 / hz / n : 0}'; }
# ctx_switches PID: "voluntary involuntary", summed over its threads
# (/proc/PID/status alone counts the main thread only).
ctx_switches() {
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2} END {print v + 0, n + 0}'
}

# The gRPC request frame for h2load: 0, 4-byte length, WithdrawRequest
# {case_id: "bench-case", message_id: "msg-1"}.
printf '\x00\x00\x00\x00\x13\x0a\x0abench-case\x12\x05msg-1' >"$work/frame.bin"
printf "{}" >"$work/empty"  # h2load cannot POST an empty file
h2load_grpc() {  # PORT ARGS...
  local port=$1; shift
  h2load "$@" -d "$work/frame.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
    -H 'x-auth-token: bench-token' "http://127.0.0.1:$port/huaweicloud.osm.v2.MessageService/Withdraw"
}
h2load_rps() { grep -o 'finished in [0-9.]*[mu]*s, [0-9.]* req/s' | awk '{print $4}'; }
h2load_succeeded() { grep -o '[0-9]* succeeded' | awk '{print $1}'; }
json_field() { grep -o "\"$1\":[0-9.e+-]*" | head -1 | cut -d: -f2; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# h2load's times ("61us", "1.20ms", "2.1s") in microseconds.
to_us() {
  awk '{v = $1; f = 1
        if (v ~ /us$/) sub(/us$/, "", v); else if (v ~ /ms$/) {sub(/ms$/, "", v); f = 1e3}
        else if (v ~ /s$/) {sub(/s$/, "", v); f = 1e6}
        print v * f}'
}

# publish NAME REPORT WRITE: prints REPORT; exits 1 if a failure was recorded
# in $work/failures (the figures are not to be trusted); otherwise, when WRITE
# is not empty, puts REPORT into BENCHMARKS.md between the markers
# <!-- NAME:start --> and <!-- NAME:end -->.
publish() {
  local name=$1 report=$2 write=$3
  echo "$report"
  if [ -s "$work/failures" ]; then
    echo "bench: FAILED, the figures above are not to be trusted:" >&2
    sed 's/^/  /' "$work/failures" >&2
    exit 1
  fi
  [ -n "$write" ] || return 0
  awk -v report="$report" -v start="<!-- $name:start -->" -v end="<!-- $name:end -->" '
    $0 == start {print; print report; skip=1; next}
    $0 == end {skip=0}
    !skip {print}' BENCHMARKS.md >"$work/BENCHMARKS.md"
  cp "$work/BENCHMARKS.md" BENCHMARKS.md
  log "BENCHMARKS.md updated"
}
