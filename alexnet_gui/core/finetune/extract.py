"""Backbone features for a list of images: from the cache when there, else computed.

Images that miss the cache are decoded, resized and cropped on a helper
thread one batch ahead of the forward pass (Pillow releases the GIL), so
decoding hides behind the network. The helper never calls torch: a torch op on
a second thread starts a second OpenMP thread team, and two teams on two cores
slow each other's forward passes. The helper hands over small uint8 crops; the
float batch is made (NumPy, bit-identical to torchvision) and freed on the
calling thread, which keeps memory from piling up in the helper's malloc arena.
Each computed batch is written to the cache right away, so a cancelled run
keeps what it finished and never leaves half an entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from ..images import ImageLoadError, load_image
from ..model import AlexNet
from ..preprocess import normalized_batch, resized_crop
from .cache import FeatureCache, feature_key
from .control import Eta, Progress, RunControl
from .dataset import ImageEntry

LAYER_DIMS = {"pool5": 256 * 6 * 6, "fc7": 4096}
_CACHE_CHUNK = 256  # cache reads between cancel checks


def backbone_features(
    model: AlexNet, x: torch.Tensor, layer: str, between: Callable[[], None] | None = None
) -> torch.Tensor:
    """(B, 3, 224, 224) -> pool5 (B, 9216) or fc7 (B, 4096, after its ReLU). Eval mode expected.

    ``between()`` runs after every layer: a cancel raised there stops a big batch early.
    """
    between = between or (lambda: None)
    for module in model.features:
        x = module(x)
        between()
    x = torch.flatten(model.avgpool(x), 1)  # (B, 256, 6, 6) -> (B, 9216)
    if layer == "fc7":
        for module in model.classifier[:6]:  # dropout, fc6, relu, dropout, fc7, relu -> (B, 4096)
            x = module(x)
            between()
    return x


def extract_batch_size(device: torch.device) -> int:
    # Big batches: on a 2-core CPU a batch of 64 runs ~1.5x the images per second of
    # a batch of 16. A cancel is still seen within a layer (see backbone_features).
    return 128 if device.type == "cuda" else 64


@dataclass
class Extracted:
    features: dict[str, np.ndarray]  # view -> (N, D) float32; rows of failed images are junk
    failed: dict[int, str]  # entry index -> why it could not be decoded
    computed: int  # images that went through the network (the rest came from the cache)


def extract_features(
    model: AlexNet,
    entries: Sequence[ImageEntry],
    layer: str,
    views: dict[str, int],
    base_sha256: str,
    device: torch.device,
    control: RunControl,
    cache: FeatureCache | None = None,
    batch_size: int | None = None,
) -> Extracted:
    """Features of ``entries`` for each view; ``views`` maps a view ("plain", "flip") to
    how many leading entries need it (validation images come last and need no flip)."""
    cache = cache or FeatureCache()
    dim = LAYER_DIMS[layer]
    n = len(entries)
    keys = {v: [feature_key(e.sha256, base_sha256, layer, v) for e in entries[:m]] for v, m in views.items()}
    out = {v: np.zeros((m, dim), dtype=np.float32) for v, m in views.items()}

    missing: list[int] = []
    for start in range(0, n, _CACHE_CHUNK):
        control.check()
        for i in range(start, min(n, start + _CACHE_CHUNK)):
            for v, m in views.items():
                if i >= m:
                    continue
                vector = cache.get(keys[v][i], dim)
                if vector is None:
                    missing.append(i)
                    break
                out[v][i] = vector

    done = n - len(missing)
    eta = Eta(n, start_step=done)
    control.emit(Progress("extract", done, n))
    failed: dict[int, str] = {}
    # Near-equal batches (201 -> 4 x ~50, not 3 x 64 + 9): a small last batch runs slowly.
    count = math.ceil(len(missing) / (batch_size or extract_batch_size(device)))
    size = math.ceil(len(missing) / count) if count else 1
    batches = [missing[s : s + size] for s in range(0, len(missing), size)]
    model.eval()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="finetune-decode")
    try:
        pending: Future | None = pool.submit(_decode, [entries[i].path for i in batches[0]]) if batches else None
        for k, batch in enumerate(batches):
            control.check()
            crops, errors = pending.result()
            pending = pool.submit(_decode, [entries[i].path for i in batches[k + 1]]) if k + 1 < len(batches) else None
            failed.update({batch[j]: why for j, why in errors.items()})
            rows = [i for j, i in enumerate(batch) if j not in errors]
            if rows:
                x = normalized_batch(crops).to(device)  # (b, 3, 224, 224)
                with torch.inference_mode():
                    for v, m in views.items():
                        sel = [j for j, i in enumerate(rows) if i < m]
                        if sel:
                            xv = x[sel] if len(sel) < len(rows) else x
                            xv = xv if v == "plain" else xv.flip(-1)
                            feats = backbone_features(model, xv, layer, control.check_cancel)
                            out[v][[rows[j] for j in sel]] = feats.float().cpu().numpy()  # (b, D)
                for v, m in views.items():
                    for i in rows:
                        if i < m:
                            cache.put(keys[v][i], out[v][i])
            done += len(batch)
            control.emit(Progress("extract", done, n, eta(done)))
    finally:
        # On cancel: drop queued decodes; a running one finishes on its own and writes nothing.
        pool.shutdown(wait=False, cancel_futures=True)
    return Extracted(out, failed, len(missing) - len(failed))


def _decode(paths: list[str]) -> tuple[list[np.ndarray], dict[int, str]]:
    """(224, 224, 3) uint8 crops of the readable paths, and causes for the others. No torch here."""
    crops: list[np.ndarray] = []
    errors: dict[int, str] = {}
    for j, path in enumerate(paths):
        try:
            crops.append(resized_crop(load_image(path)))
        except ImageLoadError as exc:
            errors[j] = exc.reason
        except Exception as exc:  # noqa: BLE001 - one odd file must not end the run
            errors[j] = f"could not be prepared ({type(exc).__name__}: {exc})"
    return crops, errors
