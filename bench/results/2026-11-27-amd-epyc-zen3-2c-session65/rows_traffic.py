"""Conv rows of `vidrun profile --json` files below a share of the peak (their median time over the
profiled calls against the peak measured in the same run), with their least traffic
(memory_s: operands moved once at the measured bandwidth) over their products' time at the peak,
and the share of the peak a row reaches if none of that traffic overlaps its products.
Usage: rows_traffic.py BOUND FILE..."""
import json
import sys

bound = float(sys.argv[1])
for path in sys.argv[2:]:
    for line in open(path):
        d = json.loads(line)
        print(f"{path}: {d['bundle']} {d['entry']}, peak {d['peak_gflops']:.1f} GFLOP/s, memory {d['read_gbs']:.1f} GB/s")
        share = lambda r: r["flops"] / r["seconds_median"] / (d["peak_gflops"] * 1e9)
        for r in sorted((r for r in d["rows"] if r["flops"] > 0 and r["seconds_median"] > 0), key=share):
            if share(r) >= bound:
                continue
            traffic = r["memory_s"] / r["compute_s"]
            print(f"  {r['layer']:22} {r['kind']:21} {r['shape']:40} {r['seconds_median'] * 1e3:7.2f} ms "
                  f"{100 * share(r):5.1f}%  traffic {100 * traffic:4.0f}%  "
                  f"no-overlap ceiling {100 / (1 + traffic):3.0f}%  {r['bytes'] / 1e6:6.1f} MB")
