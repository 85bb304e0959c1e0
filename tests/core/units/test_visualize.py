"""The image a unit wants: it excites its unit more than every real picture of the folder, more
than the noise it started from, and more than it excites most other channels of the layer; it is
seeded, shown on the way, cached per weights + unit + settings, and leaves the model as it was."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alexnet_gui.core.images import expand_paths, load_image
from alexnet_gui.core.preprocess import preprocess
from alexnet_gui.core.units import Unit, UnitFrame, VisualizeSettings
from alexnet_gui.core.units.picture_cache import PictureCache
from alexnet_gui.core.units.run import picture_steps, run_to_end
from alexnet_gui.core.units.scan import weights_key
from alexnet_gui.core.units.visualize import normalize, unit_objective, visualize_steps

SETTINGS = VisualizeSettings(steps=48, seed=1, every=16)


def real_values(model, folder, unit) -> torch.Tensor:
    x = torch.stack([preprocess(load_image(p)) for p in expand_paths([folder])])
    with torch.inference_mode():
        return unit_objective(model, x, unit)


def channel_values(model, image: np.ndarray, layer: str) -> np.ndarray:
    """Every channel's mean over positions, as the hook-free reference: the features run to ``layer``."""
    x = normalize(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255)
    with torch.inference_mode():
        maps = model.features[: int(layer.split(".")[1]) + 1](x.clone())
    return maps[0].mean(dim=(1, 2)).numpy()


@pytest.mark.parametrize("layer,channel", [("features.6", 5), ("features.7", 20)])
def test_the_picture_excites_its_channel_more_than_real_pictures_noise_and_most_other_channels(
        seeded_model, picture_folder, layer, channel):
    unit = Unit(layer, channel)
    picture = run_to_end(visualize_steps(seeded_model, unit, SETTINGS))
    assert picture.image.shape == (224, 224, 3) and picture.image.dtype == np.uint8
    assert picture.value > float(real_values(seeded_model, picture_folder, unit).max())
    assert picture.value > picture.start_value
    others = channel_values(seeded_model, picture.image, layer)
    assert others[channel] == pytest.approx(picture.value, rel=1e-4, abs=1e-6)
    assert (others < picture.value).mean() > 0.6  # most: random weights give channels of unlike scales


def test_a_class_picture_raises_its_logit_above_every_real_picture(seeded_model, picture_folder):
    unit = Unit("classifier.6", 9)
    picture = run_to_end(visualize_steps(seeded_model, unit, VisualizeSettings(steps=24, seed=1)))
    assert picture.value > float(real_values(seeded_model, picture_folder, unit).max())
    assert picture.value > picture.start_value


def test_frames_come_every_few_steps_and_the_model_is_left_as_it_was(seeded_model):
    before = {k: v.clone() for k, v in seeded_model.state_dict().items()}
    steps = visualize_steps(seeded_model, Unit("features.3", 2), VisualizeSettings(steps=10, every=4))
    frames = []
    while True:
        try:
            item = next(steps)
        except StopIteration as done:
            picture = done.value
            break
        frames.append(item)
    assert len(frames) == 10
    shown = [f for f in frames if f is not None]
    assert [f.step for f in shown] == [4, 8, 10] and all(isinstance(f, UnitFrame) for f in shown)
    assert np.array_equal(shown[-1].image, picture.image)
    assert all(p.requires_grad for p in seeded_model.parameters())
    assert all(torch.equal(before[k], v) for k, v in seeded_model.state_dict().items())


def test_the_same_seed_gives_the_same_picture_and_another_seed_another(seeded_model):
    a = run_to_end(visualize_steps(seeded_model, Unit("features.0", 3), VisualizeSettings(steps=6, seed=4)))
    b = run_to_end(visualize_steps(seeded_model, Unit("features.0", 3), VisualizeSettings(steps=6, seed=4)))
    c = run_to_end(visualize_steps(seeded_model, Unit("features.0", 3), VisualizeSettings(steps=6, seed=5)))
    assert np.abs(a.image.astype(int) - b.image.astype(int)).max() <= 1
    assert np.abs(a.image.astype(int) - c.image.astype(int)).mean() > 5


def test_a_picture_is_made_once_per_weights_unit_and_settings(seeded_model, tmp_path):
    from alexnet_gui.core.model import build_model

    cache = PictureCache(tmp_path)
    weights = weights_key(seeded_model)
    settings = VisualizeSettings(steps=5, every=5)
    made = run_to_end(picture_steps(seeded_model, "conv2", 7, weights, settings, cache))
    steps = picture_steps(seeded_model, "conv2", 7, weights, settings, cache)
    with pytest.raises(StopIteration) as kept:
        next(steps)  # no step at all: read from the cache
    assert kept.value.value.from_cache and np.array_equal(kept.value.value.image, made.image)
    assert kept.value.value.value == made.value and not made.from_cache
    assert (tmp_path / "units").is_dir() and len(list((tmp_path / "units").glob("*.png"))) == 1

    other_seed = run_to_end(picture_steps(seeded_model, "conv2", 7, weights, VisualizeSettings(steps=5, seed=9),
                                          cache))
    other_model = build_model(seed=3)
    other_weights = run_to_end(picture_steps(other_model, "conv2", 7, weights_key(other_model), settings, cache))
    assert not other_seed.from_cache and not other_weights.from_cache
    assert len(list((tmp_path / "units").glob("*.png"))) == 3
