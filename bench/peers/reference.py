"""The case every peer runs and the float64 PyTorch answers they are checked against. Writes, in
the case directory: weights.safetensors (torchvision's names, the model from common.video_model; random weights and BN statistics
from --seed, so eval-mode BN is no identity), x.npy (clips, N(0, 1)), y.npy (int64 labels),
reference_logits.npy (eval-mode forward in float64) and reference_step.npz (one SGD step in
float64 from those weights: the state_dict after it, its loss, and how many ReLU inputs lay
within 1e-5 of zero, where float32 rounding may flip a gradient), and work.json: the forward's
multiply-adds per clip, nominal (every tap, as Table 2 and `vidc info` count them) and useful
(only the taps that land inside the unpadded input: what a convolution must compute)."""
import argparse
import json
import os

import numpy as np
import torch

from common import LR, MOMENTUM, WEIGHT_DECAY, Case, save_safetensors, torch_model, video_model
from torchvision_forward import randomize
from torchvision_step import torch_steps


def useful_taps(size, kernel, stride, padding, dilation, out):
    """Over all output positions of one dimension, the kernel taps that read the input, not padding."""
    return sum(sum(1 for k in range(kernel) if 0 <= o * stride - padding + k * dilation < size)
               for o in range(out))


def forward_work(model, x):
    """Multiply-adds per clip of the convolutions and the classifier: (nominal, useful, useful in
    the first convolution, whose data gradient a training step does not need)."""
    nominal, useful, first = [0], [0], []

    def conv(module, inputs, output):
        size, out = inputs[0].shape[2:], output.shape[2:]
        per_position = module.in_channels // module.groups * module.out_channels
        nominal[0] += per_position * int(np.prod(module.kernel_size)) * int(np.prod(out))
        taps = per_position * int(np.prod([useful_taps(*d) for d in zip(
            size, module.kernel_size, module.stride, module.padding, module.dilation, out)]))
        useful[0] += taps
        first.append(taps)

    def linear(module, inputs, output):
        nominal[0] += module.in_features * module.out_features
        useful[0] += module.in_features * module.out_features

    hooks = [m.register_forward_hook(conv) for m in model.modules() if isinstance(m, torch.nn.Conv3d)]
    hooks += [m.register_forward_hook(linear) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        model(x[:1])
    for h in hooks:
        h.remove()
    return nominal[0], useful[0], first[0]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--case", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--clip", required=True)
    p.add_argument("--seed", type=int, default=2018)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    clip = tuple(int(v) for v in a.clip.split("x"))
    os.makedirs(a.case, exist_ok=True)
    case = Case(a.case, a.model, a.batch, clip)

    model = video_model(a.model)
    randomize(model, torch.Generator().manual_seed(a.seed))
    save_safetensors(case.weights, model.state_dict())
    rng = np.random.default_rng(a.seed)
    np.save(case.x, rng.standard_normal((a.batch, *clip)).astype(np.float32))
    np.save(case.y, rng.integers(0, 400, a.batch).astype(np.int64))

    model = torch_model(case, torch.float64)  # what every peer loads, exactly
    x, y = torch.from_numpy(np.load(case.x)), torch.from_numpy(np.load(case.y))
    with torch.no_grad():
        np.save(case.path("reference_logits.npy"), model.eval()(x.double()).numpy())
    nominal, useful, stem = forward_work(model, x.double())
    with open(case.path("work.json"), "w") as f:
        # A step: the forward, every filter gradient, every data gradient but the first layer's.
        json.dump({"nominal_macs_per_clip": nominal, "useful_macs_per_clip": useful,
                   "useful_step_macs_per_clip": 3 * useful - stem}, f)
    near_kink = []
    losses, state = torch_steps(model, x, y, 1, LR, MOMENTUM, WEIGHT_DECAY, torch.float64, near_kink)
    np.savez(case.path("reference_step.npz"), __loss__=np.array(losses[0]), __near_kink__=np.array(near_kink[0]),
             **{k: v.numpy() for k, v in state.items()})


if __name__ == "__main__":
    main()
