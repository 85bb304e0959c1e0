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

import contextlib
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
    team=None,
) -> Generator[None, None, tuple[list[EpochStats], torch.Tensor, dict[str, str]]]:
    """A step per micro-batch; returns per-epoch stats, final val logits (M, C) on the CPU,
    and {path: cause} of undecodable images.

    ``team`` (a ``core.distributed.Team``): DistributedDataParallel, each rank a
    DistributedSampler's share of every epoch, ``batch_size`` images per rank and step,
    so a step sees ``world_size x batch_size`` images and the learning rate is scaled by
    ``world_size`` (the linear scaling rule); every rank evaluates the whole validation set."""
    for p in model.parameters():
        p.requires_grad_(True)
    net, settings_used = model, settings
    if team is not None:
        net, settings_used = _data_parallel(model, settings, device, team)
    optimizer = make_optimizer(model, model.classifier[6], settings_used)
    order = torch.Generator().manual_seed(settings.seed)
    failed: dict[str, str] = {}
    micro = micro_batch_size(device)
    per_rank = len(train) if team is None else math.ceil(len(train) / team.world_size)
    batches_per_epoch = math.ceil(per_rank / settings.batch_size)
    stats: list[EpochStats] = []
    eta = Eta(settings.epochs * batches_per_epoch)
    for epoch in range(1, settings.epochs + 1):
        perm = _epoch_order(len(train), order, settings.seed, epoch, team)
        plan = _epoch_plan([train[i] for i in perm], settings.batch_size, micro)

        def report(b: int, loss: float, epoch: int = epoch) -> None:
            step = (epoch - 1) * batches_per_epoch + b
            event = Progress("train", epoch - 1, settings.epochs, eta(step), loss=loss)
            control.emit(replace(event, batch=b, batches=batches_per_epoch))

        loss_sum, correct, seen = yield from _train_epoch(net, optimizer, plan, settings.seed, epoch, device,
                                                          control, failed, report)
        if team is not None:  # the epoch's loss and accuracy over every rank's share
            loss_sum, correct, seen = _summed(team, device, loss_sum, correct, seen)
        val_logits, val_labels = yield from _evaluate(model, val, device, micro * 2, control, failed)
        val_loss, val_acc = loss_and_accuracy(val_logits, val_labels)
        stats.append(EpochStats(epoch, loss_sum / max(seen, 1), correct / max(seen, 1), val_loss, val_acc))
        control.emit(epoch_event(stats[-1], settings.epochs, eta(epoch * batches_per_epoch)))
    return stats, val_logits, failed


def _data_parallel(model: AlexNet, settings: FinetuneSettings, device: torch.device, team):
    """The model wrapped in DistributedDataParallel (gradients averaged over the ranks) and
    the settings with the learning rate scaled by the world size."""
    from torch.nn.parallel import DistributedDataParallel

    ddp = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    return ddp, replace(settings, lr=settings.lr * team.world_size)


def _epoch_order(n: int, order: torch.Generator, seed: int, epoch: int, team) -> list[int]:
    """The epoch's training order: a seeded permutation, or this rank's DistributedSampler share."""
    if team is None:
        return torch.randperm(n, generator=order).tolist()
    from torch.utils.data import DistributedSampler

    sampler = DistributedSampler(range(n), num_replicas=team.world_size, rank=team.rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return list(sampler)


def _summed(team, device: torch.device, loss_sum: float, correct: int, seen: int) -> tuple[float, int, int]:
    import torch.distributed as dist

    totals = torch.tensor([loss_sum, correct, seen], dtype=torch.float64, device=team.device)
    dist.all_reduce(totals)
    return float(totals[0]), int(totals[1]), int(totals[2])


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
            last = k + 1 == len(plan) or plan[k + 1][0] != b
            if crops:
                x = normalized_batch(crops).to(device)  # (b, 3, 224, 224)
                y = torch.tensor(labels, dtype=torch.long, device=device)
                with _gradient_sync(model, last):
                    logits = model(x)  # (b, C)
                    loss = F.cross_entropy(logits, y, reduction="sum")
                    (loss / size).backward()  # micro-batches add up to the batch mean
                loss_sum += loss.item()
                correct += int((logits.argmax(1) == y).sum())
                seen += len(y)
            if last:
                optimizer.step()
                report(b, loss_sum / max(seen, 1))
    return loss_sum, correct, seen


def _gradient_sync(model, last: bool):
    """Under DistributedDataParallel, gradients are averaged over the ranks once per batch,
    at its last micro-batch; the others only add up locally (``no_sync``)."""
    no_sync = getattr(model, "no_sync", None)
    return contextlib.nullcontext() if last or no_sync is None else no_sync()


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

