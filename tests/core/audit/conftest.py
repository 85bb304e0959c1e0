"""A shapes folder (tests/shape_folders.py) with planted problems, and a private feature cache."""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from shape_folders import draw_shape, make_shapes


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    return tmp_path / "xdg-cache" / "alexnet-gui"


@dataclass
class Planted:
    root: Path
    mislabels: list[Path]  # drawn as one shape, filed under another
    exact: list[tuple[Path, Path]]  # (original, byte copy)
    near: list[tuple[Path, Path]]  # (original, resized or re-encoded copy)
    leak: tuple[Path, Path]  # (train original, its byte copy in val/)


def plant_problems(root: Path, seed: int = 3) -> Planted:
    """train/ + val/ shapes with 5 mislabels, 3 exact copies, 2 near copies and a train->val copy."""
    make_shapes(root / "train", per_class=16)
    make_shapes(root / "val", per_class=4, seed=11)
    train = root / "train"
    rng = random.Random(seed)
    wrong = [("circles", "squares"), ("circles", "triangles"), ("squares", "circles"), ("triangles", "circles"),
             ("squares", "triangles")]
    mislabels = []
    for k, (drawn, filed) in enumerate(wrong):
        path = train / filed / f"odd-{k}.png"
        draw_shape(drawn, rng).save(path)
        mislabels.append(path)
    exact = []
    for k, name in enumerate(("circles/circles-01.png", "squares/squares-02.png", "triangles/triangles-03.png")):
        copy = train / name.replace(".png", f"-copy{k}.png")
        shutil.copyfile(train / name, copy)
        exact.append((train / name, copy))
    original = train / "circles" / "circles-05.png"
    with Image.open(original) as img:
        resized = train / "circles" / "big-05.png"
        img.resize((img.width * 3 // 2, img.height * 3 // 2), Image.Resampling.BICUBIC).save(resized)
    original2 = train / "squares" / "squares-06.png"
    with Image.open(original2) as img:
        jpeg = train / "squares" / "squares-06.jpg"
        img.convert("RGB").save(jpeg, quality=80)
    leak_src = train / "triangles" / "triangles-07.png"
    leak_copy = root / "val" / "triangles" / "triangles-07-again.png"
    shutil.copyfile(leak_src, leak_copy)
    return Planted(root, mislabels, exact, [(original, resized), (original2, jpeg)], (leak_src, leak_copy))


@pytest.fixture
def planted(tmp_path) -> Planted:
    return plant_problems(tmp_path / "planted")
