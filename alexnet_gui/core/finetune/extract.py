"""Backbone features for a list of images: from the cache when there, else computed.

Images that miss the cache are decoded, resized and cropped on a helper
thread one batch ahead of the forward pass (``prefetch``: Pillow only there,
uint8 crops handed over), so decoding hides behind the network. Each computed
batch is written to the cache right away, so a cancelled run keeps what it
finished and never leaves half an entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..images import ImageLoadError, load_image
from ..model import AlexNet
from ..prefetch import prepared_ahead
from ..preprocess import normalized_batch, resized_crop
from .cache import FeatureCache, feature_key
from .control import Eta, Progress, RunControl, run_to_end
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
    engine=None,
) -> Extracted:
    """``extract_steps`` run to its end, for callers with nothing to do between batches."""
    return run_to_end(extract_steps(model, entries, layer, views, base_sha256, device, control, cache, batch_size,
                                    engine))


def extract_steps(
    model: AlexNet,
    entries: Sequence[ImageEntry],
    layer: str,
    views: dict[str, int],
    base_sha256: str,
    device: torch.device,
    control: RunControl,
    cache: FeatureCache | None = None,
    batch_size: int | None = None,
    engine=None,
) -> Generator[None, None, Extracted]:
    """Features of ``entries`` for each view, a step per batch (or per 256 cache reads);
    ``views`` maps a view ("plain", "flip") to how many leading entries need it
    (validation images come last and need no flip). ``engine``: a ``core.engine``
    InferenceEngine whose gated ONNX Runtime graph computes the features (torch when
    it has none for ``layer``)."""
    cache = cache or FeatureCache()
    n = len(entries)
    keys = {v: [feature_key(e.sha256, base_sha256, layer, v) for e in entries[:m]] for v, m in views.items()}
    out, missing = yield from _from_cache(cache, keys, views, n, LAYER_DIMS[layer], control)

    done = n - len(missing)
    eta = Eta(n, start_step=done)
    control.emit(Progress("extract", done, n))
    failed: dict[int, str] = {}
    batches = even_batches(missing, batch_size or extract_batch_size(device))
    model.eval()
    runner = engine.features_runner(layer) if engine is not None and batches else None  # None: torch
    paths = [[entries[i].path for i in batch] for batch in batches]
    with prepared_ahead(decode_crops, paths, name="finetune-decode") as decoded:
        for batch in batches:
            yield from control.pause()
            crops, errors = next(decoded)
            failed.update({batch[j]: why for j, why in errors.items()})
            rows = [i for j, i in enumerate(batch) if j not in errors]
            if rows:
                _forward_views(model, crops, rows, views, layer, out, device, control, runner)
                for v, m in views.items():
                    for i in rows:
                        if i < m:
                            cache.put(keys[v][i], out[v][i])
            done += len(batch)
            control.emit(Progress("extract", done, n, eta(done)))
    return Extracted(out, failed, len(missing) - len(failed))


def _from_cache(cache: FeatureCache, keys: dict[str, list[str]], views: dict[str, int], n: int, dim: int,
                control: RunControl) -> Generator[None, None, tuple[dict[str, np.ndarray], list[int]]]:
    """Each view's (m, dim) array filled from the cache, and the entries missing from it."""
    out = {v: np.zeros((m, dim), dtype=np.float32) for v, m in views.items()}
    missing: list[int] = []
    for start in range(0, n, _CACHE_CHUNK):
        yield from control.pause()
        for i in range(start, min(n, start + _CACHE_CHUNK)):
            for v, m in views.items():
                if i >= m:
                    continue
                vector = cache.get(keys[v][i], dim)
                if vector is None:
                    missing.append(i)
                    break
                out[v][i] = vector
    return out, missing


def even_batches(items: list[int], most: int) -> list[list[int]]:
    """Near-equal batches of at most ``most`` (201 -> 4 x ~50, not 3 x 64 + 9): a small last batch runs slowly."""
    count = math.ceil(len(items) / most)
    size = math.ceil(len(items) / count) if count else 1
    return [items[s : s + size] for s in range(0, len(items), size)]


def _forward_views(model: AlexNet, crops: list[np.ndarray], rows: list[int], views: dict[str, int], layer: str,
                   out: dict[str, np.ndarray], device: torch.device, control: RunControl, runner=None) -> None:
    """Features of one batch's decoded ``crops`` (entries ``rows``) into ``out``, for every view that wants them;
    ``runner`` (an ONNX Runtime graph ending at ``layer``) computes them when given."""
    x = normalized_batch(crops)  # (b, 3, 224, 224)
    x = x if runner is not None else x.to(device)
    with torch.inference_mode():
        for v, m in views.items():
            sel = [j for j, i in enumerate(rows) if i < m]
            if sel:
                xv = x[sel] if len(sel) < len(rows) else x
                xv = xv if v == "plain" else xv.flip(-1)
                if runner is not None:
                    control.check_cancel()
                    feats = runner(xv)  # (b, D) float32 NumPy
                else:
                    feats = backbone_features(model, xv, layer, control.check_cancel).float().cpu().numpy()
                out[v][[rows[j] for j in sel]] = feats  # (b, D)


def decode_crops(paths: list[str]) -> tuple[list[np.ndarray], dict[int, str]]:
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
