"""A/B of `vidrun profile A B C --json`: conv rows, median and min per bundle and ratio to A."""
import json, sys
reports = [json.loads(l) for l in open(sys.argv[1])]
pat = sys.argv[2] if len(sys.argv) > 2 else "conv"
print("peak", round(reports[0]["peak_gflops"]), "profiled", [round(r["profiled_s"] * 1e3, 1) for r in reports], [r["path"].rsplit("/", 1)[-1] for r in reports])
for row in reports[0]["rows"]:
    if not row["kind"].startswith(pat) or row["seconds"] < 0.0003:
        continue
    same = [next(x for x in r["rows"] if (x["layer"], x["kind"], x["shape"]) == (row["layer"], row["kind"], row["shape"])) for r in reports]
    med = [s["seconds_median"] for s in same]; mn = [s["seconds_min"] for s in same]
    pk = reports[0]["peak_gflops"] * 1e9
    print(f"{row['layer'][:18]:18s} {row['kind'][5:]:16s} {row['shape'][:24]:24s} med", " ".join(f"{m*1e3:6.2f}" for m in med),
          "/A", " ".join(f"{m/med[0]:.3f}" for m in med[1:]), "| min", " ".join(f"{m*1e3:6.2f}" for m in mn),
          "/A", " ".join(f"{m/mn[0]:.3f}" for m in mn[1:]), f"| {row['flops']/mn[0]/pk:.0%}")
