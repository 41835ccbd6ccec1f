#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the adapter.
#   scripts/run.sh [osm-adapter flags...]
# Without OSM_UPSTREAM (an OSM base URL) in the environment, a local demo
# stand-in for OSM (scripts/demo-upstream/osm_demo.py: four demo tickets,
# every operation of the message group, a support reply every
# ${OSM_DEMO_NEW_MESSAGE_INTERVAL:-20} seconds) is started on
# 127.0.0.1:${OSM_DEMO_PORT:-8080} and used. The adapter listens on
# [::]:50051 unless --listen is given.
#
# Ctrl-C (or SIGTERM) stops the adapter gracefully: it drains the calls in
# flight, then the demo stand-in is stopped and awaited. A second Ctrl-C
# stops the adapter at once.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build demo
cmake --preset default >/dev/null
cmake --build --preset default --target osm-adapter osm-withdraw osm-messages

upstream=${OSM_UPSTREAM:-}
demo_pid=""
stop_demo() {
  [ -n "$demo_pid" ] || return 0
  kill -TERM "$demo_pid" 2>/dev/null || true
  wait "$demo_pid" 2>/dev/null || true
}
if [ -z "$upstream" ]; then
  port=${OSM_DEMO_PORT:-8080}
  interval=${OSM_DEMO_NEW_MESSAGE_INTERVAL:-20}
  mkdir -p build/demo-upstream
  ready=build/demo-upstream/ready
  rm -f "$ready"
  mkfifo "$ready"
  # A session of its own, like the adapter's, so that Ctrl-C does not stop it
  # while the adapter drains; it also stops if this script is killed.
  setsid /usr/bin/python3 scripts/demo-upstream/osm_demo.py --port="$port" --parent_pid=$$ \
    --new_message_interval="$interval" >"$ready" </dev/null &
  demo_pid=$!
  trap stop_demo EXIT
  # Its first line (the port) says it listens; end of file, that it failed.
  if ! read -r -t 30 _ <"$ready"; then
    echo "run.sh: the demo OSM stand-in did not start on 127.0.0.1:$port" >&2
    exit 1
  fi
  rm -f "$ready"
  upstream="http://127.0.0.1:$port"
  cli=build/client/osm-messages
  cat >&2 <<EOF
Demo OSM stand-in on $upstream: tickets C202611300001 to C202611300004,
a support reply every $interval s; the case ids 'missing', 'forbidden' and
'throttled' give errors. Try, in another terminal:
  $cli list-case --case_id=C202611300001 --token=demo
  $cli send --case_id=C202611300001 --content='Restarted it: SSH works.' --token=demo
  $cli list --case_id=C202611300001 --token=demo
  $cli withdraw --case_id=C202611300001 --message_id=M100003 --token=demo
  $cli watch --case_ids=C202611300001,C202611300004 --token=demo
EOF
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
