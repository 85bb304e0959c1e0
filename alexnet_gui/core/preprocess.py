"""Preprocessing exactly as torchvision's AlexNet ImageNet weights expect.

``AlexNet_Weights.IMAGENET1K_V1.transforms()`` is ``ImageClassification(crop_size=224)``:
resize the shorter side to 256 (bilinear, antialiased), centre-crop 224, scale to
[0, 1], normalise with the ImageNet mean/std. The same torchvision functional calls
are used here so the tensors are bit-identical.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESIZE_SIZE = 256
CROP_SIZE = 224

# Describes the pipeline; part of the feature-cache key, so a change here
# invalidates cached features.
PREPROCESS_ID = f"resize{RESIZE_SIZE}-bilinear-aa/crop{CROP_SIZE}/imagenet-norm"


def resized_crop(img: Image.Image, crop_size: int = CROP_SIZE) -> np.ndarray:
    """The Pillow half: shorter side to 256 (bilinear, antialiased), centre crop.

    (crop, crop, 3) uint8. Pure Pillow work, fine on a decoding thread."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as F

    resize = RESIZE_SIZE if crop_size == CROP_SIZE else round(crop_size * RESIZE_SIZE / CROP_SIZE)
    img = F.resize(img, [resize], interpolation=InterpolationMode.BILINEAR, antialias=True)
    return np.asarray(F.center_crop(img, [crop_size]))


def normalized_batch(crops: list[np.ndarray]) -> torch.Tensor:
    """The tensor half, once per batch: crops -> (B, 3, crop, crop) float.

    Element-wise the same operations as torchvision's per-image transform, so
    bit-identical; done on the thread that runs the model (small torch ops on a
    second thread stall the forward's thread pool)."""
    from torchvision.transforms import functional as F

    x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()  # (B, 3, crop, crop) uint8
    x = F.convert_image_dtype(x, torch.float)
    return F.normalize(x, mean=IMAGENET_MEAN, std=IMAGENET_STD)


def preprocess(img: Image.Image, crop_size: int = CROP_SIZE) -> torch.Tensor:
    """RGB PIL image -> normalised float tensor (3, crop, crop)."""
    return normalized_batch([resized_crop(img, crop_size)])[0]


def preprocess_batch(images, crop_size: int = CROP_SIZE) -> torch.Tensor:
    """List of RGB PIL images -> (B, 3, crop, crop)."""
    return normalized_batch([resized_crop(im, crop_size) for im in images])


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """(3, H, W) normalised -> (3, H, W) in [0, 1], for showing the network's input."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype).view(3, 1, 1)
    return (x * std + mean).clamp(0, 1)
