# Builds every model spec for one CUDA architecture and checks each bundle: PTX and cubin
# written, the cubin's ELF is for that architecture and defines exactly the manifest's kernels,
# ptxas reported no spills and registers for every kernel, and the forward has fewer kernels
# than vidnet ops (--count-only: kernels counted and printed, not held to that). Prints one
# summary line per model (kernel and op counts, worst registers).
# usage: cuda_models.py VIDC READELF ARCH OUT_DIR [--forward-only] [--count-only] SPEC...
import json
import re
import subprocess
import sys

vidc, readelf, arch, out = sys.argv[1:5]
rest = sys.argv[5:]
forward_only = "--forward-only" in rest
count_only = "--count-only" in rest
specs = [s for s in rest if s not in ("--forward-only", "--count-only")]
failures = []
for spec in specs:
    name = spec.rsplit("/", 1)[-1].removesuffix(".vnet")
    bundle = f"{out}/{name}.vbundle"
    cmd = [vidc, "build", "--target", f"cuda:{arch}", "--batch", "2", "-o", bundle, spec]
    if forward_only:
        cmd.append("--forward-only")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"{name}: vidc failed: {r.stderr.strip()}")
        continue
    m = json.load(open(f"{bundle}/manifest.json"))
    c = m["cuda"]
    elf = subprocess.run([readelf, "--file-header", "--symbols", f"{bundle}/kernels.cubin"],
                         capture_output=True, text=True, check=True).stdout
    ptx = open(f"{bundle}/kernels.ptx").read()
    symbols = set(re.findall(r"\bFUNC\s+GLOBAL\s.*\s(\S+)$", elf, re.M))
    kernels = {k["name"] for k in c["kernels"]}
    problems = []
    if not re.search(rf"Flags:.*\b{arch}\b", elf):
        problems.append(f"cubin is not for {arch}")
    if f".target {arch}" not in ptx:
        problems.append(f"PTX is not for {arch}")
    if symbols != kernels:
        problems.append(f"cubin and manifest kernels differ: {sorted(symbols ^ kernels)[:5]}")
    spills = [k["name"] for k in c["kernels"] if k["spill_store_bytes"] or k["spill_load_bytes"]]
    if spills:
        problems.append(f"kernels spill: {spills[:5]}")
    if any(k["registers"] <= 0 for k in c["kernels"]):
        problems.append("a kernel without a ptxas report")
    ep = c["entry_points"]
    if not 0 < ep["forward"]["kernels"] or (not count_only and ep["forward"]["kernels"] >= ep["forward"]["vidnet_ops"]):
        problems.append(f"forward: {ep['forward']['kernels']} kernels for {ep['forward']['vidnet_ops']} ops")
    if forward_only == ("train_step" in ep):
        problems.append("train_step presence does not match --forward-only")
    failures += [f"{name}: {p}" for p in problems]
    counts = "  ".join(f"{e} {p['kernels']} kernels / {p['vidnet_ops']} ops" for e, p in ep.items())
    regs = max(k["registers"] for k in c["kernels"])
    print(f"{name} {arch}: {counts}; max {regs} registers, {len(spills)} spilling")
for f in failures:
    print("FAIL", f)
print(f"{len(specs) - len({f.split(':')[0] for f in failures})} of {len(specs)} models OK for {arch}")
sys.exit(1 if failures else 0)
