# rows.py FILE: each (layer, kind) row of `vidrun profile A B ... --json` per bundle (ms, medians) and its ratio to A; a Winograd shape matches its direct one
import json, sys
reports = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = []
vals = [{} for _ in reports]
for i, r in enumerate(reports):
    for x in r["rows"]:
        k = (x["layer"], x["kind"], x["shape"].replace(", winograd", ""))
        if k not in keys: keys.append(k)
        vals[i][k] = vals[i].get(k, 0) + x["seconds"] * 1e3
print("profiled", [round(r.get("profiled_ms", r.get("profiled_s", 0) * 1e3), 1) for r in reports])
tot = [0] * len(reports)
for k in sorted(keys, key=lambda k: -max(v.get(k, 0) for v in vals)):
    row = [v.get(k, 0) for v in vals]
    tot = [a + b for a, b in zip(tot, row)]
    if max(row) < 0.3: continue
    print(f"{k[0]:24} {k[1][:26]:26} {k[2][:34]:34} " + " ".join(f"{x:7.2f}" for x in row) + "  " + " ".join(f"{x / row[0]:.3f}" if row[0] else "  -  " for x in row[1:]))
print("sum", " ".join(f"{x:7.1f}" for x in tot))
