#!/bin/sh
# Generates the Python modules of the contract and of the google.rpc error
# details into DIR (default: gen). Needs protoc and grpc_python_plugin
# (Debian: protobuf-compiler, protobuf-compiler-grpc) and the googleapis
# protos (golang-github-gogo-googleapis-dev).
set -eu
out=${1:-gen}
proto_dir=$(cd "$(dirname "$0")/../../proto" && pwd)
googleapis=${GOOGLEAPIS_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}
mkdir -p "$out"
protoc -I "$proto_dir" -I "$googleapis" \
  --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" \
  huaweicloud/osm/v2/message_service.proto \
  google/api/annotations.proto google/api/http.proto \
  google/rpc/status.proto google/rpc/error_details.proto
