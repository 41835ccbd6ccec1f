#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the test suite:
# installs the packages, configures, builds (warnings are errors) and runs
# every test with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build test
cmake --workflow --preset default
