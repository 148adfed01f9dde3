#!/usr/bin/env bash
# Creates (once) the virtual environment the peer benchmarks run in: PyTorch 2 with torchvision,
# OpenVINO, IREE, ONNX and ONNX Runtime at pinned versions, from PyPI, inside the checkout.
#   scripts/setup-peers.sh      prints the environment's python on its last line
# Debian's python3-torch (1.13) stays for the test suite; only bench/ uses this environment.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VIDNET_PEERS_VENV:-$PWD/.venv-peers}
# One environment holds every peer: their pins do not conflict (checked with pip's resolver).
# torch's PyPI wheel brings its CUDA libraries (about 3 GiB); PyPI has no CPU-only build.
pins=(
  torch==2.15.0 torchvision==0.29.2
  openvino==2026.4.1
  iree-base-compiler==3.13.0 iree-base-runtime==3.13.0
  onnx==1.23.2 onnxscript onnxruntime==1.31.1
  numpy
)
stamp="$venv/.vidnet-pins"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${pins[*]}" ] && "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi

# python3-venv is Debian's; the interpreter is Debian's too, whatever python3 is first on PATH.
if ! /usr/bin/python3 -c "import ensurepip, venv" 2>/dev/null; then
  echo "setup-peers: installing python3-venv" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi

if ! /usr/bin/python3 - <<'EOF' 2>/dev/null; then
import urllib.request
urllib.request.urlopen("https://pypi.org/simple/torch/", timeout=20).read(1)
EOF
  echo "setup-peers: cannot reach PyPI (https://pypi.org): the peer benchmarks need torch, openvino, iree and onnxruntime from it" >&2
  exit 1
fi

echo "setup-peers: creating $venv with ${pins[*]} (a few minutes the first time)" >&2
rm -rf "$venv"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip >&2
if ! "$venv/bin/python" -m pip install --quiet "${pins[@]}" >&2; then
  echo "setup-peers: pip could not install ${pins[*]} into $venv" >&2
  exit 1
fi
printf '%s' "${pins[*]}" >"$stamp"
echo "$venv/bin/python"
