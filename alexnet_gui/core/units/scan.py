"""The images of a folder that excite a unit most: one pass per layer, then any unit is a look-up.

A scan keeps, per image and per layer asked, a summary of every unit: for a feature
layer each channel's largest value and where it is in the map, for a fully connected
layer each unit's value. Summaries live in the feature cache (``finetune.cache``, keyed
like the fine-tune's features: the file's content hash, the weights, the preprocessing,
the layer), so a second look at any channel of a scanned layer runs no network at all,
and a new layer costs one pass over the images that lack it. Images are decoded one
batch ahead on a helper thread (``prefetch``), as the fine-tune's extraction does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..finetune.cache import FeatureCache, feature_key
from ..finetune.extract import decode_crops, even_batches, extract_batch_size
from ..model import AlexNet
from ..prefetch import prepared_ahead
from ..preprocess import normalized_batch
from .layers import UnitError, canonical_layer, is_spatial, layer_label

SUMMARY_VIEW = "unit-summary"  # the cache key's view: what kind of vector the entry holds
_HASH_CHUNK = 64  # files hashed per step

Progress = Callable[[int, int], None]  # images done, images in all


@dataclass
class Scan:
    """Summaries of ``paths`` for each layer scanned: (N, 2C) for a feature layer (C maxima,
    then C flat positions in the map), (N, F) for a fully connected one. A row of an image
    that could not be read is NaN."""

    paths: list[str]
    summaries: dict[str, np.ndarray]
    map_sizes: dict[str, tuple[int, int]]  # feature layer -> (H, W) of its map at 224
    failed: dict[str, str]  # path -> why
    computed: int  # images that went through the network


def weights_key(model: AlexNet, sha256: str | None = None) -> str:
    """What identifies the weights in a cache key: the weights file's hash when there is
    one, else a hash of the parameters themselves (an untrained or unsaved model)."""
    if sha256:
        return sha256
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return "params-" + digest.hexdigest()


def layer_shapes(model: AlexNet, layers: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Output shape of each layer at 224: (C, H, W) or (F,)."""
    from ..layers import layer_table

    rows = {r.name: r.output_shape for r in layer_table(224, model)}
    return {layer: rows[layer] for layer in layers}


def check_unit(model: AlexNet, layer: str, channel: int) -> str:
    """The canonical layer name; UnitError names the range when the channel is out of it."""
    layer = canonical_layer(layer)
    count = layer_shapes(model, [layer])[layer][0]
    if not 0 <= channel < count:
        raise UnitError(f"{layer_label(layer)} has {count} {'channels' if is_spatial(layer) else 'units'}: "
                        f"choose 0 to {count - 1}, not {channel}")
    return layer


def summarize(model: AlexNet, x: torch.Tensor, layers: Sequence[str]) -> dict[str, np.ndarray]:
    """One forward of a normalised batch (B, 3, 224, 224), as far as the deepest layer asked;
    each layer's summary (B, dim) as float32 NumPy. The ReLUs are in place: a conv's output
    is reduced right after the conv runs, before its ReLU overwrites it."""
    wanted = set(layers)
    out: dict[str, np.ndarray] = {}
    with torch.inference_mode():
        for i, module in enumerate(model.features):
            x = module(x)
            name = f"features.{i}"
            if name in wanted:
                values, where = x.flatten(2).max(dim=2)  # (B, C), first maximum in row order
                out[name] = torch.cat([values.float(), where.float()], dim=1).cpu().numpy()
            if len(out) == len(wanted):
                return out
        x = torch.flatten(model.avgpool(x), 1)  # (B, 9216)
        for i, module in enumerate(model.classifier):
            x = module(x)
            name = f"classifier.{i}"
            if name in wanted:
                out[name] = x.float().cpu().numpy().copy()
            if len(out) == len(wanted):
                break
    return out


def scan_steps(model: AlexNet, paths: Sequence[str], layers: Sequence[str], weights: str,
               device: torch.device, cache: FeatureCache | None = None, batch_size: int | None = None,
               progress: Progress | None = None) -> Generator[None, None, Scan]:
    """Summaries of ``paths`` at ``layers``: from the cache where there, else computed a batch
    per step. ``weights`` is :func:`weights_key`. Stop stepping to cancel: what was computed
    is cached already."""
    cache = cache or FeatureCache()
    paths = [str(p) for p in paths]
    layers = [canonical_layer(name) for name in layers]
    shapes = layer_shapes(model, layers)
    dims = {name: 2 * s[0] if is_spatial(name) else s[0] for name, s in shapes.items()}
    progress = progress or (lambda done, total: None)
    n = len(paths)

    shas, failed = yield from _hash_files(paths)
    keys = {name: [feature_key(sha, weights, name, SUMMARY_VIEW) if sha else "" for sha in shas] for name in layers}
    summaries = {name: np.full((n, dims[name]), np.nan, dtype=np.float32) for name in layers}
    missing = _fill_from_cache(cache, keys, dims, summaries, [i for i in range(n) if shas[i]])

    done = n - len(missing)
    progress(done, n)
    computed = 0
    batches = even_batches(missing, batch_size or extract_batch_size(device))
    model.eval()
    with prepared_ahead(decode_crops, [[paths[i] for i in b] for b in batches], name="unit-decode") as decoded:
        for batch in batches:
            crops, errors = next(decoded)
            failed.update({paths[batch[j]]: why for j, why in errors.items()})
            rows = [i for j, i in enumerate(batch) if j not in errors]
            if rows:
                got = summarize(model, normalized_batch(crops).to(device), layers)
                for layer in layers:
                    summaries[layer][rows] = got[layer]
                    for j, i in enumerate(rows):
                        cache.put(keys[layer][i], got[layer][j])
                computed += len(rows)
            done += len(batch)
            progress(done, n)
            yield
    map_sizes = {name: (s[1], s[2]) for name, s in shapes.items() if is_spatial(name)}
    return Scan(paths, summaries, map_sizes, failed, computed)


def _hash_files(paths: list[str]) -> Generator[None, None, tuple[list[str | None], dict[str, str]]]:
    """Each file's content SHA-256 (None, and the cause in ``failed``, when it cannot be read)."""
    shas: list[str | None] = []
    failed: dict[str, str] = {}
    for start in range(0, len(paths), _HASH_CHUNK):
        for path in paths[start : start + _HASH_CHUNK]:
            try:
                with open(path, "rb") as f:
                    shas.append(hashlib.file_digest(f, "sha256").hexdigest())
            except OSError as exc:
                shas.append(None)
                failed[path] = f"cannot read the file ({exc.strerror or exc})"
        yield
    return shas, failed


def _fill_from_cache(cache: FeatureCache, keys: dict[str, list[str]], dims: dict[str, int],
                     summaries: dict[str, np.ndarray], readable: list[int]) -> list[int]:
    """Rows found for every layer are filled in; the images missing any layer are returned."""
    missing = []
    for i in readable:
        found = {name: cache.get(keys[name][i], dims[name]) for name in keys}
        if any(v is None for v in found.values()):
            missing.append(i)
            continue
        for name, v in found.items():
            summaries[name][i] = v
    return missing
