#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the adapter.
#   scripts/run.sh [osm-adapter flags...]
# Without OSM_UPSTREAM (an OSM base URL) in the environment, a local demo
# stand-in for OSM is started on 127.0.0.1:${OSM_DEMO_PORT:-8080} and used.
# The adapter listens on [::]:50051 unless --listen is given.
#
# Ctrl-C (or SIGTERM) stops the adapter gracefully: it drains the calls in
# flight, then the demo stand-in is stopped and awaited. A second Ctrl-C
# stops the adapter at once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build demo
cmake --preset default >/dev/null
cmake --build --preset default --target osm-adapter osm-withdraw

upstream=${OSM_UPSTREAM:-}
demo_pid=""
stop_demo() {
  [ -n "$demo_pid" ] || return 0
  kill -TERM "$demo_pid" 2>/dev/null || true
  # nginx runs as a daemon, not as our child: wait until its pid is gone.
  tail --pid="$demo_pid" -s 0.1 -f /dev/null
}
if [ -z "$upstream" ]; then
  port=${OSM_DEMO_PORT:-8080}
  demo_pid=$(scripts/demo-upstream.sh "$port" build/demo-upstream)
  trap stop_demo EXIT
  upstream="http://127.0.0.1:$port"
  echo "Demo OSM stand-in on $upstream (case ids 'missing', 'forbidden', 'throttled' give errors)." >&2
  echo "Try: build/client/osm-withdraw --case_id=c1 --message_id=m1 --token=demo" >&2
fi

# The adapter gets a session of its own, so that Ctrl-C reaches only this
# script, which passes it on once as SIGTERM (a second signal would make the
# adapter skip the drain).
setsid build/server/osm-adapter --upstream="$upstream" "$@" &
adapter=$!
trap 'kill -TERM "$adapter" 2>/dev/null || true' INT TERM HUP
set +e
wait "$adapter"
status=$?
while kill -0 "$adapter" 2>/dev/null; do
  wait "$adapter"
  status=$?
done
exit "$status"
