"""torchvision interop: our compiled forward against PyTorch's eval-mode forward.

For each torchvision video ResNet (r3d_18, mc3_18, r2plus1d_18) with random weights and
random BN running statistics, saves the state_dict as safetensors, compiles the matching
spec with `vidc build`, runs `vidrun forward` on a random clip batch (N not a multiple of the
compiled batch, so the padded last chunk is exercised too), and compares the logits with
PyTorch's (run in float64) to 1e-4 relative (max |ours - torch| / max |torch|).
Prints one line per model; exits 1 on any mismatch.

Needs Debian's python3-torch and python3-torchvision; test/interop/run.sh installs them.
usage: torchvision_forward.py VIDC VIDRUN MODELS_DIR WORK_DIR [--input CxLxHxW] [--seed S]
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torchvision.models.video as tvm

TOLERANCE = 1e-4
MODELS = [  # torchvision constructor, our spec
    ("r3d_18", "r3d_18.vnet"),
    ("mc3_18", "mc3_18.vnet"),
    ("r2plus1d_18", "torchvision/r2plus1d_18.vnet"),
]


def save_safetensors(path, state_dict):
    """The safetensors format written by hand (torch 1.13 predates the package)."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for b in blobs:
            f.write(b)


def randomize(model, generator):
    """Random weights everywhere, BN statistics included, so eval-mode BN is no identity."""
    with torch.no_grad():
        for name, p in model.state_dict().items():
            if p.dtype != torch.float32:
                p.fill_(int(torch.randint(0, 1000, (1,), generator=generator)))
            elif name.endswith("running_var"):
                p.copy_(torch.rand(p.shape, generator=generator) + 0.5)
            elif name.endswith("running_mean") or name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=generator) * 0.1)
            elif name.endswith("weight") and p.dim() == 1:
                p.copy_(torch.rand(p.shape, generator=generator) + 0.5)
            else:  # conv and fc weights, scaled to keep activations O(1)
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=generator) * (2.0 / fan_in) ** 0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vidc")
    parser.add_argument("vidrun")
    parser.add_argument("models")
    parser.add_argument("work")
    parser.add_argument("--input", default="3x4x32x32")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--only", default=None, help="one torchvision model name")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    c, l, h, w = (int(v) for v in args.input.split("x"))
    generator = torch.Generator().manual_seed(args.seed)
    failures = 0
    for name, spec in MODELS:
        if args.only and name != args.only:
            continue
        model = getattr(tvm, name)(num_classes=args.classes)
        randomize(model, generator)
        model.eval()
        weights = os.path.join(args.work, name + ".safetensors")
        save_safetensors(weights, model.state_dict())
        x = torch.randn(args.clips, c, l, h, w, generator=generator)
        np.save(os.path.join(args.work, name + "_x.npy"), x.numpy())
        bundle = os.path.join(args.work, name + ".vbundle")
        subprocess.run([args.vidc, "build", os.path.join(args.models, spec), "--input", args.input,
                        "--classes", str(args.classes), "--batch", str(args.batch), "-o", bundle],
                       check=True, stdout=subprocess.DEVNULL)
        out = os.path.join(args.work, name + "_y.npy")
        subprocess.run([args.vidrun, "forward", bundle, "--weights", weights, "--input",
                        os.path.join(args.work, name + "_x.npy"), "--output", out],
                       check=True, stderr=subprocess.DEVNULL)
        ours = torch.from_numpy(np.load(out)).double()
        with torch.no_grad():
            theirs = model.double()(x.double())
        rel = float((ours - theirs).abs().max() / theirs.abs().max())
        ok = rel <= TOLERANCE and ours.shape == theirs.shape
        failures += not ok
        print(f"{name}: input {args.clips}x{args.input}, max |ours - torch| / max |torch| = {rel:.2e}"
              f" ({'ok' if ok else 'MISMATCH'}, tolerance {TOLERANCE:.0e})")
    print(f"torchvision interop: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
