"""`alexnet-cli finetune`: teach AlexNet the classes of a folder from a terminal.

Progress goes to stderr; with ``--json`` stdout carries exactly one JSON
object. Exit codes: 0 saved, 1 fine-tune refused or failed, 2 usage or weights
errors, 130 interrupted (nothing is saved then). torch is imported only when the
command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core.finetune.settings import MODES
from ..core.untrained import base_key
from .common import EXIT_OK, EXIT_PARTIAL, CliError, StopOnCtrlC, add_model_args, eprint, load_model_for_cli
from .distributed import is_root, shared_run

EXIT_FAILED = EXIT_PARTIAL  # 1: the fine-tune was refused or failed

# argparse destination -> FinetuneSettings field, for the options that override a default
_SETTINGS_ARGS = (("mode", "mode"), ("epochs", "epochs"), ("lr", "lr"), ("batch_size", "batch_size"),
                  ("seed", "seed"), ("val_fraction", "val_fraction"), ("weight_decay", "weight_decay"))


def add_parser(sub) -> None:
    p = sub.add_parser(
        "finetune",
        help="teach AlexNet the classes of a folder (one subfolder per class) and save the model",
        description="Train a new head (or more) on FOLDER/<class>/<images>. A FOLDER holding train/ and "
        "val/ is used as given; otherwise a stratified, seeded validation split is drawn.",
    )
    p.add_argument("folder", metavar="FOLDER", help="one subfolder of images per class")
    p.add_argument("--out", required=True, metavar="MODEL.pt", help="where to save the fine-tuned model")
    p.add_argument("--val-folder", metavar="DIR", help="validation images, same class subfolders as FOLDER")
    p.add_argument("--val-fraction", type=float, metavar="F", help="validation share when drawing a split (default 0.2)")
    p.add_argument("--mode", choices=MODES,
                   help="head: new fc8 on cached fc7 features (default); classifier: fc6-fc8 on cached "
                   "pool5 features; all: every layer, with augmentation (slow without CUDA)")
    p.add_argument("--epochs", type=int, metavar="N", help="passes over the training images (default 10)")
    p.add_argument("--lr", type=float, metavar="X", help="learning rate of the new head (default 0.001)")
    p.add_argument("--batch-size", type=int, metavar="B", help="training batch size (default 64)")
    p.add_argument("--weight-decay", type=float, metavar="X", help="L2 penalty on the weights; 0 turns it off "
                   "(default 0.0001)")
    p.add_argument("--seed", type=int, metavar="S", help="seed for the split, init and shuffling (default 0)")
    p.add_argument("--flip", action="store_true", help="also train on horizontally flipped copies")
    add_model_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object with the metrics on stdout")
    p.set_defaults(handler=_cmd_finetune)


def _cmd_finetune(args) -> int:
    from ..core.finetune import save_finetuned
    from ..core.weights import WeightsError

    settings = _settings_from(args)
    out = _checked_out_path(args.out) if is_root() else Path(args.out)  # only rank 0 writes it
    bundle, device = load_model_for_cli(args)
    base = base_key(bundle.sha256)
    with shared_run(bundle, device) as (team, bundle, device):
        result = _train(args, settings, bundle, base, device, team)
    if result is None:  # a rank other than 0 of a torchrun launch: its share is with rank 0
        return EXIT_OK
    try:
        save_finetuned(out, result, base)
    except WeightsError as exc:
        raise CliError(str(exc), code=EXIT_FAILED) from None
    _report(args, result, out, bundle.trained, team.world_size if team else None)
    return EXIT_OK


def _settings_from(args):
    from ..core.finetune import FinetuneError, FinetuneSettings

    settings = FinetuneSettings(flip_view=args.flip)
    for arg, name in _SETTINGS_ARGS:
        if getattr(args, arg) is not None:
            setattr(settings, name, getattr(args, arg))
    try:
        settings.validate()
    except FinetuneError as exc:
        raise CliError(str(exc)) from None
    return settings


def _checked_out_path(given: str) -> Path:
    """The model file to write, refused before any work if it could not be written."""
    out = Path(given).expanduser()
    if not out.parent.is_dir():
        raise CliError(f"{out}: the folder {out.parent} does not exist")
    if out.is_dir():
        raise CliError(f"{out}: is a folder; --out names the model file to write")
    _check_writable(out)
    return out


def _check_writable(out: Path) -> None:
    """Find an unwritable output folder before the work, not after it."""
    import tempfile

    from ..core.weights import os_error_cause

    try:
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".part"):
            pass
    except OSError as exc:
        raise CliError(f"{out.name}: cannot write in {out.parent} ({os_error_cause(exc)})") from None


def _train(args, settings, bundle, base, device, team=None):
    """The fine-tune's result (None on a rank other than 0); a refusal or failure becomes
    CliError(1), Ctrl+C KeyboardInterrupt. Progress is rank 0's, counted over every rank."""
    from ..core.finetune import FinetuneCancelled, FinetuneError, run_finetune

    report = _StderrProgress(quiet=team is not None and not team.is_root)
    try:
        with StopOnCtrlC(sigterm=team is not None) as stop:
            result = run_finetune(args.folder, settings, bundle.model, base, device,
                                  progress=report, cancelled=stop, val_folder=args.val_folder, team=team)
    except (FinetuneCancelled, KeyboardInterrupt):
        report.finish()  # end the counter's line before "interrupted"
        raise KeyboardInterrupt from None
    except FinetuneError as exc:
        report.finish()
        for skipped in exc.skipped:
            eprint(f"skipped {skipped.path}: {skipped.error}")
        raise CliError(str(exc), code=EXIT_FAILED) from None
    report.finish()
    return result


def _report(args, result, out: Path, trained: bool, world_size: int | None = None) -> None:
    for warning in result.warnings:
        eprint(f"warning: {warning}")
    for s in result.skipped:
        eprint(f"skipped {s.path}: {s.error}")
    if args.json:
        summary = result.as_json()
        if not trained:
            summary["weights"] = "untrained"
        if world_size is not None:  # a torchrun launch: how many ranks shared the work
            summary["world_size"] = world_size
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(_text_summary(result, out))


def _text_summary(result, out: Path) -> str:
    correct = int(result.confusion_matrix.trace())
    lines = [f"validation accuracy {result.val_accuracy * 100:.1f}% ({correct} of {result.val_count}), "
             f"{result.train_count} training images, {len(result.classes)} classes, {result.seconds:.1f} s"]
    width = max(len(c) for c in result.classes)
    lines += [f"  {c:<{width}}  {a * 100:5.1f}%" for c, a in zip(result.classes, result.per_class_accuracy)]
    lines.append(f"saved {out}")
    return "\n".join(lines)


class _StderrProgress:
    """Epoch lines always; the scan/extract counter redrawn in place on a terminal."""

    def __init__(self, quiet: bool = False) -> None:
        self.tty = sys.stderr.isatty()
        self.drawn = False
        self.quiet = quiet  # the ranks other than 0 of a torchrun launch

    def __call__(self, event) -> None:
        if self.quiet:
            return
        if event.phase in ("scan", "extract") or event.batches:
            if self.tty:
                eta = f", {event.eta_seconds:.0f} s left" if event.eta_seconds is not None else ""
                what = {"scan": "checking files", "extract": "computing features", "train": "training"}[event.phase]
                step = f"batch {event.batch}/{event.batches}" if event.batches else f"{event.step}/{event.total}"
                sys.stderr.write(f"\r{what} {step}{eta}\033[K")
                sys.stderr.flush()
                self.drawn = True
        elif event.phase == "train" and event.step > 0:
            self.finish()
            eprint(f"epoch {event.step}/{event.total}  loss {event.loss:.4f}  acc {event.accuracy * 100:5.1f}%  "
                   f"val loss {event.val_loss:.4f}  val acc {event.val_accuracy * 100:5.1f}%")

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.drawn = False
