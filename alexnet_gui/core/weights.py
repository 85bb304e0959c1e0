"""AlexNet weights: where they are, how they load safely, how they are saved.

Resolution order: an explicit path, then torch hub's cache
(``<hub dir>/checkpoints/alexnet-owt-7be5be79.pth``), then nothing (the app runs
"untrained"); downloading is a separate step, on request (``core.download``).

Every load is ``torch.load(..., weights_only=True)``: a weights file can hold
tensors and plain containers, never code. There is no fallback to full
unpickling. Three shapes of file are accepted:

* a torchvision state dict (``{"features.0.weight": tensor, ...}``),
* the app's own checkpoint (``{"format": CHECKPOINT_FORMAT, "version": 1,
  "state_dict": ..., "class_names": [...], "meta": {...}}``),
* either of the above with DataParallel's ``module.`` key prefix.
"""

from __future__ import annotations

import hashlib
import numbers
import pickle
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import torch

from .files import write_atomically
from .model import AlexNet, meta_model, model_from_state_dict
from .weights_info import IMAGENET_FILENAME, IMAGENET_SHA256_PREFIX, WeightsError, os_error_cause, save_cause

# Also importable from here, their home before they moved to the torch-free weights_info.
from .weights_info import IMAGENET_URL as IMAGENET_URL
from .weights_info import DownloadCancelled as DownloadCancelled

CHECKPOINT_FORMAT = "alexnet-gui-checkpoint"
CHECKPOINT_VERSION = 1
HEAD_KEY = "classifier.6.weight"  # (num_classes, 4096): sizes the head
_PREFIXES = ("module.", "_orig_mod.")  # DataParallel, torch.compile


@dataclass
class LoadedWeights:
    state_dict: dict[str, torch.Tensor]
    class_names: list[str] | None  # None: plain state dict (1000 classes get the ImageNet names)
    meta: dict
    kind: str  # "imagenet" | "finetuned" | "state_dict"
    path: str
    sha256: str

    @property
    def num_classes(self) -> int:
        return int(self.state_dict[HEAD_KEY].shape[0])


def imagenet_categories() -> list[str]:
    """The 1000 class names, from torchvision's public description of these weights.

    Imported here, not at the top: torchvision takes about a second to import, and only
    the model's side (which has torch loaded already) ever needs the names."""
    from torchvision.models import AlexNet_Weights

    return list(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])


# ---------------------------------------------------------------- locating files


def hub_cache_path() -> Path:
    """Where torchvision itself caches the ImageNet file (honours TORCH_HOME)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_FILENAME


def resolve_weights(explicit: str | Path | None = None) -> Path | None:
    """Explicit path (must exist) -> hub cache file if present -> None."""
    if explicit is not None and str(explicit) != "":
        path = Path(explicit).expanduser()
        if path.is_dir():
            raise WeightsError(f"{path}: is a folder, not a weights file")
        if not path.is_file():
            raise WeightsError(f"{path}: no such weights file")
        return path
    cached = hub_cache_path()
    return cached if cached.is_file() else None


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- loading


def load_weights(path: str | Path) -> LoadedWeights:
    """Read a weights file safely and normalise it; raises WeightsError."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        if size == 0:
            raise WeightsError(f"{name}: not a weights file this app can load safely (the file is empty)")
        sha256 = file_sha256(path)
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except WeightsError:
        raise
    except OSError as e:
        raise WeightsError(f"{name}: cannot read the file ({os_error_cause(e)})") from e
    except Exception as e:  # every unpickling failure becomes one message
        raise WeightsError(f"{name}: not a weights file this app can load safely ({_load_cause(e)})") from e

    if isinstance(obj, Mapping) and "format" in obj:
        state_dict, class_names, meta = _unpack_checkpoint(obj, name)
        kind = "finetuned"
    else:
        state_dict, class_names, meta = _unwrap_state_dict(obj, name), None, {}
        # Only torchvision's own file is called ImageNet weights; another 1000-class
        # state dict still gets the ImageNet class names (see bundle.class_names_for).
        kind = "imagenet" if sha256.startswith(IMAGENET_SHA256_PREFIX) else "state_dict"
    return LoadedWeights(state_dict, class_names, meta, kind, str(path), sha256)


def _load_cause(e: Exception) -> str:
    text = str(e)
    if isinstance(e, pickle.UnpicklingError):
        found = re.search(r"GLOBAL ([\w.]+)", text)
        if found:
            return f"it refers to {found.group(1)}, which is not tensor data"
        return "it holds objects other than tensors and plain data"
    if isinstance(e, EOFError):
        return "the file ends too early"
    if "zip archive" in text or "central directory" in text:
        return "the file is truncated or corrupted"
    if isinstance(e, (KeyError, ValueError, UnicodeDecodeError)):
        return "it is not a PyTorch file"
    first_line = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    return first_line[:160]


def _unpack_checkpoint(obj: Mapping, name: str) -> tuple[dict[str, torch.Tensor], list[str], dict]:
    if obj.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(f"{name}: unknown checkpoint format {obj.get('format')!r}")
    version = obj.get("version")
    if not isinstance(version, int) or version < 1:
        raise WeightsError(f"{name}: checkpoint has no valid version number ({version!r})")
    if version > CHECKPOINT_VERSION:
        raise WeightsError(f"{name}: checkpoint version {version!r} is newer than this app reads ({CHECKPOINT_VERSION})")
    state_dict = _unwrap_state_dict(obj.get("state_dict"), name)
    class_names = obj.get("class_names")
    if not isinstance(class_names, list) or not all(isinstance(c, str) for c in class_names):
        raise WeightsError(f"{name}: checkpoint has no list of class names")
    rows = state_dict[HEAD_KEY].shape[0]
    if len(class_names) != rows:
        raise WeightsError(f"{name}: checkpoint names {len(class_names)} classes but its head has {rows} outputs")
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise WeightsError(f"{name}: checkpoint metadata is a {type(meta).__name__}, not a dict")
    return state_dict, list(class_names), meta


def _unwrap_state_dict(obj: object, name: str) -> dict[str, torch.Tensor]:
    # Training scripts often wrap the weights: {"state_dict": {...}, "epoch": 3}.
    if isinstance(obj, Mapping) and HEAD_KEY not in obj:
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj:
        raise WeightsError(f"{name}: does not hold a state dict (found {type(obj).__name__})")
    state_dict = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise WeightsError(f"{name}: entry {key!r} holds {type(value).__name__}, not a tensor")
        state_dict[_strip_prefixes(key)] = value
    head = state_dict.get(HEAD_KEY)
    if head is None or head.dim() != 2:
        first = ", ".join(list(state_dict)[:3])
        raise WeightsError(f"{name}: not AlexNet weights (no 2-D {HEAD_KEY}; keys start {first})")
    return state_dict


def _strip_prefixes(key: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key, stripped = key[len(prefix) :], True
    return key


# ---------------------------------------------------------------- into a model


def check_state_dict(model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], source: str | None = None) -> None:
    """Raise WeightsError unless ``state_dict`` has exactly the model's keys and shapes."""
    where = f"{source}: " if source else ""
    expected = model.state_dict()
    for key, tensor in state_dict.items():
        if key in expected and tuple(tensor.shape) != tuple(expected[key].shape):
            raise WeightsError(
                f"{where}layer {key} has shape {tuple(tensor.shape)} in the weights "
                f"but {tuple(expected[key].shape)} in the model"
            )
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys ({_first_few(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys ({_first_few(unexpected)})")
        raise WeightsError(f"{where}weights do not fit AlexNet: " + "; ".join(parts))


def _first_few(keys: list[str], n: int = 3) -> str:
    return ", ".join(keys[:n]) + (", ..." if len(keys) > n else "")


def build_model_from_weights(loaded: LoadedWeights) -> AlexNet:
    """An eval-mode AlexNet on the CPU, head sized from the weights, weights copied in."""
    check_state_dict(meta_model(loaded.num_classes), loaded.state_dict, source=Path(loaded.path).name)
    return model_from_state_dict(loaded.state_dict, loaded.num_classes)


# ---------------------------------------------------------------- saving


def save_checkpoint(path: str | Path, state_dict: Mapping[str, torch.Tensor], class_names: list[str], meta: dict) -> Path:
    """Write the app's self-contained checkpoint atomically; raises WeightsError.

    ``meta`` must hold plain data (str/int/float/bool/None, lists, str-keyed
    dicts): anything else could not be read back with ``weights_only=True``.
    Numpy scalars are converted to Python numbers.
    """
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "state_dict": {_strip_prefixes(k): _compact(v) for k, v in state_dict.items()},
        "class_names": [str(c) for c in class_names],
        "meta": _plain(meta, "meta"),
    }
    return atomic_write(path, lambda f: torch.save(checkpoint, f))


def _compact(t: torch.Tensor) -> torch.Tensor:
    # torch.save writes a view's whole storage; copy views so the file holds only this tensor.
    t = t.detach().cpu()
    if t.untyped_storage().nbytes() != t.numel() * t.element_size() or not t.is_contiguous():
        t = t.contiguous().clone()
    return t


def _plain(value: object, where: str) -> object:
    if value is None or type(value) in (str, bool, int, float):
        return value
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return _plain(value.item(), where)  # numpy scalar or 0-d tensor -> Python number
    if isinstance(value, str):
        return str(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} key {k!r} is not a str")
            out[k] = _plain(v, f"{where}[{k!r}]")
        return out
    raise TypeError(f"{where} is a {type(value).__name__}; checkpoint metadata holds plain data only")


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(f)`` on a temp file next to ``path``, fsync it, rename it over ``path``.

    The temp file is named ``.<name>.<random>.part``. On any failure it is
    removed, the previous file at ``path`` is untouched, and a WeightsError
    with the cause (permission denied, disk full, ...) is raised.
    """
    try:
        return write_atomically(path, write)
    except Exception as e:  # torch.save wraps OSErrors in RuntimeError
        raise WeightsError(f"{Path(path).name}: could not save ({save_cause(e)})") from e
