"""Compiled forward against PyTorch's, same machine, same run, same threads; and compile time
per model. Prints a table for people and one JSON object for machines. Measures, never asserts.

Needs Debian's python3-torch and python3-torchvision (scripts/bench.sh installs them).
usage: forward_vs_pytorch.py BUILD_DIR [--input CxLxHxW] [--batch N] [--runs R] [--compile-all]
"""
import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torchvision.models.video as tvm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = [("r3d_18", "models/r3d_18.vnet"), ("r2plus1d_18", "models/torchvision/r2plus1d_18.vnet")]


def run_json(cmd, env=None):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)


def build(vidc, spec, args, out):
    start = time.perf_counter()
    line = subprocess.run([vidc, "build", os.path.join(ROOT, spec), "--input", args.input, "--batch", str(args.batch),
                           "-o", out], check=True, capture_output=True, text=True).stdout
    total = time.perf_counter() - start
    m = re.search(r"MLIR ([0-9.]+) s, LLVM ([0-9.]+) s", line)
    return {"spec": spec, "seconds": round(total, 2), "mlir_s": float(m.group(1)), "llvm_s": float(m.group(2))}


def torch_forward(name, args, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c, l, h, w = (int(v) for v in args.input.split("x"))
    model = getattr(tvm, name)().eval()
    x = torch.randn(args.batch, c, l, h, w)
    with torch.no_grad():
        model(x)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("--input", default="3x8x112x112")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compile-all", action="store_true", help="also time vidc build of every model")
    args = parser.parse_args()
    bin_dir = os.path.join(args.build, "bin")
    vidc = os.path.join(bin_dir, "vidc")
    work = tempfile.mkdtemp(prefix="vidnet-bench-")

    peak = run_json([os.path.join(bin_dir, "vidnet-peak-fma")])
    threads = peak["threads"]
    env = dict(os.environ, VIDNET_THREADS=str(threads))
    report = {"machine": {"threads": threads, "peak": peak, "torch": torch.__version__,
                          "torch_threads": threads}, "forward": [], "compile": []}
    print(f"peak fp32 FMA: {peak['peak_gflops_1_thread']} GFLOP/s on 1 thread, "
          f"{peak['peak_gflops_all_threads']} on {threads} ({peak['vector_bits']}-bit vectors)")
    print(f"forward, batch {args.batch} x {args.input}, {threads} threads, median of {args.runs}:")
    print(f"  {'model':14s} {'vidnet s':>9s} {'torch s':>9s} {'torch/vidnet':>12s} {'GFLOP/s':>8s} {'of peak':>8s}")
    for name, spec in MODELS:
        bundle = os.path.join(work, name + ".vbundle")
        report["compile"].append(build(vidc, spec, args, bundle))
        ours = run_json([os.path.join(bin_dir, "vidnet-bench-forward"), bundle, str(args.batch), str(args.runs)], env)
        theirs = torch_forward(name, args, threads)
        fraction = ours["gflops"] / peak["peak_gflops_all_threads"]
        row = {"model": name, "vidnet_s": ours["median_s"], "torch_s": round(theirs, 4),
               "speedup_vs_torch": round(theirs / ours["median_s"], 2), "gflop": ours["gflop"],
               "vidnet_gflops": ours["gflops"], "torch_gflops": round(ours["gflop"] / theirs, 1),
               "fraction_of_peak": round(fraction, 3)}
        report["forward"].append(row)
        print(f"  {name:14s} {row['vidnet_s']:9.3f} {row['torch_s']:9.3f} {row['speedup_vs_torch']:11.2f}x "
              f"{row['vidnet_gflops']:8.1f} {fraction:8.0%}")
    if args.compile_all:
        for spec in sorted(glob.glob(os.path.join(ROOT, "models", "**", "*.vnet"), recursive=True)):
            rel = os.path.relpath(spec, ROOT)
            if rel not in [c["spec"] for c in report["compile"]]:
                report["compile"].append(build(vidc, rel, args, os.path.join(work, "c.vbundle")))
    print("compile (vidc build, seconds: total = MLIR + LLVM + link):")
    for c in report["compile"]:
        print(f"  {c['spec']:40s} {c['seconds']:6.1f}  (MLIR {c['mlir_s']:.1f}, LLVM {c['llvm_s']:.1f})")
    print(json.dumps(report))


if __name__ == "__main__":
    sys.exit(main())
