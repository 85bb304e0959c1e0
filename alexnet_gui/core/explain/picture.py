"""An explanation as one picture: the crop with its heat map blended over it at an
opacity, a title line (class, probability, method) and the colour scale beside it.

numpy and Pillow only (no torch, no Qt): the window shows this array and its Save
as PNG writes it; ``alexnet-cli explain`` writes the same array for the same
settings, so the two files are equal.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..render import BACKGROUND, colormap, to_uint8
from .types import Explanation

SCALE = 2  # the 224 crop is drawn at 448 pixels
TITLE_H = 22
BAR_W = 16
LEGEND_W = 92  # the bar and its labels
TEXT = (235, 235, 235)
DEFAULT_OPACITY = 0.5


def blend(crop: np.ndarray, heat: np.ndarray, opacity: float, scale: int = SCALE) -> np.ndarray:
    """(h, w, 3) uint8 crop and (h, w) map in [0, 1] -> (h*scale, w*scale, 3) uint8: blended at the
    crop's size (a quarter of the arithmetic), then scaled up bilinearly."""
    a = np.float32(min(max(opacity, 0.0), 1.0))
    out = crop.astype(np.float32) * (np.float32(1.0) - a) + colormap(to_uint8(heat)).astype(np.float32) * a
    small = Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), "RGB")
    h, w = heat.shape
    return np.asarray(small.resize((w * scale, h * scale), Image.Resampling.BILINEAR))


def legend(height: int, top_label: str, bottom_label: str, units: str) -> np.ndarray:
    """(height, LEGEND_W, 3) uint8: a vertical colour bar, highest at the top, and its labels."""
    out = Image.new("RGB", (LEGEND_W, height), BACKGROUND)
    ramp = np.linspace(255, 0, height).round().astype(np.uint8)  # top row = the largest value
    bar = np.repeat(colormap(ramp)[:, None, :], BAR_W, axis=1)
    out.paste(Image.fromarray(np.ascontiguousarray(bar), "RGB"), (6, 0))
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default()
    x = 6 + BAR_W + 4
    draw.text((x, 0), top_label, fill=TEXT, font=font)
    draw.text((x, height - 12), bottom_label, fill=TEXT, font=font)
    for i, word in enumerate(_wrap(units.replace("-", "- "), 10)[:6]):  # a long word breaks at its hyphen
        draw.text((x, height // 2 - 30 + 12 * i), word, fill=TEXT, font=font)
    return np.asarray(out)


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line}{'' if line.endswith('-') else ' '}{word}".strip()
    return [*lines, line] if line else lines


def scale_labels(e: Explanation) -> tuple[str, str]:
    """What the top and the bottom of the colour scale stand for."""
    if e.method == "occlusion":
        return f"-{e.scale * 100:.3g} %", "0 %"
    return f"{e.scale:.3g}", "0"


def title_text(e: Explanation) -> str:
    return f"{e.target.label}: {e.target.probability * 100:.1f} %, {e.title}"  # the default font has no dashes


def explanation_picture(e: Explanation, opacity: float = DEFAULT_OPACITY, scale: int = SCALE) -> np.ndarray:
    """The whole picture as an (H, W, 3) uint8 array (what is shown and saved)."""
    body = blend(e.crop, e.map, opacity, scale)
    h, w = body.shape[:2]
    out = Image.new("RGB", (w + LEGEND_W, h + TITLE_H), BACKGROUND)
    ImageDraw.Draw(out).text((4, 5), title_text(e), fill=TEXT, font=ImageFont.load_default())
    out.paste(Image.fromarray(body, "RGB"), (0, TITLE_H))
    top, bottom = scale_labels(e)
    out.paste(Image.fromarray(legend(h, top, bottom, e.units), "RGB"), (w, TITLE_H))
    return np.asarray(out)
