#!/usr/bin/env bash
# ctest entry for the torchvision interop tests: installs Debian's PyTorch if missing (the
# independent reference), then compares with PyTorch on three models: vidrun forward
# (eval-mode logits), then vidrun step (SGD steps in training mode; reuses the bundles the
# forward test just built when they match); then the bottleneck models (R3D-50.., ir-CSN,
# ip-CSN), which torchvision lacks, against bottleneck_models.py: their structure against
# vidc info, and forward and one step of a tiny model per block kind. All must pass.
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
# Bottleneck networks: the nine specs' names, shapes and parameter counts, no compilation;
# then forward and one SGD step of three tiny models (bottleneck, ir-csn, ip-csn).
/usr/bin/python3 "$root/test/interop/bottleneck_shapes.py" "$build/bin/vidc" "$root/models"
/usr/bin/python3 "$root/test/interop/bottleneck_interop.py" "$build/bin/vidc" "$build/bin/vidrun" \
  "$build/test/interop-work/bottleneck"
