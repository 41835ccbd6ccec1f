#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, checks that the package
# carries what the client needs (and nothing internal), then configures,
# builds and runs tests/clients/consumer against it.
#   tests/clients/consumer_test.sh BUILD_DIR [CXX_COMPILER] [SANITIZERS]
set -euo pipefail
build=$(cd "$1" && pwd)
cxx=${2:-c++}
sanitize=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"

missing=0
for file in \
    include/osm_grpc_adapter/osm/client/withdraw_client.h \
    include/osm_grpc_adapter/osm/client/withdraw_error_details.h \
    include/osm_grpc_adapter/osm/client/withdraw_json.h \
    include/osm_grpc_adapter/huaweicloud/osm/v2/message_service.pb.h \
    include/osm_grpc_adapter/huaweicloud/osm/v2/message_service.grpc.pb.h \
    include/osm_grpc_adapter/google/rpc/status.pb.h \
    include/osm_grpc_adapter/google/rpc/error_details.pb.h \
    include/osm_grpc_adapter/google/api/annotations.pb.h \
    share/osm_grpc_adapter/proto/huaweicloud/osm/v2/message_service.proto \
    share/osm_grpc_adapter/proto/google/api/annotations.proto \
    share/osm_grpc_adapter/proto/google/rpc/error_details.proto \
    share/osm_grpc_adapter/service_config.json; do
  if [ ! -f "$prefix/$file" ]; then
    echo "missing from the installed package: $file"
    missing=1
  fi
done
for pattern in 'libosm_grpc_adapter_client.a' 'libosm_grpc_adapter_proto.a' 'OsmGrpcAdapterConfig.cmake'; do
  if [ -z "$(find "$prefix" -name "$pattern")" ]; then
    echo "missing from the installed package: $pattern"
    missing=1
  fi
done
if [ -n "$(find "$prefix" -name 'osm_body*')" ]; then
  echo "the installed package carries the adapter's internal osm_body proto"
  missing=1
fi
[ "$missing" -eq 0 ]

flags=()
if [ -n "$sanitize" ]; then
  cxxflags="-fsanitize=$sanitize"
  # As the tsan preset does: protobuf's headers must lay out their types as
  # the installed, uninstrumented libprotobuf does.
  [ "$sanitize" = thread ] && cxxflags+=" -U__SANITIZE_THREAD__"
  flags+=("-DCMAKE_CXX_FLAGS=$cxxflags" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=$sanitize")
fi
cmake -S "$here/consumer" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}" >"$tmp/configure.log" ||
  { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/build" -j2
"$tmp/build/osm_consumer"
