"""The peer benchmark's work counts (bench/peers/reference.py: forward_work) against two
independent ones: the nominal multiply-adds against `vidc info --json`, and the useful ones (taps
that read the clip, not the padding) against a convolution of ones with ones, which counts, at
every output position, exactly the taps that land inside the input. Exits 1 on a mismatch.

Needs Debian's python3-torch and python3-torchvision (test/interop/run.sh installs them).
usage: work_count.py BUILD_DIR"""
import json
import os
import subprocess
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench", "peers"))
from common import video_model  # noqa: E402
from reference import forward_work  # noqa: E402
from vidnet_peer import SPECS  # noqa: E402


def ones_count(model, x):
    total = [0]

    def conv(module, inputs, output):
        ones = torch.ones(1, 1, *inputs[0].shape[2:], dtype=torch.float64)
        kernel = torch.ones(1, 1, *module.kernel_size, dtype=torch.float64)
        taps = F.conv3d(ones, kernel, stride=module.stride, padding=module.padding, dilation=module.dilation)
        total[0] += int(taps.sum()) * module.in_channels // module.groups * module.out_channels

    hooks = [m.register_forward_hook(conv) for m in model.modules() if isinstance(m, torch.nn.Conv3d)]
    linear = sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total[0] + linear


def main():
    vidc = os.path.join(sys.argv[1], "bin", "vidc")
    failures = 0
    for clip in ("3x4x32x32", "3x8x112x112"):
        for name, spec in SPECS.items():
            model = video_model(name).eval()
            x = torch.zeros(1, *(int(v) for v in clip.split("x")))
            nominal, useful, stem = forward_work(model, x)
            info = json.loads(subprocess.run([vidc, "info", "--json", "--input", clip, spec], check=True,
                                             capture_output=True, text=True).stdout)
            expected_useful = ones_count(model, x)
            ok = nominal == info["macs"] and useful == expected_useful and 0 < stem < useful < nominal
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name} {clip}: nominal {nominal} (vidc info {info['macs']}), "
                  f"useful {useful} (ones-convolution {expected_useful}), stem {stem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
