#!/usr/bin/env bash
# ctest entry for the step-precision test: installs Debian's PyTorch if missing (the float64
# reference and the float32 baseline), then measures one SGD step of r3d_18 over six seeds.
#   test/interop/run-step-precision.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "$1" && pwd)"
"$root/scripts/setup-torch.sh"
cd "$root/test/interop"
/usr/bin/python3 step_precision.py "$build/bin/vidc" "$build/bin/vidrun" "$root/models" "$build/test/step-precision-work"
