#!/usr/bin/env bash
# ctest entry for the torchvision interop tests: installs Debian's PyTorch if missing (the
# independent reference), then compares with PyTorch on three models: vidrun forward
# (eval-mode logits), then vidrun step (SGD steps in training mode; reuses the bundles the
# forward test just built when they match). Both must pass.
#   test/interop/run.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "$1" && pwd)"
"$root/scripts/setup-torch.sh"
/usr/bin/python3 "$root/test/interop/torchvision_forward.py" "$build/bin/vidc" "$build/bin/vidrun" \
  "$root/models" "$build/test/interop-work"
# One SGD step from torchvision weights, strict (1e-4). After several steps on one batch the
# comparison is ill-posed for any float32 code, PyTorch's own included: the loss collapses
# and ReLU inputs within rounding of 0 flip (see the script's docstring).
/usr/bin/python3 "$root/test/interop/torchvision_step.py" "$build/bin/vidc" "$build/bin/vidrun" \
  "$root/models" "$build/test/interop-work" --models r3d_18 --steps 1
