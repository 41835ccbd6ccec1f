#!/usr/bin/env bash
# Soak: the real adapter binary under a moderate, mixed load for a long time,
# against nginx as OSM's stand-in (bench/nginx.conf.in). Fails if the
# adapter's memory or open descriptors grow beyond the bounds below after a
# warm-up, if any call ends otherwise than its case says (every call started
# in the measured window is checked, also one that ends after it; one still
# running its deadline and 5 s after the window counts as unexpected), if
# fewer calls than the floor below finish (or any whole second passes with
# too few), or if the adapter does not shut down cleanly at the end.
#
#   bench/soak.sh                    ten minutes of load after a minute of warm-up
#   SOAK_SECONDS=60 SOAK_WARMUP_SECONDS=20 bench/soak.sh   a short one (CI)
#   SOAK_RECORD=1 bench/soak.sh      also writes the result into BENCHMARKS.md
#
# The load (bench/loadgen, SOAK_CONNECTIONS x SOAK_STREAMS calls in flight,
# closed loop), by case id (nginx answers each as named in nginx.conf.in):
#   bench-case   55%  success at once                      -> OK
#   slow         15%  success after 200 ms                 -> OK
#   osm-error    10%  OSM business error with HTTP 200     -> NOT_FOUND
#   unavailable  10%  503 with Retry-After                 -> UNAVAILABLE
#   no-answer     5%  no answer before the 300 ms deadline -> DEADLINE_EXCEEDED
#   slow          5%  with a 100 ms deadline               -> DEADLINE_EXCEEDED
# The cases without a deadline of their own get 2 s (--timeout): a call that
# hangs ends in DEADLINE_EXCEEDED, which they do not expect.
# and 5% of all calls marked for cancellation by the client, which cancels
# each after up to 250 ms (CANCELLED, or what the case says when the call
# finished first; the reported count includes those).
#
# Settings (environment):
#   SOAK_SECONDS (600), SOAK_WARMUP_SECONDS (60), SOAK_CONNECTIONS (4),
#   SOAK_STREAMS (16), SOAK_SAMPLE_SECONDS (5)
#   SOAK_MAX_RSS_GROWTH_KIB (16384): RSS at the end of the load may exceed
#     RSS at the end of the warm-up by at most this
#   SOAK_MAX_FD_GROWTH (16): open descriptors, likewise, beyond the calls in
#     flight (each may hold an upstream connection); and after the load, over
#     those before it, beyond the idle keep-alive connections it may leave
#   SOAK_MAX_THREAD_GROWTH (8): threads, at their peak, over those after the
#     warm-up (gRPC's pools may still add a few; a thread per call would not fit)
#   SOAK_MIN_CALLS_PER_SECOND (200): the measured window must see at least this
#     many calls per second on average, and every whole second of it at least
#     a tenth of that (calls keep flowing; a stall or a load that never ran
#     fails)
#   SOAK_BUILD_DIR (build): where the default preset builds osm-adapter and loadgen
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${SOAK_SECONDS:-600}
warmup=${SOAK_WARMUP_SECONDS:-60}
connections=${SOAK_CONNECTIONS:-4}
streams=${SOAK_STREAMS:-16}
sample_every=${SOAK_SAMPLE_SECONDS:-5}
max_rss_growth_kib=${SOAK_MAX_RSS_GROWTH_KIB:-16384}
max_fd_growth=${SOAK_MAX_FD_GROWTH:-16}
max_thread_growth=${SOAK_MAX_THREAD_GROWTH:-8}
min_rate=${SOAK_MIN_CALLS_PER_SECOND:-200}
build_dir=${SOAK_BUILD_DIR:-build}
in_flight=$((connections * streams))
mix="bench-case:55:0,slow:15:0,osm-error:10:5,unavailable:10:14,no-answer:5:4:300ms,slow:5:4:100ms"
cancel_fraction=0.05 cancel_after=250ms

scripts/install-deps.sh build bench >&2
cmake --preset default -B "$build_dir" >/dev/null
cmake --build "$build_dir" -j2 --target osm-adapter loadgen >&2
ulimit -n "$(ulimit -Hn)"
. bench/lib.sh

start_server adapter "$build_dir/server/osm-adapter" --listen=127.0.0.1:0 \
  --upstream="http://127.0.0.1:$fast_port" --metrics_listen=127.0.0.1:0 --access_log=/dev/null
adapter_pid=$server_pid adapter_port=$server_port
log "nginx :$fast_port, adapter :$adapter_port (pid $adapter_pid)"

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }
sample() { echo "$(rss_kib "$1") $(fds "$1") $(threads_now "$1")"; }

# Samples, one line each: seconds since the load started, RSS KiB, fds, threads.
read -r start_rss start_fds start_threads < <(sample "$adapter_pid")
load_started=$(date +%s)
(
  while kill -0 "$adapter_pid" 2>/dev/null; do
    echo "$(($(date +%s) - load_started)) $(sample "$adapter_pid")"
    sleep "$sample_every"
  done
) >"$work/samples" &
pids+=("$!")

log "load: ${warmup}s warm-up, then ${seconds}s measured, $in_flight calls in flight"
loadgen_status=0
"$build_dir/bench/loadgen" --target="127.0.0.1:$adapter_port" --connections="$connections" \
  --streams="$streams" --warmup="${warmup}s" --duration="${seconds}s" --case_mix="$mix" \
  --timeout=2s --cancel_fraction="$cancel_fraction" --cancel_after="$cancel_after" \
  >"$work/loadgen.json" || loadgen_status=$?
load_ended=$(($(date +%s) - load_started))
# Idle again: the calls are over and the client's connections closed.
read -r after_rss after_fds after_threads < <(sample "$adapter_pid")

# Baseline: the first sample after the warm-up; end: the last one under load.
read -r base_t base_rss base_fds base_threads < <(awk -v w="$warmup" '$1 >= w' "$work/samples" | head -1)
read -r end_t end_rss end_fds end_threads < <(awk -v e="$load_ended" '$1 < e' "$work/samples" | tail -1)
read -r mid_t mid_rss mid_fds mid_threads < <(awk -v m=$((warmup + seconds / 2)) '$1 >= m' "$work/samples" | head -1)
peak_rss=$(awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}' "$work/samples")
peak_fds=$(awk 'BEGIN {m = 0} $3 > m {m = $3} END {print m}' "$work/samples")
peak_threads=$(awk 'BEGIN {m = 0} $4 > m {m = $4} END {print m}' "$work/samples")

# Graceful shutdown: SIGTERM, exit status 0.
kill -TERM "$adapter_pid"
shutdown_status=0
wait "$adapter_pid" || shutdown_status=$?

result=$(cat "$work/loadgen.json")
# A field that is missing (loadgen died before printing) reads as 0.
field() { local value; value=$(echo "$result" | json_field "$1"); echo "${value:-0}"; }
calls=$(field calls)
rps=$(field rps)
unexpected=$(field unexpected)
unfinished=$(field unfinished)
after_window=$(field after_window)
slowest_second=$(field slowest_second)
min_calls=$((min_rate * seconds))
min_second=$(((min_rate + 9) / 10))
rss_growth=$((end_rss - base_rss))
fd_growth=$((end_fds - base_fds))
per_call_bytes=$(awk -v g="$rss_growth" -v n="$calls" 'BEGIN {printf "%.1f", n ? g * 1024 / n : 0}')

failures=()
[ "$loadgen_status" -eq 0 ] ||
  failures+=("loadgen: exit status $loadgen_status, $unexpected calls ended otherwise than expected ($unfinished unfinished)")
[ "$calls" -ge "$min_calls" ] ||
  failures+=("only $calls calls in the ${seconds} s window (floor $min_calls: $min_rate per second)")
[ "$slowest_second" -ge "$min_second" ] ||
  failures+=("a second of the window saw only $slowest_second calls finish (floor $min_second)")
[ "$rss_growth" -le "$max_rss_growth_kib" ] ||
  failures+=("RSS grew by $rss_growth KiB after the warm-up (bound $max_rss_growth_kib)")
[ "$fd_growth" -le $((in_flight + max_fd_growth)) ] ||
  failures+=("open descriptors grew by $fd_growth under load (bound $((in_flight + max_fd_growth)))")
[ "$after_fds" -le $((start_fds + in_flight + max_fd_growth)) ] ||
  failures+=("$after_fds descriptors open after the load, $start_fds before (bound +$((in_flight + max_fd_growth)))")
[ "$peak_threads" -le $((base_threads + max_thread_growth)) ] ||
  failures+=("threads grew from $base_threads to $peak_threads (bound +$max_thread_growth)")
[ "$shutdown_status" -eq 0 ] || failures+=("SIGTERM: exit status $shutdown_status")
verdict=$([ ${#failures[@]} -eq 0 ] && echo passed || echo FAILED)

settings=()
[ "$seconds" = 600 ] || settings+=("SOAK_SECONDS=$seconds")
[ "$warmup" = 60 ] || settings+=("SOAK_WARMUP_SECONDS=$warmup")
[ "$build_dir" = build ] || settings+=("SOAK_BUILD_DIR=$build_dir")
command="${settings[*]}${settings[*]:+ }bench/soak.sh"
report=$(cat <<EOF
\`$command\` ($(date -u +%Y-%m-%d), $(nproc) cores): ${warmup} s of warm-up, then ${seconds} s
measured, $in_flight calls in flight from bench/loadgen, a mix of successes, OSM
business errors, 503s, upstream time-outs, short deadlines and client
cancellations (see the script). Result: **$verdict**.

| | start (idle) | after warm-up | half-way | end of load | peak | after load (idle) |
|---|---|---|---|---|---|---|
| RSS (KiB) | $start_rss | $base_rss | $mid_rss | $end_rss | $peak_rss | $after_rss |
| open descriptors | $start_fds | $base_fds | $mid_fds | $end_fds | $peak_fds | $after_fds |
| threads | $start_threads | $base_threads | $mid_threads | $end_threads | $peak_threads | $after_threads |

- calls in the measured window: $calls ($rps/s; floor $min_calls), the slowest second
  $slowest_second (floor $min_second); every call started in it as expected, also the
  $after_window that ended after it: unexpected $unexpected, of which unfinished $unfinished
- RSS growth after the warm-up: $rss_growth KiB ($per_call_bytes bytes per measured call);
  bound $max_rss_growth_kib KiB
- descriptor growth under load: $fd_growth (bound: $in_flight in flight + $max_fd_growth)
- threads at their peak: $peak_threads (bound: $base_threads after the warm-up + $max_thread_growth)
- SIGTERM at the end: exit status $shutdown_status

Calls by status code: $(echo "$result" | python3 -c '
import collections, json, sys
result = json.load(sys.stdin)
names = {0: "OK", 1: "CANCELLED", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND", 14: "UNAVAILABLE"}
codes = collections.Counter({0: result["ok"]})
for key, count in result["errors"].items():
    codes[int(key.split()[0])] += count
print(", ".join(f"{names.get(c, c)} {n}" for c, n in sorted(codes.items())))');
$(echo "$result" | json_field cancelled_by_client) calls were marked for cancellation by the client
(including any that finished before the cancel fired).
EOF
)
echo "$report"
if [ ${#failures[@]} -gt 0 ]; then
  printf 'soak: %s\n' "${failures[@]}" >&2
  [ -s "$work/adapter.log" ] && tail -20 "$work/adapter.log" >&2
fi

if [ -n "${SOAK_RECORD:-}" ]; then
  python3 - "$root/BENCHMARKS.md" "$report" <<'PY'
import sys
path, report = sys.argv[1], sys.argv[2]
text = open(path).read()
start, end = "<!-- soak:start -->", "<!-- soak:end -->"
head, rest = text.split(start, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(head + start + "\n" + report + "\n" + end + tail)
PY
  log "written to BENCHMARKS.md"
fi
[ ${#failures[@]} -eq 0 ]
