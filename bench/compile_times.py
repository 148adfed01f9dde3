#!/usr/bin/env python3
"""Compile times of every model in models/: vidc build at one clip size, forward-only and with
train_step, cold (empty cache) and warm (the same build again), with the phase split.

    python3 bench/compile_times.py [--build build] [--input 3x8x112x112] [--batch 2]
        [--models r3d_18,...] [--threads N] [--out DIR]

Prints a Markdown table and writes rows.jsonl and tables.md to --out. The cache is a fresh
directory of its own, so the user's cache is neither read nor touched."""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def build(vidc, spec, a, cache, out, train_step):
    cmd = [vidc, "build", spec, "--input", a.input, "--batch", str(a.batch), "--json", "-o", out]
    if not train_step:
        cmd.append("--forward-only")
    if a.threads:
        cmd += ["-j", str(a.threads)]
    env = dict(os.environ, VIDNET_CACHE_DIR=cache)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["exit %d" % done.returncode])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.environ.get("VIDNET_BUILD_DIR", os.path.join(ROOT, "build")))
    p.add_argument("--input", default="3x8x112x112")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--models", help="comma-separated names from models/ (default: all)")
    p.add_argument("--threads", type=int, help="vidc -j (default: every core)")
    p.add_argument("--out", default=os.path.join(ROOT, "build-bench", "compile-times"))
    a = p.parse_args()
    vidc = os.path.join(a.build, "bin", "vidc")
    if not os.access(vidc, os.X_OK):
        sys.exit(f"compile_times: no {vidc}: run scripts/setup.sh first")
    models = os.path.join(ROOT, "models")
    names = a.models.split(",") if a.models else sorted(
        os.path.relpath(os.path.join(d, f), models)[:-5]
        for d, _, files in os.walk(models) for f in files if f.endswith(".vnet"))
    os.makedirs(a.out, exist_ok=True)
    rows = []
    header = (f"vidc build at {a.input}, batch {a.batch}, {a.threads or os.cpu_count()} threads, "
              f"{cpu_model()} ({os.cpu_count()} cores)")
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="vidnet-compile-times-") as work:
        for name in names:
            spec = os.path.join(ROOT, "models", name + ".vnet")
            if not os.path.exists(spec):
                sys.exit(f"compile_times: no models/{name}.vnet")
            for train_step in (False, True):
                tag = name.replace("/", "-")
                cache = os.path.join(work, f"cache-{tag}-{int(train_step)}")
                out = os.path.join(work, f"{tag}.vbundle")
                cold = build(vidc, spec, a, cache, out, train_step)
                warm = build(vidc, spec, a, cache, out, train_step)
                row = {"model": name, "entries": "forward + train_step" if train_step else "forward",
                       "cold": cold, "warm": warm}
                rows.append(row)
                if "error" in cold or "error" in warm:
                    print(f"  {name:25s} {row['entries']:22s} FAILED: {cold.get('error') or warm.get('error')}",
                          flush=True)
                else:
                    print(f"  {name:25s} {row['entries']:22s} cold {cold['seconds']:6.1f} s  "
                          f"warm {warm['seconds']:5.2f} s", flush=True)
    lines = [header, "",
             "| model | entry points | cold s | MLIR s | LLVM IR s | O3 + codegen s (wall) | O3 s | codegen s | "
             "functions / parts | warm s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c, w = r["cold"], r["warm"]
        if "error" in c or "error" in w:
            lines.append(f"| {r['model']} | {r['entries']} | failed: {c.get('error') or w.get('error')} ||||||||")
            continue
        lines.append(f"| {r['model']} | {r['entries']} | {c['seconds']:.1f} | {c['mlir_s']:.1f} | {c['llvm_ir_s']:.1f} "
                     f"| {c['llvm_parallel_s']:.1f} | {c['optimize_s']:.1f} | {c['codegen_s']:.1f} | "
                     f"{c['functions']} / {c['parts']} | {w['seconds']:.2f}"
                     f"{'' if w['library_from_cache'] else ' (not from the cache!)'} |")
    table = "\n".join(lines) + "\n"
    print()
    print(table)
    with open(os.path.join(a.out, "rows.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    with open(os.path.join(a.out, "tables.md"), "w") as f:
        f.write(table)
    print(f"rows and table in {a.out}")


if __name__ == "__main__":
    main()
