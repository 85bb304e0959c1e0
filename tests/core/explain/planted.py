"""Pictures whose class is decided only by a small planted patch: a 40 x 40 square of the
class's colour at a random place on a cluttered grey background. Every image is
256 x 256, so the network's crop is the image less a 16-pixel border; the patch is
always inside the crop. ``cue_box`` says where it is, in crop coordinates."""

from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image, ImageDraw

COLOURS = {"red": (230, 30, 30), "green": (30, 200, 40), "blue": (40, 60, 235)}
SIDE = 256
BORDER = 16  # (256 - 224) / 2: the crop's offset in the image
PATCH = 40
CLUTTER = 15  # grey shapes behind the patch
GREY = (60, 200)  # their brightness range


def draw_cue_image(kind: str, rng: random.Random) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The picture and the patch's (top, left, bottom, right) in crop coordinates."""
    img = Image.new("RGB", (SIDE, SIDE), (rng.randint(90, 160),) * 3)
    draw = ImageDraw.Draw(img)
    for _ in range(CLUTTER):  # clutter: grey rectangles, ellipses and lines
        x0, y0 = rng.randint(0, SIDE), rng.randint(0, SIDE)
        x1, y1 = x0 + rng.randint(8, 60), y0 + rng.randint(8, 60)
        grey = (rng.randint(GREY[0], GREY[1]),) * 3
        shape = rng.choice(("rect", "ellipse", "line"))
        if shape == "rect":
            draw.rectangle([x0, y0, x1, y1], fill=grey)
        elif shape == "ellipse":
            draw.ellipse([x0, y0, x1, y1], fill=grey)
        else:
            draw.line([x0, y0, x1, y1], fill=grey, width=rng.randint(1, 4))
    top, left = rng.randint(0, 224 - PATCH), rng.randint(0, 224 - PATCH)
    colour = tuple(max(0, min(255, c + rng.randint(-20, 20))) for c in COLOURS[kind])
    draw.rectangle([left + BORDER, top + BORDER, left + BORDER + PATCH - 1, top + BORDER + PATCH - 1], fill=colour)
    return img, (top, left, top + PATCH, left + PATCH)


def make_cue_folder(root: Path, per_class: int, seed: int) -> dict[str, tuple[int, int, int, int]]:
    """``root/<colour>/<n>.png``; returns each file's patch box (also written to boxes.json)."""
    rng = random.Random(seed)
    boxes = {}
    for kind in COLOURS:
        (root / kind).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img, box = draw_cue_image(kind, rng)
            path = root / kind / f"{kind}-{i:02d}.png"
            img.save(path)
            boxes[str(path)] = box
    (root.parent / f"{root.name}-boxes.json").write_text(json.dumps(boxes))
    return boxes


def inside(peak: tuple[int, int], box: tuple[int, int, int, int], margin: int) -> bool:
    """The pointing game: the peak falls in the box, grown by ``margin`` pixels (the game's
    tolerance; Zhang et al. use 15)."""
    y, x = peak
    top, left, bottom, right = box
    return top - margin <= y < bottom + margin and left - margin <= x < right + margin
