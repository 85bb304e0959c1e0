"""The feature cache: where it lives, what invalidates an entry, corruption, clearing."""

from __future__ import annotations

import numpy as np

from alexnet_gui.core.finetune import FeatureCache, cache_info, clear_cache
from alexnet_gui.core.finetune.cache import feature_key

SHA = "a" * 64
BASE = "b" * 64


def test_every_part_of_the_key_matters():
    keys = {
        feature_key(SHA, BASE, "fc7", "plain"),
        feature_key("c" * 64, BASE, "fc7", "plain"),
        feature_key(SHA, "d" * 64, "fc7", "plain"),
        feature_key(SHA, BASE, "pool5", "plain"),
        feature_key(SHA, BASE, "fc7", "flip"),
    }
    assert len(keys) == 5


def test_round_trip_and_shape_check(private_cache):
    cache = FeatureCache()
    key = feature_key(SHA, BASE, "fc7", "plain")
    vector = np.random.default_rng(0).standard_normal(4096).astype(np.float32)
    assert cache.get(key, 4096) is None
    assert cache.put(key, vector)
    assert np.array_equal(cache.get(key, 4096), vector)
    assert cache.get(key, 9216) is None  # wrong shape is a miss, not garbage
    assert cache.get(feature_key(SHA, BASE, "fc7", "flip"), 4096) is None
    assert not list(private_cache.rglob("*.part"))


def test_garbled_truncated_or_moved_entries_are_misses(private_cache):
    cache = FeatureCache()
    vector = np.arange(4096, dtype=np.float32)
    key = feature_key(SHA, BASE, "fc7", "plain")
    cache.put(key, vector)
    path = next(private_cache.rglob("*.f32"))
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))
    assert cache.get(key, 4096) is None
    path.write_bytes(bytes(data[:500]))
    assert cache.get(key, 4096) is None
    cache.put(key, vector)  # rewritten in place
    assert np.array_equal(cache.get(key, 4096), vector)
    other = feature_key("e" * 64, BASE, "fc7", "plain")
    target = cache._path(other)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(path.read_bytes())  # valid payload, wrong key
    assert cache.get(other, 4096) is None


def test_unwritable_cache_turns_caching_off_quietly(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    cache = FeatureCache(root=blocker)
    assert cache.put(feature_key(SHA, BASE, "fc7", "plain"), np.zeros(4096, np.float32)) is False
    assert cache.writable is False and "not cached" in cache.write_error


def test_info_and_clear_report_bytes(private_cache):
    cache = FeatureCache()
    for i in range(3):
        cache.put(feature_key(f"{i:064d}", BASE, "fc7", "plain"), np.zeros(4096, np.float32))
    samples = private_cache / "samples" / "toy-1" / "a"
    samples.mkdir(parents=True)
    (samples / "x.png").write_bytes(b"0" * 100)
    info = cache_info()
    assert info.feature_entries == 3
    assert info.feature_bytes == 3 * (48 + 4 * 4096)
    assert info.sample_bytes == 100
    assert clear_cache() == 3 * (48 + 4 * 4096)
    assert cache_info().feature_entries == 0
    assert samples.exists()  # samples only go when asked
    assert clear_cache(samples=True) == 100
    assert not samples.exists()
    assert clear_cache() == 0


def test_clearing_also_removes_the_pictures_units_want(private_cache):
    pictures = private_cache / "units"
    pictures.mkdir(parents=True)
    (pictures / "abc.png").write_bytes(b"0" * 50)
    assert clear_cache() == 50 and not pictures.exists()
