#!/usr/bin/env bash
# Benchmarks, measured side by side on this machine in one run (never asserted):
#   scripts/bench.sh                 vidnet against PyTorch 2 eager, every model x batch x clip x threads
#   scripts/bench.sh --peers         ... and torch.compile, OpenVINO, IREE, ONNX Runtime
#   scripts/bench.sh --peers --quick r3d_18, batch 2, 3x8x112x112, all cores (about 10 minutes)
#   scripts/bench.sh --layers [--spec S --rounds R]
#                                    every conv of a model's step (forward, data and filter gradient),
#                                    vidrun profile against PyTorch's kernel for the same shape, in
#                                    turns; a table per conv kind (r3d_18: about a minute a round)
#   scripts/bench.sh --layers-openvino [--model M --batch N --clip CxLxHxW --threads T]
#                                    every conv of a model's forward against OpenVINO's (PERF_COUNT)
#   scripts/bench.sh --loader        the video loader against the ffmpeg CLI
#   scripts/bench.sh --compile-times every model in models/: vidc build cold and warm, forward-only and
#                                    with train_step, the phases (about 10 minutes on 2 cores)
#   scripts/bench.sh --conv-kinds    every kind of conv (kernel, stride, direction) of r3d_18's, mc3_18's and
#                                    r2plus1d_18's steps as a share of the FMA peak, 3 profiles each (5 minutes)
#   scripts/bench.sh --precision     one SGD step of r3d_18 over forty seeds: ours and PyTorch float32
#                                    against float64 (Debian's torch; about 15 minutes on 2 cores)
# Other options go to bench/peer_bench.py (--only PEERS, --models, --batches, --clips, --threads, --runs,
# --step-runs, --rounds R, --out DIR, --resume). Tables on stdout; rows, report.json and tables.md in
# build-bench/peers/. Builds the project and the peers' environment first (scripts/setup*.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=${VIDNET_BUILD_DIR:-build}
if [ "${1:-}" = "--loader" ]; then
  exec bench/loader_vs_ffmpeg.sh "$build/bin/vidnet-bench-loader"
fi
if [ "${1:-}" = "--compile-times" ]; then
  shift
  exec /usr/bin/python3 bench/compile_times.py --build "$build" "$@"
fi
if [ "${1:-}" = "--conv-kinds" ]; then
  shift
  exec /usr/bin/python3 bench/conv_kinds.py --build "$build" "$@"
fi
if [ "${1:-}" = "--precision" ]; then
  scripts/setup-torch.sh
  exec /usr/bin/python3 bench/step_precision.py "$build/bin/vidc" "$build/bin/vidrun" models "$build/bench-precision"
fi
python=$(scripts/setup-peers.sh | tail -1)
if [ "${1:-}" = "--layers-openvino" ]; then
  shift
  exec "$python" bench/layers_vs_openvino.py --build "$build" "$@"
fi
if [ "${1:-}" = "--layers" ]; then
  shift
  exec "$python" bench/layer_bench.py --build "$build" "$@"
fi
exec "$python" bench/peer_bench.py --build "$build" "$@"
