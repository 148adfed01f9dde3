#!/usr/bin/env bash
# README command 2: set up the machine (idempotent), build, and run every test: GoogleTest
# unit tests, the lit suite (golden diagnostics, vidc output, Table 2, a bounded fuzz run), the
# compiled models against the reference, torchvision interop, the benchmark's work counts and
# the packages. Tiers (ctest labels) are in test/README.md.
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --fast     the `fast` tier only: unit tests and lit, a few minutes on 2 cores
#   scripts/test.sh -L LABEL   any ctest arguments after the options are passed on
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
if [ "${1:-}" = "--fast" ]; then
  args=(-L fast)
  shift
elif [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,9s/^# \{0,1\}//p' "$0"
  exit 0
fi
scripts/setup.sh
ctest --test-dir "${VIDNET_BUILD_DIR:-build}" --output-on-failure -j2 "${args[@]}" "$@"
