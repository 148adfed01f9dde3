#!/usr/bin/env bash
# The kit's cases under NVIDIA's compute-sanitizer: memcheck (out-of-bounds and misaligned accesses, with the leak
# check) and initcheck (reads of device memory nothing wrote), each over a CUDA forward and two SGD steps.
#   sanitize.sh [-o DIR] [--arch sm_XY] [--case NAME]...
# Prints one line per run; DIR (default: ./sanitize-results) gets each run's sanitizer output.
# Exit: 0 no errors, 1 an error or a failed run, 2 no usable NVIDIA GPU, no compute-sanitizer or no bundles for --arch.
set -uo pipefail
kit=$(cd "$(dirname "$0")" && pwd)
out=$PWD/sanitize-results arch="" cases=()
usage() { echo "usage: sanitize.sh [-o DIR] [--arch sm_XY] [--case NAME]..." >&2; exit 2; }
while (($#)); do
  case "$1" in
    -o) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --arch) [[ ${2:-} =~ ^sm_[0-9]+$ ]] || usage; arch=$2; shift 2 ;;
    --case) [ $# -ge 2 ] || usage; cases+=("$2"); shift 2 ;;
    *) usage ;;
  esac
done
sanitizer=$(command -v compute-sanitizer || ls "${CUDA_HOME:-/usr/local/cuda}"/bin/compute-sanitizer 2>/dev/null)
[ -x "$sanitizer" ] || { echo "sanitize: no compute-sanitizer on PATH or in \$CUDA_HOME/bin" >&2; exit 2; }
((${#cases[@]})) || for d in "$kit"/cases/*/; do cases+=("$(basename "$d")"); done
vidrun=$kit/vidnet-runtime/bin/vidrun
devices=$("$vidrun" devices 2>&1) || { echo "sanitize: ${devices#vidrun: }" >&2; exit 2; }
# The GPU's own arch where the kit has it (its cubin), else the kit's first (the driver JIT-compiles its PTX).
read -r _ device_arch _ <<<"$devices"
if [ -z "$arch" ]; then
  arch=$(grep -o '"sm_[0-9]*"' "$kit/kit.json" | head -1 | tr -d '"')
  grep -q "\"$device_arch\"" "$kit/kit.json" && arch=$device_arch
fi
# The kit's seed and SGD settings, those gpu-check.sh checks the steps with (top-level numbers of kit.json).
kit_number() { sed -n "s/.*\"$1\": \([0-9.e-]*\).*/\1/p" "$kit/kit.json" | head -1; }
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "sanitize: $("$sanitizer" --version | tail -1), bundles for $arch; outputs in $out"

failures=0
for name in "${cases[@]}"; do
  case_dir=$kit/cases/$name
  [ -f "$case_dir/$arch.vbundle.tar.gz" ] || { echo "sanitize: no $arch bundle for case $name" >&2; exit 2; }
  mkdir -p "$work/$name" && tar -C "$work/$name" -xzf "$case_dir/$arch.vbundle.tar.gz"
  bundle=$work/$name/$arch.vbundle weights=$work/$name/w0.safetensors
  "$vidrun" init "$bundle" --seed "$(kit_number seed)" --out "$weights" >/dev/null || { failures=$((failures + 1)); continue; }
  forward=(forward "$bundle" --device cuda --weights "$weights" --input "$case_dir/clips.npy" --output "$work/$name/y.npy")
  step=(step "$bundle" --device cuda --weights "$weights" --input "$case_dir/clips.npy" --labels "$case_dir/labels.npy"
        --lr "$(kit_number lr)" --momentum "$(kit_number momentum)" --wd "$(kit_number weight_decay)" --steps 2)
  for tool in memcheck initcheck; do
    options=(--tool "$tool" --error-exitcode 3)
    [ "$tool" = memcheck ] && options+=(--leak-check full)
    for entry in forward step; do
      if [ "$entry" = forward ]; then run=("${forward[@]}"); else run=("${step[@]}"); fi
      log=$out/$name.$entry.$tool.txt
      start=$(date +%s.%N)
      "$sanitizer" "${options[@]}" "$vidrun" "${run[@]}" >"$log" 2>&1
      rc=$?
      seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
      summary=$(grep -hoE '(ERROR|LEAK) SUMMARY: .*' "$log" | tr '\n' ' ')
      verdict=pass
      ((rc == 0)) || { verdict=FAIL; failures=$((failures + 1)); }
      printf '%-20s %-8s %-10s %6ss  %-5s %s\n' "$name" "$entry" "$tool" "$seconds" "$verdict" "$summary"
    done
  done
done
((failures == 0)) || { echo "sanitize: $failures runs failed or had errors" >&2; exit 1; }
echo "sanitize: no errors"
