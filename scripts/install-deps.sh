#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs. Idempotent: installs only
# what is missing, and does nothing (not even apt-get update) when nothing is.
#   scripts/install-deps.sh [build] [test] [demo] [front] [bench] [sanitizers] [runtime]
# With no argument: build and test.
#
#   build       what `cmake --preset default` needs to configure and build
#               the adapter, the client and the benchmark tools
#   test        the test suite, every test of it (GoogleTest, the Python,
#               Node and Go clients' runtimes and toolchains, the
#               deployment-file checks, and the attack suite's raw HTTP/2,
#               front and upstream)
#   demo        the demo OSM stand-in of scripts/run.sh
#               (scripts/demo-upstream/osm_demo.py: Python's standard library)
#   front       the front of deploy/haproxy (its container image)
#   bench       bench/run.sh and bench/compare.sh, and the micro-benchmarks
#   sanitizers  the asan, tsan and fuzz presets
#   runtime     only what the built binaries load (the Dockerfile's final
#               stage, a machine that runs the installed systemd unit)
set -euo pipefail

build=(cmake make g++ pkg-config
       libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
       libabsl-dev libcurl4-openssl-dev libssl-dev golang-github-gogo-googleapis-dev
       libgoogle-perftools-dev libmicrohttpd-dev)
test=(libgtest-dev libgmock-dev python3 python3-yaml python3-grpcio python3-protobuf git
      python3-h2 haproxy nginx
      golang-go golang-google-grpc-dev golang-google-genproto-dev golang-google-protobuf-dev
      golang-github-golang-protobuf-1-5-dev protoc-gen-go protoc-gen-go-grpc)
demo=(python3)
front=(haproxy)
bench=(nginx libnginx-mod-http-echo nghttp2-client libbenchmark-dev openssl curl)
sanitizers=(clang libclang-rt-14-dev)
runtime=(ca-certificates libgrpc++1.51 libprotobuf32 libabsl20220623 libcurl4
         libmicrohttpd12 libtcmalloc-minimal4 libssl3)

wanted=()
# promtool checks deploy/prometheus (test group). It comes in Debian's
# prometheus package, whose installation would also start a Prometheus
# server: only the promtool binary is unpacked from it, into /usr/local/bin.
want_promtool=
[ $# -eq 0 ] && set -- build test
for group in "$@"; do
  case "$group" in
    build) wanted+=("${build[@]}") ;;
    test)
      wanted+=("${test[@]}")
      command -v promtool >/dev/null || want_promtool=1
      # The Node example's test needs node and npm; any Node.js 18 or later
      # will do, so Debian's is installed only when there is none.
      if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        wanted+=(nodejs npm)
      fi ;;
    demo) wanted+=("${demo[@]}") ;;
    front) wanted+=("${front[@]}") ;;
    bench) wanted+=("${bench[@]}") ;;
    sanitizers) wanted+=("${sanitizers[@]}") ;;
    runtime) wanted+=("${runtime[@]}") ;;
    *) echo "install-deps.sh: unknown group '$group'" >&2; exit 64 ;;
  esac
done

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && [ -z "$want_promtool" ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "install-deps.sh: these packages are missing: ${missing[*]}" >&2
    echo "install-deps.sh: run this as root, or as a user who may use sudo" >&2
    exit 1
  fi
  sudo=(sudo)
fi
"${sudo[@]}" apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -n "$want_promtool" ]; then
  echo "Installing: promtool (from the prometheus package) into /usr/local/bin" >&2
  unpack=$(mktemp -d)
  trap 'rm -rf "$unpack"' EXIT
  (cd "$unpack" && apt-get download -qq prometheus 2>/dev/null)
  dpkg-deb --fsys-tarfile "$unpack"/prometheus_*.deb | tar -x -C "$unpack" ./usr/bin/promtool
  "${sudo[@]}" install -m 0755 "$unpack/usr/bin/promtool" /usr/local/bin/promtool
fi
