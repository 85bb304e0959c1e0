"""Where the installed resources are: icons, the desktop entry, sample images.

Everything goes through importlib.resources, so it works from a source checkout,
an editable install, a wheel and a PyInstaller bundle alike. No Qt here: the CLI
and the packaging scripts use it too.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

PACKAGE = "alexnet_gui.resources"
# One reverse-DNS id names the desktop file, the AppStream component and the
# installed icon, as the freedesktop specs ask.
APP_ID = "io.github.alexnet_gui"
ICON_SIZES = (16, 32, 48, 64, 128, 256)

# Resources inside a zip (a zipimported install) are extracted to temp files
# that must outlive the call; they are removed when the process exits.
_extracted = ExitStack()
atexit.register(_extracted.close)


def _traversable(*parts: str) -> Traversable:
    node = files(PACKAGE)
    for part in parts:  # joinpath(*parts) needs Python 3.11
        node = node.joinpath(part)
    return node


def resource_path(*parts: str) -> Path:
    """A real filesystem path to the resource file ``resources/<parts...>``.

    Raises FileNotFoundError naming the resource when it is not installed.
    """
    node = _traversable(*parts)
    if not node.is_file():
        raise FileNotFoundError(f"resource not found: {'/'.join(parts)} (in package {PACKAGE})")
    if isinstance(node, Path):
        return node
    return _extracted.enter_context(as_file(node))


def icon_path(size: int | None = None) -> Path:
    """The scalable SVG icon, or the PNG rendered at ``size`` pixels (one of ICON_SIZES)."""
    if size is None:
        return resource_path("icons", "alexnet-gui.svg")
    if size not in ICON_SIZES:
        raise ValueError(f"no {size} px icon; sizes are {', '.join(map(str, ICON_SIZES))}")
    return resource_path("icons", f"alexnet-gui-{size}.png")


def sample_images() -> list[Path]:
    """The bundled sample pictures, sorted by file name."""
    folder = _traversable("samples")
    from .core.images import IMAGE_EXTENSIONS

    names = sorted(n.name for n in folder.iterdir() if n.is_file() and Path(n.name).suffix.lower() in IMAGE_EXTENSIONS)
    return [resource_path("samples", name) for name in names]


def desktop_file() -> Path:
    """The freedesktop entry, ``<APP_ID>.desktop``."""
    return resource_path(f"{APP_ID}.desktop")


def metainfo_file() -> Path:
    """The AppStream metadata, ``<APP_ID>.metainfo.xml``."""
    return resource_path(f"{APP_ID}.metainfo.xml")
