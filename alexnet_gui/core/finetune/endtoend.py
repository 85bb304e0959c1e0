"""``all`` mode: every layer trains on augmented images (no feature cache).

Augmentation is torchvision's ImageNet recipe, RandomResizedCrop(224) and a
horizontal flip, with the crop drawn from a per-image generator seeded by
(seed, epoch, path): results do not depend on thread timing. Images are
decoded and cropped two micro-batches ahead on a helper thread (``prefetch``:
Pillow only, the float batch is made on the training thread). On a CPU each
batch is split into micro-batches whose gradients add up, so a cancel is seen
within a second; the run is made for CUDA.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator, Sequence
from dataclasses import replace
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF

from ..images import ImageLoadError, load_image
from ..model import AlexNet
from ..prefetch import prepared_ahead
from ..preprocess import CROP_SIZE, normalized_batch, resized_crop
from .control import Eta, Progress, RunControl
from .dataset import ImageEntry
from .errors import FinetuneError
from .settings import FinetuneSettings
from .train import EpochStats, epoch_event, loss_and_accuracy, make_optimizer

SCALE = (0.08, 1.0)
RATIO = (3 / 4, 4 / 3)


def micro_batch_size(device: torch.device) -> int:
    return 64 if device.type == "cuda" else 8  # CPU: ~0.6 s forward+backward per 8 images


def train_end_to_end(
    model: AlexNet,  # a private copy: trained in place, head already swapped
    train: Sequence[ImageEntry],
    val: Sequence[ImageEntry],
    settings: FinetuneSettings,
    device: torch.device,
    control: RunControl,
) -> Generator[None, None, tuple[list[EpochStats], torch.Tensor, dict[str, str]]]:
    """A step per micro-batch; returns per-epoch stats, final val logits (M, C) on the CPU,
    and {path: cause} of undecodable images."""
    for p in model.parameters():
        p.requires_grad_(True)
    optimizer = make_optimizer(model, model.classifier[6], settings)
    order = torch.Generator().manual_seed(settings.seed)
    failed: dict[str, str] = {}
    micro = micro_batch_size(device)
    batches_per_epoch = math.ceil(len(train) / settings.batch_size)
    stats: list[EpochStats] = []
    eta = Eta(settings.epochs * batches_per_epoch)
    for epoch in range(1, settings.epochs + 1):
        perm = torch.randperm(len(train), generator=order).tolist()
        plan = _epoch_plan([train[i] for i in perm], settings.batch_size, micro)

        def report(b: int, loss: float, epoch: int = epoch) -> None:
            step = (epoch - 1) * batches_per_epoch + b
            event = Progress("train", epoch - 1, settings.epochs, eta(step), loss=loss)
            control.emit(replace(event, batch=b, batches=batches_per_epoch))

        loss_sum, correct, seen = yield from _train_epoch(model, optimizer, plan, settings.seed, epoch, device,
                                                          control, failed, report)
        val_logits, val_labels = yield from _evaluate(model, val, device, micro * 2, control, failed)
        val_loss, val_acc = loss_and_accuracy(val_logits, val_labels)
        stats.append(EpochStats(epoch, loss_sum / max(seen, 1), correct / max(seen, 1), val_loss, val_acc))
        control.emit(epoch_event(stats[-1], settings.epochs, eta(epoch * batches_per_epoch)))
    return stats, val_logits, failed


def _epoch_plan(shuffled: list[ImageEntry], batch_size: int, micro: int) -> list[tuple[int, int, list[ImageEntry]]]:
    """(batch number from 1, the batch's size, one micro-batch of its entries), a batch's chunks in a row."""
    plan = []
    for b, s in enumerate(range(0, len(shuffled), batch_size), start=1):
        members = shuffled[s : s + batch_size]
        plan += [(b, len(members), members[m : m + micro]) for m in range(0, len(members), micro)]
    return plan


def _train_epoch(model, optimizer, plan, seed, epoch, device, control, failed,
                 report) -> Generator[None, None, tuple[float, int, int]]:
    """One pass over ``plan``: micro-batch gradients add up to each batch's mean, one step a batch.

    Returns (summed loss, correct answers, images seen); ``report(batch, mean loss)`` after each step."""
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    chunks = [chunk for _, _, chunk in plan]
    with prepared_ahead(partial(_augmented, seed=seed, epoch=epoch), chunks, ahead=2,
                        name="finetune-augment") as prepared:
        for k, (b, size, _) in enumerate(plan):
            yield from control.pause()
            crops, labels, errors = next(prepared)
            failed.update(errors)
            if k == 0 or plan[k - 1][0] != b:
                optimizer.zero_grad(set_to_none=True)
            if crops:
                x = normalized_batch(crops).to(device)  # (b, 3, 224, 224)
                y = torch.tensor(labels, dtype=torch.long, device=device)
                logits = model(x)  # (b, C)
                loss = F.cross_entropy(logits, y, reduction="sum")
                (loss / size).backward()  # micro-batches add up to the batch mean
                loss_sum += loss.item()
                correct += int((logits.argmax(1) == y).sum())
                seen += len(y)
            if k + 1 == len(plan) or plan[k + 1][0] != b:
                optimizer.step()
                report(b, loss_sum / max(seen, 1))
    return loss_sum, correct, seen


def _evaluate(model, val, device, batch, control, failed) -> Generator[None, None, tuple[torch.Tensor, torch.Tensor]]:
    """Plain (centre-crop) val logits in eval mode; undecodable images are left out."""
    model.eval()
    logits, labels = [], []
    for s in range(0, len(val), batch):
        yield from control.pause()
        crops, ys = [], []
        for entry in val[s : s + batch]:
            try:
                crops.append(resized_crop(load_image(entry.path)))
                ys.append(entry.label)
            except ImageLoadError as exc:
                failed[entry.path] = exc.reason
        if crops:
            with torch.inference_mode():
                logits.append(model(normalized_batch(crops).to(device)).float().cpu())
            labels += ys
    if not logits:
        raise FinetuneError("none of the validation images could be read")
    return torch.cat(logits), torch.tensor(labels, dtype=torch.long)


def _augmented(entries: Sequence[ImageEntry], seed: int, epoch: int) -> tuple[list[np.ndarray], list[int], dict[str, str]]:
    """Helper thread, Pillow only (see extract): augmented (224, 224, 3) crops and their labels."""
    crops, labels, errors = [], [], {}
    for entry in entries:
        try:
            img = load_image(entry.path)
        except ImageLoadError as exc:
            errors[entry.path] = exc.reason
            continue
        crops.append(augment(img, random.Random(f"{seed}/{epoch}/{entry.path}")))
        labels.append(entry.label)
    return crops, labels, errors


def augment(img: Image.Image, rng: random.Random) -> np.ndarray:
    """RGB image -> (224, 224, 3) uint8: a random resized crop, flipped half the time."""
    top, left, h, w = crop_box(img.width, img.height, rng)
    img = TF.resized_crop(img, top, left, h, w, [CROP_SIZE, CROP_SIZE], InterpolationMode.BILINEAR, antialias=True)
    if rng.random() < 0.5:
        img = TF.hflip(img)
    return np.asarray(img)


def crop_box(width: int, height: int, rng: random.Random) -> tuple[int, int, int, int]:
    """(top, left, height, width) as torchvision's RandomResizedCrop.get_params draws them."""
    area = width * height
    log_ratio = (math.log(RATIO[0]), math.log(RATIO[1]))
    for _ in range(10):
        target = area * rng.uniform(*SCALE)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = round(math.sqrt(target * aspect))
        h = round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, height - h), rng.randint(0, width - w), h, w
    ratio = width / height  # fallback: the whole image, trimmed to the ratio range
    if ratio < RATIO[0]:
        w, h = width, round(width / RATIO[0])
    elif ratio > RATIO[1]:
        h, w = height, round(height * RATIO[1])
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w

