#!/usr/bin/env bash
# Builds the GPU check kit: everything a machine with an NVIDIA GPU and driver (and nothing else) needs to check
# the CUDA path and time it: the portable runtime (no video), CUDA bundles for sm_80 and sm_90, inputs, and the
# outputs the CPU bundles give for them; `DIR/gpu-check.sh` runs it there.
#   scripts/make-gpu-kit.sh [-o DIR] [--quick] [--arch sm_80,sm_90] [-j JOBS]
#     -o DIR    where the kit goes (default: kit); replaced if it exists
#     --quick   the tiny model's check case only (what the test suite builds)
# Cases (correctness): tiny R(2+1)D, R3D and f-R2D, r3d_18 and torchvision r2plus1d_18 at 3x4x32x32, the two at
# 3x8x112x112, batch 2. Bench bundles (timing): r3d_18 and r2plus1d_18 at batch 2 and 8, 3x8x112x112 and
# 3x16x112x112. Large models' expected weights are the tensors of at most 2^18 elements (kit size).
# A ReLU input within float32 rounding of 0 may fall on either side of the kink in two correct float32 steps,
# and everything upstream of it then differs. So the 3x4x32x32 cases' clips are the first seed whose reference
# step (vidnet-relu-margin) keeps every ReLU input at least KINK_MARGIN from 0; their steps are checks. Where no
# seed up to CLIP_SEEDS does (r2plus1d_18's million ReLU inputs at 3x4x32x32 have their smallest near 5e-7), and
# at 3x8x112x112 (tens of millions), the step's loss is checked and its weights are reported, not checked.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { echo "usage: scripts/make-gpu-kit.sh [-o DIR] [--quick] [--arch sm_80,sm_90] [-j JOBS]" >&2; exit 2; }
out=kit quick=0 archs=sm_80,sm_90 jobs=$(nproc)
while (($#)); do
  case "$1" in
    -o) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --arch) [ $# -ge 2 ] || usage; archs=$2; shift 2 ;;
    -j) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
    *) usage ;;
  esac
done
build=${VIDNET_BUILD_DIR:-build}
vidc=$build/bin/vidc vidrun=$build/bin/vidrun margin=$build/bin/vidnet-relu-margin
[ -x "$vidc" ] && [ -x "$vidrun" ] && [ -x "$margin" ] ||
  { echo "make-gpu-kit: no $vidc, $vidrun or $margin: run scripts/setup.sh first" >&2; exit 1; }
command -v ptxas >/dev/null || [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/ptxas" ] ||
  { echo "make-gpu-kit: the CUDA target needs ptxas (CUDA toolkit in \$CUDA_HOME or /usr/local/cuda)" >&2; exit 1; }
IFS=, read -ra arch_list <<<"$archs"
start=$(date +%s)
readonly SEED=1 LR=0.01 MOMENTUM=0.9 WD=0.0001 SUBSET=262144 MAX_KIB=$((60 * 1024)) KINK_MARGIN=3e-6 CLIP_SEEDS=8

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out/cases" "$out/bench"
scripts/package.sh -o "$work" >/dev/null
tar -C "$out" -xzf "$work"/vidnet-runtime-*.tar.gz
# The CUDA runtime's own tests, built beside the tarball's vidrun (no MLIR, LLVM or FFmpeg).
package_build=${VIDNET_PACKAGE_BUILD_DIR:-build-runtime}
cmake --build "$package_build" --target vidnet-gpu-tests >/dev/null ||
  { echo "make-gpu-kit: cannot build vidnet-gpu-tests in $package_build (GoogleTest: scripts/setup.sh)" >&2; exit 1; }
strip -o "$out/vidnet-gpu-tests" "$package_build/bin/vidnet-gpu-tests"
cp scripts/gpu-kit/gpu-check.sh scripts/gpu-kit/sanitize.sh scripts/gpu-kit/torch_check.py "$out/"

# name spec input batch torchvision-name step-checked
cases=("tiny_r2plus1d examples/tiny_r2plus1d.vnet 3x4x32x32 2 - 1")
if ((!quick)); then
  cases+=("tiny_r3d examples/tiny_r3d.vnet 3x4x32x32 2 - 1"
          "tiny_fr2d examples/tiny_fr2d.vnet 3x4x32x32 2 - 1"
          "r3d_18-small models/r3d_18.vnet 3x4x32x32 2 r3d_18 1"
          "r2plus1d_18-small models/torchvision/r2plus1d_18.vnet 3x4x32x32 2 r2plus1d_18 1"
          "r3d_18-b2x8 models/r3d_18.vnet 3x8x112x112 2 r3d_18 0"
          "r2plus1d_18-b2x8 models/torchvision/r2plus1d_18.vnet 3x8x112x112 2 r2plus1d_18 0")
fi
bench=()
if ((!quick)); then
  for model in r3d_18:models/r3d_18.vnet r2plus1d_18:models/torchvision/r2plus1d_18.vnet; do
    for batch in 2 8; do
      for frames in 8 16; do bench+=("${model%%:*}-b${batch}x$frames ${model#*:} 3x${frames}x112x112 $batch ${model%%:*}"); done
    done
  done
fi

# Every compilation is independent: one list, run $jobs at a time.
jobs_file=$work/jobs
: >"$jobs_file"
for c in "${cases[@]}"; do
  read -r name spec input batch tv checked <<<"$c"
  mkdir -p "$work/$name"
  echo "$vidc build $spec --input $input --batch $batch -o $work/$name/cpu.vbundle" >>"$jobs_file"
  for arch in "${arch_list[@]}"; do
    echo "$vidc build $spec --input $input --batch $batch --target cuda:$arch -o $work/$name/$arch.vbundle" >>"$jobs_file"
  done
done
for b in "${bench[@]}"; do
  read -r name spec input batch tv <<<"$b"
  mkdir -p "$work/bench-$name"
  for arch in "${arch_list[@]}"; do
    echo "$vidc build $spec --input $input --batch $batch --target cuda:$arch -o $work/bench-$name/$arch.vbundle" \
      >>"$jobs_file"
  done
done
echo "make-gpu-kit: $(wc -l <"$jobs_file") bundles to compile, $jobs at a time"
xargs -P "$jobs" -I{} sh -c '{} >/dev/null 2>"$0/log.$$" || { cat "$0/log.$$" >&2; exit 255; }' "$work" <"$jobs_file"

# Expected outputs from the CPU bundles, and each case's files.
json_cases=()
for c in "${cases[@]}"; do
  read -r name spec input batch tv checked <<<"$c"
  dir=$out/cases/$name
  mkdir -p "$dir"
  classes=$(sed -n 's/^ *"classes": *\([0-9]*\).*/\1/p' "$work/$name/cpu.vbundle/manifest.json" | head -1)
  python3 scripts/gpu-kit/kit_tensors.py labels "$dir/labels.npy" "$batch" "$classes"
  "$vidrun" init "$work/$name/cpu.vbundle" --seed "$SEED" --out "$work/$name/w0.safetensors" >/dev/null
  clip_seed=$SEED smallest=null
  if ((checked)); then  # the first clip seed whose ReLU inputs all keep KINK_MARGIN from 0, else the best one
    best=-1
    for ((s = 1; s <= CLIP_SEEDS; s++)); do
      python3 scripts/gpu-kit/kit_tensors.py clips "$work/$name/clips.npy" "${batch}x$input" "$s" >/dev/null
      m=$("$margin" "$spec" "$work/$name/cpu.vbundle" "$work/$name/w0.safetensors" "$work/$name/clips.npy" \
        "$dir/labels.npy" | sed 's/.*"smallest_relu_input": \([^}]*\)}.*/\1/')
      if awk -v m="$m" -v b="$best" 'BEGIN { exit !(m + 0 > b + 0) }'; then best=$m clip_seed=$s; fi
      awk -v m="$m" -v t=$KINK_MARGIN 'BEGIN { exit !(m + 0 >= t + 0) }' && break
    done
    smallest=$best
    if awk -v m="$best" -v t=$KINK_MARGIN 'BEGIN { exit !(m + 0 < t + 0) }'; then
      checked=0
      echo "make-gpu-kit: $name: no clip seed up to $CLIP_SEEDS keeps every ReLU input $KINK_MARGIN from 0" \
        "(seed $clip_seed: $best), so its step weights are reported, not checked" >&2
    fi
  fi
  python3 scripts/gpu-kit/kit_tensors.py clips "$dir/clips.npy" "${batch}x$input" "$clip_seed" >/dev/null
  "$vidrun" forward "$work/$name/cpu.vbundle" --weights "$work/$name/w0.safetensors" --input "$dir/clips.npy" \
    --output "$dir/logits.npy" 2>/dev/null
  step=$("$vidrun" step "$work/$name/cpu.vbundle" --weights "$work/$name/w0.safetensors" --input "$dir/clips.npy" \
    --labels "$dir/labels.npy" --lr $LR --momentum $MOMENTUM --wd $WD --out "$work/$name/step.safetensors")
  loss=$(sed 's/.*"loss": \([^,]*\),.*/\1/' <<<"$step")
  limit=$SUBSET
  [ "$name" = tiny_r2plus1d ] && limit=0
  kept=$(python3 scripts/gpu-kit/kit_tensors.py subset "$work/$name/step.safetensors" "$dir/step.safetensors" $limit)
  w0_sha=$(sha256sum "$work/$name/w0.safetensors" | cut -d' ' -f1)
  for arch in "${arch_list[@]}"; do
    tar -C "$work/$name" -czf "$dir/$arch.vbundle.tar.gz" "$arch.vbundle"
  done
  json_cases+=("{\"name\": \"$name\", \"spec\": \"$spec\", \"input\": \"$input\", \"batch\": $batch, \"classes\": $classes, \"torchvision\": \"$tv\", \"cpu_loss\": $loss, \"w0_sha256\": \"$w0_sha\", \"expected_tensors\": \"$kept\", \"clip_seed\": $clip_seed, \"smallest_relu_input\": $smallest, \"step_checked\": $( ((checked)) && echo true || echo false)}")
  echo "make-gpu-kit: case $name: clip seed $clip_seed (smallest |ReLU input| $smallest), loss $loss, expected weights: $kept"
done
json_bench=()
for b in "${bench[@]}"; do
  read -r name spec input batch tv <<<"$b"
  for arch in "${arch_list[@]}"; do
    tar -C "$work/bench-$name" -czf "$out/bench/$name.$arch.vbundle.tar.gz" "$arch.vbundle"
  done
  json_bench+=("{\"name\": \"$name\", \"spec\": \"$spec\", \"input\": \"$input\", \"batch\": $batch, \"torchvision\": \"$tv\"}")
done

join() { local IFS=,; echo "$*"; }
cat >"$out/kit.json" <<JSON
{
  "vidnet_commit": "$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)",
  "built": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "archs": ["$(sed 's/,/", "/g' <<<"$archs")"],
  "seed": $SEED, "lr": $LR, "momentum": $MOMENTUM, "weight_decay": $WD,
  "cases": [$(join "${json_cases[@]}")],
  "bench": [$(join "${json_bench[@]}")]
}
JSON
kib=$(du -sk "$out" | cut -f1)
if ((kib > MAX_KIB)); then
  echo "make-gpu-kit: the kit is $kib KiB, over its $MAX_KIB KiB bound" >&2
  exit 1
fi
echo "make-gpu-kit: $out ($((kib / 1024)) MiB, ${#cases[@]} cases, ${#bench[@]} bench shapes x ${#arch_list[@]} archs) in $(( $(date +%s) - start )) s"
