"""Peer: vidnet itself. Compiles the case's spec with `vidc build` once per case (kept in the case
directory, timed, MLIR and LLVM apart), checks with `vidrun forward` / `vidrun step` from the
case's weights (these give the first-run time too), and times with `vidrun bench` on the same
weights, clips and labels, VIDNET_THREADS set to the thread count."""
import json
import os
import re
import subprocess
import time

from common import LR, MOMENTUM, WEIGHT_DECAY, ROOT, affordable_runs, peer_args, report
from bottleneck_models import SPECS as BOTTLENECK_SPECS
from torchvision_forward import MODELS

SPECS = {name: os.path.join(ROOT, "models", spec)
         for name, spec in [*MODELS, *BOTTLENECK_SPECS.items()]}


def build(a, vidc):
    """The case's bundle and how long its compilation took (a recorded build is reused while vidc
    is not newer than it)."""
    bundle, record = a.case.path("vidnet.vbundle"), a.case.path("vidnet-build.json")
    if os.path.exists(record) and os.path.getmtime(record) > os.path.getmtime(vidc):
        with open(record) as f:
            return bundle, json.load(f)
    start = time.perf_counter()
    line = subprocess.run([vidc, "build", SPECS[a.model], "--input", "x".join(map(str, a.case.clip)),
                           "--batch", str(a.batch), "-o", bundle], check=True, capture_output=True, text=True).stdout
    split = re.search(r"MLIR ([0-9.]+) s, LLVM ([0-9.]+) s", line)
    info = {"compile_s": time.perf_counter() - start, "mlir_s": float(split.group(1)) if split else None,
            "llvm_s": float(split.group(2)) if split else None}
    with open(record, "w") as f:
        json.dump(info, f)
    return bundle, info


def main():
    a = peer_args(__doc__)
    bins = os.path.join(a.build, "bin")
    vidc, vidrun = os.path.join(bins, "vidc"), os.path.join(bins, "vidrun")
    bundle, compiled = build(a, vidc)
    env = dict(os.environ, VIDNET_THREADS=str(a.threads))
    given = ["--weights", a.case.weights, "--input", a.case.x]
    if a.entry == "forward":
        done = subprocess.run([vidrun, "forward", bundle, *given, "--output", os.path.join(a.out, "logits.npy")],
                              check=True, capture_output=True, text=True, env=env)
        first = float(re.search(r" in ([0-9.]+) s", done.stderr).group(1))
    else:
        done = subprocess.run([vidrun, "step", bundle, *given, "--labels", a.case.y, "--lr", str(LR),
                               "--momentum", str(MOMENTUM), "--wd", str(WEIGHT_DECAY),
                               "--out", os.path.join(a.out, "step.safetensors")],
                              check=True, capture_output=True, text=True, env=env)
        stepped = json.loads(done.stdout)
        first = stepped["seconds_per_step"]
        with open(os.path.join(a.out, "loss.json"), "w") as f:
            json.dump({"loss": stepped["loss"]}, f)
    warmup, runs = affordable_runs(first, a.warmup, a.runs, a.budget)
    entry = "forward" if a.entry == "forward" else "train_step"
    labels = ["--labels", a.case.y] if a.entry == "step" else []
    timed = json.loads(subprocess.run([vidrun, "bench", bundle, *given, *labels, "--entry", entry,
                                       "--iters", str(runs), "--warmup", str(warmup)],
                                      check=True, capture_output=True, text=True, env=env).stdout)[entry]
    report(status="ok", compile_s=compiled["compile_s"], compile_split={k: compiled[k] for k in ("mlir_s", "llvm_s")},
           first_run_s=first, median_s=timed["median_s"], min_s=timed["min_s"], max_s=timed["max_s"], runs=runs,
           times_s=timed["times_s"],
           # A forward call of twice the usual time with a clip taken from the other thread: a thread
           # that got no CPU, not the machine's noise (vidrun bench's pool counters, in rows.jsonl).
           pool={k: timed.get(k) for k in ("loops_run_inline", "chunks_taken_from_other_threads")},
           settings={"VIDNET_THREADS": a.threads, "bundle": os.path.basename(bundle)})


if __name__ == "__main__":
    main()
