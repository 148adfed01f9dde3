"""vidnet against every tool a user would pick instead, side by side in one run on the same cores:
PyTorch 2 eager (NCDHW and channels_last_3d), torch.compile, OpenVINO, IREE and ONNX Runtime for
the forward; PyTorch eager and torch.compile for the training step. Every peer runs in its own
process pinned to the same cores (taskset), on one case's weights, clips and labels; its logits
(and after one step its loss and weights) are checked against float64 PyTorch before its time
counts. Prints tables for people and writes every row to OUT/rows.jsonl and all of it to
OUT/report.json. Measures, never asserts.

Runs in the peers' environment (scripts/setup-peers.sh); scripts/bench.sh starts it.
usage: peer_bench.py [--quick] [--peers] [--models r3d_18,...] [--batches 2,8]
                     [--clips 3x8x112x112,...] [--threads 1,all] [--runs 10] [--step-runs 5]
                     [--rounds 1] [--budget 300] [--out DIR] [--resume] [--build DIR]

With --rounds R every peer of a row runs R times, the peers taking turns (vidnet, then each peer,
then vidnet again, ...): a slow phase of a shared machine then reaches every peer's times, not only
those of the one that ran through it. The table pools each peer's times over its rounds and gives
the speed of every round apart (each round's medians, side by side within minutes).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peers"))
from common import ROOT, load_safetensors  # noqa: E402
from peer_report import FLAGS, print_report, verdict  # noqa: E402

NEGLIGIBLE_UPDATE = 1e-6  # an update this small against its tensor is float32 rounding, not a step

# peer -> (script, variant, entries it can run); the order is the table's.
PEERS = {
    "vidnet": ("vidnet_peer.py", "", ("forward", "step")),
    "torch-eager": ("torch_peer.py", "eager", ("forward", "step")),
    "torch-eager-cl3d": ("torch_peer.py", "eager-cl3d", ("forward",)),
    "torch-compile": ("torch_peer.py", "compile", ("forward", "step")),
    "openvino": ("openvino_peer.py", "", ("forward",)),
    "iree": ("iree_peer.py", "", ("forward",)),
    "onnxruntime": ("onnxruntime_peer.py", "", ("forward",)),
}
ONNX_PEERS = {"openvino", "iree", "onnxruntime"}
# Why a peer has no training-step row: named in the table, never a silent gap.
NO_STEP = {
    "torch-eager-cl3d": "not measured: channels_last_3d is a forward option here (the step was slower with it in trials)",
    "openvino": "OpenVINO runs inference only; it has no training API",
    "iree": "not measured: IREE has no training API; a step needs the backward graph exported through iree-turbine",
    "onnxruntime": "not measured: training needs the separate onnxruntime-training package (ORT's on-device training)",
}
QUICK = {"models": "r3d_18", "batches": "2", "clips": "3x8x112x112", "threads": "all"}
FULL = {"models": "r3d_18,mc3_18,r2plus1d_18", "batches": "2,8", "clips": "3x8x112x112,3x16x112x112",
        "threads": "all,1"}


def cpu_facts():
    """The CPU's name, family/model (a VM may show only "AMD EPYC") and the vector ISA that matters."""
    fields = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    isa = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return {"cpu": fields.get("model name", "unknown"), "family_model": f"{fields.get('cpu family')}/{fields.get('model')}",
            "isa": isa}


def pinned(threads):
    return ["taskset", "-c", f"0-{threads - 1}"]


def run_peer(script, args, threads, timeout):
    """(JSON the peer printed, or None, why not)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=os.path.join(HERE, "peers"))
    try:
        done = subprocess.run(pinned(threads) + [sys.executable, os.path.join(HERE, "peers", script), *args],
                              capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["(no output)"]
        return None, f"exit {done.returncode}: {tail[0].strip()[:300]}"
    return json.loads(lines[-1]), None


def relative(actual, expected):
    scale = float(np.abs(expected).max())
    return float(np.abs(actual.astype(np.float64) - expected).max() / scale) if scale else float(np.abs(actual).max())


def check_forward(out, case_dir):
    logits = np.load(os.path.join(out, "logits.npy"))
    expected = np.load(os.path.join(case_dir, "reference_logits.npy"))
    if logits.shape != expected.shape:
        return {"status": "disagrees", "why": f"logits shape {list(logits.shape)}, expected {list(expected.shape)}"}
    return {"logit_error": relative(logits, expected)}


def check_step(out, case_dir):
    """Loss and every tensor after one step against float64, and (printed, not checked) the update."""
    ref = dict(np.load(os.path.join(case_dir, "reference_step.npz")))
    before = load_safetensors(os.path.join(case_dir, "weights.safetensors"))
    if os.path.exists(os.path.join(out, "step.npz")):
        got = dict(np.load(os.path.join(out, "step.npz")))
        loss = float(got.pop("__loss__"))
    else:
        got = load_safetensors(os.path.join(out, "step.safetensors"))
        with open(os.path.join(out, "loss.json")) as f:
            loss = json.load(f)["loss"]
    expected_loss, near_kink = float(ref.pop("__loss__")), int(ref.pop("__near_kink__"))
    missing = sorted(set(ref) - set(got))
    if missing:
        return {"status": "disagrees", "why": f"no {missing[0]} after the step ({len(missing)} tensors missing)"}
    worst_w, worst_u = (0.0, ""), (0.0, "")
    for name, expected in ref.items():
        if name.endswith("num_batches_tracked"):
            if int(got[name]) != int(expected):
                return {"status": "disagrees", "why": f"{name} is {int(got[name])}, expected {int(expected)}"}
            continue
        w = relative(got[name], expected)
        worst_w = max(worst_w, (w, name))
        update, base = expected - before[name], np.abs(before[name]).max()
        if np.abs(update).max() > NEGLIGIBLE_UPDATE * max(base, 1e-30):
            worst_u = max(worst_u, (relative(got[name] - before[name], update), name))
    loss_error = abs(loss - expected_loss) / abs(expected_loss)
    return {"loss": loss,
            "loss_error": loss_error, "weight_error": worst_w[0], "weight_error_tensor": worst_w[1],
            "update_error": worst_u[0], "update_error_tensor": worst_u[1], "near_kink_relu_inputs": near_kink}


def case_work(a, model, clip, case_dir):
    """GFLOP per clip of the forward and the step, counting the multiply-adds that touch the clip
    (not the padding zeros: oneDNN skips them, so nominal counts would put peers above the peak),
    and the nominal count, which must equal vidc info's."""
    from vidnet_peer import SPECS
    with open(os.path.join(case_dir, "work.json")) as f:
        work = json.load(f)
    info = json.loads(subprocess.run([os.path.join(a.build, "bin", "vidc"), "info", "--json", "--input", clip,
                                      SPECS[model]], check=True, capture_output=True, text=True).stdout)
    return {"forward": 2 * work["useful_macs_per_clip"] / 1e9, "step": 2 * work["useful_step_macs_per_clip"] / 1e9,
            "nominal_forward": 2 * work["nominal_macs_per_clip"] / 1e9, "vidc_info_forward": 2 * info["macs"] / 1e9}


def prepare_case(model, batch, clip, case_dir):
    """The case's inputs and float64 answers (reused when a --resume'd run made them)."""
    if os.path.exists(os.path.join(case_dir, "reference_step.npz")):
        return None
    all_cores = os.cpu_count()
    done = subprocess.run(pinned(all_cores) + [sys.executable, os.path.join(HERE, "peers", "reference.py"),
                                               "--case", case_dir, "--model", model, "--batch", str(batch),
                                               "--clip", clip, "--threads", str(all_cores)],
                          capture_output=True, text=True)
    if done.returncode:
        return done.stderr.strip().splitlines()[-1]
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="r3d_18, batch 2, 3x8x112x112, all cores")
    p.add_argument("--peers", action="store_true", help="every peer (default: vidnet and PyTorch eager only)")
    p.add_argument("--only", help="comma-separated peers to run (default: see --peers)")
    p.add_argument("--models")
    p.add_argument("--batches")
    p.add_argument("--clips")
    p.add_argument("--threads", help="comma-separated counts; 'all' is every core")
    p.add_argument("--runs", type=int, default=10, help="timed forward runs (median, min, max)")
    p.add_argument("--step-runs", type=int, default=5, help="timed training steps")
    p.add_argument("--rounds", type=int, default=1,
                   help="times every peer runs a row, the peers taking turns (times pooled; speed per round)")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls first (the first is reported apart)")
    p.add_argument("--budget", type=float, default=300,
                   help="seconds a row's timed runs may take; a slower peer gets fewer runs (at least 3)")
    p.add_argument("--out", default=os.path.join(ROOT, "build-bench", "peers"))
    p.add_argument("--resume", action="store_true", help="keep OUT's rows and run only the missing ones")
    p.add_argument("--build", default=os.environ.get("VIDNET_BUILD_DIR", os.path.join(ROOT, "build")))
    p.add_argument("--timeout", type=int, default=3600, help="seconds one peer process may take")
    a = p.parse_args()
    defaults = QUICK if a.quick else FULL
    models = (a.models or defaults["models"]).split(",")
    batches = [int(b) for b in (a.batches or defaults["batches"]).split(",")]
    clips = (a.clips or defaults["clips"]).split(",")
    cores = os.cpu_count()
    thread_counts = [cores if t == "all" else int(t) for t in (a.threads or defaults["threads"]).split(",")]
    peers = list(PEERS) if a.peers else ["vidnet", "torch-eager", "torch-eager-cl3d"]
    if a.only:
        peers = a.only.split(",")
        unknown = [peer for peer in peers if peer not in PEERS]
        if unknown:
            sys.exit(f"peer_bench: unknown peer {unknown[0]} (known: {', '.join(PEERS)})")
    os.makedirs(a.out, exist_ok=True)
    a.build = os.path.abspath(a.build)

    machine_path, rows_path = os.path.join(a.out, "machine.json"), os.path.join(a.out, "rows.jsonl")
    peak = json.loads(subprocess.run(pinned(cores) + [os.path.join(a.build, "bin", "vidnet-peak-fma")],
                                     check=True, capture_output=True, text=True).stdout)
    machine = cpu_facts() | {"cores": cores, "peak": peak, "python": sys.version.split()[0]}
    rows = []
    if a.resume and os.path.exists(rows_path):
        with open(machine_path) as f:
            earlier = json.load(f)
        if earlier["cpu"] != machine["cpu"] or earlier["cores"] != cores:
            sys.exit(f"peer_bench: {a.out} holds rows from {earlier['cpu']} x {earlier['cores']}, this is "
                     f"{machine['cpu']} x {cores}: resume there or give another --out")
        with open(rows_path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        machine["peaks_of_earlier_runs"] = earlier.get("peaks_of_earlier_runs", []) + [earlier["peak"]]
    else:
        open(rows_path, "w").close()
    with open(machine_path, "w") as f:
        json.dump(machine, f)
    print(f"peer bench on {machine['cpu']}, {cores} cores; measured fp32 FMA peak "
          f"{peak['peak_gflops_1_thread']} GFLOP/s on 1 thread, {peak['peak_gflops_all_threads']} on {cores}")
    if a.rounds < 1:
        sys.exit("peer_bench: --rounds takes a positive integer")
    done_keys = {(r["model"], r["batch"], r["clip"], r["threads"], r["entry"], r["peer"], r.get("round", 1))
                 for r in rows}

    # Smaller work first, all cores before one: an interrupted run has the most useful rows.
    cases = sorted(((m, b, c) for m in models for b in batches for c in clips),
                   key=lambda k: (k[1] * int(k[2].split("x")[1]), models.index(k[0])))
    started = time.time()
    for model, batch, clip in cases:
        case_dir = os.path.join(a.out, "cases", f"{model}-b{batch}-{clip}")
        problem = prepare_case(model, batch, clip, case_dir)
        work = None if problem else case_work(a, model, clip, case_dir)
        if work:
            print(f"{model} {batch} x {clip}: forward {work['forward'] * batch:.1f} GFLOP useful, "
                  f"{work['nominal_forward'] * batch:.1f} nominal (vidc info: {work['vidc_info_forward'] * batch:.1f}); "
                  f"step {work['step'] * batch:.1f} GFLOP useful")
        export_problem = None  # set once, when the case's first ONNX peer is due
        for threads in sorted(thread_counts, reverse=True):
            for entry, rnd, peer in ((e, r, p) for e in ("forward", "step") for r in range(1, a.rounds + 1)
                                     for p in peers):
                key = (model, batch, clip, threads, entry, peer, rnd)
                if key in done_keys:
                    continue
                # A row that was not measured in its first round (n/a, failed) is not tried again.
                if rnd > 1 and not any(r.get("round", 1) == 1 and "median_s" in r and
                                       (r["model"], r["batch"], r["clip"], r["threads"], r["entry"], r["peer"])
                                       == key[:6] for r in rows):
                    continue
                row = {"model": model, "batch": batch, "clip": clip, "threads": threads, "entry": entry,
                       "peer": peer, "round": rnd}
                if work:
                    row["gflop"] = round(work[entry] * batch, 3)
                entries = PEERS[peer][2]
                if not problem and entry in entries and peer in ONNX_PEERS and export_problem is None:
                    export_problem = export_onnx(a, case_dir, model, batch, clip, cores)
                if problem:
                    row |= {"status": "failed", "why": "reference: " + problem}
                elif entry not in entries:
                    row |= {"status": "n/a", "why": NO_STEP[peer]}
                elif peer in ONNX_PEERS and export_problem:
                    row |= {"status": "failed", "why": "ONNX export: " + export_problem}
                else:
                    row |= measure(a, peer, case_dir, model, batch, clip, entry, threads, peak, row["gflop"])
                rows.append(row)
                with open(rows_path, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print("  " + row_line(row), flush=True)
    print(f"peer bench: {len(rows)} rows in {a.out} ({(time.time() - started) / 60:.1f} min this run)")
    machine["peak_after"] = json.loads(subprocess.run(pinned(cores) + [os.path.join(a.build, "bin", "vidnet-peak-fma")],
                                                      check=True, capture_output=True, text=True).stdout)
    with open(machine_path, "w") as f:
        json.dump(machine, f)
    report = print_report(machine, rows, a.out)
    with open(os.path.join(a.out, "report.json"), "w") as f:
        json.dump(report, f, indent=1)


def common_args(case_dir, model, batch, clip, entry, threads, a, out):
    return ["--case", case_dir, "--model", model, "--batch", str(batch), "--clip", clip, "--entry", entry,
            "--threads", str(threads), "--runs", str(a.runs if entry == "forward" else a.step_runs),
            "--warmup", str(a.warmup), "--budget", str(a.budget), "--out", out, "--build", a.build,
            "--onnx-dir", case_dir]


def export_onnx(a, case_dir, model, batch, clip, cores):
    """model.onnx in the case directory for the ONNX peers (kept from an earlier run): "" or why not."""
    if os.path.exists(os.path.join(case_dir, "model.onnx")):
        return ""
    out, why = run_peer("onnx_export.py", common_args(case_dir, model, batch, clip, "forward", cores, a, case_dir),
                        cores, a.timeout)
    if out:
        with open(os.path.join(case_dir, "onnx_export.json"), "w") as f:
            json.dump(out, f)
    return why or ""


def measure(a, peer, case_dir, model, batch, clip, entry, threads, peak, gflop):
    script, variant, _ = PEERS[peer]
    out = os.path.join(case_dir, f"{script[:-3]}-{variant or 'default'}-{entry}-{threads}t")
    os.makedirs(out, exist_ok=True)
    args = common_args(case_dir, model, batch, clip, entry, threads, a, out) + (["--variant", variant] if variant else [])
    result, why = run_peer(script, args, threads, a.timeout)
    if result is None:
        return {"status": "failed", "why": why}
    row = {k: v for k, v in result.items() if k != "times_s"}
    row["times_s"] = [round(t, 5) for t in result.get("times_s", [])]
    if result.get("status") != "ok":
        return row
    if peer in ONNX_PEERS:
        with open(os.path.join(case_dir, "onnx_export.json")) as f:
            row["export_s"] = json.load(f)["convert_s"]
    row |= check_forward(out, case_dir) if entry == "forward" else check_step(out, case_dir)
    row["status"] = verdict(row)
    peak_gflops = peak["peak_gflops_1_thread"] if threads == 1 else peak["peak_gflops_all_threads"]
    row["gflops"] = gflop / row["median_s"]
    row["peak_fraction"] = row["gflops"] / peak_gflops
    return row


def row_line(r):
    peer = r["peer"] + (f" r{r['round']}" if r.get("round", 1) > 1 else "")
    head = f"{r['model']:12s} b{r['batch']} {r['clip']:13s} {r['threads']:2d}t {r['entry']:7s} {peer:17s}"
    if "median_s" in r and ("logit_error" in r or "loss_error" in r):
        check = (f"logits {r['logit_error']:.1e}" if r["entry"] == "forward" else
                 f"loss {r['loss_error']:.1e} weights {r['weight_error']:.1e} update {r['update_error']:.1e}")
        return (f"{head} {r['median_s']:8.3f} s [{r['min_s']:.3f}-{r['max_s']:.3f}] "
                f"{r['gflops']:6.1f} GFLOP/s {r['peak_fraction']:4.0%}  {FLAGS[r['status']]}{check}")
    return f"{head} {r['status']}: {r.get('why', '')}"


if __name__ == "__main__":
    main()
