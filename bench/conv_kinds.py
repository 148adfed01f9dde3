"""Every kind of convolution of the models' training steps (kernel, stride and direction: "3x3x3
/2x2x2 conv filter gradient", every layer of one summed) as a share of the FMA peak, over several
`vidrun profile` runs that take turns model by model, so that a slow phase of a shared machine
lands on every model alike. Prints each kind's median share and its spread over the runs, its
least traffic (the bytes it must move at the measured bandwidth, over its products' time at the
peak) and the ceiling that traffic sets where loads never overlap products (1 / (1 + traffic)),
and marks the kinds whose median is below --below. Each profile's peak is the best of a short
measurement after every call (a shared VM's other tenants move it: 137-185 GFLOP/s a second
apart on a 2-vCPU Zen 3); "fastest" is the median over the runs of the kind's share in its
fastest call, the call those tenants disturbed least, as the peak is the best of its
measurements. Measures, never asserts; standard library only.

    /usr/bin/python3 bench/conv_kinds.py [--build build] [--models r3d_18,mc3_18,r2plus1d_18]
        [--runs 3] [--iters 3] [--batch 2] [--clip 3x8x112x112] [--below 0.6] [--out DIR]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = {"r3d_18": "models/r3d_18.vnet", "mc3_18": "models/mc3_18.vnet",
         "r2plus1d_18": "models/torchvision/r2plus1d_18.vnet"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--models", default=",".join(SPECS))
    p.add_argument("--runs", type=int, default=3, help="profiles per model, the models taking turns")
    p.add_argument("--iters", type=int, default=3, help="profiled calls per profile")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--clip", default="3x8x112x112")
    p.add_argument("--below", type=float, default=0.6, help="mark kinds whose median share is below this")
    p.add_argument("--out", default=os.path.join(ROOT, "build-bench", "conv-kinds"))
    a = p.parse_args()
    models = a.models.split(",")
    unknown = [m for m in models if m not in SPECS]
    if unknown:
        p.error(f"unknown model {', '.join(unknown)} (known: {', '.join(SPECS)})")
    os.makedirs(a.out, exist_ok=True)
    vidc, vidrun = (os.path.join(a.build, "bin", tool) for tool in ("vidc", "vidrun"))
    bundles = {}
    for model in models:
        bundles[model] = os.path.join(a.out, f"{model}-b{a.batch}-{a.clip}.vbundle")
        subprocess.run([vidc, "build", os.path.join(ROOT, SPECS[model]), "--input", a.clip, "--batch", str(a.batch),
                        "-o", bundles[model]], check=True, stdout=subprocess.DEVNULL)

    reports = {model: [] for model in models}
    for run in range(a.runs):
        for model in models:
            print(f"run {run + 1}/{a.runs}: profiling {model}'s train_step ({a.iters} calls)", file=sys.stderr,
                  flush=True)
            out = subprocess.run([vidrun, "profile", bundles[model], "--entry", "train_step", "--iters", str(a.iters),
                                  "--json"], check=True, capture_output=True, text=True).stdout
            reports[model].append(json.loads(out))
    with open(os.path.join(a.out, "profiles.json"), "w") as f:
        json.dump(reports, f)

    peaks = [r["peak_gflops"] for rs in reports.values() for r in rs]
    bandwidths = [r["read_gbs"] for rs in reports.values() for r in rs]
    print(f"train_step, batch {a.batch}, {a.clip}, {reports[models[0]][0]['threads']} threads, {a.runs} profiles "
          f"per model of {a.iters} calls; FMA peak {min(peaks):.0f}-{max(peaks):.0f} GFLOP/s, memory "
          f"{min(bandwidths):.1f}-{max(bandwidths):.1f} GB/s (each profile measures its own)")
    print(f"{'model':12} {'conv':14} {'direction':21} {'layers':>6} {'ms':>8}  {'of peak':>7} {'(min-max)':>11}  "
          f"{'fastest':>7}  {'traffic':>7}  {'ceiling':>7}")
    summary = []
    for model in models:
        kinds = {}
        for report in reports[model]:
            for kind in report["conv_kinds"]:
                kinds.setdefault((kind["conv"], kind["kind"]), []).append(kind)
        for (conv, direction), runs in sorted(kinds.items()):
            shares = [k["peak_fraction"] for k in runs]
            # No peak measured (a CPU without FMA): no traffic share either.
            ratios = [k["memory_s"] / k["compute_s"] for k in runs if k["compute_s"] > 0]
            traffic = statistics.median(ratios) if ratios else float("nan")
            row = {"model": model, "conv": conv, "kind": direction, "layers": runs[0]["layers"],
                   "seconds": statistics.median(k["seconds"] for k in runs), "peak_fraction": statistics.median(shares),
                   "peak_fraction_min": min(shares), "peak_fraction_max": max(shares),
                   "fastest_call_peak_fraction": statistics.median(k["fastest_call_peak_fraction"] for k in runs),
                   "traffic": traffic, "ceiling": 1 / (1 + traffic)}
            summary.append(row)
            mark = ("  below" if row["peak_fraction"] < a.below else "") + (
                ", fastest too" if row["fastest_call_peak_fraction"] < a.below else "")
            print(f"{model:12} {conv:14} {direction:21} {row['layers']:6d} {row['seconds'] * 1e3:8.2f}  "
                  f"{row['peak_fraction']:7.1%} {row['peak_fraction_min']:5.0%}-{row['peak_fraction_max']:<5.0%}  "
                  f"{row['fastest_call_peak_fraction']:7.1%}  {traffic:7.0%}  {row['ceiling']:7.0%}{mark}")
    with open(os.path.join(a.out, "conv_kinds.json"), "w") as f:
        json.dump({"batch": a.batch, "clip": a.clip, "runs": a.runs, "iters": a.iters, "below": a.below,
                   "peak_gflops": peaks, "read_gbs": bandwidths, "kinds": summary}, f, indent=1)
    below = [r for r in summary if r["peak_fraction"] < a.below]
    fastest_below = [r for r in summary if r["fastest_call_peak_fraction"] < a.below]
    print(f"{len(below)} of {len(summary)} kinds below {a.below:.0%} of the peak (median over the runs), "
          f"{len(fastest_below)} in their fastest calls; profiles and conv_kinds.json in {a.out}")


if __name__ == "__main__":
    main()
