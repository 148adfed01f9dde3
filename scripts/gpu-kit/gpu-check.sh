#!/usr/bin/env bash
# The vidnet GPU check, run from the kit on a machine with an NVIDIA GPU and driver and nothing else: the CUDA
# bundles' forward and SGD step against the CPU bundles' outputs shipped in the kit, their times (and, where
# python3 has torch and torchvision with CUDA, torchvision on this GPU as a second reference and its times).
#   gpu-check.sh [-o DIR] [--iters N] [--quick] [--no-bench] [--no-torch] [--arch sm_XY]
#     --quick     the tiny R(2+1)D's checks only; --no-bench: every check, no timing
#     --arch      the kit's bundles for that arch (not newer than the GPU's): an older one's PTX is JIT-compiled
# Prints one table; DIR (default: ./gpu-check-results) gets results.json and every command's output.
# Exit: 0 all checks pass, 1 a check failed, 2 no usable NVIDIA GPU here. Never uses the network.
set -uo pipefail
kit=$(cd "$(dirname "$0")" && pwd)
out=$PWD/gpu-check-results iters=10 quick=0 bench=1 torch=1 want_arch=""
usage() { echo "usage: gpu-check.sh [-o DIR] [--iters N] [--quick] [--no-bench] [--no-torch] [--arch sm_XY]" >&2; exit 2; }
while (($#)); do
  case "$1" in
    -o) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --iters) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; iters=$2; shift 2 ;;
    --quick) quick=1 bench=0; shift ;;
    --no-bench) bench=0; shift ;;
    --arch) [[ ${2:-} =~ ^sm_[0-9]+$ ]] || usage; want_arch=$2; shift 2 ;;
    --no-torch) torch=0; shift ;;
    *) usage ;;
  esac
done
vidrun=$kit/vidnet-runtime/bin/vidrun
readonly LOGIT_TOL=1e-4 LOSS_TOL=1e-5
# The step's weights and updates are two float32 steps compared with each other, each of which torch_check.py holds
# to 1e-4 and 1e-3 of float64: their difference may be up to twice that. Seen on an H200: r3d_18-small's
# layer4.0.conv2.1.weight update 1.05e-3 from the CPU's, while the GPU's, the CPU's and torch float32's own were each
# 5.8e-4 from float64, on opposite sides of it.
readonly WEIGHT_TOL=2e-4 UPDATE_TOL=2e-3

devices=$("$vidrun" devices 2>&1) || { echo "gpu-check: ${devices#vidrun: }" >&2; exit 2; }
read -r _ device_arch _ <<<"$devices"
device_name=$(head -1 <<<"$devices" | cut -d' ' -f5-)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The kit's arch for this device: the same one (its cubin), else the newest older one (the driver JITs its PTX).
arch_number() { echo "${1#sm_}"; }
pick=""
for a in $(grep -o '"sm_[0-9]*"' "$kit/kit.json" | head -20 | tr -d '"' | sort -uV); do
  (( $(arch_number "$a") <= $(arch_number "$device_arch") )) && [ -z "$want_arch" ] || [ "$a" = "$want_arch" ] && pick=$a
done
if [ -n "$want_arch" ] && { [ "$pick" != "$want_arch" ] || (( $(arch_number "$pick") > $(arch_number "$device_arch") )); }; then
  echo "gpu-check: --arch $want_arch: the kit has no such bundles, or they are newer than this $device_arch GPU" >&2
  exit 2
fi
[ -n "$pick" ] || { echo "gpu-check: $device_name is $device_arch; the kit's bundles need a newer GPU" >&2; exit 2; }
echo "gpu-check: $device_name ($device_arch), bundles for $pick; results in $out"

# A field of a compact one-line JSON object written by vidrun (numbers and plain strings only).
field() { grep -o "\"$2\":[^,}]*" <<<"$1" | head -1 | cut -d: -f2- | tr -d '"'; }
kit_field() {  # a field of the case named $1 in kit.json (its object has no nested braces)
  grep -o "{\"name\": \"$1\"[^}]*}" "$kit/kit.json" | sed -n "s/.*\"$2\": \"*\([^\",}]*\).*/\1/p"
}
kit_number() { sed -n "s/.*\"$1\": \([0-9.e-]*\).*/\1/p" "$kit/kit.json" | head -1; }  # a top-level number
unpack() { mkdir -p "$2" && tar -C "$2" -xzf "$1"; }

failures=0 rows=() records=()
# The CUDA runtime's own tests (driver, executor); on a machine with a GPU none may skip.
if "$kit/vidnet-gpu-tests" --gtest_brief=1 --gtest_output="json:$out/gpu-tests.json" >"$out/gpu-tests.log" 2>&1 &&
  ! grep -q '^\[  SKIPPED \]' "$out/gpu-tests.log"; then
  tests_verdict=pass
else
  tests_verdict=FAIL failures=$((failures + 1))
fi
rows+=("$(printf '%-20s %-26s %10s %8s  %s' runtime "vidnet-gpu-tests" \
  "$(grep -o '[0-9]* tests\? from [0-9]* test suites\? ran' "$out/gpu-tests.log" | cut -d' ' -f1) tests" - "$tests_verdict")")
[ $tests_verdict = pass ] || tail -20 "$out/gpu-tests.log" >&2

check() {  # name, what, value, tolerance [, info] -> row; counts a failure unless the 5th argument is "info"
  local ok=pass value=$3
  # Anything but a number (a comparison that produced nothing) fails too.
  [[ $value =~ ^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$ ]] || { value=inf; }
  awk -v v="$value" -v t="$4" 'BEGIN { exit !(v != "inf" && v + 0 <= t + 0) }' || ok=FAIL
  if [ "${5:-}" = info ]; then
    ok="info (not a check: ReLU inputs near 0)"
  elif [ $ok = FAIL ]; then
    failures=$((failures + 1))
  fi
  [ "$value" = inf ] || value=$(printf '%.2e' "$value")
  rows+=("$(printf '%-20s %-26s %10s %8s  %s' "$1" "$2" "$value" "$4" "$ok")")
}

for case_dir in "$kit"/cases/*/; do
  name=$(basename "$case_dir")
  ((quick)) && [ "$name" != tiny_r2plus1d ] && continue
  bundle=$work/$name/$pick.vbundle
  unpack "$case_dir/$pick.vbundle.tar.gz" "$work/$name" || { failures=$((failures + 1)); continue; }
  log=$out/$name.log
  {
    "$vidrun" init "$bundle" --seed "$(kit_number seed)" \
      --out "$out/$name.w0.safetensors" &&
    "$vidrun" forward "$bundle" --device cuda --weights "$out/$name.w0.safetensors" --input "$case_dir/clips.npy" \
      --output "$out/$name.logits.npy" &&
    "$vidrun" step "$bundle" --device cuda --weights "$out/$name.w0.safetensors" --input "$case_dir/clips.npy" \
      --labels "$case_dir/labels.npy" --lr "$(kit_number lr)" --momentum "$(kit_number momentum)" \
      --wd "$(kit_number weight_decay)" \
      --out "$out/$name.step.safetensors" >"$out/$name.step.json"
  } >"$log" 2>&1 || { echo "gpu-check: $name failed on the GPU:" >&2; tail -3 "$log" >&2; failures=$((failures + 1)); continue; }
  # Three steps with the weights kept on the device between them give the bits of copying every input each time.
  resident=unequal
  for mode in resident copied; do
    env $([ $mode = copied ] && echo VIDNET_CUDA_UPLOAD_ALL=1) "$vidrun" step "$bundle" --device cuda \
      --weights "$out/$name.w0.safetensors" --input "$case_dir/clips.npy" --labels "$case_dir/labels.npy" \
      --lr "$(kit_number lr)" --momentum "$(kit_number momentum)" --wd "$(kit_number weight_decay)" --steps 3 \
      --out "$work/$name.3steps.$mode.safetensors" >>"$log" 2>&1
  done
  cmp -s "$work/$name.3steps.resident.safetensors" "$work/$name.3steps.copied.safetensors" && resident=equal
  sha=$(sha256sum "$out/$name.w0.safetensors" | cut -d' ' -f1)
  [ "$sha" = "$(kit_field "$name" w0_sha256)" ] || echo "gpu-check: $name: vidrun init gave other weights than on the build machine (sha256)" >&2
  logits=$("$vidrun" compare "$out/$name.logits.npy" "$case_dir/logits.npy" 2>>"$log")
  weights=$("$vidrun" compare "$out/$name.step.safetensors" "$case_dir/step.safetensors" \
    --base "$out/$name.w0.safetensors" 2>>"$log")
  gpu_loss=$(sed 's/.*"loss": \([^,]*\),.*/\1/' "$out/$name.step.json")
  cpu_loss=$(kit_field "$name" cpu_loss)
  loss_err=$(awk -v a="$gpu_loss" -v b="$cpu_loss" 'BEGIN { d = a - b; if (d < 0) d = -d; print d / (b < 0 ? -b : b) }')
  check "$name" "forward logits" "$(field "$logits" error)" $LOGIT_TOL
  check "$name" "step loss" "$loss_err" $LOSS_TOL
  check "$name" "3 steps, weights on device" "$([ $resident = equal ] && echo 0 || echo 1)" 0
  # The step's weights are a check where the kit's clips keep every ReLU input away from 0 (kit.json).
  mode=$([ "$(kit_field "$name" step_checked)" = true ] || echo info)
  check "$name" "step weights (worst)" "$(grep -o '"worst":{"error":[^,]*' <<<"$weights" | cut -d: -f3)" $WEIGHT_TOL $mode
  check "$name" "step update (worst)" "$(grep -o '"worst_update":{"error":[^,]*' <<<"$weights" | cut -d: -f3)" \
    $UPDATE_TOL $mode
  rows+=("$(printf '%-20s   worst tensors: weights %s, update %s' "" \
    "$(grep -o '"worst":{[^}]*' <<<"$weights" | grep -o '"tensor":"[^"]*' | cut -d'"' -f4)" \
    "$(grep -o '"worst_update":{[^}]*' <<<"$weights" | grep -o '"tensor":"[^"]*' | cut -d'"' -f4)")")
  records+=("{\"case\": \"$name\", \"logits\": $logits, \"weights\": $weights, \"gpu_loss\": $gpu_loss, \"cpu_loss\": $cpu_loss}")
done

bench_lines=()
if ((bench)); then
  for tarball in "$kit"/bench/*."$pick".vbundle.tar.gz; do
    [ -e "$tarball" ] || continue
    name=$(basename "$tarball" ".$pick.vbundle.tar.gz")
    unpack "$tarball" "$work/bench-$name"
    echo "gpu-check: timing $name" >&2
    if result=$("$vidrun" bench "$work/bench-$name/$pick.vbundle" --device cuda --iters "$iters" 2>>"$out/$name.bench.log"); then
      bench_lines+=("{\"name\": \"$name\", \"vidnet\": $result}")
    else
      echo "gpu-check: bench $name failed: $(tail -1 "$out/$name.bench.log")" >&2
      failures=$((failures + 1))
    fi
  done
fi

join() { local IFS=,; echo "$*"; }
cat >"$out/vidnet.json" <<JSON
{"device": "$device_name", "arch": "$device_arch", "bundles": "$pick", "failures": $failures,
 "checks": [$(join "${records[@]}")],
 "bench": [$(join "${bench_lines[@]}")]}
JSON
cp "$out/vidnet.json" "$out/results.json"

echo
echo "CUDA bundles against the CPU bundles' outputs (relative error: max |gpu - cpu| / max |cpu|)"
printf '%-20s %-26s %10s %8s\n' case check error tolerance
printf '%s\n' "${rows[@]}"
if ((${#bench_lines[@]})); then
  echo
  echo "vidnet on $device_name, seconds per call (median of $iters), kernels launched, device memory"
  printf '%-18s %10s %10s %8s %10s %10s %8s %9s\n' shape fwd_s fwd_kern_s fwd_k step_s step_kern_s step_k mem_MiB
  for line in "${bench_lines[@]}"; do
    fwd=$(grep -o '"forward":{[^}]*' <<<"$line") step=$(grep -o '"train_step":{[^}]*' <<<"$line")
    printf '%-18s %10.4f %10.4f %8s %10.4f %10.4f %8s %9d\n' "$(field "$line" name)" "$(field "$fwd" median_s)" \
      "$(field "$fwd" kernel_median_s)" "$(field "$fwd" kernels)" "$(field "$step" median_s)" \
      "$(field "$step" kernel_median_s)" "$(field "$step" kernels)" $(( $(field "$line" device_buffer_bytes) >> 20 ))
  done
fi

if ((torch)) && python3 -c "import torch, torchvision; assert torch.cuda.is_available()" 2>/dev/null; then
  echo
  PYTHONUNBUFFERED=1 python3 "$kit/torch_check.py" --kit "$kit" --results "$out" --iters "$iters" \
    $( ((quick)) && echo --quick) $( ((bench)) || echo --no-bench) || failures=$((failures + 1))
elif ((torch)); then
  echo "gpu-check: no python3 with torch, torchvision and CUDA here: torchvision not compared"
fi
echo
if ((failures)); then
  echo "gpu-check: $failures check(s) FAILED ($out)"
  exit 1
fi
echo "gpu-check: all checks passed ($out/results.json)"
