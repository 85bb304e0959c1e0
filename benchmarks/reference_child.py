"""The latency reference in a process of its own: bare torchvision, nothing else.

``reference_child.py WEIGHTS DEVICE [LAYER]`` loads ``torchvision.models.alexnet()``
with WEIGHTS and ``AlexNet_Weights.IMAGENET1K_V1.transforms()``, prints ``ready``,
then for every image path read on stdin times PIL open + convert("RGB") +
transform + forward under ``inference_mode`` and prints the seconds: the total,
then the part before the forward pass (open + convert + transform).

With LAYER (e.g. ``features.0``), a forward hook on that module keeps its output
as a user who wants one layer's feature maps writes it: a CPU NumPy copy, taken
inside the hook because torchvision's ReLUs are in place and overwrite a conv's
output right after it (``bench_features.py``).

Why a separate process: torch's CPU kernels run on an OpenMP thread team per
calling thread. Running the reference on the benchmark's GUI thread gives that
thread a second team beside the app worker's, and with two teams on two cores
the worker's forward of one image took 31 ms instead of 18 ms (the app itself
never runs torch on the GUI thread). In a process of its own the reference
disturbs nothing and is disturbed by nothing while it sleeps on stdin.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def time_one(model, transform, path: str, device) -> tuple[float, float]:
    """(total, before the forward pass) in seconds."""
    import torch
    from common import sync
    from PIL import Image

    t0 = time.perf_counter()
    with Image.open(path) as im:
        x = transform(im.convert("RGB")).unsqueeze(0).to(device)  # (1, 3, 224, 224)
    t1 = time.perf_counter()
    with torch.inference_mode():
        model(x)
    sync(device)
    return time.perf_counter() - t0, t1 - t0


def main() -> None:
    import torch
    import torchvision
    from torchvision.models import AlexNet_Weights

    weights, device = sys.argv[1], sys.argv[2]
    model = torchvision.models.alexnet()
    model.load_state_dict(torch.load(weights, weights_only=True))
    model = model.eval().to(device)
    if len(sys.argv) > 3:
        kept = {}

        def keep(_module, _inputs, out) -> None:
            kept["maps"] = out[0].detach().cpu().numpy().copy()  # (C, H, W) float32

        model.get_submodule(sys.argv[3]).register_forward_hook(keep)
    transform = AlexNet_Weights.IMAGENET1K_V1.transforms()
    print("ready", flush=True)
    for line in sys.stdin:
        total, before_forward = time_one(model, transform, line.rstrip(chr(10)), device)
        print(f"{total:.9f} {before_forward:.9f}", flush=True)


if __name__ == "__main__":
    main()
