"""Rows of `vidrun profile A B ... --json` (bundles taking turns) side by side: each filter
gradient row of at least 2 ms, its median over the calls in every bundle and over the first's."""
import json
import sys

reports = [json.loads(line) for line in open(sys.argv[1])]
kind = sys.argv[2] if len(sys.argv) > 2 else "conv filter gradient"
print("peak", round(reports[0]["peak_gflops"]), "GFLOP/s; profiled s", [round(r["profiled_s"], 3) for r in reports])
print("bundles", [r["path"].rsplit("/", 1)[-1] for r in reports])
totals = [0.0] * len(reports)
for row in reports[0]["rows"]:
    if row["kind"] != kind or row["seconds"] < 0.002:
        continue
    medians = []
    for i, r in enumerate(reports):
        same = next(x for x in r["rows"] if (x["layer"], x["kind"], x["shape"]) == (row["layer"], row["kind"], row["shape"]))
        medians.append(same["seconds_median"])
        totals[i] += same["seconds_median"]
    print(f"{row['layer']:20s} {row['shape']:38s}", " ".join(f"{m * 1e3:6.2f}" for m in medians), " /A",
          " ".join(f"{m / medians[0]:.3f}" for m in medians[1:]))
print("total", " ".join(f"{t * 1e3:.1f}" for t in totals), " /A", " ".join(f"{t / totals[0]:.3f}" for t in totals[1:]))
