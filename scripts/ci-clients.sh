#!/usr/bin/env bash
# The client side of the project in CI (.ci/run calls it after
# scripts/test.sh; it also works on its own on a fresh Debian 12 machine):
#   1. installs the Python gRPC runtime, Node.js and the npm packages
#      (examples/node, and buf in tests/clients), and Debian's Go toolchain
#      and grpc-go sources (the Go example builds offline against them);
#   2. buf lint, and buf breaking against the previous release tag, or while
#      there is none against the pinned baseline commit (buf_check.sh); it
#      must run: a clone without either fails;
#   3. every CTest test labelled `clients`, none allowed to skip: the C++
#      client library and the service config's retries against the real
#      adapter, `osm-withdraw --json`, the Python, Node and Go examples
#      against the real osm-adapter binary, and a consumer project built
#      against a `cmake --install` into a temporary prefix.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "-- Packages"
scripts/install-deps.sh build test
echo "node $(node --version), npm $(npm --version), $(/usr/bin/python3 -c 'import grpc; print("python grpcio", grpc.__version__)'), $(go version)"
(cd examples/node && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)

echo "-- Build (the default preset's tree)"
cmake --preset default >/dev/null
cmake --build --preset default

echo "-- The proto contract"
tests/clients/buf_check.sh lint
OSM_BUF_BREAKING_REQUIRED=1 tests/clients/buf_check.sh breaking

echo "-- Client tests: C++ library, service config, CLI, Python, Node, Go, installed package"
OSM_CLIENT_TESTS_REQUIRED=1 ctest --preset default -L clients
