"""Compiled train step (forward with batch-statistics BN, cross-entropy, backward, SGD)
against PyTorch's, same machine, same run. Our step runs on one thread (the whole batch in one
call); PyTorch is timed on one thread and on all. Prints a table and one JSON object.
Measures, never asserts.

Needs Debian's python3-torch and python3-torchvision (scripts/bench.sh installs them).
usage: train_vs_pytorch.py BUILD_DIR [--input CxLxHxW] [--batch N] [--steps S]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

import numpy as np
import torch
import torchvision.models.video as tvm

from forward_vs_pytorch import MODELS, ROOT, build


def torch_step(name, args, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c, l, h, w = (int(v) for v in args.input.split("x"))
    model = getattr(tvm, name)().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(args.batch, c, l, h, w)
    y = torch.randint(0, 400, (args.batch,))
    times = []
    for i in range(args.steps + 1):
        start = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if i:  # the first step allocates
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build")
    parser.add_argument("--input", default="3x8x112x112")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    args, _ = parser.parse_known_args()  # scripts/bench.sh passes the forward bench's options too
    bin_dir = os.path.join(args.build, "bin")
    threads = os.cpu_count()
    results = []
    with tempfile.TemporaryDirectory() as work:
        c, l, h, w = (int(v) for v in args.input.split("x"))
        np.save(os.path.join(work, "x.npy"), np.random.default_rng(0).standard_normal((args.batch, c, l, h, w)).astype(np.float32))
        np.save(os.path.join(work, "y.npy"), np.arange(args.batch, dtype=np.int64) % 400)
        for name, spec in MODELS:
            bundle = os.path.join(work, name + ".vbundle")
            compile_info = build(os.path.join(bin_dir, "vidc"), spec, args, bundle)
            info = json.loads(subprocess.run([os.path.join(bin_dir, "vidc"), "info", "--json", "--input", args.input,
                                              os.path.join(ROOT, spec)], check=True, capture_output=True,
                                             text=True).stdout)
            ours = json.loads(subprocess.run(
                [os.path.join(bin_dir, "vidrun"), "step", bundle, "--seed", "0", "--input", os.path.join(work, "x.npy"),
                 "--labels", os.path.join(work, "y.npy"), "--steps", str(args.steps + 1)],
                check=True, capture_output=True, text=True).stdout)
            # forward + data and filter gradients: 3x the forward's MACs, 2 FLOPs each
            gflop = 3 * 2 * info["macs"] * args.batch / 1e9
            t1, tn = torch_step(name, args, 1), torch_step(name, args, threads)
            results.append({"model": name, "vidnet_s": ours["seconds_per_step"], "torch_1thread_s": round(t1, 4),
                            f"torch_{threads}threads_s": round(tn, 4), "gflop_per_step": round(gflop, 1),
                            "vidnet_gflops": round(gflop / ours["seconds_per_step"], 1),
                            "compile_s": compile_info["seconds"]})
    print(f"train step, batch {args.batch} x {args.input}, median of {args.steps} (vidnet: mean of {args.steps + 1})")
    print(f"{'model':14} {'vidnet 1 thr':>12} {'torch 1 thr':>12} {'torch ' + str(threads) + ' thr':>12} {'GFLOP/s':>8} {'compile':>8}")
    for r in results:
        print(f"{r['model']:14} {r['vidnet_s']:11.2f}s {r['torch_1thread_s']:11.2f}s {r[f'torch_{threads}threads_s']:11.2f}s "
              f"{r['vidnet_gflops']:8.1f} {r['compile_s']:7.1f}s")
    print(json.dumps({"benchmark": "train_step", "results": results}))


if __name__ == "__main__":
    main()
