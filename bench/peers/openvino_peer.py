"""Peer: OpenVINO on the CPU on the exported model (forward only), float32 forced (it would pick
bf16 by itself on CPUs with AVX512-BF16 or AMX), latency hint, one stream, threads set; the
precision it compiled with is read back and reported."""
import os
import time

import numpy as np
import openvino as ov

from common import peer_args, report, time_calls


def config(threads, **extra):
    """The settings every OpenVINO measurement here compiles with."""
    return {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
            "INFERENCE_NUM_THREADS": threads, **extra}


def setting(compiled, key):
    """A property of the compiled model as text (the precision it really compiled with, ...)."""
    value = compiled.get_property(key)
    return value.to_string() if hasattr(value, "to_string") else str(value)


def main():
    a = peer_args(__doc__)
    core = ov.Core()
    start = time.perf_counter()
    compiled = core.compile_model(os.path.join(a.onnx_dir, "model.onnx"), "CPU", config(a.threads))
    compile_s = time.perf_counter() - start
    request = compiled.create_infer_request()
    x = np.load(a.case.x)
    logits = []

    def call():
        logits[:] = [request.infer({0: x})[0].copy()]

    timing = time_calls(call, a.warmup, a.runs, a.budget)
    np.save(os.path.join(a.out, "logits.npy"), logits[0])
    settings = {"openvino": ov.__version__}
    for key in ("INFERENCE_PRECISION_HINT", "INFERENCE_NUM_THREADS", "NUM_STREAMS", "PERFORMANCE_HINT"):
        settings[key] = setting(compiled, key)
    report(status="ok", compile_s=compile_s, settings=settings, **timing)


if __name__ == "__main__":
    main()
