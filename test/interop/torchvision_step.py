"""torchvision interop: our compiled training step against PyTorch's SGD step.

For each torchvision video ResNet (r3d_18, mc3_18, r2plus1d_18) with random weights and
random BN running statistics (as in torchvision_forward.py), saves the state_dict as
safetensors, compiles the matching spec with `vidc build`, runs `vidrun step` for STEPS SGD
steps (momentum and weight decay on) on one random batch, and repeats the same steps in
PyTorch (float64 copy, model.train(), torch.optim.SGD). Compares
  - the loss of every step (relative, LOSS_TOLERANCE),
  - every tensor of the state_dict after the steps, max |ours - torch| / max |torch|
    (WEIGHT_TOLERANCE); num_batches_tracked exactly,
  - the update itself, w_after - w_before, max |ours - torch| / max |torch update|
    (UPDATE_TOLERANCE) for tensors whose torch update is not negligible: weights barely move
    in a few steps, so the weights alone could match with a wrong gradient.
Prints one line per model; exits 1 on any mismatch.

run.sh runs one step (--steps 1). After several steps on one batch the comparison is
ill-posed for any float32 implementation: the network memorises the two clips, so the loss
collapses to ~1e-3 and its relative error is the logits' absolute error; and ReLU inputs
within float rounding of 0 take either side, changing every gradient upstream by that element
(measured on r3d_18, 3 steps: PyTorch's own float32 run misses the step-3 loss by 2.4e-4;
ours matches every gradient to ~1e-5 except in the one channel of a flipped element).

Bundles: vidc build into WORK_DIR, unless WORK_DIR (or --bundle-dir) already holds a bundle
that provably matches (same spec sha256, input, classes, batch, a train_step entry point, and
not older than VIDC), as torchvision_forward.py leaves there when run first.

Needs Debian's python3-torch and python3-torchvision; test/interop/run.sh installs them.
usage: torchvision_step.py VIDC VIDRUN MODELS_DIR WORK_DIR [--models r3d_18,...]
                           [--bundle-dir DIR] [--steps 3] [--seed S]
"""
import argparse
import copy
import hashlib
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models.video as tvm

from torchvision_forward import MODELS, randomize, save_safetensors

LOSS_TOLERANCE = 1e-4
WEIGHT_TOLERANCE = 1e-4
UPDATE_TOLERANCE = 1e-3
# A torch update this small relative to the tensor (a few float32 ulps) is not measurable in
# float32 weights; such tensors are compared as weights only.
NEGLIGIBLE_UPDATE = 1e-6
# On a mismatch, ReLU inputs of the float64 run this close to zero are counted: a float32
# forward (ours or PyTorch's, whose error there reaches 1e-5) may put them on the other side
# of the kink, which moves that element's gradient contribution in or out.
NEAR_KINK = 1e-5


def load_safetensors(path):
    """name -> numpy array; the format read by hand (torch 1.13 predates the package)."""
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    dtypes = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4"}
    base, tensors = 8 + size, {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[base + begin:base + end],
                                      dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return tensors


def bundle_matches(bundle, spec, vidc, input_shape, classes, batch):
    """None if BUNDLE was compiled from SPEC's current text for this configuration with a
    training step, by a VIDC no newer than it; otherwise why not."""
    manifest_path = os.path.join(bundle, "manifest.json")
    if not os.path.exists(manifest_path):
        return "no manifest"
    with open(manifest_path) as f:
        m = json.load(f)
    with open(spec, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    if m.get("spec", {}).get("sha256") != sha:
        return "spec sha256 differs"
    if m.get("classes") != classes or m.get("batch") != batch:
        return f"classes/batch {m.get('classes')}/{m.get('batch')}"
    if m.get("input", {}).get("shape") != [batch] + list(input_shape):
        return f"input {m.get('input', {}).get('shape')}"
    if "train_step" not in m.get("entry_points", {}):
        return "no train_step entry point"
    if os.path.getmtime(manifest_path) < os.path.getmtime(vidc):
        return "older than vidc"
    return None


def torch_steps(model, x, y, steps, lr, momentum, wd, dtype=torch.float64, near_zero=None):
    """The reference: a copy in DTYPE, training mode, torch.optim.SGD. Returns losses and the
    state_dict (as float64) after the steps. NEAR_ZERO, a list, gets per step how many ReLU
    inputs lie within NEAR_KINK of zero."""
    m = copy.deepcopy(model).to(dtype).train()
    counts = [0]

    def count(module, inputs):
        counts[0] += int((inputs[0].detach().abs() < NEAR_KINK).sum())

    hooks = [r.register_forward_pre_hook(count) for r in m.modules()
             if near_zero is not None and isinstance(r, torch.nn.ReLU)]
    opt = torch.optim.SGD(m.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
    losses = []
    for _ in range(steps):
        counts[0] = 0
        opt.zero_grad()
        loss = F.cross_entropy(m(x.to(dtype)), y)
        loss.backward()
        opt.step()
        losses.append(float(loss))
        if near_zero is not None:
            near_zero.append(counts[0])
    for h in hooks:
        h.remove()
    return losses, {k: v.detach().double() if v.is_floating_point() else v.detach().clone()
                    for k, v in m.state_dict().items()}


def compare(name, before, ours, theirs, our_losses, their_losses, steps):
    """Returns (ok, summary line, list of mismatch messages)."""
    problems = []
    if len(our_losses) != steps:
        problems.append(f"{len(our_losses)} losses, expected {steps}")
    loss_err = 0.0
    for k, (a, b) in enumerate(zip(our_losses, their_losses)):
        e = abs(a - b) / abs(b)
        loss_err = max(loss_err, e)
        if e > LOSS_TOLERANCE:
            problems.append(f"loss of step {k + 1}: ours {a:.8g}, torch {b:.8g} (rel {e:.2e})")
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    if missing or extra:
        problems.append(f"state_dict names: missing {missing[:5]}, unexpected {extra[:5]}")
    worst_w, worst_u, skipped = (0.0, None), (0.0, None), 0
    weight_bad, update_bad = [], []
    for t in sorted(set(theirs) & set(ours)):
        o, th, b = ours[t], theirs[t].numpy(), before[t].numpy()
        if o.shape != th.shape:
            problems.append(f"{t}: shape {list(o.shape)}, torch {list(th.shape)}")
            continue
        if t.endswith("num_batches_tracked"):
            if int(o) != int(th) or int(th) != steps:
                problems.append(f"{t}: ours {int(o)}, torch {int(th)}, expected {steps}")
            continue
        o = o.astype(np.float64)
        scale = np.abs(th).max()
        e = float(np.abs(o - th).max() / scale) if scale > 0 else float(np.abs(o).max())
        worst_w = max(worst_w, (e, t), key=lambda p: p[0])
        if e > WEIGHT_TOLERANCE:
            weight_bad.append((e, t))
        du_theirs, du_ours = th - b, o - b
        uscale = np.abs(du_theirs).max()
        if uscale <= NEGLIGIBLE_UPDATE * max(np.abs(b).max(), 1e-30):
            skipped += 1
            continue
        e = float(np.abs(du_ours - du_theirs).max() / uscale)
        worst_u = max(worst_u, (e, t), key=lambda p: p[0])
        if e > UPDATE_TOLERANCE:
            update_bad.append((e, t))
    for label, bad, tol in (("weights", weight_bad, WEIGHT_TOLERANCE),
                            ("update", update_bad, UPDATE_TOLERANCE)):
        if bad:
            bad.sort(reverse=True)
            listed = ", ".join(f"{t} {e:.2e}" for e, t in bad[:8])
            problems.append(f"{len(bad)} tensors over the {label} tolerance {tol:.0e}: {listed}"
                            + (" ..." if len(bad) > 8 else ""))
    line = (f"{name}: {steps} steps, loss {our_losses[-1] if our_losses else float('nan'):.6f}"
            f" (worst rel {loss_err:.1e}), worst weight {worst_w[0]:.1e} ({worst_w[1]}),"
            f" worst update {worst_u[0]:.1e} ({worst_u[1]})"
            + (f", {skipped} negligible updates not compared" if skipped else ""))
    return not problems, line, problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vidc")
    parser.add_argument("vidrun")
    parser.add_argument("models")
    parser.add_argument("work")
    parser.add_argument("--models", dest="only", default=None,
                        help="comma-separated torchvision model names (default: all)")
    parser.add_argument("--bundle-dir", default=None,
                        help="take NAME.vbundle from here (must match; for development)")
    parser.add_argument("--input", default="3x4x32x32")
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--wd", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=2019)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    input_shape = [int(v) for v in args.input.split("x")]
    names = [n for n, _ in MODELS]
    wanted = args.only.split(",") if args.only else names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        parser.error(f"unknown models {unknown}; known: {names}")
    failures = 0
    for name, spec in MODELS:
        if name not in wanted:
            continue
        torch.manual_seed(args.seed)
        generator = torch.Generator().manual_seed(args.seed)
        model = getattr(tvm, name)(num_classes=args.classes)
        randomize(model, generator)
        with torch.no_grad():  # a fresh model: the count after the steps is the step count
            for t, v in model.state_dict().items():
                if t.endswith("num_batches_tracked"):
                    v.zero_()
        prefix = os.path.join(args.work, name + "_step")
        weights, after = prefix + ".safetensors", prefix + "_after.safetensors"
        save_safetensors(weights, model.state_dict())
        x = torch.randn(args.batch, *input_shape, generator=generator)
        y = torch.randint(0, args.classes, (args.batch,), generator=generator)
        np.save(prefix + "_x.npy", x.numpy())
        np.save(prefix + "_y.npy", y.numpy().astype(np.int64))

        spec_path = os.path.join(args.models, spec)
        bundle = os.path.join(args.bundle_dir or args.work, name + ".vbundle")
        why = bundle_matches(bundle, spec_path, args.vidc, input_shape, args.classes, args.batch)
        if why is not None and args.bundle_dir:
            print(f"{name}: {bundle} does not match ({why})")
            failures += 1
            continue
        if why is not None:
            subprocess.run([args.vidc, "build", spec_path, "--input", args.input,
                            "--classes", str(args.classes), "--batch", str(args.batch),
                            "-o", bundle], check=True, stdout=subprocess.DEVNULL)
            why = bundle_matches(bundle, spec_path, args.vidc, input_shape, args.classes,
                                 args.batch)
            if why is not None:
                print(f"{name}: freshly built {bundle} does not match ({why})")
                failures += 1
                continue

        if os.path.exists(after):
            os.remove(after)
        run = subprocess.run([args.vidrun, "step", bundle, "--weights", weights,
                              "--input", prefix + "_x.npy", "--labels", prefix + "_y.npy",
                              "--steps", str(args.steps), "--lr", repr(args.lr),
                              "--momentum", repr(args.momentum), "--wd", repr(args.wd),
                              "--out", after], check=True, stdout=subprocess.PIPE, text=True)
        lines = [l for l in run.stdout.splitlines() if l.strip()]
        report = json.loads(lines[-1])
        ours = load_safetensors(after)

        before = {k: v.double() if v.is_floating_point() else v.clone()
                  for k, v in model.state_dict().items()}
        near = []
        their_losses, theirs = torch_steps(model, x, y, args.steps, args.lr, args.momentum,
                                           args.wd, near_zero=near)
        ok, line, problems = compare(name, before, ours, theirs, report.get("losses", []),
                                     their_losses, args.steps)
        failures += not ok
        print(line + ("" if ok else " MISMATCH"), flush=True)
        for p in problems:
            print(f"  {name}: {p}")
        if not ok:  # for scale: PyTorch's own float32 under the same comparison
            l32, t32 = torch_steps(model, x, y, args.steps, args.lr, args.momentum, args.wd,
                                   dtype=torch.float32)
            ok32, line32, _ = compare("PyTorch float32", before,
                                      {k: v.numpy() for k, v in t32.items()}, theirs, l32,
                                      their_losses, args.steps)
            print(f"  {name}: for scale, {line32}{'' if ok32 else ' (would fail too)'}; float64"
                  f" ReLU inputs within {NEAR_KINK:.0e} of zero per step: {near}")
    print(f"torchvision step interop: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
