#!/usr/bin/env bash
# Shows that buf_check.sh can fail: in a scratch git repository holding a
# copy of proto/, it
#   - skips `breaking` with a message while there is no release tag,
#   - accepts a documentation-only change against the tag v1.0.0,
#   - rejects a renamed field and a renumbered field,
#   - and `lint` rejects a field name that breaks buf's default rules.
# Exit status 77 when buf is not installed (1 with OSM_CLIENT_TESTS_REQUIRED=1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -x "$here/node_modules/.bin/buf" ] || command -v buf >/dev/null || {
  echo "buf is not installed (run 'npm ci' in tests/clients)" >&2
  # A skip for CTest, unless the caller requires every client check to run.
  [ "${OSM_CLIENT_TESTS_REQUIRED:-}" = 1 ] && exit 1
  exit 77
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
repo="$tmp/repo"
mkdir -p "$repo/tests/clients"
cp -r "$root/proto" "$repo/proto"
cp "$here/buf_check.sh" "$repo/tests/clients/"
if [ -d "$here/node_modules" ]; then ln -s "$here/node_modules" "$repo/tests/clients/node_modules"; fi
proto="$repo/proto/huaweicloud/osm/v2/message_service.proto"
check="$repo/tests/clients/buf_check.sh"
git_in_repo() { git -C "$repo" -c user.name=ci -c user.email=ci@localhost "$@"; }
failures=0
expect() {  # expect DESCRIPTION WANTED_STATUS PATTERN COMMAND...
  local description=$1 wanted=$2 pattern=$3 output status=0
  shift 3
  output=$("$@" 2>&1) || status=$?
  if { [ "$wanted" = 0 ] && [ "$status" -ne 0 ]; } || { [ "$wanted" != 0 ] && [ "$status" -eq 0 ]; } ||
     ! grep -qF -- "$pattern" <<<"$output"; then
    echo "FAIL: $description (exit $status)"
    echo "$output" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok: $description"
  fi
}

git_in_repo init -q
git_in_repo add -A
git_in_repo commit -qm "contract"
expect "no tag: breaking is skipped with a message" 0 "skipped, no release tag" "$check" breaking

git_in_repo tag v1.0.0
echo "// A documentation-only change." >>"$proto"
git_in_repo commit -qam "docs"
cp "$proto" "$tmp/committed.proto"
expect "a comment change is compatible" 0 "compatible with v1.0.0" "$check" breaking

sed -i 's/string error_msg = 2;/string error_message = 2;/' "$proto"
expect "a renamed field is a breaking change" 1 'changed name from "error_msg" to "error_message"' \
  "$check" breaking
cp "$tmp/committed.proto" "$proto"

sed -i 's/int32 http_status = 3;/int32 http_status = 5;/' "$proto"
expect "a renumbered field is a breaking change" 1 'Previously present field "3" with name "http_status"' \
  "$check" breaking
cp "$tmp/committed.proto" "$proto"

expect "the contract passes lint" 0 "passes" "$check" lint
sed -i 's/string time_zone = 4;/string time_zone = 4;\n  string timeZoneName = 5;/' "$proto"
expect "lint rejects a camelCase field name" 1 'timeZoneName' "$check" lint

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
