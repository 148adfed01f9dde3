#!/usr/bin/env bash
# ctest entry for the torchvision interop test: installs Debian's PyTorch if missing (the
# independent reference), then compares vidrun forward with PyTorch on three models.
#   test/interop/run.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "$1" && pwd)"
"$root/scripts/setup-torch.sh"
exec /usr/bin/python3 "$root/test/interop/torchvision_forward.py" "$build/bin/vidc" "$build/bin/vidrun" \
  "$root/models" "$build/test/interop-work"
