"""One place decides where the app's cache lives (platformdirs: XDG on Linux,
~/Library/Caches on macOS, %LOCALAPPDATA% on Windows), and every part of the app
that writes there asks it."""

from __future__ import annotations

import sys

import platformdirs
import pytest
from platformdirs.macos import MacOS

from alexnet_gui.core.finetune.cache import FeatureCache, cache_info
from alexnet_gui.core.finetune.samples import datasets_dir
from alexnet_gui.core.paths import cache_dir


def test_xdg_cache_home_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere" / "alexnet-gui"


def test_every_user_of_the_cache_is_under_the_one_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    root = tmp_path / "c" / "alexnet-gui"
    assert FeatureCache().root == root / "features"
    assert cache_info().path == str(root)
    assert datasets_dir() == root / "datasets"


def test_without_xdg_cache_home_platformdirs_decides(monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == platformdirs.user_cache_path("alexnet-gui", appauthor=False)


def test_on_macos_the_cache_is_in_library_caches(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(platformdirs, "PlatformDirs", MacOS)  # what platformdirs picks on a Mac
    assert cache_dir() == tmp_path / "home" / "Library" / "Caches" / "alexnet-gui"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is Linux's")
@pytest.mark.parametrize("value", [None, "", "relative/path"])
def test_on_linux_an_unset_empty_or_relative_xdg_cache_home_means_dot_cache(tmp_path, monkeypatch, value):
    # The spec says a relative path is invalid and ignored; an empty one is as good as unset
    # (it once made the window save pasted images into the current folder).
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if value is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", value)
    assert cache_dir() == tmp_path / "home" / ".cache" / "alexnet-gui"
