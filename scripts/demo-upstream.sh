#!/usr/bin/env bash
# Starts the tests' OSM stand-in (nginx) on 127.0.0.1:PORT in the background,
# with its files under DIR; prints its pid.
#   scripts/demo-upstream.sh PORT DIR
# A fast, fixed upstream that answers the withdraw call only, for the attack
# suite and the raw HTTP/2 frame test. scripts/run.sh does not use it: its
# demo stand-in is scripts/demo-upstream/osm_demo.py (the whole message group).
set -euo pipefail
port=$1
prefix=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
sed -e "s|@PORT@|$port|g" -e "s|@PREFIX@|$prefix|g" "$here/demo-upstream/nginx.conf.in" >"$prefix/nginx.conf"
/usr/sbin/nginx -e stderr -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon on;'
cat "$prefix/nginx.pid"
