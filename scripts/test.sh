#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the test suite:
# installs the packages and the npm packages of the Node example and of buf,
# configures, builds (warnings are errors) and runs every test with CTest.
# No test may skip: a missing tool is a failure (OSM_CLIENT_TESTS_REQUIRED).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build test
for dir in examples/node tests/clients; do
  # npm ci starts from scratch every time; skip it when nothing changed.
  if [ ! "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
OSM_CLIENT_TESTS_REQUIRED=1 OSM_DEPLOY_TESTS_REQUIRED=1 cmake --workflow --preset default
