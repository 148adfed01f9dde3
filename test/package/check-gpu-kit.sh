#!/usr/bin/env bash
# ctest: the GPU check kit (scripts/make-gpu-kit.sh --quick) is built and stays under its 60 MiB bound, holds
# what gpu-check.sh reads, and gpu-check.sh says in one line, exit 2, that a machine without a GPU has none (on a
# machine with one it must pass). Exit 77 (skipped) without the CUDA toolkit's ptxas.
#   test/package/check-gpu-kit.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
cuda_root=${CUDA_HOME:-/usr/local/cuda}
if ! [ -x "$cuda_root/bin/ptxas" ]; then
  echo "check-gpu-kit: SKIPPED: no ptxas in $cuda_root/bin, so no CUDA bundle can be built (see scripts/setup.sh)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-gpu-kit: $*" >&2; exit 1; }

VIDNET_BUILD_DIR=$build VIDNET_PACKAGE_BUILD_DIR=$build/package-runtime "$root/scripts/make-gpu-kit.sh" --quick \
  -o "$work/kit"
kib=$(du -sk "$work/kit" | cut -f1)
((kib <= 60 * 1024)) || fail "the kit is $kib KiB, over 60 MiB"
for f in gpu-check.sh torch_check.py kit.json vidnet-runtime/bin/vidrun vidnet-gpu-tests cases/tiny_r2plus1d/clips.npy \
  cases/tiny_r2plus1d/labels.npy cases/tiny_r2plus1d/logits.npy cases/tiny_r2plus1d/step.safetensors \
  cases/tiny_r2plus1d/sm_80.vbundle.tar.gz cases/tiny_r2plus1d/sm_90.vbundle.tar.gz; do
  [ -s "$work/kit/$f" ] || fail "the kit has no $f"
done
# The runtime tests need nothing but glibc and libgcc_s, and run here (their GPU parts skip, saying why).
needed=$(objdump -p "$work/kit/vidnet-gpu-tests" | awk '/NEEDED/ {print $2}' | sort | tr '\n' ' ')
[ "$needed" = "ld-linux-x86-64.so.2 libc.so.6 libgcc_s.so.1 libm.so.6 " ] || fail "vidnet-gpu-tests needs $needed"
"$work/kit/vidnet-gpu-tests" --gtest_brief=1 >"$work/gpu-tests.log" 2>&1 || fail "vidnet-gpu-tests: $(cat "$work/gpu-tests.log")"
# The shipped bundles are CUDA bundles for their arch with kernels.
manifest=$(tar -xzOf "$work/kit/cases/tiny_r2plus1d/sm_90.vbundle.tar.gz" sm_90.vbundle/manifest.json)
grep -q '"arch": "sm_90"' <<<"$manifest" || fail "sm_90.vbundle.tar.gz is not an sm_90 bundle"
# The expected logits are the CPU bundle's: the same as a fresh development build's forward of those clips.
case=$work/kit/cases/tiny_r2plus1d
"$build/bin/vidc" build "$root/examples/tiny_r2plus1d.vnet" --input 3x4x32x32 --batch 2 -o "$work/cpu.vbundle" >/dev/null
"$build/bin/vidrun" forward "$work/cpu.vbundle" --seed 1 --input "$case/clips.npy" --output "$work/logits.npy" 2>/dev/null
cmp "$work/logits.npy" "$case/logits.npy" || fail "the kit's expected logits are not the CPU bundle's"
# The step case's clips keep every ReLU input of the reference step at least 3e-6 from 0, so that a GPU step
# that differs from the CPU's is a bug, not float32 rounding across a kink.
grep -q '"name": "tiny_r2plus1d"[^}]*"step_checked": true' "$work/kit/kit.json" || fail "the tiny case's step is not a check"
"$build/bin/vidrun" init "$work/cpu.vbundle" --seed 1 --out "$work/w0.safetensors" >/dev/null
margin=$("$build/bin/vidnet-relu-margin" "$root/examples/tiny_r2plus1d.vnet" "$work/cpu.vbundle" "$work/w0.safetensors" \
  "$case/clips.npy" "$case/labels.npy" | sed 's/.*"smallest_relu_input": \([^}]*\)}.*/\1/')
awk -v m="$margin" 'BEGIN { exit !(m + 0 >= 3e-6) }' || fail "the tiny case's smallest |ReLU input| is $margin, under 3e-6"

set +e
(cd "$work" && kit/gpu-check.sh --quick --no-torch -o "$work/results") >"$work/stdout" 2>"$work/stderr"
status=$?
set -e
if "$build/bin/vidrun" devices >/dev/null 2>&1; then
  [ $status -eq 0 ] || fail "gpu-check.sh failed on this GPU machine (exit $status): $(cat "$work/stdout" "$work/stderr")"
  cat "$work/stdout"
else
  [ $status -eq 2 ] || fail "gpu-check.sh without a GPU: exit $status, expected 2"
  [ "$(wc -l <"$work/stderr")" -eq 1 ] && [ ! -s "$work/stdout" ] && grep -q "^gpu-check: no CUDA device" "$work/stderr" ||
    fail "gpu-check.sh without a GPU: expected one line, got: $(cat "$work/stdout" "$work/stderr")"
  echo "check-gpu-kit: kit $((kib / 1024)) MiB, smallest |ReLU input| of the step case $margin; without a GPU gpu-check.sh says: $(cat "$work/stderr")"
fi
