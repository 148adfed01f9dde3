"""Exports the case's eval-mode torchvision model to ONNX (model.onnx in --out) for the ONNX
Runtime, OpenVINO and IREE peers: torch.onnx.export's default (dynamo) exporter, weights inside
the file. Prints the export time."""
import os
import time

import numpy as np
import torch

from common import peer_args, report, torch_model


def main():
    a = peer_args(__doc__)
    torch.set_num_threads(a.threads)
    model = torch_model(a.case).eval()
    x = torch.from_numpy(np.load(a.case.x))
    start = time.perf_counter()
    torch.onnx.export(model, (x,), os.path.join(a.out, "model.onnx"), dynamo=True, external_data=False,
                      verbose=False)
    report(status="ok", convert_s=time.perf_counter() - start, settings={"exporter": "dynamo",
                                                                         "torch": torch.__version__})


if __name__ == "__main__":
    main()
