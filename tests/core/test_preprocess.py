"""Preprocessing gives exactly the tensor torchvision's ImageNet transforms give."""

from __future__ import annotations

import pytest
import torch
import torchvision

from alexnet_gui.core.preprocess import CROP_SIZE, IMAGENET_MEAN, IMAGENET_STD, denormalize, preprocess


@pytest.fixture(scope="module")
def reference():
    return torchvision.models.AlexNet_Weights.IMAGENET1K_V1.transforms()


@pytest.mark.parametrize("size", [(640, 480), (480, 640), (1000, 300), (256, 256), (224, 224), (300, 1000),
                                  (100, 80), (257, 999)])
def test_bit_identical_to_torchvision(reference, random_image, size):
    img = random_image(*size, seed=sum(size))
    ours = preprocess(img)
    assert ours.shape == (3, CROP_SIZE, CROP_SIZE) and ours.dtype == torch.float32
    assert torch.equal(ours, reference(img))


def test_normalising_every_8_bit_value_in_every_channel_matches_torchvision():
    """The arithmetic is element-wise per channel, so all 256 x 3 cases cover it exactly."""
    import numpy as np
    from torchvision.transforms import functional as F

    from alexnet_gui.core.preprocess import normalized_array

    values = np.broadcast_to(np.arange(256, dtype=np.uint8)[:, None, None], (256, 4, 3)).copy()  # (H, W, 3)
    ours = normalized_array([values])
    theirs = F.normalize(F.convert_image_dtype(torch.from_numpy(values).permute(2, 0, 1), torch.float),
                         mean=IMAGENET_MEAN, std=IMAGENET_STD)
    assert ours.dtype == np.float32 and ours.flags.c_contiguous and ours.shape == (1, 3, 256, 4)
    assert torch.equal(torch.from_numpy(ours[0]), theirs)


def test_reference_is_what_we_think_it_is(reference):
    assert list(reference.resize_size) == [256] and list(reference.crop_size) == [224]
    assert tuple(reference.mean) == IMAGENET_MEAN and tuple(reference.std) == IMAGENET_STD


def test_denormalize_gives_back_the_cropped_pixels(random_image):
    from torchvision.transforms import functional as F

    img = random_image(300, 240, seed=3)
    back = denormalize(preprocess(img))
    cropped = F.center_crop(F.resize(img, [256], antialias=True), [224])
    expected = F.pil_to_tensor(cropped).float() / 255
    assert back.min() >= 0 and back.max() <= 1
    assert torch.allclose(back, expected, atol=1e-6)


def test_preprocess_does_not_change_the_image(random_image):
    img = random_image(300, 200, seed=4)
    before = img.tobytes()
    preprocess(img)
    assert img.tobytes() == before and img.size == (300, 200)
