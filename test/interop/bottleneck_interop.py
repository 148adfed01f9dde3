"""Bottleneck interop: our compiled forward and SGD step against bottleneck_models.py's PyTorch.

For three tiny models, one per block kind (bottleneck, ir-csn, ip-csn; stem of 8 channels with
the stem max pool, two stages of two blocks, widths 8 and 16, the second with stride 2, so
there are projection and identity shortcuts, a strided depthwise conv and a strided
projection), writes the spec to WORK_DIR, checks its names and shapes against `vidc info`
(bottleneck_shapes.py), builds it with `vidc build`, then
  - forward: random weights and BN statistics (torchvision_forward.randomize), `vidrun forward`
    on 3 clips (not a multiple of the batch), logits against the float64 eval-mode model,
    max |ours - torch| / max |torch| <= torchvision_forward.TOLERANCE;
  - step: one `vidrun step` (lr, momentum, weight decay, training-mode BN) against
    torch.optim.SGD in float64, compared as torchvision_step.py compares (loss, every tensor
    after the step, the update itself, num_batches_tracked).
Prints one line per model and check; exits 1 on any mismatch.

usage: bottleneck_interop.py VIDC VIDRUN WORK_DIR [--seed S]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

from bottleneck_models import CSN_BN_EPS, bottleneck_resnet
from bottleneck_shapes import problems_of, vidc_info
from torchvision_forward import TOLERANCE, randomize, save_safetensors
from torchvision_step import compare, load_safetensors, torch_steps

TINY = [  # model name, block kind, BN eps
    ("tiny_bottleneck", "bottleneck", 1e-5),
    ("tiny_ir_csn", "ir-csn", CSN_BN_EPS),
    ("tiny_ip_csn", "ip-csn", CSN_BN_EPS),
]
LAYERS, WIDTHS, STEM_WIDTH = (2, 2), (8, 16), 8
INPUT, CLASSES, BATCH, CLIPS = "3x4x32x32", 5, 2, 3
LR, MOMENTUM, WD = 0.05, 0.9, 1e-3  # torchvision_step.py's defaults


class ToolFailed(Exception):
    """vidc or vidrun exited non-zero; the message names the tool and its first error."""


def tool(cmd):
    """Runs CMD; its stdout, or ToolFailed with the first line of its complaint."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        text = done.stderr + done.stdout
        errors = [l for l in text.splitlines() if "error" in l] or text.splitlines()[-1:] or [""]
        how = (f"died of signal {-done.returncode}" if done.returncode < 0
               else f"exited {done.returncode}")
        first = errors[0].strip()[:300]
        raise ToolFailed(f"{os.path.basename(cmd[0])} {cmd[1]} {how}" + (f": {first}" if first else ""))
    return done.stdout


def spec_text(name, block, bn_eps, stem_pool=True):
    """The tiny model as a .vnet spec, the same network as tiny_model()."""
    c, l, h, w = INPUT.split("x")
    lines = [f"model {name}" + (f" bn_eps={bn_eps:g}" if bn_eps != 1e-5 else ""),
             f"input clip c={c} l={l} h={h} w={w}",
             f"stem  conv3d t=3 d=7 ch={STEM_WIDTH} stride=1x2x2"]
    if stem_pool:
        lines.append("pool  max k=1x3x3 stride=1x2x2 pad=0x1x1")
    for i, (blocks, width) in enumerate(zip(LAYERS, WIDTHS)):
        lines.append(f"stage conv3d t=3 d=3 ch={width} x{blocks} block={block}"
                     + (" stride=2" if i else ""))
    lines.append(f"head  classes={CLASSES}")
    return "\n".join(lines) + "\n"


def tiny_model(block, bn_eps, stem_pool=True):
    return bottleneck_resnet(block, LAYERS, WIDTHS, STEM_WIDTH, CLASSES, bn_eps, stem_pool)


def check_forward(vidrun, bundle, prefix, model, generator):
    """(ok, line): eval-mode logits of random clips."""
    randomize(model, generator)
    model.eval()
    weights = prefix + ".safetensors"
    save_safetensors(weights, model.state_dict())
    x = torch.randn(CLIPS, *(int(v) for v in INPUT.split("x")), generator=generator)
    np.save(prefix + "_x.npy", x.numpy())
    tool([vidrun, "forward", bundle, "--weights", weights, "--input", prefix + "_x.npy",
          "--output", prefix + "_y.npy"])
    ours = torch.from_numpy(np.load(prefix + "_y.npy")).double()
    with torch.no_grad():
        theirs = model.double()(x.double())
    if ours.shape != theirs.shape:
        return False, f"forward: logits {list(ours.shape)}, torch {list(theirs.shape)} MISMATCH"
    rel = float((ours - theirs).abs().max() / theirs.abs().max())
    ok = rel <= TOLERANCE
    return ok, (f"forward, {CLIPS} clips of {INPUT}, max |ours - torch| / max |torch| = {rel:.2e}"
                f" ({'ok' if ok else 'MISMATCH'}, tolerance {TOLERANCE:.0e})")


def check_step(vidrun, bundle, prefix, model, generator):
    """(ok, line, problems): one SGD step in training mode from fresh random weights."""
    randomize(model, generator)
    with torch.no_grad():  # a fresh model: after the step the count is 1
        for t, v in model.state_dict().items():
            if t.endswith("num_batches_tracked"):
                v.zero_()
    weights, after = prefix + "_step.safetensors", prefix + "_after.safetensors"
    save_safetensors(weights, model.state_dict())
    x = torch.randn(BATCH, *(int(v) for v in INPUT.split("x")), generator=generator)
    y = torch.randint(0, CLASSES, (BATCH,), generator=generator)
    np.save(prefix + "_step_x.npy", x.numpy())
    np.save(prefix + "_step_y.npy", y.numpy().astype(np.int64))
    if os.path.exists(after):
        os.remove(after)
    out = tool([vidrun, "step", bundle, "--weights", weights, "--input", prefix + "_step_x.npy",
                "--labels", prefix + "_step_y.npy", "--steps", "1", "--lr", repr(LR),
                "--momentum", repr(MOMENTUM), "--wd", repr(WD), "--out", after])
    report = json.loads([l for l in out.splitlines() if l.strip()][-1])
    before = {k: v.double() if v.is_floating_point() else v.clone()
              for k, v in model.state_dict().items()}
    their_losses, theirs = torch_steps(model, x, y, 1, LR, MOMENTUM, WD)
    return compare("step", before, load_safetensors(after), theirs, report.get("losses", []),
                   their_losses, 1)


def run_model(args, name, block, bn_eps, generator, stem_pool=True):
    """Structure, build, forward and step of one tiny model; returns its failure count."""
    prefix = os.path.join(args.work, name)
    spec = prefix + ".vnet"
    with open(spec, "w") as f:
        f.write(spec_text(name, block, bn_eps, stem_pool))
    model = tiny_model(block, bn_eps, stem_pool)
    problems, _, _ = problems_of(model, vidc_info(args.vidc, spec, INPUT),
                                 [int(v) for v in INPUT.split("x")])
    if problems:  # names or shapes differ: the numbers below would mean nothing
        print(f"{name}: structure MISMATCH")
        for p in problems[:10]:
            print(f"  {name}: {p}")
        return 1
    bundle = prefix + ".vbundle"
    try:
        tool([args.vidc, "build", spec, "--input", INPUT, "--classes", str(CLASSES),
              "--batch", str(BATCH), "-o", bundle])
        ok_forward, line = check_forward(args.vidrun, bundle, prefix, model, generator)
        print(f"{name}: {line}", flush=True)
        model = tiny_model(block, bn_eps, stem_pool)  # check_forward left it in float64
        ok_step, line, problems = check_step(args.vidrun, bundle, prefix, model, generator)
    except ToolFailed as e:  # counted, and the other models still run
        print(f"{name}: FAILED, {e}", flush=True)
        return 1
    print(f"{name}: {line}" + ("" if ok_step else " MISMATCH"), flush=True)
    for p in problems:
        print(f"  {name}: {p}")
    return (not ok_forward) + (not ok_step)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vidc")
    parser.add_argument("vidrun")
    parser.add_argument("work")
    parser.add_argument("--seed", type=int, default=2019)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    failures = sum(run_model(args, name, block, eps, generator) for name, block, eps in TINY)
    print(f"bottleneck interop: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
