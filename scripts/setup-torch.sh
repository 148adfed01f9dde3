#!/usr/bin/env bash
# Installs Debian's PyTorch and torchvision (the independent reference for interop tests and
# benchmarks) if missing. They are for /usr/bin/python3, whatever python3 is first on PATH.
set -euo pipefail
packages=(python3-torch python3-torchvision python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "setup-torch: installing ${missing[*]} (about a minute)"
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
