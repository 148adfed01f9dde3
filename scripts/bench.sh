#!/usr/bin/env bash
# Benchmarks: compiled forward and train step vs PyTorch (same machine, same run) and compile
# times.
#   scripts/bench.sh [--compile-all] [--input CxLxHxW] [--batch N] [--runs R]
# Installs Debian's python3-torch and python3-torchvision if missing, then builds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-torch.sh
scripts/setup.sh
bench/loader_vs_ffmpeg.sh "${VIDNET_BUILD_DIR:-build}/bin/vidnet-bench-loader"
/usr/bin/python3 bench/forward_vs_pytorch.py "${VIDNET_BUILD_DIR:-build}" "$@"
exec /usr/bin/python3 bench/train_vs_pytorch.py "${VIDNET_BUILD_DIR:-build}" "$@"
