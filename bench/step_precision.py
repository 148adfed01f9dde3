"""Precision of one SGD step over several seeds: ours and PyTorch's float32 against float64.

For each seed: torchvision's r3d_18 with random weights and BN statistics (torchvision_forward's
randomize), one random batch, one SGD step (momentum 0.9, weight decay 1e-3, lr 0.1) through
`vidrun step` and through PyTorch in float32 and in float64 (training mode, torch.optim.SGD).
The error of a step is the worst tensor's max |w - w64| / max |w64| after it. Each seed has
20-40 ReLU inputs within 1e-5 of zero in float64; any float32 code puts one on the other side
of the kink now and then, and that seed's error jumps from about 1e-6 to 1e-4..1e-2. So besides
the medians over all seeds (the goal: ours at most PyTorch float32's) the script counts the
seeds that agree with float64 to rounding (< 1e-4: no ReLU decision differs) and gives the
median error over the seeds where both agree. A seed flips or not by chance (a few in ten for
float32 code), so the default is 40 seeds: with 12 the medians of both sides sat on a handful of
flipped seeds and swapped order from one set of seeds to the next (seeds 1-12: 5 agreeing for
each; 1-40: ours 27, PyTorch's 11). A measurement, not a test: a line per seed, the summary and
one JSON line (scripts/bench.sh --precision, about 15 minutes on 2 cores).

Needs Debian's python3-torch and python3-torchvision (scripts/setup-torch.sh installs them).
usage: step_precision.py VIDC VIDRUN MODELS_DIR WORK_DIR [--seeds 1,...,40] [--input 3x8x48x48]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np
import torch
import torchvision.models.video as tvm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "interop"))
from torchvision_forward import randomize, save_safetensors
from torchvision_step import NEAR_KINK, bundle_matches, load_safetensors, torch_steps

LR, MOMENTUM, WD = 0.1, 0.9, 1e-3
# A step whose worst error is above this has a ReLU input on the other side of the kink.
KINK_FLIP = 1e-4


def worst_error(after, reference):
    worst = 0.0
    for name, expected in reference.items():
        if name.endswith("num_batches_tracked"):
            continue
        expected = expected.numpy()
        scale = max(float(np.abs(expected).max()), 1e-30)
        worst = max(worst, float(np.abs(np.asarray(after[name], dtype=np.float64) - expected).max()) / scale)
    return worst


def main():
    p = argparse.ArgumentParser()
    p.add_argument("vidc")
    p.add_argument("vidrun")
    p.add_argument("models")
    p.add_argument("work")
    p.add_argument("--seeds", default=",".join(str(i) for i in range(1, 41)))
    p.add_argument("--input", default="3x8x48x48")
    p.add_argument("--classes", type=int, default=400)
    p.add_argument("--batch", type=int, default=2)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    shape = [int(v) for v in a.input.split("x")]
    spec = os.path.join(a.models, "r3d_18.vnet")
    bundle = os.path.join(a.work, f"r3d_18-{a.input}-b{a.batch}.vbundle")
    if bundle_matches(bundle, spec, a.vidc, shape, a.classes, a.batch) is not None:
        subprocess.run([a.vidc, "build", spec, "--input", a.input, "--classes", str(a.classes), "--batch",
                        str(a.batch), "-o", bundle], check=True, stdout=subprocess.DEVNULL)
    ours_errors, torch_errors = [], []
    for seed in [int(s) for s in a.seeds.split(",")]:
        generator = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        model = tvm.r3d_18(num_classes=a.classes)
        randomize(model, generator)
        x = torch.randn(a.batch, *shape, generator=generator)
        y = torch.randint(0, a.classes, (a.batch,), generator=generator)
        prefix = os.path.join(a.work, f"seed{seed}")
        save_safetensors(prefix + ".safetensors", model.state_dict())
        np.save(prefix + "_x.npy", x.numpy())
        np.save(prefix + "_y.npy", y.numpy().astype(np.int64))
        subprocess.run([a.vidrun, "step", bundle, "--weights", prefix + ".safetensors", "--input", prefix + "_x.npy",
                        "--labels", prefix + "_y.npy", "--lr", repr(LR), "--momentum", repr(MOMENTUM), "--wd",
                        repr(WD), "--out", prefix + "_after.safetensors"], check=True, stdout=subprocess.DEVNULL)
        ours = load_safetensors(prefix + "_after.safetensors")
        near = []
        _, reference = torch_steps(model, x, y, 1, LR, MOMENTUM, WD, dtype=torch.float64, near_zero=near)
        _, theirs = torch_steps(model, x, y, 1, LR, MOMENTUM, WD, dtype=torch.float32)
        ours_errors.append(worst_error(ours, reference))
        torch_errors.append(worst_error({k: v.numpy() for k, v in theirs.items()}, reference))
        # Hundreds of MB per seed (the weights before and after the step): 40 seeds filled a disk.
        for suffix in (".safetensors", "_x.npy", "_y.npy", "_after.safetensors"):
            os.remove(prefix + suffix)
        print(f"seed {seed}: worst weight error vs float64: ours {ours_errors[-1]:.2e}, PyTorch float32 "
              f"{torch_errors[-1]:.2e} ({near[0]} float64 ReLU inputs within {NEAR_KINK:.0e} of 0)", flush=True)
    ours_median, torch_median = statistics.median(ours_errors), statistics.median(torch_errors)
    verdict = "at most PyTorch's" if ours_median <= torch_median else "above PyTorch's"
    ours_agree = [e < KINK_FLIP for e in ours_errors]
    torch_agree = [e < KINK_FLIP for e in torch_errors]
    both = [i for i in range(len(ours_errors)) if ours_agree[i] and torch_agree[i]]
    ours_both = statistics.median([ours_errors[i] for i in both]) if both else None
    torch_both = statistics.median([torch_errors[i] for i in both]) if both else None
    print(json.dumps({"seeds": len(ours_errors), "ours_median": ours_median, "torch_float32_median": torch_median,
                      "ours_agreeing_seeds": sum(ours_agree), "torch_float32_agreeing_seeds": sum(torch_agree),
                      "ours_median_where_both_agree": ours_both, "torch_float32_median_where_both_agree": torch_both,
                      "ours": ours_errors, "torch_float32": torch_errors}))
    print(f"step precision over {len(ours_errors)} seeds: median worst weight error ours {ours_median:.2e}, PyTorch "
          f"float32 {torch_median:.2e}: {verdict}")
    print(f"  seeds with every ReLU decision as in float64 (error < {KINK_FLIP:.0e}): ours {sum(ours_agree)}, "
          f"PyTorch float32 {sum(torch_agree)}")
    if both:
        print(f"  median error over the {len(both)} seeds where both agree: ours {ours_both:.2e}, "
              f"PyTorch float32 {torch_both:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
