"""Checks every model in models/ against the paper's Table 2 and torchvision's exact counts,
through `vidc info --json` (the interface users script against). Prints a table."""
import json
import subprocess
import sys

vidc, models = sys.argv[1], sys.argv[2]

# Tran et al. 2018, Table 2 (# params, 400 classes). "Within 0.1M": the rounding is unstated.
PAPER = {"r2d_18": 11.4, "fr2d_18": 11.4, "r3d_18": 33.4, "mc2_18": 11.4, "mc3_18": 11.7,
         "mc4_18": 12.7, "mc5_18": 16.9, "rmc2_18": 33.3, "rmc3_18": 33.0, "rmc4_18": 32.0,
         "rmc5_18": 27.9, "r2plus1d_18": 33.3}
# torchvision.models.video: parameters, and GFLOPs (= multiply-accumulates) at 16x112x112.
EXACT = {"r3d_18": (33371472, 40.70), "mc3_18": (11695440, 43.34),
         "torchvision/r2plus1d_18": (31505325, 40.52)}


def info(name, *extra):
    out = subprocess.run([vidc, "info", "--json", *extra, f"{models}/{name}.vnet"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


failures = 0
for name, millions in PAPER.items():
    got = info(name)["params"] / 1e6
    ok = abs(got - millions) <= 0.1
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name:24s} {got:8.3f}M  paper {millions:.1f}M")
for name, (params, gmacs) in EXACT.items():
    j = info(name, "--input", "3x16x112x112")
    got_macs = j["macs"] / 1e9
    ok = j["params"] == params and abs(got_macs - gmacs) < 0.005
    failures += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name:24s} {j['params']:,} params (torchvision {params:,}), "
          f"{got_macs:.2f}G MACs (torchvision {gmacs:.2f}G)")
print("table2: %d failures" % failures)
sys.exit(1 if failures else 0)
