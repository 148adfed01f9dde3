"""Peer: IREE on the CPU (llvm-cpu backend, --iree-llvmcpu-target-cpu=host), forward only: the
exported ONNX model imported with iree-import-onnx, compiled with iree-compile, run by the
local-task driver with its worker count set. Import and compile are timed apart."""
import importlib.metadata
import os
import subprocess
import sys
import time

import numpy as np

from common import peer_args, report, time_calls

COMPILE_FLAGS = ["--iree-hal-target-device=local", "--iree-hal-local-target-device-backends=llvm-cpu",
                 "--iree-llvmcpu-target-cpu=host"]


def tool(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def first_error(text):
    """The first diagnostic, without the temporary file's path."""
    lines = [line for line in text.splitlines() if "error:" in line] or text.splitlines()[-1:] or ["(no output)"]
    line = lines[0].strip()
    return ("at model.mlir" + line[line.index(".mlir") + 5:] if ".mlir:" in line else line)[:300]


def main():
    a = peer_args(__doc__)
    mlir, vmfb = os.path.join(a.out, "model.mlir"), os.path.join(a.out, "model.vmfb")
    start = time.perf_counter()
    done = subprocess.run([tool("iree-import-onnx"), os.path.join(a.onnx_dir, "model.onnx"), "-o", mlir],
                          capture_output=True, text=True)
    import_s = time.perf_counter() - start
    if done.returncode:
        return report(status="failed", why="iree-import-onnx: " + first_error(done.stderr + done.stdout))
    start = time.perf_counter()
    done = subprocess.run([tool("iree-compile"), mlir, *COMPILE_FLAGS, "-o", vmfb], capture_output=True, text=True)
    compile_s = time.perf_counter() - start
    os.remove(mlir)  # hundreds of MiB of weights as text
    if done.returncode:
        return report(status="failed", why="iree-compile: " + first_error(done.stderr + done.stdout),
                      convert_s=import_s, compile_s=compile_s)

    import iree.runtime as rt
    rt.flags.parse_flags(f"--task_topology_max_group_count={a.threads}")
    context = rt.SystemContext(config=rt.Config("local-task"))
    with open(vmfb, "rb") as f:
        context.add_vm_module(rt.VmModule.copy_buffer(context.instance, f.read()))
    os.remove(vmfb)
    main_graph = context.modules.module["main_graph"]
    x = np.load(a.case.x)
    logits = []

    def call():
        logits[:] = [np.asarray(main_graph(x).to_host())]

    timing = time_calls(call, a.warmup, a.runs, a.budget)
    np.save(os.path.join(a.out, "logits.npy"), logits[0])
    settings = {"iree": importlib.metadata.version("iree-base-runtime"),
                "compile_flags": " ".join(COMPILE_FLAGS), "workers": a.threads}
    report(status="ok", convert_s=import_s, compile_s=compile_s, settings=settings, **timing)


if __name__ == "__main__":
    main()
