"""Bottleneck models, structure: vidc info of each spec against bottleneck_models.py's PyTorch model.

For R3D-50/101/152, ir-CSN and ip-CSN 50/101/152 compares, with no compilation:
  - the trainable parameter count (sum of numel over model.parameters()) with vidc's "params",
  - the state_dict, name by name, with vidc's tensors: the same names, the same shapes
    (PyTorch's layout, O x I/groups x T x H x W), BN running statistics included,
  - every BN's eps with vidc's bn_eps,
  - the output shape of every module whose name is one of vidc's layers, on a small clip
    (--input; vidc info is given the same), so strides, paddings and the pool agree too.
Prints one line per model; exits 1 on any mismatch.
usage: bottleneck_shapes.py VIDC MODELS_DIR [--input CxLxHxW] [--models r3d_50,...]
"""
import argparse
import json
import os
import subprocess
import sys

import torch

import bottleneck_models


def vidc_info(vidc, spec, clip):
    out = subprocess.run([vidc, "info", "--json", "--input", clip, spec], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def output_shapes(model, layer_names, clip):
    """Module name -> output shape without the batch, for the modules vidc names as layers."""
    shapes, hooks = {}, []
    for name, module in model.named_modules():
        if name in layer_names:
            hooks.append(module.register_forward_hook(
                lambda m, i, o, name=name: shapes.__setitem__(name, list(o.shape[1:]))))
    with torch.no_grad():
        model.eval()(torch.zeros(1, *clip))
    for h in hooks:
        h.remove()
    return shapes


def problems_of(model, info, clip):
    problems = []
    params = sum(p.numel() for p in model.parameters())
    if params != info["params"]:
        problems.append(f"params: torch {params}, vidc {info['params']}")
    ours = {t["name"]: t["shape"] for l in info["layers"] for t in l.get("tensors", [])}
    theirs = {k: list(v.shape) for k, v in model.state_dict().items()}
    for name in sorted(set(ours) | set(theirs)):
        if ours.get(name) != theirs.get(name):
            problems.append(f"{name}: vidc {ours.get(name)}, torch {theirs.get(name)}")
    eps = {m.eps for m in model.modules() if isinstance(m, torch.nn.BatchNorm3d)}
    if any(abs(e - info["bn_eps"]) > 1e-6 * e for e in eps):  # vidc prints a float32
        problems.append(f"bn eps: torch {sorted(eps)}, vidc {info['bn_eps']}")
    layers = {l["name"]: l["output_shape"] for l in info["layers"]}
    shapes = output_shapes(model, set(layers), clip)
    for name, shape in shapes.items():
        if name != "fc" and shape != layers[name]:  # vidc's fc is [classes, 1, 1, 1]
            problems.append(f"{name} output: vidc {layers[name]}, torch {shape}")
    if layers["fc"][0] != shapes.get("fc", [None])[0]:
        problems.append(f"fc output: vidc {layers['fc']}, torch {shapes.get('fc')}")
    return problems, params, len(shapes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vidc")
    parser.add_argument("models")
    parser.add_argument("--input", default="3x8x32x32")
    parser.add_argument("--models", dest="only", default=",".join(bottleneck_models.SPECS))
    args = parser.parse_args()
    clip = [int(v) for v in args.input.split("x")]
    failures = 0
    for name in args.only.split(","):
        info = vidc_info(args.vidc, os.path.join(args.models, bottleneck_models.SPECS[name]),
                         args.input)
        model = getattr(bottleneck_models, name)(num_classes=info["classes"])
        problems, params, compared = problems_of(model, info, clip)
        failures += bool(problems)
        print(f"{name}: {params} params (vidc {info['params']}), {len(model.state_dict())} tensors,"
              f" {compared} layer outputs at {args.input}: {'MISMATCH' if problems else 'ok'}")
        for p in problems[:10]:
            print(f"  {name}: {p}")
    print(f"bottleneck structure: {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
