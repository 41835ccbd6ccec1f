#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs. Idempotent.
#   scripts/install-deps.sh [build] [test] [demo] [bench] [sanitizers]
# With no argument: build and test.
set -euo pipefail

build=(cmake make g++ pkg-config
       libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
       libabsl-dev libcurl4-openssl-dev libssl-dev golang-github-gogo-googleapis-dev
       libgoogle-perftools-dev libmicrohttpd-dev)
test=(libgtest-dev libgmock-dev python3 python3-yaml python3-grpcio python3-protobuf)
demo=(nginx)
bench=(nginx libnginx-mod-http-echo nghttp2-client libbenchmark-dev openssl curl)
sanitizers=(clang libclang-rt-14-dev)

wanted=()
[ $# -eq 0 ] && set -- build test
for group in "$@"; do
  case "$group" in
    build) wanted+=("${build[@]}") ;;
    test) wanted+=("${test[@]}") ;;
    demo) wanted+=("${demo[@]}") ;;
    bench) wanted+=("${bench[@]}") ;;
    sanitizers) wanted+=("${sanitizers[@]}") ;;
    *) echo "install-deps.sh: unknown group '$group'" >&2; exit 64 ;;
  esac
done

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
echo "Installing: ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
