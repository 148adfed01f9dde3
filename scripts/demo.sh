#!/usr/bin/env bash
# README command 1: set up the machine (idempotent), build, and run the main job on a real
# model spec: compile the paper's R(2+1)D-18 to a native CPU bundle (forward + train_step),
# initialize it as torchvision does, run a batch of clips through it and one SGD step; then
# train a small R(2+1)D with the compiled trainer until it has memorised 16 clips. Training on
# the bundled synthetic video set and evaluation arrive with the data issue.
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
echo "Compiling R(2+1)D-18 for this CPU (clips of 3x8x112x112, 400 classes, forward and train_step),"
echo "then a forward pass and one SGD step:"
"$bin/vidc" build models/r2plus1d_18.vnet --input 3x8x112x112 --batch 2 -o "$work/r2plus1d_18.vbundle"
"$bin/vidrun" init "$work/r2plus1d_18.vbundle" --seed 1 --out "$work/r2plus1d_18.safetensors"
python3 test/lit/vidrun/Inputs/files.py npy "$work/clips.npy" '<f4' 4x3x8x112x112
"$bin/vidrun" forward "$work/r2plus1d_18.vbundle" --weights "$work/r2plus1d_18.safetensors" \
  --input "$work/clips.npy" --output "$work/logits.npy"
python3 test/lit/vidrun/Inputs/files.py labels "$work/labels.npy" 2 400
python3 test/lit/vidrun/Inputs/files.py npy "$work/batch.npy" '<f4' 2x3x8x112x112
"$bin/vidrun" step "$work/r2plus1d_18.vbundle" --weights "$work/r2plus1d_18.safetensors" \
  --input "$work/batch.npy" --labels "$work/labels.npy" --lr 0.01 --momentum 0.9 --wd 1e-4
echo
echo "Training a small R(2+1)D (examples/tiny_r2plus1d.vnet, clips of 3x8x32x32, batch 8) with"
echo "configs/tiny.json on 16 random clips with 5 labels: the loss falls as it memorises them."
"$bin/vidc" build examples/tiny_r2plus1d.vnet --input 3x8x32x32 --classes 5 --batch 8 -o "$work/tiny.vbundle"
python3 test/lit/vidrun/Inputs/files.py npy "$work/tiny_clips.npy" '<f4' 16x3x8x32x32
python3 test/lit/vidrun/Inputs/files.py labels "$work/tiny_labels.npy" 16 5
rm -rf "$work/tiny-run"
"$bin/vidrun" train "$work/tiny.vbundle" --config configs/tiny.json --data "$work/tiny_clips.npy" \
  --labels "$work/tiny_labels.npy" --set out_dir="$work/tiny-run" --set epoch_size=16 --set epochs=12 \
  --set lr_step_epochs=8 --set log_every=4
