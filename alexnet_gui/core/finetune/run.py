"""``finetune_steps``: folder in, trained AlexNet and its metrics out, a step per batch.

scan -> refuse or split -> features (cache or network) -> train -> summarise.
The base model is never touched: the run works on a private copy. The run is a
generator that yields between batches, so the model's worker runs it on its own
thread between other jobs' steps; ``run_finetune`` runs it to its end. Besides
the steps, the caller gets progress events and a ``cancelled()`` poll (see
``control``). A cancel raises FinetuneCancelled and leaves no checkpoint and no
partial cache entry behind (finished cache entries stay, so a rerun resumes there).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import torch

from ..device import place_model
from ..model import AlexNet, model_from_state_dict, swap_head
from .cache import FeatureCache
from .control import Progress, RunControl, run_to_end
from .dataset import HealthReport, ImageEntry, SkippedFile
from .endtoend import train_end_to_end
from .errors import FinetuneError
from .extract import extract_steps
from .results import EpochStats, FinetuneResult
from .settings import FinetuneSettings
from .sharded import extract_shared, scan_and_split
from .train import classifier_net, fold_standardizer, new_head, own_torch_state, standardizer, summarize, train_on_features

LAYER_FOR_MODE = {"head": "fc7", "classifier": "pool5"}


def run_finetune(
    folder: str | os.PathLike,
    settings: FinetuneSettings | None,
    base_model: AlexNet,
    base_sha256: str,
    device: torch.device | str = "cpu",
    progress: Callable[[Progress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    yield_point: Callable[[], None] | None = None,
    val_folder: str | os.PathLike | None = None,
    cache: FeatureCache | None = None,
    team=None,
) -> FinetuneResult | None:
    """Fine-tune a copy of ``base_model`` on ``folder``; raises FinetuneError or FinetuneCancelled.

    ``finetune_steps`` run to its end; ``yield_point()``, when given, runs at every pause between batches.
    """
    return run_to_end(finetune_steps(folder, settings, base_model, base_sha256, device, progress, cancelled,
                                     val_folder, cache, team=team), yield_point)


def finetune_steps(
    folder: str | os.PathLike,
    settings: FinetuneSettings | None,
    base_model: AlexNet,
    base_sha256: str,
    device: torch.device | str = "cpu",
    progress: Callable[[Progress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    val_folder: str | os.PathLike | None = None,
    cache: FeatureCache | None = None,
    report: HealthReport | None = None,
    engine=None,
    team=None,
) -> Generator[None, None, FinetuneResult | None]:
    """The fine-tune as steps: it yields between batches and returns the FinetuneResult.

    ``report``: the folder's health report when the caller scanned it already. The scan
    reads every file and does no torch work, and it has no steps of its own: a caller
    that must answer others meanwhile scans on a helper thread and passes the report.
    ``engine``: the base model's ``core.engine`` InferenceEngine, when ONNX Runtime is to
    compute the backbone features (head and classifier modes); None: torch.
    ``team``: a ``core.distributed.Team`` when the run is shared by the ranks of a
    ``torchrun`` launch (see ``sharded``); the result is rank 0's, the others get None.
    """
    t0 = time.perf_counter()
    settings = (settings or FinetuneSettings()).validate()
    device = torch.device(device)
    control = RunControl(progress, cancelled)
    report, train, val = scan_and_split(folder, val_folder, settings, control, report, team)
    cache = cache or FeatureCache()
    try:
        model = private_copy(base_model, device)
        trained = yield from _train(model, report.classes, train, val, settings, base_sha256, device, control, cache,
                                    engine, team)
    except torch.OutOfMemoryError:
        raise FinetuneError(
            f"{device.type.upper()} ran out of memory: try a smaller batch size, mode 'head', or the CPU"
        ) from None
    if trained is None:  # a rank other than 0: its share is with rank 0
        return None
    yield from control.pause()
    result = _result(model, report, trained, settings, cache, time.perf_counter() - t0)
    control.emit(Progress("done", 1, 1, 0.0, val_accuracy=result.val_accuracy))
    return result


@dataclass
class _Trained:
    epochs: list[EpochStats]
    val_logits: torch.Tensor  # (M, C) on the CPU, after the last epoch
    train: list[ImageEntry]  # the images trained on: the scan's, less those that failed to decode
    val: list[ImageEntry]
    failed: list[SkippedFile]  # passed the scan, could not be decoded
    computed: int  # images that went through the network


def _train(model, classes, train, val, settings, base_sha256, device, control,
           cache, engine=None, team=None) -> Generator[None, None, _Trained | None]:
    """Train ``model`` (the run's private copy) in place, as ``settings.mode`` says."""
    if settings.mode != "all":
        return (yield from _train_on_cache(model, classes, train, val, settings, base_sha256, device, control, cache,
                                           engine, team))

    def every_layer():
        swap_head(model, len(classes))  # its init draws from the seeded generator
        return (yield from train_end_to_end(model, train, val, settings, device, control, team))

    stats, val_logits, failed = yield from own_torch_state(every_layer(), device, settings.seed)
    if team is not None and not team.is_root:
        return None
    train = [e for e in train if e.path not in failed]
    val = [e for e in val if e.path not in failed]
    skipped = [SkippedFile(p, why) for p, why in failed.items()]
    return _Trained(stats, val_logits, train, val, skipped, len(train) + len(val))


def _result(model: AlexNet, report: HealthReport, trained: _Trained, settings: FinetuneSettings,
            cache: FeatureCache, seconds: float) -> FinetuneResult:
    # The model is the run's private copy: its tensors are handed over, made plain
    # row-major where the CPU run kept them channels-last (the conv weights, 2.5 M values).
    state_dict = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    accuracy, per_class, confusion, predictions = summarize(report.classes, trained.val, trained.val_logits)
    return FinetuneResult(
        classes=list(report.classes),
        epochs=trained.epochs,
        val_accuracy=accuracy,
        per_class_accuracy=per_class,
        confusion_matrix=confusion,
        # The most confident mistakes first: a wrong answer given with certainty is the one to look at.
        mistakes=sorted((p for p in predictions if not p.correct), key=lambda p: (-p.confidence, p.path)),
        skipped=list(report.skipped) + trained.failed,
        seconds=seconds,
        state_dict=state_dict,
        settings=settings,
        train_count=len(trained.train),
        val_count=len(trained.val),
        layout=report.layout,
        computed=trained.computed,
        warnings=list(report.warnings) + ([cache.write_error] if cache.write_error else []),
        val_predictions=sorted(predictions, key=lambda p: p.path),
    )


def private_copy(base_model: AlexNet, device: torch.device) -> AlexNet:
    """A fresh AlexNet holding a copy of the base's weights on ``device``, in eval mode.

    Built from the state dict rather than deep-copied, so hooks or attributes a
    caller hung on its model (feature-map hooks in the GUI) do not come along.
    """
    model = model_from_state_dict(base_model.state_dict(), base_model.num_classes,
                                  dropout=base_model.classifier[0].p, device=device)
    return place_model(model, device).eval()


def _train_on_cache(model, classes, train, val, settings, base_sha256, device, control,
                    cache, engine=None, team=None) -> Generator[None, None, _Trained | None]:
    """Head / classifier modes. Updates ``model`` in place (new fc8, trained layers)."""
    layer = LAYER_FOR_MODE[settings.mode]
    entries = train + val
    # Flipped copies only help training; validation always sees the plain view.
    views = {"plain": len(entries), "flip": len(train)} if settings.flip_view else {"plain": len(entries)}
    if team is None:
        ex = yield from extract_steps(model, entries, layer, views, base_sha256, device, control, cache, engine=engine)
    else:
        ex = yield from extract_shared(model, entries, layer, views, base_sha256, device, control, cache, team, engine)
        if ex is None:  # not rank 0: the training runs there
            return None
    failed = [SkippedFile(entries[i].path, why) for i, why in sorted(ex.failed.items())]
    keep_train = [i for i in range(len(train)) if i not in ex.failed]
    keep_val = [i for i in range(len(train), len(entries)) if i not in ex.failed]
    _check_still_trainable(classes, [entries[i] for i in keep_train], [entries[i] for i in keep_val])

    x_train = [ex.features["plain"][keep_train]]  # (N, D)
    y = np.array([entries[i].label for i in keep_train], dtype=np.int64)
    if settings.flip_view:
        x_train.append(ex.features["flip"][keep_train])
    x_train = torch.from_numpy(np.concatenate(x_train)).to(device)  # (N * views, D)
    y_train = torch.from_numpy(np.tile(y, len(views))).to(device)
    x_val = torch.from_numpy(ex.features["plain"][keep_val]).to(device)
    y_val = torch.tensor([entries[i].label for i in keep_val], dtype=torch.long, device=device)

    def fit():
        if settings.mode == "head":
            # fc7 scales differ wildly between weights (ImageNet: ~1, random init: ~0.005);
            # the head trains on centred, unit-RMS features and the affine map is folded
            # into its weights afterwards, so the saved model takes raw fc7 unchanged.
            shift, scale = standardizer(x_train)
            net = head = new_head(model, len(classes))
            xt, xv = (x_train - shift) / scale, (x_val - shift) / scale
        else:
            shift = scale = None
            net = classifier_net(model, len(classes))
            head, xt, xv = net[6], x_train, x_val
        stats, val_logits = yield from train_on_features(net, head, xt, y_train, xv, y_val, settings, control)
        return net, shift, scale, stats, val_logits

    # The head's tiny products run on one CPU thread (see train._torch_threads), set
    # around this run's own steps only: a classify answered between two batches keeps them all.
    one_thread = 1 if settings.mode == "head" else None
    net, shift, scale, stats, val_logits = yield from own_torch_state(fit(), device, settings.seed, one_thread)
    if settings.mode == "head":
        model.classifier[6] = fold_standardizer(net, shift, scale)
    else:
        model.classifier = net
    return _Trained(stats, val_logits, [entries[i] for i in keep_train], [entries[i] for i in keep_val], failed,
                    ex.computed)


def _check_still_trainable(classes: list[str], train: list[ImageEntry], val: list[ImageEntry]) -> None:
    # An image that passed the scan can still fail to decode; refuse if a class lost its last one.
    for where, entries in (("training", train), ("validation", val)):
        present = {e.label for e in entries}
        for label, name in enumerate(classes):
            if label not in present:
                raise FinetuneError(f"class {name!r} has no readable {where} image left after decoding")
