"""Loading, checking and saving weights: what a user sees when they open a file."""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from alexnet_gui.core import weights as W
from alexnet_gui.core.model import AlexNet, build_model, swap_head
from alexnet_gui.core.weights import (
    LoadedWeights,
    WeightsError,
    build_model_from_weights,
    check_state_dict,
    file_sha256,
    hub_cache_path,
    imagenet_categories,
    load_weights,
    resolve_weights,
    save_checkpoint,
)


@pytest.fixture(autouse=True)
def isolated_hub(tmp_path, monkeypatch):
    """Never look at the real torch hub dir or ~/.cache."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg_cache"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # undo any set_dir() made elsewhere


@pytest.fixture(scope="module")
def seeded_model() -> AlexNet:
    return build_model(seed=0)


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory, seeded_model) -> Path:
    path = tmp_path_factory.mktemp("weights") / "seeded.pth"
    torch.save(seeded_model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def ten_class_tv_file(tmp_path_factory) -> tuple[Path, torchvision.models.AlexNet]:
    """A torchvision AlexNet with a 10-class head, saved the way DataParallel would."""
    torch.manual_seed(1)
    tv = torchvision.models.alexnet(num_classes=10).eval()
    path = tmp_path_factory.mktemp("weights") / "tv10.pth"
    torch.save({f"module.{k}": v for k, v in tv.state_dict().items()}, path)
    return path, tv


def _logits(model: torch.nn.Module) -> torch.Tensor:
    """Compared with torch.equal: both sides are contiguous models run here, on the same
    input and thread count, through the same kernels, so the same bits (a placed,
    channels-last model would agree only to float rounding)."""
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        return model(x)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------- described as data


def test_the_imagenet_file_is_torchvisions_and_fits_the_model():
    from torchvision.models import AlexNet_Weights

    described = AlexNet_Weights.IMAGENET1K_V1
    assert described.url == W.IMAGENET_URL and W.IMAGENET_URL.endswith("/" + W.IMAGENET_FILENAME)
    assert W.IMAGENET_FILENAME.split("-")[-1] == W.IMAGENET_SHA256_PREFIX + ".pth"
    with torch.device("meta"):
        assert sum(p.numel() for p in AlexNet().parameters()) == described.meta["num_params"]


def test_imagenet_categories_are_the_1000_torchvision_names():
    names = imagenet_categories()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[0] == "tench" and names[-1] == "toilet tissue"


# ---------------------------------------------------------------- resolution


def test_hub_cache_path_honours_torch_home(tmp_path):
    assert hub_cache_path() == tmp_path / "torch_home" / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"


def test_resolve_finds_nothing_when_hub_cache_is_empty():
    assert resolve_weights() is None


def test_resolve_finds_the_hub_cache_file():
    cached = hub_cache_path()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert resolve_weights() == cached
    assert resolve_weights("") == cached


def test_explicit_path_beats_hub_cache(tmp_path):
    cached = hub_cache_path()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    mine = tmp_path / "mine.pth"
    mine.write_bytes(b"y")
    assert resolve_weights(mine) == mine
    assert resolve_weights(str(mine)) == mine


def test_explicit_path_that_does_not_exist_is_an_error_even_with_a_cache(tmp_path):
    cached = hub_cache_path()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    with pytest.raises(WeightsError, match="nope.pth: no such weights file"):
        resolve_weights(tmp_path / "nope.pth")
    with pytest.raises(WeightsError, match="is a folder"):
        resolve_weights(tmp_path)


def test_file_sha256(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc" * 1_000_000)
    assert file_sha256(path) == hashlib.sha256(b"abc" * 1_000_000).hexdigest()


# ---------------------------------------------------------------- loading good files


def test_plain_state_dict_loads_as_a_weights_file(seeded_file, seeded_model):
    # 1000 classes but not torchvision's file (hash differs): not called ImageNet weights.
    loaded = load_weights(seeded_file)
    assert loaded.kind == "state_dict"
    assert loaded.class_names is None and loaded.meta == {}
    assert loaded.num_classes == 1000
    assert loaded.sha256 == file_sha256(seeded_file)
    assert loaded.path == str(seeded_file)

    model = build_model_from_weights(loaded)
    assert isinstance(model, AlexNet) and not model.training
    assert torch.equal(_logits(model), _logits(seeded_model))


def test_our_file_loads_into_torchvision_alexnet(seeded_file, seeded_model):
    tv = torchvision.models.alexnet().eval()
    tv.load_state_dict(load_weights(seeded_file).state_dict, strict=True)
    assert list(tv.state_dict()) == list(seeded_model.state_dict())
    assert torch.equal(_logits(tv), _logits(seeded_model))


def test_torchvision_file_with_module_prefix_loads_into_our_model(ten_class_tv_file):
    path, tv = ten_class_tv_file
    loaded = load_weights(path)
    assert not any(k.startswith("module.") for k in loaded.state_dict)
    assert loaded.kind == "state_dict" and loaded.num_classes == 10
    model = build_model_from_weights(loaded)
    assert model.num_classes == 10
    assert torch.equal(_logits(model), _logits(tv))


def test_plain_file_whose_hash_matches_imagenet_is_imagenet_kind(ten_class_tv_file, monkeypatch):
    path, _ = ten_class_tv_file
    monkeypatch.setattr(W, "IMAGENET_SHA256_PREFIX", file_sha256(path)[:8])
    assert load_weights(path).kind == "imagenet"


def test_wrapped_state_dict_is_accepted(tmp_path, seeded_model):
    path = tmp_path / "wrapped.pth"
    torch.save({"epoch": 3, "state_dict": seeded_model.state_dict()}, path)
    loaded = load_weights(path)
    assert loaded.num_classes == 1000 and loaded.class_names is None


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip_restores_classes_meta_and_outputs(tmp_path, seeded_model):
    model = swap_head(build_model(seed=0), 3)
    names = ["cat", "dög", "eel"]
    meta = {"epochs": 2, "val_acc": np.float64(0.75), "seen": np.int64(9), "base": {"kind": "imagenet", "ok": True},
            "split": (0.8, 0.2), "note": None}
    path = save_checkpoint(tmp_path / "mine.pth", model.state_dict(), names, meta)
    assert path == tmp_path / "mine.pth"
    assert _listing(tmp_path) == ["mine.pth"]

    loaded = load_weights(path)
    assert loaded.kind == "finetuned"
    assert loaded.class_names == names
    assert loaded.meta == {"epochs": 2, "val_acc": 0.75, "seen": 9, "base": {"kind": "imagenet", "ok": True},
                           "split": [0.8, 0.2], "note": None}
    assert type(loaded.meta["val_acc"]) is float and type(loaded.meta["seen"]) is int
    rebuilt = build_model_from_weights(loaded)
    assert rebuilt.num_classes == 3
    assert torch.equal(_logits(rebuilt), _logits(model))


def test_meta_that_is_not_plain_data_is_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="meta\\['folder'\\]"):
        save_checkpoint(tmp_path / "x.pth", {"w": torch.zeros(2)}, ["a"], {"folder": Path("/data")})
    assert _listing(tmp_path) == []


def test_checkpoint_with_non_plain_meta_cannot_be_loaded(tmp_path):
    # Such a file can only be made by hand; weights_only refuses to rebuild the Path.
    path = tmp_path / "handmade.pth"
    torch.save({"format": W.CHECKPOINT_FORMAT, "version": 1, "state_dict": {}, "class_names": [],
                "meta": {"folder": Path("/data")}}, path)
    with pytest.raises(WeightsError, match="handmade.pth: not a weights file this app can load safely") as err:
        load_weights(path)
    assert "pathlib" in str(err.value) and "\n" not in str(err.value)


def test_checkpoint_of_unknown_format_or_newer_version_is_refused(tmp_path):
    head = {"classifier.6.weight": torch.zeros(2, 4096)}
    other = tmp_path / "other.pth"
    torch.save({"format": "someone-else", "state_dict": head}, other)
    with pytest.raises(WeightsError, match="other.pth: unknown checkpoint format 'someone-else'"):
        load_weights(other)
    newer = tmp_path / "newer.pth"
    torch.save({"format": W.CHECKPOINT_FORMAT, "version": 99, "state_dict": head, "class_names": ["a", "b"]}, newer)
    with pytest.raises(WeightsError, match="newer.pth: checkpoint version 99 is newer"):
        load_weights(newer)
    unversioned = tmp_path / "unversioned.pth"
    torch.save({"format": W.CHECKPOINT_FORMAT, "state_dict": head, "class_names": ["a", "b"]}, unversioned)
    with pytest.raises(WeightsError, match="unversioned.pth: checkpoint has no valid version number"):
        load_weights(unversioned)
    mismatched = tmp_path / "names.pth"
    torch.save({"format": W.CHECKPOINT_FORMAT, "version": 1, "state_dict": head, "class_names": ["a"]}, mismatched)
    with pytest.raises(WeightsError, match="names 1 classes but its head has 2 outputs"):
        load_weights(mismatched)


# ---------------------------------------------------------------- bad files


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Writer:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


@pytest.mark.parametrize("wrap", ["torch.save", "raw pickle"])
@pytest.mark.parametrize("payload", [_Exploit, _Writer])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, wrap, payload):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    if wrap == "torch.save":
        torch.save({"features.0.weight": payload(marker)}, path)
    else:
        path.write_bytes(pickle.dumps(payload(marker), protocol=2))
    with pytest.raises(WeightsError, match="evil.pth: not a weights file this app can load safely") as err:
        load_weights(path)
    assert "\n" not in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("payload", [_Exploit, _Writer])
def test_the_malicious_payloads_are_live(tmp_path, payload):
    # Shows the refusal above is what protects the user: plain unpickling runs the payload.
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(payload(marker), protocol=2))
    assert marker.exists()


def _truncated(path: Path) -> None:
    torch.save({"classifier.6.weight": torch.zeros(10, 4096)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "make, cause",
    [
        (_truncated, "truncated or corrupted"),
        (lambda p: p.write_bytes(b""), "the file is empty"),
        (lambda p: p.write_text("hello, this is a text file\n"), "not a PyTorch file"),
        (lambda p: p.write_bytes(os.urandom(4096)), ""),
    ],
    ids=["truncated", "zero-byte", "text", "random-bytes"],
)
def test_broken_files_name_the_file_and_cause(tmp_path, make, cause):
    path = tmp_path / "broken file.pth"
    make(path)
    with pytest.raises(WeightsError, match="broken file.pth: not a weights file this app can load safely") as err:
        load_weights(path)
    assert cause in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "obj, message",
    [
        (torch.zeros(3), "does not hold a state dict \\(found Tensor\\)"),
        ({"fc.weight": torch.zeros(2, 3)}, "not AlexNet weights"),
        ({"classifier.6.weight": torch.zeros(2, 4096), "epoch": 3}, "entry 'epoch' holds int, not a tensor"),
    ],
)
def test_files_that_are_not_alexnet_weights(tmp_path, obj, message):
    path = tmp_path / "other.pth"
    torch.save(obj, path)
    with pytest.raises(WeightsError, match=f"other.pth: {message}"):
        load_weights(path)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(WeightsError, match="gone.pth: cannot read the file \\(no such file or folder\\)"):
        load_weights(tmp_path / "gone.pth")


# ---------------------------------------------------------------- shape and key checks


def test_wrong_head_size_names_the_layer_and_both_shapes(ten_class_tv_file):
    path, _ = ten_class_tv_file
    loaded = load_weights(path)
    with pytest.raises(WeightsError) as err:
        check_state_dict(build_model(), loaded.state_dict, source=path.name)
    message = str(err.value)
    assert "tv10.pth" in message and "classifier.6.weight" in message
    assert "(10, 4096)" in message and "(1000, 4096)" in message


def _loaded(state_dict: dict, name: str = "x.pth") -> LoadedWeights:
    return LoadedWeights(state_dict, None, {}, "state_dict", name, "0" * 64)


def test_wrong_conv_shape_names_the_layer(seeded_model):
    state = dict(seeded_model.state_dict())
    state["features.3.weight"] = torch.zeros(192, 64, 3, 3)
    with pytest.raises(WeightsError, match=r"x.pth: layer features.3.weight has shape \(192, 64, 3, 3\) "
                                           r"in the weights but \(192, 64, 5, 5\) in the model"):
        build_model_from_weights(_loaded(state))


def test_missing_and_unexpected_keys_are_listed(seeded_model):
    state = dict(seeded_model.state_dict())
    del state["features.0.bias"], state["features.3.bias"]
    state["features.13.weight"] = torch.zeros(1)
    with pytest.raises(WeightsError) as err:
        build_model_from_weights(_loaded(state))
    message = str(err.value)
    assert "missing 2 keys (features.0.bias, features.3.bias)" in message
    assert "1 unexpected keys (features.13.weight)" in message


# ---------------------------------------------------------------- atomic saving


class _DiskFull:
    """A file object that fails with ENOSPC once it holds more than `limit` bytes."""

    def __init__(self, f, limit: int = 1 << 16) -> None:
        self._f, self._limit, self._n = f, limit, 0

    def write(self, data) -> int:
        self._n += len(data)
        if self._n > self._limit:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def test_disk_full_keeps_the_previous_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "mine.pth"
    path.write_bytes(b"previous checkpoint")
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _DiskFull(real_fdopen(fd, *a, **k)))
    with pytest.raises(WeightsError, match="mine.pth: could not save \\(disk full\\)"):
        save_checkpoint(path, {"w": torch.zeros(100_000)}, ["a"], {})
    assert path.read_bytes() == b"previous checkpoint"
    assert _listing(tmp_path) == ["mine.pth"]


def test_refused_rename_keeps_the_previous_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "mine.pth"
    path.write_bytes(b"previous checkpoint")

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(WeightsError, match="mine.pth: could not save \\(permission denied\\)"):
        save_checkpoint(path, {"w": torch.zeros(10)}, ["a"], {})
    assert path.read_bytes() == b"previous checkpoint"
    assert _listing(tmp_path) == ["mine.pth"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_folder_is_reported(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "mine.pth").write_bytes(b"previous checkpoint")
    folder.chmod(0o500)
    try:
        with pytest.raises(WeightsError, match="permission denied"):
            save_checkpoint(folder / "mine.pth", {"w": torch.zeros(10)}, ["a"], {})
        assert (folder / "mine.pth").read_bytes() == b"previous checkpoint"
        assert _listing(folder) == ["mine.pth"]
    finally:
        folder.chmod(0o700)


def test_saving_into_a_missing_folder_is_reported(tmp_path):
    with pytest.raises(WeightsError, match="x.pth: could not save \\(no such file or folder\\)"):
        save_checkpoint(tmp_path / "no" / "x.pth", {"w": torch.zeros(2)}, ["a"], {})
