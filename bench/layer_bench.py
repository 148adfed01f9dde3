"""Per-layer ratios: every convolution of a bundle's training step (forward, data gradient and
filter gradient), timed by `vidrun profile`, against PyTorch's own kernel for the same shape on
the same threads in the same run (torch.nn.functional.conv3d, NCDHW or channels_last_3d, the
faster; aten.convolution_backward with only the one gradient asked for). --rounds R alternates
the two sides R times (our profile, then PyTorch's kernels), so that a slow phase of a shared
machine lands on both: each row is the median of its rounds, and the table per conv kind (kernel,
stride, direction) gives the ratio of the two sides' medians, each round's own ratio, and both
sides' share of the FMA peak. Measures, never asserts. Runs in the peers' environment
(scripts/setup-peers.sh); scripts/bench.sh --layers starts it.

A row's shape is what the profile prints ("3x3x3 64->128 /2x2x2, out 2x4x28x28"); the input is
rebuilt from it with the models' padding (kernel // 2 per axis) and an input extent of
output x stride, which is every convolution of the model zoo and of torchvision's (2+1)D split."""
import argparse
import json
import os
import statistics
import subprocess
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from common import time_calls  # noqa: E402  the peers' timing: first call, warm-up, median
from conv_shape import parse  # noqa: E402  the profile's shape string, read back


def torch_seconds(conv, kind, runs):
    """PyTorch's time for one direction of one convolution: the faster memory format."""
    padding = tuple(k // 2 for k in conv["kernel"])
    size = tuple(o * s for o, s in zip(conv["out"], conv["stride"]))
    best = None
    for cl3d in (False, True):
        x = torch.randn(conv["n"], conv["c"], *size)
        w = torch.randn(conv["f"], conv["c"], *conv["kernel"])
        if cl3d:
            x = x.contiguous(memory_format=torch.channels_last_3d)
            w = w.contiguous(memory_format=torch.channels_last_3d)
        y = F.conv3d(x, w, stride=conv["stride"], padding=padding)
        dy = torch.randn_like(y)
        mask = {"conv": None, "conv data gradient": [True, False, False],
                "conv filter gradient": [False, True, False]}[kind]
        if mask is None:
            call = lambda: F.conv3d(x, w, stride=conv["stride"], padding=padding)
        else:
            call = lambda: torch.ops.aten.convolution_backward(dy, x, w, None, conv["stride"], padding, (1, 1, 1),
                                                                False, (0, 0, 0), 1, mask)
        with torch.inference_mode():
            seconds = time_calls(call, 2, runs)["median_s"]
        best = seconds if best is None else min(best, seconds)
    return best


def kind_of(row):
    """The conv kind of a row, as bench/conv_kinds.py groups them: kernel, stride, direction."""
    conv = parse(row["shape"])
    return "x".join(map(str, conv["kernel"])), "/" + "x".join(map(str, conv["stride"])), row["kind"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--spec", default="models/r3d_18.vnet")
    p.add_argument("--clip", default="3x8x112x112")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2,
                   help="rounds of our profile then PyTorch's kernels, so that both sides see the machine's phases")
    p.add_argument("--bundle", help="an existing bundle with train_step (else built under --out)")
    p.add_argument("--out", default="build-bench/layers")
    a = p.parse_args()
    if a.rounds < 1 or a.runs < 1:
        p.error("--rounds and --runs take a positive count")
    torch.set_num_threads(a.threads)
    torch.set_float32_matmul_precision("highest")
    os.makedirs(a.out, exist_ok=True)
    bundle = a.bundle
    if not bundle:
        bundle = os.path.join(a.out, os.path.basename(a.spec).replace(".vnet", ".vbundle"))
        subprocess.run([os.path.join(a.build, "bin", "vidc"), "build", a.spec, "--input", a.clip, "--batch",
                        str(a.batch), "-o", bundle], check=True)
    env = dict(os.environ, VIDNET_THREADS=str(a.threads))
    profiles, torch_rounds = [], []
    for r in range(a.rounds):
        print(f"round {r + 1}/{a.rounds}: vidrun profile, then PyTorch's kernels", file=sys.stderr, flush=True)
        profiles.append(json.loads(subprocess.run(
            [os.path.join(a.build, "bin", "vidrun"), "profile", bundle, "--json", "--iters", str(a.runs)], check=True,
            capture_output=True, text=True, env=env).stdout))
        timed = {}
        for row in profiles[-1]["rows"]:
            key = (row["kind"], row["shape"])
            if row["kind"].startswith("conv") and key not in timed:
                timed[key] = torch_seconds(parse(row["shape"]), row["kind"], a.runs)
        torch_rounds.append(timed)

    # A row's time is its median over the rounds (the profiles list the same rows in the same order); its share
    # of the peak is against the median of the rounds' peaks, each measured by its profile.
    peaks = [prof["peak_gflops"] for prof in profiles]
    peak = statistics.median(peaks)
    rows = []
    for i, row in enumerate(profiles[0]["rows"]):
        if not row["kind"].startswith("conv"):
            continue
        ours = statistics.median(prof["rows"][i]["seconds"] for prof in profiles)
        theirs = statistics.median(t[(row["kind"], row["shape"])] for t in torch_rounds)
        rows.append(row | {"seconds": ours, "torch_s": theirs, "ratio": theirs / ours,
                           "peak_fraction": row["flops"] / ours / 1e9 / peak})

    print(f"{profiles[0]['bundle']} train_step, batch {profiles[0]['batch']}, {a.threads} threads, {a.rounds} rounds "
          f"of {a.runs} calls each side, FMA peak {peak:.1f} GFLOP/s (rounds {min(peaks):.1f}-{max(peaks):.1f}); "
          f"torch {torch.__version__} (faster of NCDHW and channels_last_3d)")
    print(f"{'layer':22} {'kind':21} {'shape':37} {'ours ms':>8} {'torch ms':>9} {'ratio':>6} {'of peak':>8}")
    for r in rows:
        print(f"{r['layer']:22} {r['kind']:21} {r['shape']:37} {r['seconds'] * 1e3:8.2f} {r['torch_s'] * 1e3:9.2f} "
              f"{r['ratio']:5.2f}x {100 * r['peak_fraction']:7.0f}%")
    for kind in ("conv", "conv data gradient", "conv filter gradient"):
        ours = sum(r["seconds"] for r in rows if r["kind"] == kind)
        theirs = sum(r["torch_s"] for r in rows if r["kind"] == kind)
        print(f"total {kind:21} ours {ours * 1e3:8.1f} ms, torch {theirs * 1e3:8.1f} ms: {theirs / ours:.2f}x")

    # Per conv kind: both sides' share of the peak, so that a kind below the goal can be told apart from one that
    # no CPU kernel here gets further with; and the ratio in each round, each side's time of that round.
    print(f"\n{'kernel':8} {'stride':7} {'kind':21} {'layers':>6} {'ours ms':>8} {'torch ms':>9} {'ratio':>6} "
          f"{'(rounds)':>12} {'ours':>6} {'torch':>6}  (of peak)")
    kinds = {}
    for r in rows:
        k = kinds.setdefault(kind_of(r), {"layers": 0, "ours": 0.0, "torch": 0.0, "flops": 0})
        k["layers"] += 1
        k["ours"] += r["seconds"]
        k["torch"] += r["torch_s"]
        k["flops"] += r["flops"]
    for key, k in kinds.items():
        per_round = []
        for prof, timed in zip(profiles, torch_rounds):
            convs = [row for row in prof["rows"] if row["kind"].startswith("conv") and kind_of(row) == key]
            per_round.append(sum(timed[(row["kind"], row["shape"])] for row in convs) /
                             sum(row["seconds"] for row in convs))
        k["ratio_rounds"] = per_round
    for (kernel, stride, kind), k in sorted(kinds.items()):
        spread = f"{min(k['ratio_rounds']):.2f}-{max(k['ratio_rounds']):.2f}"
        print(f"{kernel:8} {stride:7} {kind:21} {k['layers']:6} {k['ours'] * 1e3:8.2f} {k['torch'] * 1e3:9.2f} "
              f"{k['torch'] / k['ours']:5.2f}x {spread:>12} {100 * k['flops'] / k['ours'] / 1e9 / peak:5.0f}% "
              f"{100 * k['flops'] / k['torch'] / 1e9 / peak:5.0f}%")
    with open(os.path.join(a.out, "layers.json"), "w") as f:
        json.dump({"profiles": profiles, "rows": rows, "torch": torch.__version__, "threads": a.threads,
                   "kinds": [{"kernel": key[0], "stride": key[1], "kind": key[2]} | k for key, k in kinds.items()]},
                  f, indent=1)


if __name__ == "__main__":
    main()
