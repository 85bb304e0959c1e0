"""Training a new head (and, in ``classifier`` mode, fc6/fc7) on cached features.

Features sit in one tensor, so an epoch is a few mini-batches of matrix maths:
milliseconds for the head, about a second per 1,000 images for fc6-fc8 on a CPU.
Every random choice (init, shuffling, dropout) comes from ``settings.seed``, so
the same data and seed give the same metrics on the same device.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Generator, Iterator
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..model import AlexNet
from .control import Eta, Progress, RunControl
from .dataset import ImageEntry
from .results import EpochStats, ValPrediction
from .settings import FinetuneSettings

T = TypeVar("T")


def own_torch_state(steps: Generator[None, None, T], device: torch.device, seed: int,
                    cpu_threads: int | None = None) -> Generator[None, None, T]:
    """``steps`` run with torch state of their own, set before each step and put back after it.

    The global random generators (weight init and dropout draw from them) start at
    ``seed`` and carry on from one of its steps to the next; on the CPU torch uses
    ``cpu_threads`` threads when given. While the run is suspended between steps, other
    jobs of the same process see their own state: they neither draw from its seed nor
    move it, and they keep the process's thread count.
    """
    devices = [device.index or 0] if device.type == "cuda" else []
    threads = cpu_threads if device.type == "cpu" else None
    state = None  # the run's generator states between its steps
    try:
        while True:
            with torch.random.fork_rng(devices=devices), _torch_threads(threads):
                if state is None:
                    torch.manual_seed(seed)
                else:
                    _set_rng_states(state, devices)
                try:
                    next(steps)
                except StopIteration as stop:
                    return stop.value
                state = _rng_states(devices)
            yield
    finally:
        steps.close()


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Head training is hundreds of (64, 4096) x (4096, C) products; splitting each over
    two threads costs more in OpenMP barriers than it gains, and when the other core is
    busy (the GUI, another program) every barrier waits for a time slice: 10x slower
    measured on a loaded 2-core machine. Hence one thread there, and only there."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n is not None:
            torch.set_num_threads(before)


def _rng_states(devices: list[int]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    return torch.random.get_rng_state(), [torch.cuda.get_rng_state(d) for d in devices]


def _set_rng_states(states: tuple[torch.Tensor, list[torch.Tensor]], devices: list[int]) -> None:
    cpu, cuda = states
    torch.random.set_rng_state(cpu)
    for d, state in zip(devices, cuda):
        torch.cuda.set_rng_state(state, d)


def new_head(model: AlexNet, num_classes: int) -> nn.Linear:
    """A fresh fc8 ``Linear(4096, num_classes)`` on the model's device (torch's default init)."""
    old = model.classifier[6]
    return nn.Linear(old.in_features, num_classes).to(old.weight.device)


def classifier_net(model: AlexNet, num_classes: int) -> nn.Sequential:
    """A copy of fc6-fc8 (dropouts included) with a fresh fc8: pool5 (N, 9216) -> (N, C)."""
    net = copy.deepcopy(model.classifier)
    net[6] = new_head(model, num_classes)
    return net


def standardizer(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-feature mean (D,) and one overall scale (): (x - shift) / scale has unit RMS.

    One scale for all features, not one each: many fc7 units are almost always 0,
    and dividing by their tiny spread would blow up rare activations.
    """
    shift = x.mean(dim=0)
    scale = (x - shift).pow(2).mean().sqrt().clamp_min(1e-12)
    return shift, scale


def fold_standardizer(head: nn.Linear, shift: torch.Tensor, scale: torch.Tensor) -> nn.Linear:
    """head((x - shift) / scale) == folded(x): W' = W / scale, b' = b - W' @ shift."""
    with torch.no_grad():
        head.weight.div_(scale)
        head.bias.sub_(head.weight @ shift)
    return head


def make_optimizer(net: nn.Module, head: nn.Module, settings: FinetuneSettings) -> torch.optim.Optimizer:
    """The new head learns at ``lr``; pretrained layers at ``lr * backbone_lr_scale``."""
    head_ids = {id(p) for p in head.parameters()}
    rest = [p for p in net.parameters() if id(p) not in head_ids and p.requires_grad]
    groups = [{"params": list(head.parameters()), "lr": settings.lr}]
    if rest and settings.backbone_lr_scale > 0:
        groups.append({"params": rest, "lr": settings.lr * settings.backbone_lr_scale})
    # The fused kernels update fc6+fc7's 54M parameters ~4x faster than the default on a CPU.
    if settings.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=settings.lr, momentum=0.9, weight_decay=settings.weight_decay, fused=True)
    return torch.optim.Adam(groups, lr=settings.lr, weight_decay=settings.weight_decay, fused=True)


def train_on_features(
    net: nn.Module,
    head: nn.Module,
    x_train: torch.Tensor,  # (N, D) on the training device
    y_train: torch.Tensor,  # (N,) int64
    x_val: torch.Tensor,  # (M, D)
    y_val: torch.Tensor,  # (M,)
    settings: FinetuneSettings,
    control: RunControl,
) -> Generator[None, None, tuple[list[EpochStats], torch.Tensor]]:
    """Train ``net`` in place, a step per batch; returns per-epoch stats and the last epoch's
    val logits (M, C) on the CPU."""
    for p in net.parameters():
        p.requires_grad_(True)
    optimizer = make_optimizer(net, head, settings)
    order = torch.Generator().manual_seed(settings.seed)
    n = x_train.shape[0]
    stats: list[EpochStats] = []
    eta = Eta(settings.epochs)
    control.emit(Progress("train", 0, settings.epochs))
    for epoch in range(1, settings.epochs + 1):
        net.train()
        perm = torch.randperm(n, generator=order).to(x_train.device)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, settings.batch_size):
            yield from control.pause()
            idx = perm[start : start + settings.batch_size]
            logits = net(x_train[idx])  # (b, C)
            loss = F.cross_entropy(logits, y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == y_train[idx]).sum())
        val_logits = predict(net, x_val)
        val_loss, val_acc = loss_and_accuracy(val_logits, y_val.cpu())
        stats.append(EpochStats(epoch, loss_sum / n, correct / n, val_loss, val_acc))
        control.emit(epoch_event(stats[-1], settings.epochs, eta(epoch)))
    return stats, val_logits


def predict(net: nn.Module, x: torch.Tensor, batch: int = 1024) -> torch.Tensor:
    """Eval-mode logits (M, C) on the CPU."""
    net.eval()
    with torch.inference_mode():
        return torch.cat([net(x[s : s + batch]).float().cpu() for s in range(0, x.shape[0], batch)])


def loss_and_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    if labels.numel() == 0:
        return 0.0, 0.0
    loss = F.cross_entropy(logits, labels).item()
    accuracy = int((logits.argmax(1) == labels).sum()) / labels.numel()
    return loss, accuracy


def epoch_event(s: EpochStats, epochs: int, eta: float | None) -> Progress:
    return Progress(
        "train",
        s.epoch,
        epochs,
        eta,
        loss=s.train_loss,
        accuracy=s.train_accuracy,
        val_loss=s.val_loss,
        val_accuracy=s.val_accuracy,
    )


def summarize(
    classes: list[str], val: list[ImageEntry], logits: torch.Tensor
) -> tuple[float, list[float], np.ndarray, list[ValPrediction]]:
    """Accuracy, per-class accuracy, confusion matrix and every image's prediction from val logits (M, C)."""
    probs = torch.softmax(logits.float(), dim=1)
    confidence, predicted = probs.max(dim=1)
    truth = np.array([e.label for e in val], dtype=np.int64)
    pred = predicted.numpy().astype(np.int64)
    n = len(classes)
    confusion = np.bincount(truth * n + pred, minlength=n * n).reshape(n, n)
    per_class = [float(confusion[c, c] / max(confusion[c].sum(), 1)) for c in range(n)]
    accuracy = float((truth == pred).mean()) if len(val) else 0.0
    predictions = [
        ValPrediction(e.path, classes[e.label], classes[int(p)], float(conf))
        for e, p, conf in zip(val, pred, confidence.tolist())
    ]
    return accuracy, per_class, confusion, predictions
