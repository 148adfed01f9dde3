#!/usr/bin/env bash
# README command 2: set up the machine (idempotent), build, and run every test: GoogleTest
# unit tests and the lit suite (golden diagnostics, vidc output, Table 2, a bounded fuzz run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir "${VIDNET_BUILD_DIR:-build}" --output-on-failure -j2
