#!/usr/bin/env bash
# ctest entry for the benchmark's own checks: installs Debian's PyTorch if missing, then checks
# the peer benchmark's work counts (test/bench/work_count.py).
#   test/bench/run.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
"$root/scripts/setup-torch.sh"
exec /usr/bin/python3 "$root/test/bench/work_count.py" "$(cd "$1" && pwd)"
