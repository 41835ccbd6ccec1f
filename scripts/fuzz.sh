#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan and UBSan) and runs
# each for a bounded time, starting from its checked-in seed corpus.
#
#   scripts/fuzz.sh                          every target, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh         longer
#   scripts/fuzz.sh response_mapper ...      only these targets
#
# The seed corpus fuzz/corpus/<target>/ is only read: inputs found during a
# run go to build-fuzz/fuzz/work/<target>/, which later runs start from too.
# A crash, leak, time-out or broken invariant stops the run and fails it;
# the input is kept in build-fuzz/fuzz/artifacts/<target>/, and the line
# printed says how to replay it. Such an input belongs in a regression test
# in tests/server/ with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(response_mapper request_path aksk_signer message_mapping
                                      message_requests)

scripts/install-deps.sh build test sanitizers
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]/%/_fuzzer}"

passed=0
failed=0
for target in "${targets[@]}"; do
  binary=build-fuzz/fuzz/${target}_fuzzer
  work=build-fuzz/fuzz/work/$target
  artifacts=build-fuzz/fuzz/artifacts/$target/
  mkdir -p "$work" "$artifacts"
  dict=()
  [ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
  echo "== fuzz: $target for ${seconds}s"
  # -timeout: these pure functions take microseconds per input; ten seconds
  # is a hang even on a loaded CI machine. -rss_limit_mb: ASan's quarantine
  # and allocator caches take about 1 GiB after ten minutes, without a leak.
  if "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$artifacts" "${dict[@]}" "$work" "fuzz/corpus/$target" \
       >"build-fuzz/fuzz/$target.log" 2>&1; then
    passed=$((passed + 1))
    grep -E '^stat::number_of_executed_units|^stat::new_units_added|^#[0-9]+.*DONE' \
      "build-fuzz/fuzz/$target.log" || true
  else
    failed=$((failed + 1))
    tail -60 "build-fuzz/fuzz/$target.log"
    echo "fuzz: $target failed; replay with: $binary $artifacts<file>" >&2
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
