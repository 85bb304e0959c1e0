"""The Feature maps request for the image just classified reuses the classify job's decode
(the same crop, so the same maps), and decodes again once the file has changed."""

from __future__ import annotations

import os

import numpy as np
import pytest
from worker_service import recording_service

from alexnet_gui.core import images as images_module

CLASSIFY, FEATURES, AGAIN = 1, 2, 3


@pytest.fixture
def photo(tmp_path):
    from seeded import random_image

    path = tmp_path / "photo.png"
    random_image(320, 240, seed=5).save(path)
    return str(path)


def run_all(scheduler):
    while scheduler.wait_s() is not None:
        scheduler.step()


def test_feature_maps_reuse_the_classified_decode_until_the_file_changes(photo, monkeypatch):
    from seeded import random_image

    scheduler, service, events, ended = recording_service()
    service.load(None, "cpu")
    from alexnet_gui.core import predict as predict_module

    decodes = []
    real = images_module.load_image

    def counting(p, *a, **k):
        decodes.append(p)
        return real(p, *a, **k)

    for module in (images_module, predict_module):  # predict holds its own name for it (the classify's decode)
        monkeypatch.setattr(module, "load_image", counting)
    service.classify(CLASSIFY, [photo])
    run_all(scheduler)
    assert decodes == [photo]
    service.features(FEATURES, photo)
    run_all(scheduler)
    assert decodes == [photo]  # no second decode
    (result,) = [args[1] for name, args in events if name == "features_ready" and args[0] == FEATURES]
    from alexnet_gui.core.preprocess import resized_crop

    np.testing.assert_array_equal(result.preview, resized_crop(real(photo)))  # the crop the network saw
    assert result.layers[0].maps.shape[0] == 64

    random_image(320, 240, seed=6).save(photo)  # the file changes
    os.utime(photo, ns=(1, 1))
    service.features(AGAIN, photo)
    run_all(scheduler)
    assert decodes == [photo, photo]  # decoded again
    (again,) = [args[1] for name, args in events if name == "features_ready" and args[0] == AGAIN]
    assert not np.array_equal(again.preview, result.preview)
    assert not any(e.failed for e in ended.values())
