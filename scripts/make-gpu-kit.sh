#!/usr/bin/env bash
# Builds the GPU check kit: everything a machine with an NVIDIA GPU and driver (and nothing else) needs to check
# the CUDA path and time it: the portable runtime (no video), CUDA bundles for sm_80 and sm_90, inputs, and the
# outputs the CPU bundles give for them; `DIR/gpu-check.sh` runs it there.
#   scripts/make-gpu-kit.sh [-o DIR] [--quick] [--arch sm_80,sm_90] [-j JOBS]
#     -o DIR    where the kit goes (default: kit); replaced if it exists
#     --quick   the tiny model's check case only (what the test suite builds)
# Cases (correctness): tiny R(2+1)D at its 3x8x64x64, r3d_18 and torchvision r2plus1d_18 at 3x4x32x32 and at
# 3x8x112x112, batch 2. Bench bundles (timing): r3d_18 and r2plus1d_18 at batch 2 and 8, 3x8x112x112 and
# 3x16x112x112. Large models' expected weights are the tensors of at most 2^18 elements (kit size).
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
vidc=$build/bin/vidc vidrun=$build/bin/vidrun
[ -x "$vidc" ] && [ -x "$vidrun" ] || { echo "make-gpu-kit: no $vidc or $vidrun: run scripts/setup.sh first" >&2; exit 1; }
command -v ptxas >/dev/null || [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/ptxas" ] ||
  { echo "make-gpu-kit: the CUDA target needs ptxas (CUDA toolkit in \$CUDA_HOME or /usr/local/cuda)" >&2; exit 1; }
IFS=, read -ra arch_list <<<"$archs"
start=$(date +%s)
readonly SEED=1 LR=0.01 MOMENTUM=0.9 WD=0.0001 SUBSET=262144 MAX_KIB=$((60 * 1024))

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out/cases" "$out/bench"
scripts/package.sh -o "$work" >/dev/null
tar -C "$out" -xzf "$work"/vidnet-runtime-*.tar.gz
cp scripts/gpu-kit/gpu-check.sh scripts/gpu-kit/torch_check.py "$out/"

# name spec input batch torchvision-name
cases=("tiny_r2plus1d examples/tiny_r2plus1d.vnet 3x8x64x64 2 -")
if ((!quick)); then
  cases+=("r3d_18-small models/r3d_18.vnet 3x4x32x32 2 r3d_18"
          "r2plus1d_18-small models/torchvision/r2plus1d_18.vnet 3x4x32x32 2 r2plus1d_18"
          "r3d_18-b2x8 models/r3d_18.vnet 3x8x112x112 2 r3d_18"
          "r2plus1d_18-b2x8 models/torchvision/r2plus1d_18.vnet 3x8x112x112 2 r2plus1d_18")
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
  read -r name spec input batch tv <<<"$c"
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
  read -r name spec input batch tv <<<"$c"
  dir=$out/cases/$name
  mkdir -p "$dir"
  python3 scripts/gpu-kit/kit_tensors.py clips "$dir/clips.npy" "${batch}x$input" "$SEED" >/dev/null
  classes=$(sed -n 's/^ *"classes": *\([0-9]*\).*/\1/p' "$work/$name/cpu.vbundle/manifest.json" | head -1)
  python3 scripts/gpu-kit/kit_tensors.py labels "$dir/labels.npy" "$batch" "$classes"
  "$vidrun" init "$work/$name/cpu.vbundle" --seed "$SEED" --out "$work/$name/w0.safetensors" >/dev/null
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
  json_cases+=("{\"name\": \"$name\", \"spec\": \"$spec\", \"input\": \"$input\", \"batch\": $batch, \"classes\": $classes, \"torchvision\": \"$tv\", \"cpu_loss\": $loss, \"w0_sha256\": \"$w0_sha\", \"expected_tensors\": \"$kept\"}")
  echo "make-gpu-kit: case $name: loss $loss, expected weights: $kept"
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
