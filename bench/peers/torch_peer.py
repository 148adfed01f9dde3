"""Peer: PyTorch 2 on the CPU, float32. --variant eager (NCDHW), eager-cl3d (channels_last_3d
weights and clips) or compile (torch.compile with Inductor; frozen weights for the forward).
Forward: eval mode under inference_mode. Step: train mode, cross-entropy, backward, SGD with
momentum and weight decay (the optimizer left eager, as a user writes the loop)."""
import os

import numpy as np
import torch
import torch.nn.functional as F

from common import LR, MOMENTUM, WEIGHT_DECAY, peer_args, report, time_calls, torch_model


def precision_settings():
    """The switches that could make float32 work in lower precision, as they stand."""
    mkldnn = torch.backends.mkldnn
    return {"float32_matmul_precision": torch.get_float32_matmul_precision(),
            "mkldnn_fp32_precision": getattr(mkldnn, "fp32_precision", "n/a"),
            "mkldnn_conv_fp32_precision": getattr(getattr(mkldnn, "conv", None), "fp32_precision", "n/a"),
            "autocast_cpu": torch.is_autocast_enabled("cpu"),
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def main():
    a = peer_args(__doc__)
    torch.set_num_threads(a.threads)
    torch.set_float32_matmul_precision("highest")
    cl3d = a.variant == "eager-cl3d"
    model = torch_model(a.case)
    x = torch.from_numpy(np.load(a.case.x))
    if cl3d:
        model = model.to(memory_format=torch.channels_last_3d)
        x = x.contiguous(memory_format=torch.channels_last_3d)
    compiled = a.variant == "compile"
    if compiled and a.entry == "forward":
        import torch._inductor.config as inductor
        inductor.freezing = True  # weights become constants: what torch.compile offers for inference
    settings = precision_settings() | {"variant": a.variant, "threads": torch.get_num_threads(),
                                       "torch": torch.__version__}

    if a.entry == "forward":
        model.eval()
        run = torch.compile(model) if compiled else model
        logits = []

        def call():
            with torch.inference_mode():
                logits.append(run(x))
                del logits[:-1]

        timing = time_calls(call, a.warmup, a.runs, a.budget)
        np.save(os.path.join(a.out, "logits.npy"), logits[-1].float().numpy())
    else:
        y = torch.from_numpy(np.load(a.case.y))
        model.train()
        run = torch.compile(model) if compiled else model
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
        first = {}

        def call():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(run(x), y)
            loss.backward()
            opt.step()
            value = float(loss)  # waits for the step, as a training loop's logging does
            if not first:
                first["loss"] = value
                first["state"] = {k: v.detach().contiguous().numpy().copy() for k, v in model.state_dict().items()}

        timing = time_calls(call, a.warmup, a.runs, a.budget)
        np.savez(os.path.join(a.out, "step.npz"), __loss__=np.array(first["loss"]), **first["state"])
    if compiled:
        timing["compile_s"] = timing["first_run_s"]  # the first call compiles
    report(status="ok", settings=settings, **timing)


if __name__ == "__main__":
    main()
