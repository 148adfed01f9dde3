#!/usr/bin/env bash
# README command 1: set up the machine (idempotent), build, and run the main job on a real
# model spec: compile the paper's R(2+1)D-18 to a native CPU bundle, initialize it as
# torchvision does, and run a batch of clips through it. Training on the bundled synthetic
# video set and evaluation arrive with the training and data issues.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
bin=${VIDNET_BUILD_DIR:-build}/bin
work=${VIDNET_BUILD_DIR:-build}/demo
mkdir -p "$work"
"$bin/vidc" info models/r2plus1d_18.vnet
echo
echo "The model zoo (parameters with 400 classes; MACs per clip at each spec's input, 16x112x112 except R2D at 8x112x112):"
for spec in models/*_18.vnet models/*_34.vnet models/torchvision/r2plus1d_18.vnet; do
  "$bin/vidc" info "$spec" | tail -n 1 | sed "s|^total:|$(printf '%-36s' "$spec")|"
done
echo
echo "Compiling R(2+1)D-18 for this CPU (clips of 3x8x112x112, 400 classes), then a forward pass:"
"$bin/vidc" build models/r2plus1d_18.vnet --input 3x8x112x112 --batch 2 -o "$work/r2plus1d_18.vbundle"
"$bin/vidrun" init "$work/r2plus1d_18.vbundle" --seed 1 --out "$work/r2plus1d_18.safetensors"
python3 test/lit/vidrun/Inputs/files.py npy "$work/clips.npy" '<f4' 4x3x8x112x112
"$bin/vidrun" forward "$work/r2plus1d_18.vbundle" --weights "$work/r2plus1d_18.safetensors" \
  --input "$work/clips.npy" --output "$work/logits.npy"
