"""`alexnet-cli audit`: a fine-tune folder's likely mislabels, duplicates and train/val leaks.

Progress goes to stderr; with ``--json`` stdout carries exactly one JSON object
``{"mislabelled": [...], "duplicates": [...], "leaks": [...]}``, paths as given on
the command line joined with each file's path inside the folder. Exit codes: 0
done, 1 the folder was refused, 2 usage or weights errors, 130 interrupted.
torch and scikit-learn are imported only when the command runs.
"""

from __future__ import annotations

import json

from .common import EXIT_OK, EXIT_PARTIAL, CliError, StopOnCtrlC, add_model_args, eprint, load_model_for_cli
from .distributed import shared_run


def add_parser(sub) -> None:
    p = sub.add_parser(
        "audit",
        help="list a fine-tune folder's likely mislabelled images, duplicates and train/val leaks",
        description="Look at FOLDER/<class>/<images> as the fine-tune would (same split, same cached fc7 "
        "features) and list: images whose out-of-fold prediction confidently disagrees with their folder, "
        "exact and near duplicates, and duplicates that sit one in train and one in val.",
    )
    p.add_argument("folder", metavar="FOLDER", help="one subfolder of images per class (or train/ and val/)")
    p.add_argument("--val-fraction", type=float, default=0.2, metavar="F",
                   help="validation share when drawing the split, as for finetune (default 0.2)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the split and the folds (default 0)")
    add_model_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object with the three lists on stdout")
    p.set_defaults(handler=_cmd_audit)


def _cmd_audit(args) -> int:
    from ..core.audit import audit_folder
    from ..core.audit.results import fc7_features_key
    from ..core.finetune import FinetuneCancelled, FinetuneError, FinetuneSettings

    try:
        settings = FinetuneSettings(seed=args.seed, val_fraction=args.val_fraction).validate()
    except FinetuneError as exc:
        raise CliError(str(exc)) from None
    bundle, device = load_model_for_cli(args)
    key = fc7_features_key(bundle.sha256, bundle.source, bundle.meta)
    with shared_run(bundle, device) as (team, bundle, device):  # under torchrun: every rank a share
        try:
            with StopOnCtrlC(sigterm=team is not None) as stop:
                result = audit_folder(args.folder, bundle.model, key, bundle.trained, device, settings,
                                      cancelled=stop, team=team)
        except (FinetuneCancelled, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        except FinetuneError as exc:
            raise CliError(str(exc), code=EXIT_PARTIAL) from None
    if result is None:  # a rank other than 0 of a torchrun launch: its share is with rank 0
        return EXIT_OK
    for warning in result.warnings:
        eprint(f"warning: {warning}")
    lists = result.as_json(args.folder)
    if team is not None:  # how many ranks shared the work
        lists["world_size"] = team.world_size
    print(json.dumps(lists, ensure_ascii=False) if args.json else _text(lists, result))
    return EXIT_OK


def _text(lists: dict, result) -> str:
    lines = [f"{result.image_count} images, {len(result.classes)} classes, {result.seconds:.1f} s "
             f"({result.computed} through the network)"]
    lines.append(f"likely mislabelled ({len(lists['mislabelled'])}):")
    lines += [f"  {m['path']}: in {m['folder_label']}, looks like {m['predicted']} ({m['confidence'] * 100:.0f}%)"
              for m in lists["mislabelled"]]
    for name in ("duplicates", "leaks"):
        lines.append(f"{name} ({len(lists[name])}):")
        lines += [f"  {p['a']} ~ {p['b']} ({p['similarity']:.3f})" for p in lists[name]]
    return "\n".join(lines)
