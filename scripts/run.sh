#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the adapter.
#   scripts/run.sh [osm-adapter flags...]
# Without OSM_UPSTREAM (an OSM base URL) in the environment, a local demo
# stand-in for OSM is started on 127.0.0.1:${OSM_DEMO_PORT:-8080} and used.
# The adapter listens on [::]:50051 unless --listen is given.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build demo
cmake --preset default >/dev/null
cmake --build --preset default --target osm-adapter osm-withdraw

upstream=${OSM_UPSTREAM:-}
demo_pid=""
if [ -z "$upstream" ]; then
  port=${OSM_DEMO_PORT:-8080}
  demo_pid=$(scripts/demo-upstream.sh "$port" build/demo-upstream)
  trap 'kill "$demo_pid" 2>/dev/null || true' EXIT
  upstream="http://127.0.0.1:$port"
  echo "Demo OSM stand-in on $upstream (case ids 'missing', 'forbidden', 'throttled' give errors)." >&2
  echo "Try: build/client/osm-withdraw --case_id=c1 --message_id=m1 --token=demo" >&2
fi
build/server/osm-adapter --upstream="$upstream" "$@" &
adapter=$!
# Ctrl-C or SIGTERM: let the adapter drain its calls, then stop the demo.
trap 'kill -TERM "$adapter" 2>/dev/null || true' INT TERM
set +e
wait "$adapter"
status=$?
while kill -0 "$adapter" 2>/dev/null; do
  wait "$adapter"
  status=$?
done
exit "$status"
