#!/usr/bin/env bash
# README command 1: set up the machine (idempotent), build, and run the main job on a real
# model spec: compile the paper's R(2+1)D-18 to a native CPU bundle (forward + train_step),
# initialize it as torchvision does, run a batch of clips through it and one SGD step; then
# generate the synthetic motion video set, train a small R(2+1)D and a small f-R2D on it with
# the compiled trainer and the FFmpeg loader, and evaluate both on held-out videos.
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
if [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/ptxas" ]; then
  echo "The same model for an NVIDIA H100 (sm_90): fused kernels, PTX and a cubin from ptxas; the"
  echo "first kernels of the forward (running them needs a GPU: vidrun ... --device cuda):"
  "$bin/vidc" build models/r2plus1d_18.vnet --target cuda:sm_90 --input 3x8x112x112 --batch 2 --forward-only \
    -o "$work/r2plus1d_18_sm90.vbundle"
  # Through a file: piped into head, vidc dies of SIGPIPE once head has its lines, and pipefail
  # then ends the demo with status 141.
  "$bin/vidc" kernels "$work/r2plus1d_18_sm90.vbundle" > "$work/r2plus1d_18_sm90.kernels.txt"
  head -n 8 "$work/r2plus1d_18_sm90.kernels.txt"
  echo
fi
echo "The synthetic motion set: 4 classes that differ only in the direction a random texture"
echo "moves (no single frame carries the label), encoded with libavcodec (mpeg4 .avi)."
rm -rf "$work/motion"
"$bin/vidrun" make-motion-set "$work/motion" --train-per-class 40 --test-per-class 10 --frames 16 --size 64x48
echo
echo "Training a small R(2+1)D and its frame-based twin f-R2D on it (clips of 3x8x32x32 from"
echo "frames resized to 36x48, batch 8, configs/motion.json), then evaluating both on the test"
echo "videos (4 clips per video): R(2+1)D learns the motion, f-R2D stays at chance (0.25)."
for model in tiny_r2plus1d tiny_fr2d; do
  "$bin/vidc" build "examples/$model.vnet" --input 3x8x32x32 --classes 4 --batch 8 -o "$work/$model.vbundle"
  rm -rf "$work/$model-run"
  "$bin/vidrun" train "$work/$model.vbundle" --data "$work/motion/train.csv" --config configs/motion.json \
    --set out_dir="$work/$model-run"
  "$bin/vidrun" eval "$work/$model.vbundle" --weights "$work/$model-run/ckpt/step-00000600.safetensors" \
    --data "$work/motion/test.csv" --classes "$work/$model-run/classes.txt" --config configs/motion.json \
    --out "$work/$model-eval"
done
