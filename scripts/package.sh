#!/usr/bin/env bash
# Builds the relocatable runtime tarball: vidrun without video (no FFmpeg), libstdc++ linked in,
# so it needs nothing but glibc (>= 2.34) and its libgcc_s on any Linux x86-64.
#   scripts/package.sh [-o DIR]    writes DIR/vidnet-runtime-VERSION-linux-x86_64.tar.gz (default DIR: build-package)
# The tarball unpacks to vidnet-runtime/{bin/vidrun, include/vidnet/runtime.h, share/vidnet/...}.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-package
while (($#)); do
  case "$1" in
    -o) [ $# -ge 2 ] || { echo "usage: scripts/package.sh [-o DIR]" >&2; exit 2; }; out=$2; shift 2 ;;
    *) echo "usage: scripts/package.sh [-o DIR]" >&2; exit 2 ;;
  esac
done

build=${VIDNET_PACKAGE_BUILD_DIR:-build-runtime}
export CCACHE_BASEDIR="$PWD" CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/vidnet-ccache}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DVIDNET_ENABLE_COMPILER=OFF -DVIDNET_WITH_VIDEO=OFF -DVIDNET_ENABLE_FUZZER=OFF \
    -DVIDNET_PORTABLE=ON \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
fi
cmake --build "$build" --target vidrun >/dev/null

version=$(sed -n 's/^project(vidnet VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/vidnet-runtime
cmake --install "$build" --prefix "$root" --strip >/dev/null
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
printf 'vidnet runtime %s (commit %s), built %s on %s\n' "$version" "$commit" "$(date -u +%Y-%m-%d)" \
  "$(. /etc/os-release && echo "$PRETTY_NAME")" >"$root/VERSION"

# Nothing outside glibc may be needed: every NEEDED entry must be one of glibc's own libraries, or
# libgcc_s (the unwinder, installed with glibc's compiler runtime everywhere), and no symbol newer than 2.34.
needed=$(objdump -p "$root/bin/vidrun" | awk '/NEEDED/ {print $2}')
for lib in $needed; do
  case "$lib" in
    libc.so.6 | libm.so.6 | libdl.so.2 | libpthread.so.0 | librt.so.1 | ld-linux-x86-64.so.2 | libgcc_s.so.1) ;;
    *) echo "package: vidrun needs $lib, which is not part of glibc" >&2; exit 1 ;;
  esac
done

glibc=$(objdump -T "$root/bin/vidrun" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
if [ "$(printf '%s\n' "$glibc" GLIBC_2.34 | sort -V | tail -1)" != GLIBC_2.34 ]; then
  echo "package: vidrun needs $glibc (newer than glibc 2.34):" >&2
  objdump -T "$root/bin/vidrun" | grep "$glibc" >&2
  exit 1
fi

mkdir -p "$out"
tarball="$out/vidnet-runtime-$version-linux-x86_64.tar.gz"
tar -C "$stage" --owner=0 --group=0 --sort=name -czf "$tarball.tmp" vidnet-runtime
mv "$tarball.tmp" "$tarball"
echo "package: $tarball ($(du -k "$tarball" | cut -f1) KiB; needs $(echo $needed | tr ' ' ',') and $glibc)"
