"""Preprocessing exactly as torchvision's AlexNet ImageNet weights expect.

``AlexNet_Weights.IMAGENET1K_V1.transforms()`` is ``ImageClassification(crop_size=224)``:
resize the shorter side to 256 (bilinear, antialiased), centre-crop 224, scale to
[0, 1], normalise with the ImageNet mean/std. The same torchvision functional calls
are used here so the tensors are bit-identical.
"""

from __future__ import annotations

import torch
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RESIZE_SIZE = 256
CROP_SIZE = 224

# Describes the pipeline; part of the feature-cache key, so a change here
# invalidates cached features.
PREPROCESS_ID = f"resize{RESIZE_SIZE}-bilinear-aa/crop{CROP_SIZE}/imagenet-norm"


def preprocess(img: Image.Image, crop_size: int = CROP_SIZE) -> torch.Tensor:
    """RGB PIL image -> normalised float tensor (3, crop, crop)."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as F

    resize = RESIZE_SIZE if crop_size == CROP_SIZE else round(crop_size * RESIZE_SIZE / CROP_SIZE)
    img = F.resize(img, [resize], interpolation=InterpolationMode.BILINEAR, antialias=True)
    img = F.center_crop(img, [crop_size])
    x = F.pil_to_tensor(img)  # (3, crop, crop) uint8
    x = F.convert_image_dtype(x, torch.float)
    return F.normalize(x, mean=IMAGENET_MEAN, std=IMAGENET_STD)


def preprocess_batch(images, crop_size: int = CROP_SIZE) -> torch.Tensor:
    """List of RGB PIL images -> (B, 3, crop, crop)."""
    return torch.stack([preprocess(im, crop_size) for im in images])


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """(3, H, W) normalised -> (3, H, W) in [0, 1], for showing the network's input."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype).view(3, 1, 1)
    return (x * std + mean).clamp(0, 1)
