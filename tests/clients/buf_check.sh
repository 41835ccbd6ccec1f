#!/usr/bin/env bash
# Checks the proto contract with buf and proto/buf.yaml.
#
#   tests/clients/buf_check.sh lint              buf lint
#   tests/clients/buf_check.sh breaking [REF]    buf breaking against git REF;
#       by default the latest release tag (v*) reachable from HEAD, other than
#       HEAD's own; with no such tag, the pinned baseline commit below (the
#       contract as the test audit found it). A shallow clone that lacks the
#       baseline is an error (fetch it: git fetch --unshallow). A history
#       without it at all is not this project's (buf_breaking_test.sh's scratch
#       repository): that is said and skipped, exit 0, unless
#       OSM_BUF_BREAKING_REQUIRED=1 (scripts/ci-clients.sh), which fails.
#
# buf comes from tests/clients/node_modules (npm ci in tests/clients, the npm
# package @bufbuild/buf) or PATH; exit status 77 when it is missing (1 with
# OSM_CLIENT_TESTS_REQUIRED=1). The input is an image built by protoc from
# proto/ and Debian's googleapis protos, so buf needs no network; only the
# contract's own file is checked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
googleapis=${OSM_GOOGLEAPIS_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}
contract=huaweicloud/osm/v2/message_service.proto
config="$root/proto/buf.yaml"

buf="$here/node_modules/.bin/buf"
if [ ! -x "$buf" ]; then
  buf=$(command -v buf || true)
fi
if [ -z "$buf" ]; then
  echo "buf_check.sh: buf is not installed (run 'npm ci' in tests/clients)" >&2
  # A skip for CTest, unless the caller requires every client check to run.
  [ "${OSM_CLIENT_TESTS_REQUIRED:-}" = 1 ] && exit 1
  exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# image PROTO_ROOT OUTPUT: the contract and everything it imports.
image() {
  protoc -I "$1" -I "$googleapis" --include_imports --include_source_info -o "$2" "$contract"
}

# What `breaking` compares with while there is no release tag: main at the
# test audit (dac1f96). Move it forward only on purpose, to a commit whose
# contract every client in the field can still talk to.
baseline=dac1f965ff0a2ef203b0a50f6f01715dcee8c46b

# The newest v* tag reachable from HEAD that does not point at HEAD.
previous_release() {
  local head tag
  head=$(git -C "$root" rev-parse HEAD)
  for tag in $(git -C "$root" tag --merged HEAD --list 'v[0-9]*' --sort=-v:refname); do
    if [ "$(git -C "$root" rev-parse "$tag^{commit}")" != "$head" ]; then
      echo "$tag"
      return
    fi
  done
}

case "${1:-}" in
  lint)
    image "$root/proto" "$tmp/current.binpb"
    "$buf" lint "$tmp/current.binpb" --config "$config" --path "$contract"
    echo "buf lint: $contract passes ($("$buf" --version))"
    ;;
  breaking)
    ref=${2:-$(previous_release)}
    if [ -z "$ref" ]; then
      if git -C "$root" cat-file -e "$baseline^{commit}" 2>/dev/null; then
        ref=$baseline against="the pinned baseline $baseline"
      elif [ "$(git -C "$root" rev-parse --is-shallow-repository)" = true ]; then
        echo "buf breaking: this clone is shallow and lacks the baseline commit $baseline" \
          "(there is no release tag v* to compare against either); fetch the history:" \
          "git fetch --unshallow" >&2
        exit 1
      elif [ "${OSM_BUF_BREAKING_REQUIRED:-}" = 1 ]; then
        echo "buf breaking: no release tag (v*) before HEAD, and the baseline commit $baseline" \
          "is not in this history: nothing to compare against" >&2
        exit 1
      else
        echo "buf breaking: skipped, no release tag (v*) before HEAD and no baseline commit" \
          "$baseline in this history to compare against"
        exit 0
      fi
    fi
    mkdir "$tmp/against"
    git -C "$root" archive "$ref" proto | tar -x -C "$tmp/against"
    image "$root/proto" "$tmp/current.binpb"
    image "$tmp/against/proto" "$tmp/against.binpb"
    "$buf" breaking "$tmp/current.binpb" --against "$tmp/against.binpb" \
      --config "$config" --against-config "$config" --path "$contract"
    echo "buf breaking: $contract is compatible with ${against:-$ref}"
    ;;
  *)
    echo "usage: $0 lint | breaking [GIT_REF]" >&2
    exit 64
    ;;
esac
