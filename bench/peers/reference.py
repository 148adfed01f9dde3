"""The case every peer runs and the float64 PyTorch answers they are checked against. Writes, in
the case directory: weights.safetensors (torchvision's names; random weights and BN statistics
from --seed, so eval-mode BN is no identity), x.npy (clips, N(0, 1)), y.npy (int64 labels),
reference_logits.npy (eval-mode forward in float64) and reference_step.npz (one SGD step in
float64 from those weights: the state_dict after it, its loss, and how many ReLU inputs lay
within 1e-5 of zero, where float32 rounding may flip a gradient)."""
import argparse
import os

import numpy as np
import torch
import torchvision.models.video as tvm

from common import LR, MOMENTUM, WEIGHT_DECAY, Case, save_safetensors, torch_model
from torchvision_forward import randomize
from torchvision_step import torch_steps


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

    model = getattr(tvm, a.model)()
    randomize(model, torch.Generator().manual_seed(a.seed))
    save_safetensors(case.weights, model.state_dict())
    rng = np.random.default_rng(a.seed)
    np.save(case.x, rng.standard_normal((a.batch, *clip)).astype(np.float32))
    np.save(case.y, rng.integers(0, 400, a.batch).astype(np.int64))

    model = torch_model(case, torch.float64)  # what every peer loads, exactly
    x, y = torch.from_numpy(np.load(case.x)), torch.from_numpy(np.load(case.y))
    with torch.no_grad():
        np.save(case.path("reference_logits.npy"), model.eval()(x.double()).numpy())
    near_kink = []
    losses, state = torch_steps(model, x, y, 1, LR, MOMENTUM, WEIGHT_DECAY, torch.float64, near_kink)
    np.savez(case.path("reference_step.npz"), __loss__=np.array(losses[0]), __near_kink__=np.array(near_kink[0]),
             **{k: v.numpy() for k, v in state.items()})


if __name__ == "__main__":
    main()
