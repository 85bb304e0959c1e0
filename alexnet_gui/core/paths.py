"""Where the app keeps files of its own: one rule, from platformdirs, for every part.

The cache (fine-tune features, sample data sets, pasted images) is
``~/.cache/alexnet-gui`` on Linux (``$XDG_CACHE_HOME/alexnet-gui`` when set),
``~/Library/Caches/alexnet-gui`` on macOS and ``%LOCALAPPDATA%\\alexnet-gui\\Cache``
on Windows. Imports neither Qt nor torch: the window and the model side both use it.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_DIR_NAME = "alexnet-gui"


def cache_dir() -> Path:
    """The app's cache folder (not created here); the environment is read at every call.

    An absolute ``$XDG_CACHE_HOME`` is honoured on every system, as a user (or a test)
    who sets it asks; a relative one is ignored, as the XDG spec says."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    if os.path.isabs(base):
        return Path(base) / APP_DIR_NAME
    path = platformdirs.user_cache_path(APP_DIR_NAME, appauthor=False)
    if not path.is_absolute():  # platformdirs took a relative $XDG_CACHE_HOME as given
        path = Path.home() / ".cache" / APP_DIR_NAME
    return path
