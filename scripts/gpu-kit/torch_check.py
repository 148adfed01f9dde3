"""The GPU kit's second reference and its peer: torchvision on this GPU (cuDNN).

Run by gpu-check.sh after the vidnet checks when python3 has torch, torchvision and CUDA:
  - correctness: each case with a torchvision model, from the same initial weights: our CUDA logits and our SGD
    step (loss, every weight, every update) against torchvision in float64 on the GPU, with torchvision's own
    float32 (TF32 off) beside them for scale;
  - speed: forward (eval, inference mode) and train step (cross-entropy, backward, SGD with momentum and weight
    decay) at every bench shape, float32 with TF32 off (what our kernels compute) and with cuDNN's default TF32,
    seconds per call (median), kernels per call (torch.profiler), peak memory; side by side with vidnet bench.
Writes results.json (vidnet's and torch's) into the results directory; exit 1 when a check fails.
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models.video as tvm

LOGIT_TOL, LOSS_TOL, WEIGHT_TOL, UPDATE_TOL, NEGLIGIBLE_UPDATE = 1e-4, 1e-5, 1e-4, 1e-3, 1e-6


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    dtypes = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4"}
    return {name: np.frombuffer(data[8 + size + info["data_offsets"][0]:8 + size + info["data_offsets"][1]],
                                dtype=dtypes[info["dtype"]]).reshape(info["shape"])
            for name, info in header.items()}


def load_npy_f32(path):
    return np.load(path).astype(np.float64)


def model(name, classes, weights=None):
    m = getattr(tvm, name)(num_classes=classes)
    if weights is not None:
        m.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    return m


def rel(a, b):
    scale = float(np.abs(b).max())
    return float(np.abs(a - b).max()) / scale if scale > 0 else float(np.abs(a - b).max())


def check_case(case, kit, results, lr, momentum, wd, rows):
    name, tv = case["name"], case["torchvision"]
    w0 = load_safetensors(os.path.join(results, f"{name}.w0.safetensors"))
    x = torch.from_numpy(np.load(os.path.join(kit, "cases", name, "clips.npy"))).cuda()
    y = torch.from_numpy(np.load(os.path.join(kit, "cases", name, "labels.npy"))).cuda()
    ours_logits = load_npy_f32(os.path.join(results, f"{name}.logits.npy"))
    ref = model(tv, case["classes"], w0).cuda().double().eval()
    f32 = model(tv, case["classes"], w0).cuda().eval()
    with torch.no_grad():
        want = ref(x.double()).cpu().numpy()
        theirs32 = f32(x).double().cpu().numpy()
    out = {"case": name, "logits_vidnet": rel(ours_logits, want), "logits_torch_f32": rel(theirs32, want)}
    rows.append((name, "forward logits vs torch f64", out["logits_vidnet"], LOGIT_TOL,
                 f"torch f32: {out['logits_torch_f32']:.1e}", False))
    # One SGD step in float64, training-mode BN, as the kit's step; torchvision's own float32 step beside it.
    def sgd_step(m, clips):
        m.train()
        opt = torch.optim.SGD(m.parameters(), lr=lr, momentum=momentum, weight_decay=wd)
        loss = F.cross_entropy(m(clips), y)
        loss.backward()
        opt.step()
        return loss, {k: v.detach().cpu().double().numpy() for k, v in m.state_dict().items()}

    loss, after = sgd_step(ref, x.double())
    loss = loss.item()
    _, after32 = sgd_step(f32, x)
    ours = load_safetensors(os.path.join(results, f"{name}.step.safetensors"))
    ours_loss = json.load(open(os.path.join(results, f"{name}.step.json")))["loss"]
    out["loss_vidnet"] = abs(ours_loss - loss) / abs(loss)
    worst_w, worst_u, torch_u, negligible = (0.0, ""), (0.0, ""), 0.0, 0
    for k, want_w in after.items():
        if k.endswith("num_batches_tracked"):
            if int(ours[k]) != int(want_w):
                worst_w = (float("inf"), k)
            continue
        got, base = ours[k].astype(np.float64), w0[k].astype(np.float64)
        worst_w = max(worst_w, (rel(got, want_w), k))
        if np.abs(want_w - base).max() <= NEGLIGIBLE_UPDATE * max(np.abs(base).max(), 1e-30):
            negligible += 1
            continue
        worst_u = max(worst_u, (rel(got - base, want_w - base), k))
        torch_u = max(torch_u, rel(after32[k] - base, want_w - base))
    out.update(weights_vidnet=worst_w[0], weights_tensor=worst_w[1], update_vidnet=worst_u[0],
               update_tensor=worst_u[1], update_torch_f32=torch_u, negligible_updates=negligible,
               step_checked=case["step_checked"])
    # Where the kit's clips put ReLU inputs near 0 (step_checked false), the weights are reported, not checked.
    info = not case["step_checked"]
    rows.append((name, "step loss vs torch f64", out["loss_vidnet"], LOSS_TOL, "", False))
    rows.append((name, "step weights vs torch f64", worst_w[0], WEIGHT_TOL, worst_w[1], info))
    rows.append((name, "step update vs torch f64", worst_u[0], UPDATE_TOL,
                 f"{worst_u[1]}; torch f32: {torch_u:.1e}", info))
    return out


def timed(fn, iters, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def kernels_per_call(fn):
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    return sum(1 for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA)


def bench_torch(entry, iters, tf32):
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    c, l, h, w = (int(v) for v in entry["input"].split("x"))
    n = entry["batch"]
    x = torch.randn(n, c, l, h, w, device="cuda")
    y = torch.arange(n, device="cuda") % 400
    m = model(entry["torchvision"], 400).cuda()
    result = {}
    m.eval()

    def forward():
        with torch.inference_mode():
            m(x)

    torch.cuda.reset_peak_memory_stats()
    times = timed(forward, iters)
    result["forward"] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
                         "kernels": kernels_per_call(forward),
                         "peak_memory_bytes": torch.cuda.max_memory_allocated()}
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(m(x), y).backward()
        opt.step()

    torch.cuda.reset_peak_memory_stats()
    times = timed(step, iters)
    result["train_step"] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
                            "kernels": kernels_per_call(step),
                            "peak_memory_bytes": torch.cuda.max_memory_allocated()}
    del m, opt, x
    torch.cuda.empty_cache()
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kit", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--quick", action="store_true", help="the cases gpu-check.sh ran, no timing")
    p.add_argument("--no-bench", action="store_true", help="no timing")
    a = p.parse_args()
    kit = json.load(open(os.path.join(a.kit, "kit.json")))
    vid = json.load(open(os.path.join(a.results, "vidnet.json")))
    print(f"torch {torch.__version__}, torchvision {__import__('torchvision').__version__}, "
          f"cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name()}")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    rows, checks, failures = [], [], 0
    done = {c["case"] for c in vid["checks"]}
    for case in kit["cases"]:
        if case["torchvision"] == "-" or case["name"] not in done:
            continue
        checks.append(check_case(case, a.kit, a.results, kit["lr"], kit["momentum"], kit["weight_decay"], rows))
    print("vidnet's CUDA outputs against torchvision in float64 on this GPU (max |ours - torch| / max |torch|)")
    for name, what, err, tol, note, info in rows:
        ok = err <= tol
        failures += not ok and not info
        verdict = "info (not a check: ReLU inputs near 0)" if info else "pass" if ok else "FAIL"
        print(f"{name:<20} {what:<28} {err:10.2e} {tol:8.0e}  {verdict}  {note}")

    bench = []
    ours = {b["name"]: b["vidnet"] for b in vid["bench"]}
    for entry in ([] if a.quick or a.no_bench else kit["bench"]):
        if entry["name"] not in ours:
            continue
        print(f"timing torchvision {entry['name']}", file=sys.stderr)
        bench.append({"name": entry["name"], "vidnet": ours[entry["name"]],
                      "torch_fp32": bench_torch(entry, a.iters, tf32=False),
                      "torch_tf32": bench_torch(entry, a.iters, tf32=True)})
    if bench:
        print()
        print("seconds per call (median), vidnet CUDA vs torchvision + cuDNN on the same GPU, float32 (TF32 off);")
        print("x = vidnet time / torch time (lower is better for vidnet); k = kernels per call; mem = MiB")
        print(f"{'shape':<18} {'fwd vidnet':>10} {'torch':>8} {'x':>6} {'step vidnet':>11} {'torch':>8} {'x':>6}"
              f" {'k ours/torch':>13} {'mem ours/torch':>15} {'torch tf32 fwd/step':>20}")
        for b in bench:
            v, t, t32 = b["vidnet"], b["torch_fp32"], b["torch_tf32"]
            vf, vs = v["forward"]["median_s"], v["train_step"]["median_s"]
            tf, ts = t["forward"]["median_s"], t["train_step"]["median_s"]
            print(f"{b['name']:<18} {vf:10.4f} {tf:8.4f} {vf / tf:6.1f} {vs:11.4f} {ts:8.4f} {vs / ts:6.1f}"
                  f" {v['train_step']['kernels']:>6}/{t['train_step']['kernels']:<6}"
                  f" {v['device_buffer_bytes'] >> 20:>7}/{t['train_step']['peak_memory_bytes'] >> 20:<7}"
                  f" {t32['forward']['median_s']:9.4f}/{t32['train_step']['median_s']:.4f}")
    vid["torch"] = {"version": torch.__version__, "cudnn": torch.backends.cudnn.version(), "checks": checks,
                    "bench": bench, "failures": failures}
    with open(os.path.join(a.results, "results.json"), "w") as f:
        json.dump(vid, f, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
