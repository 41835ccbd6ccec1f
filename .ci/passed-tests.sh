#!/usr/bin/env bash
# Reads CTest's output on stdin and prints the names of the tests that
# passed, sorted, one per line.
set -euo pipefail
awk '/ Test +#[0-9]+: / && / Passed / {
  for (i = 1; i <= NF; i++) if ($i ~ /^#[0-9]+:$/) { print $(i + 1); break }
}' | LC_ALL=C sort -u
