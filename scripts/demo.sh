#!/usr/bin/env bash
# README command 1: set up the machine (idempotent), build, and run the main job on a real
# model spec. Today the main job is the front end: it compiles the paper's R(2+1)D-18 spec
# and prints its per-layer summary; compiling to native code, training on the bundled
# synthetic video set and evaluating arrive with the compiler-core, training and data issues.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
vidc=${VIDNET_BUILD_DIR:-build}/bin/vidc
"$vidc" info models/r2plus1d_18.vnet
echo
echo "The model zoo (parameters with 400 classes; MACs per clip at each spec's input, 16x112x112 except R2D at 8x112x112):"
for spec in models/*_18.vnet models/*_34.vnet models/torchvision/r2plus1d_18.vnet; do
  "$vidc" info "$spec" | tail -n 1 | sed "s|^total:|$(printf '%-36s' "$spec")|"
done
