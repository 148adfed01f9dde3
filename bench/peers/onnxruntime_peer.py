"""Peer: ONNX Runtime's CPU execution provider on the exported model (forward only), float32,
intra-op threads set, inter-op 1, all graph optimizations."""
import os
import time

import numpy as np
import onnxruntime as ort

from common import peer_args, report, time_calls


def main():
    a = peer_args(__doc__)
    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    start = time.perf_counter()
    session = ort.InferenceSession(os.path.join(a.onnx_dir, "model.onnx"), options,
                                   providers=["CPUExecutionProvider"])
    compile_s = time.perf_counter() - start
    feed = {session.get_inputs()[0].name: np.load(a.case.x)}
    logits = []

    def call():
        logits[:] = session.run(None, feed)

    timing = time_calls(call, a.warmup, a.runs, a.budget)
    np.save(os.path.join(a.out, "logits.npy"), logits[0])
    report(status="ok", compile_s=compile_s, settings={"onnxruntime": ort.__version__, "intra_op_threads": a.threads,
                                                        "providers": session.get_providers()}, **timing)


if __name__ == "__main__":
    main()
