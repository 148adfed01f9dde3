"""What every peer process of the peer benchmark shares: its command line, the case's files
(weights, clips, labels), the PyTorch model holding those weights (torchvision's, or
bottleneck_models.py's where torchvision has none), the timing loop and the one JSON line a peer
prints."""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "test", "interop"))
from torchvision_forward import save_safetensors  # noqa: E402  (the project's one safetensors writer)
from torchvision_step import load_safetensors  # noqa: E402  (and its one reader)

# The training step every peer takes: torch.optim.SGD semantics, as `vidrun bench` and our trainer.
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 1e-4

__all__ = ["LR", "MOMENTUM", "WEIGHT_DECAY", "ROOT", "Case", "load_safetensors", "save_safetensors",
           "peer_args", "affordable_runs", "time_calls", "report", "torch_model", "video_model"]


class Case:
    """One benchmark case's directory, written by reference.py: weights.safetensors, x.npy, y.npy."""

    def __init__(self, directory, model, batch, clip):
        self.dir, self.model, self.batch, self.clip = directory, model, batch, clip
        self.weights = os.path.join(directory, "weights.safetensors")
        self.x = os.path.join(directory, "x.npy")
        self.y = os.path.join(directory, "y.npy")

    def path(self, name):
        return os.path.join(self.dir, name)


def peer_args(description):
    """The command line every peer takes from peer_bench.py."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--case", required=True, help="the case directory (reference.py wrote it)")
    p.add_argument("--model", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--clip", required=True, help="CxLxHxW")
    p.add_argument("--entry", choices=["forward", "step"], required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--runs", type=int, required=True)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--budget", type=float, default=300,
                   help="seconds the timed runs may take: a slower peer gets fewer runs, at least 3")
    p.add_argument("--variant", default="", help="a peer's flavour, e.g. eager-cl3d")
    p.add_argument("--out", required=True, help="where the peer writes its outputs (logits or weights)")
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="vidnet's build directory")
    p.add_argument("--onnx-dir", help="where onnx_export.py left model.onnx")
    a = p.parse_args()
    a.case = Case(a.case, a.model, a.batch, tuple(int(v) for v in a.clip.split("x")))
    return a


def affordable_runs(first, warmup, runs, budget):
    """(warm-up calls, timed runs) that fit BUDGET seconds after a first call of FIRST seconds."""
    if first * (warmup - 1 + runs) <= budget:
        return warmup, runs
    return 1, max(3, min(runs, int(budget // max(first, 1e-9))))


def time_calls(call, warmup, runs, budget=None):
    """First call timed alone (allocation, lazy compilation), further warm-up calls untimed, then
    RUNS timed calls (fewer when they would not fit BUDGET seconds): median, min, max, every time."""
    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    if budget:
        warmup, runs = affordable_runs(first, warmup, runs, budget)
    for _ in range(max(warmup - 1, 0)):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {"first_run_s": first, "median_s": statistics.median(times), "min_s": min(times),
            "max_s": max(times), "runs": runs, "times_s": times}


def report(**fields):
    """The peer's one JSON line on stdout (peer_bench.py reads the last line)."""
    print(json.dumps(fields), flush=True)


def video_model(name):
    """A fresh PyTorch model of NAME: torchvision's constructor, else bottleneck_models.py's
    (R3D-50/101/152, ir-CSN, ip-CSN, which torchvision lacks)."""
    import torchvision.models.video as tvm
    import bottleneck_models
    if hasattr(tvm, name):
        return getattr(tvm, name)()
    if name in bottleneck_models.SPECS:
        return getattr(bottleneck_models, name)()
    raise ValueError(f"no PyTorch model named {name}")


def torch_model(case, dtype=None):
    """The case's PyTorch model (video_model) with its weights (and BN statistics), float32 or
    DTYPE."""
    import torch
    model = video_model(case.model)
    state = {k: torch.from_numpy(np.array(v)) for k, v in load_safetensors(case.weights).items()}
    model.load_state_dict(state)
    return model.to(dtype) if dtype is not None else model
