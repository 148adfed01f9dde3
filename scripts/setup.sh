#!/usr/bin/env bash
# Installs every Debian package vidnet needs (idempotent) and builds the project with CMake + Ninja.
#   scripts/setup.sh            install packages if missing, configure, build
#   scripts/setup.sh --no-build install packages only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # Compiler: MLIR/LLVM 22 (bookworm-security), its tools (lit, FileCheck, mlir-opt) and clang
  # for the libFuzzer target.
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 libclang-rt-22-dev
  # Build.
  cmake ninja-build ccache pkg-config g++ python3
  # Libraries.
  libgtest-dev libgmock-dev nlohmann-json3-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
  # vidc's allocator (tools/CMakeLists.txt).
  libjemalloc-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all ${#packages[@]} Debian packages present"
fi

# The CUDA target assembles PTX with the CUDA toolkit's ptxas (not a Debian package): found in
# $CUDA_HOME or /usr/local/cuda. Without it everything but `vidc build --target cuda:*` works.
cuda_root=${CUDA_HOME:-/usr/local/cuda}
if [ -x "$cuda_root/bin/ptxas" ]; then
  echo "setup: CUDA toolkit at $cuda_root ($("$cuda_root/bin/ptxas" --version | tail -1))"
else
  echo "setup: no CUDA toolkit at $cuda_root (no bin/ptxas): the CUDA target (vidc build --target cuda:sm_90)"
  echo "       and its tests need it; install NVIDIA's CUDA toolkit (12.0 or newer, developer.nvidia.com/cuda-downloads)"
  echo "       into /usr/local/cuda or set CUDA_HOME to where it is. Running kernels also needs an NVIDIA driver."
fi

[ "${1:-}" = "--no-build" ] && exit 0

build_dir=${VIDNET_BUILD_DIR:-build}
export CCACHE_BASEDIR="$PWD" CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/vidnet-ccache}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
fi
cmake --build "$build_dir"
