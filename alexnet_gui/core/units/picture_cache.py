"""The pictures units want, kept on disk: one PNG per weights + unit + settings.

Lives in ``cache_dir()/units``. The file name is a SHA-256 over the weights' key, the
unit, the settings and the preprocessing; the PNG holds the picture itself and, as
text chunks, the activations it reached and started from. Written to a temp name and
renamed (``files.write_atomically``); a file that cannot be read is a miss.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from ..files import write_atomically
from ..paths import cache_dir
from ..preprocess import PREPROCESS_ID
from .types import Unit, UnitPicture, VisualizeSettings

_VERSION = "1"  # bump when the recipe changes: every stored picture is then made again


def picture_key(weights: str, unit: Unit, settings: VisualizeSettings) -> str:
    text = "|".join((_VERSION, weights, unit.layer, str(unit.channel), settings.key_text(), PREPROCESS_ID))
    return hashlib.sha256(text.encode()).hexdigest()


class PictureCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or cache_dir()) / "units"

    def path(self, weights: str, unit: Unit, settings: VisualizeSettings) -> Path:
        return self.root / f"{picture_key(weights, unit, settings)}.png"

    def get(self, weights: str, unit: Unit, settings: VisualizeSettings) -> UnitPicture | None:
        path = self.path(weights, unit, settings)
        try:
            with Image.open(path) as img:
                img.load()
                value, start = float(img.text["unit_value"]), float(img.text["start_value"])
                image = np.asarray(img.convert("RGB"))
        except (OSError, KeyError, ValueError, SyntaxError):
            return None
        if image.shape != (settings.size, settings.size, 3):
            return None
        return UnitPicture(unit, image, value, start, settings, from_cache=True)

    def put(self, weights: str, picture: UnitPicture) -> bool:
        """Store ``picture``; False when the disk refuses (the picture is simply not kept)."""
        info = PngImagePlugin.PngInfo()
        info.add_text("unit_value", repr(picture.value))
        info.add_text("start_value", repr(picture.start_value))
        info.add_text("unit", f"{picture.unit.layer} {picture.unit.channel}")
        buffer = io.BytesIO()
        Image.fromarray(picture.image, "RGB").save(buffer, format="PNG", pnginfo=info)
        path = self.path(weights, picture.unit, picture.settings)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, lambda f: f.write(buffer.getvalue()), fsync=False)
        except OSError:
            return False
        return True
