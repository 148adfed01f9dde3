"""Per-layer forward against the fastest forward peer: every convolution of a model's forward, timed
by `vidrun profile` (the clips one per thread, as our forward runs them: each row's time is its share
of the wall clock), beside OpenVINO's own time for the same convolution of the same torchvision
model (its PERF_COUNT profile; float32 forced, latency hint, one stream, the same threads), in the
same run. Says which layers lose the forward and by how much, and which OpenVINO kernel wins.
Measures, never asserts. Runs in the peers' environment; scripts/bench.sh --layers-openvino starts
it.

The two are matched by shape (kernel, channels in and out, stride), in execution order. OpenVINO
runs a random torchvision initialization (timing does not depend on the values); PERF_COUNT's
per-node times add up to within a few percent of its untimed inference."""
import argparse
import collections
import contextlib
import json
import os
import statistics
import subprocess
import sys

import onnx
import openvino as ov
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "peers"))
sys.path.insert(0, HERE)
from conv_shape import parse  # noqa: E402  the profile's shape string, read back
from common import video_model  # noqa: E402  torchvision's model, or bottleneck_models.py's
from vidnet_peer import SPECS  # noqa: E402  model name -> spec file
import openvino_peer  # noqa: E402  the peer's compile settings, read back the same way


def onnx_convs(path):
    """ONNX node name -> (kernel, C, F, stride) of every Conv."""
    model = onnx.load(path)
    weights = {t.name: list(t.dims) for t in model.graph.initializer}
    convs = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        f, c, *kernel = weights[node.input[1]]
        strides = next((list(a.ints) for a in node.attribute if a.name == "strides"), [1, 1, 1])
        convs[node.name] = (tuple(kernel), c, f, tuple(strides))
    return convs


def openvino_layers(onnx_path, x, threads, runs):
    """OpenVINO's convolutions in execution order: (ONNX name, median ms, kernel implementation), and
    its untimed inference in ms."""
    compiled = ov.Core().compile_model(onnx_path, "CPU", openvino_peer.config(threads, PERF_COUNT=True))
    precision = openvino_peer.setting(compiled, "INFERENCE_PRECISION_HINT")
    if precision != "f32":
        sys.exit(f"layers_vs_openvino: OpenVINO runs in {precision}, not f32")
    request = compiled.create_infer_request()
    for _ in range(2):
        request.infer({0: x})
    times, order, kernels = collections.defaultdict(list), [], {}
    for i in range(runs):
        request.infer({0: x})
        for p in request.profiling_info:
            if p.node_type != "Convolution":
                continue
            if i == 0:
                order.append(p.node_name)
            times[p.node_name].append(p.real_time.total_seconds() * 1e3)
            kernels[p.node_name] = p.exec_type
    return [(name.split("/")[0], statistics.median(times[name]), kernels[name]) for name in order]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--model", default="r2plus1d_18", choices=sorted(SPECS))
    p.add_argument("--clip", default="3x8x112x112")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--out", default="build-bench/layers-openvino")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    clip = [int(v) for v in a.clip.split("x")]
    tag = f"{a.model}-{a.batch}x{a.clip}"

    bundle = os.path.join(a.out, tag + ".vbundle")
    subprocess.run([os.path.join(a.build, "bin", "vidc"), "build", SPECS[a.model], "--input", a.clip, "--batch",
                    str(a.batch), "--forward-only", "-o", bundle], check=True, capture_output=True)
    env = dict(os.environ, VIDNET_THREADS=str(a.threads))
    profile = json.loads(subprocess.run([os.path.join(a.build, "bin", "vidrun"), "profile", bundle, "--json",
                                         "--entry", "forward", "--batch", str(a.batch), "--iters", str(a.runs)], check=True,
                                        capture_output=True, text=True, env=env).stdout)

    onnx_path = os.path.join(a.out, tag + ".onnx")
    torch.manual_seed(0)
    model = video_model(a.model).eval()
    x = torch.randn(a.batch, *clip)
    if not os.path.exists(onnx_path):
        with contextlib.redirect_stdout(sys.stderr):  # the exporter's progress lines
            torch.onnx.export(model, (x,), onnx_path, dynamo=True, external_data=False)
    shapes = onnx_convs(onnx_path)
    queues = collections.defaultdict(collections.deque)
    for name, ms, kernel in openvino_layers(onnx_path, x.numpy(), a.threads, a.runs):
        queues[shapes[name]].append((ms, kernel))

    rows = []
    for r in profile["rows"]:
        if r["kind"] != "conv":
            continue
        conv = parse(r["shape"])
        key = (conv["kernel"], conv["c"], conv["f"], conv["stride"])
        if not queues[key]:
            sys.exit(f"layers_vs_openvino: no OpenVINO convolution left for {r['layer']} ({r['shape']})")
        ms, kernel = queues[key].popleft()
        rows.append({"layer": r["layer"], "shape": r["shape"], "ours_ms": r["seconds"] * 1e3, "openvino_ms": ms,
                     "speed": ms / (r["seconds"] * 1e3), "peak_fraction": r["peak_fraction"],
                     "openvino_kernel": kernel})
    left = sum(len(q) for q in queues.values())
    if left:
        sys.exit(f"layers_vs_openvino: {left} OpenVINO convolutions matched none of ours")

    print(f"{profile['bundle']} forward, batch {a.batch} x {a.clip}, {a.threads} threads, FMA peak "
          f"{profile['peak_gflops']:.1f} GFLOP/s; openvino {ov.get_version()}, f32; speed > 1x: ours is faster")
    print(f"{'layer':22} {'shape':40} {'ours ms':>8} {'of peak':>8} {'OV ms':>8} {'speed':>6}  OV kernel")
    for r in rows:
        print(f"{r['layer']:22} {r['shape']:40} {r['ours_ms']:8.2f} {100 * r['peak_fraction']:7.0f}% "
              f"{r['openvino_ms']:8.2f} {r['speed']:5.2f}x  {r['openvino_kernel']}")
    ours, theirs = sum(r["ours_ms"] for r in rows), sum(r["openvino_ms"] for r in rows)
    print(f"convolutions: ours {ours:.1f} ms, OpenVINO {theirs:.1f} ms: {theirs / ours:.2f}x; whole forward: "
          f"ours {profile['untimed_s'] * 1e3:.1f} ms untimed")
    worst = sorted(rows, key=lambda r: r["ours_ms"] - r["openvino_ms"], reverse=True)[:5]
    print("most time lost: " + ", ".join(f"{r['layer']} {r['shape'].split(',')[0]} "
                                         f"{r['ours_ms'] - r['openvino_ms']:+.1f} ms" for r in worst))
    with open(os.path.join(a.out, tag + ".json"), "w") as f:
        json.dump({"model": a.model, "batch": a.batch, "clip": a.clip, "threads": a.threads, "rows": rows,
                   "openvino": ov.get_version(), "peak_gflops": profile["peak_gflops"],
                   "ours_untimed_s": profile["untimed_s"]}, f, indent=1)


if __name__ == "__main__":
    main()
