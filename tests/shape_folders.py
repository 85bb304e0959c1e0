"""Seeded shape pictures as a class-per-folder set, for the fine-tune tests of the core
and of the command line.

The backbone is the seeded model (``build_model(seed=0)``): random conv filters still
separate the shapes' colours, enough for a head to learn.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

SHAPES = {"circles": (220, 40, 40), "squares": (40, 200, 60), "triangles": (50, 70, 230)}


def draw_shape(kind: str, rng: random.Random) -> Image.Image:
    size = rng.randint(64, 96)
    bg = tuple(rng.randint(150, 255) for _ in range(3))
    img = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(img)
    r = rng.randint(size // 5, size // 3)
    cx, cy = rng.randint(r, size - r), rng.randint(r, size - r)
    colour = tuple(max(0, min(255, c + rng.randint(-30, 30))) for c in SHAPES[kind])
    if kind == "circles":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif kind == "squares":
        draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=colour)
    else:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    noise = Image.effect_noise((size, size), rng.randint(10, 30)).convert("RGB")
    return Image.blend(img, noise, 0.15)


def make_shapes(root: Path, per_class: int = 12, seed: int = 0, classes=tuple(SHAPES)) -> Path:
    rng = random.Random(seed)
    for kind in classes:
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            draw_shape(kind, rng).save(folder / f"{kind}-{i:02d}.png")
    return root


@pytest.fixture
def shapes(tmp_path) -> Path:
    return make_shapes(tmp_path / "shapes")
