#!/usr/bin/env bash
# ctest: the portable runtime tarball (scripts/package.sh). Its vidrun needs nothing outside glibc and libgcc_s
# (ldd) and no glibc newer than 2.34; from another directory with an empty environment it runs forward and an SGD
# step on a CPU bundle exactly as the development build does; its video commands refuse in one line, exit 1.
#   test/package/check-package.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-package: $*" >&2; exit 1; }

VIDNET_PACKAGE_BUILD_DIR=$build/package-runtime "$root/scripts/package.sh" -o "$work/out"
tarball=$(ls "$work"/out/vidnet-runtime-*-linux-x86_64.tar.gz)
mkdir "$work/unpacked"
tar -C "$work/unpacked" -xzf "$tarball"
vidrun=$work/unpacked/vidnet-runtime/bin/vidrun
[ -x "$vidrun" ] || fail "no bin/vidrun in $tarball"
[ -f "$work/unpacked/vidnet-runtime/include/vidnet/runtime.h" ] || fail "no include/vidnet/runtime.h in $tarball"

# Every library ldd resolves is glibc's or libgcc_s; none is missing.
ldd "$vidrun" | tee "$work/ldd"
! grep -q "not found" "$work/ldd" || fail "vidrun has unresolved libraries"
while read -r lib _; do
  case "$lib" in
    linux-vdso.so.1 | libc.so.6 | libm.so.6 | libgcc_s.so.1 | /lib64/ld-linux-x86-64.so.2) ;;
    *) fail "vidrun needs $lib, which is neither glibc nor libgcc_s" ;;
  esac
done <"$work/ldd"
newest=$(objdump -T "$vidrun" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
[ "$(printf '%s\n' "$newest" GLIBC_2.34 | sort -V | tail -1)" = GLIBC_2.34 ] || fail "vidrun needs $newest"
! objdump -p "$vidrun" | grep -E 'R(UN)?PATH' | grep -v '\$ORIGIN' || fail "vidrun has an absolute RPATH"

# The same logits and losses as the development build, from elsewhere, with nothing in the environment.
"$build/bin/vidc" build "$root/examples/tiny_fr2d.vnet" --input 3x2x8x8 --classes 4 --batch 2 -o "$work/m.vbundle"
python3 "$root/test/lit/vidrun/Inputs/files.py" npy "$work/x.npy" '<f4' 2x3x2x8x8
python3 "$root/test/lit/vidrun/Inputs/files.py" labels "$work/y.npy" 2 4
"$build/bin/vidrun" forward "$work/m.vbundle" --seed 3 --input "$work/x.npy" --output "$work/dev.npy"
"$build/bin/vidrun" step "$work/m.vbundle" --seed 3 --input "$work/x.npy" --labels "$work/y.npy" --steps 2 \
  | sed 's/, "seconds_per_step".*//' >"$work/dev-step.json"
mkdir "$work/elsewhere"
cd "$work/elsewhere"
env -i LD_LIBRARY_PATH= "$vidrun" forward ../m.vbundle --seed 3 --input ../x.npy --output pkg.npy
cmp "$work/dev.npy" pkg.npy || fail "the packaged vidrun's logits differ from the development build's"
env -i LD_LIBRARY_PATH= "$vidrun" step ../m.vbundle --seed 3 --input ../x.npy --labels ../y.npy --steps 2 \
  | sed 's/, "seconds_per_step".*//' >pkg-step.json
cmp "$work/dev-step.json" pkg-step.json || fail "the packaged vidrun's losses differ: $(cat pkg-step.json)"

# Video commands: one line, exit 1.
for command in "eval ../m.vbundle --weights w --data list.csv" "clips --data list.csv --dump c.npy" \
  "make-motion-set motion" "train ../m.vbundle --data list.csv"; do
  set +e
  env -i LD_LIBRARY_PATH= "$vidrun" $command 2>err.txt
  status=$?
  set -e
  [ $status -eq 1 ] || fail "vidrun $command: exit $status, expected 1"
  [ "$(wc -l <err.txt)" -eq 1 ] && grep -q "built without video support" err.txt ||
    fail "vidrun $command: expected one line about video support, got: $(cat err.txt)"
done
echo "check-package: $(basename "$tarball"): $(du -k "$tarball" | cut -f1) KiB, needs $newest; forward, step and the video refusals as expected"
