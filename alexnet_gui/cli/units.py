"""`alexnet-cli unit` and `alexnet-cli visualize`: what a unit sees, headless. `unit` writes
the nine images of the folders that excite a unit most (the window's Units tab saves the
same grid); `visualize` writes the 224x224 picture the unit wants. Both run the core's
steps, cached as in the window, and stop at the next step on Ctrl+C."""

from __future__ import annotations

import json
from pathlib import Path

from .common import EXIT_OK, EXIT_PARTIAL, CliError, StopOnCtrlC, add_model_args, eprint, load_model_for_cli
from .distributed import is_root, shared_run

LAYER_HELP = ("conv1 … conv5, relu1 … relu5, pool1, pool2, pool5, fc6, relu6, fc7, relu7, fc8 (the classes), "
              "or the module's name (features.10)")


def add_parser(sub) -> None:
    _add_unit(sub)
    _add_visualize(sub)


def _add_unit_args(p) -> None:
    add_model_args(p)
    p.add_argument("--layer", required=True, metavar="NAME", help=LAYER_HELP)
    p.add_argument("--channel", required=True, type=int, metavar="N",
                   help="the channel of a conv/ReLU/pool layer, the unit of fc6/fc7, the class index of fc8")


def _add_unit(sub) -> None:
    p = sub.add_parser("unit", help="the nine images that excite a unit most, as a PNG grid of their patches")
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="folders (and their subfolders) or image files")
    _add_unit_args(p)
    p.add_argument("--out", required=True, metavar="top9.png", help="PNG to write (a temp name, then renamed)")
    p.add_argument("--json", action="store_true",
                   help='print the nine images highest first as JSON: [{"path", "value", "box"}], the box '
                        "[x0, y0, x1, y1] in the image's pixels")
    p.set_defaults(handler=_cmd_unit)


def _add_visualize(sub) -> None:
    p = sub.add_parser("visualize", help="the 224x224 image a unit wants, made by gradient ascent, as a PNG")
    _add_unit_args(p)
    p.add_argument("--steps", type=int, default=256, metavar="S", help="gradient ascent steps (default 256)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="the starting noise and the jitter (default 0)")
    p.add_argument("--folder", default=None, metavar="DIR",
                   help="also score the images of DIR, and report the best of them beside the picture")
    p.add_argument("--out", required=True, metavar="FILE.png", help="PNG to write (a temp name, then renamed)")
    p.add_argument("--json", action="store_true", help="print the unit's activations as JSON")
    p.set_defaults(handler=_cmd_visualize)


def _check_out(path: str) -> Path:
    out = Path(path)
    if not out.parent.is_dir():
        raise CliError(f"{out}: the folder {out.parent} does not exist")
    return out


def _save(rgb, out: Path) -> None:
    from ..core.render import save_png

    try:
        save_png(rgb, out)
    except OSError as exc:
        raise CliError(f"{out}: could not write the PNG ({exc.strerror or exc})") from None


def _unit_layer(bundle, layer: str, channel: int) -> str:
    from ..core.units import UnitError
    from ..core.units.scan import check_unit

    try:
        return check_unit(bundle.model, layer, channel)
    except UnitError as exc:
        raise CliError(str(exc)) from None


def _images(folders) -> list[str]:
    from ..core.images import expand_paths

    missing = [f for f in folders if not Path(f).exists()]
    if missing:
        raise CliError(f"{missing[0]}: no such file or folder")
    paths = [str(p) for p in expand_paths(folders)]
    if not paths:
        raise CliError(f"no images in {', '.join(folders)}")
    return paths


def _cmd_unit(args) -> int:
    from ..core.units.mosaic import top_mosaic

    root = is_root()  # under torchrun, rank 0 finds the files, merges the shares' best and writes
    out = _check_out(args.out) if root else Path(args.out)
    paths = _images(args.folders) if root else []
    bundle, device = load_model_for_cli(args)
    layer = _unit_layer(bundle, args.layer, args.channel)
    with shared_run(bundle, device) as (team, bundle, device):
        top = _top_images(bundle, paths, layer, args.channel, device, team)
    if top is None:  # a rank other than 0: its share is with rank 0
        return EXIT_OK
    _save(top_mosaic(top), out)
    for path, why in top.failed.items():
        eprint(f"skipped {path}: {why}")
    if args.json:
        entries = top.as_list()
        if team is not None:  # a torchrun launch: how many ranks shared the scan
            entries = [{**e, "world_size": team.world_size} for e in entries]
        print(json.dumps(entries))
    else:
        print(f"wrote {out}: the top {len(top.images)} of {top.scanned} images for "
              f"{top.unit.describe(bundle.class_names)} ({top.computed} computed, the rest from the cache)")
        for rank, image in enumerate(top.images, 1):
            print(f"{rank}. {image.value:.6g}  {image.path}  box {list(image.box)}")
    return EXIT_PARTIAL if top.failed else EXIT_OK


def _top_images(bundle, paths, layer, channel, device, team):
    """The unit's top images: scanned here, or each rank its contiguous share of ``paths``
    (rank 0's list, broadcast) and merged on rank 0 (None on the other ranks)."""
    from ..core.units.run import run_to_end, top_images_steps
    from ..core.units.scan import weights_key
    from ..core.units.sharded import merge_top_images

    if team is not None:
        paths = team.broadcast(paths)
    lo, hi = team.bounds(len(paths)) if team is not None else (0, len(paths))
    with StopOnCtrlC(sigterm=team is not None) as stop:
        top = run_to_end(top_images_steps(bundle.model, paths[lo:hi], layer, channel,
                                          weights_key(bundle.model, bundle.sha256), device), stop)
        if team is None:
            return top
        parts = team.gather_objects(top)
    return merge_top_images(parts) if team.is_root else None


def _cmd_visualize(args) -> int:
    from ..core.units import VisualizeSettings
    from ..core.units.run import picture_steps, real_values_steps, run_to_end
    from ..core.units.scan import weights_key

    out = _check_out(args.out)
    if args.steps < 1:
        raise CliError("--steps must be at least 1")
    paths = _images([args.folder]) if args.folder else []
    bundle, device = load_model_for_cli(args)
    layer = _unit_layer(bundle, args.layer, args.channel)
    settings = VisualizeSettings(steps=args.steps, seed=args.seed)
    with StopOnCtrlC() as stop:
        picture = run_to_end(picture_steps(bundle.model, layer, args.channel,
                                           weights_key(bundle.model, bundle.sha256), settings), stop)
        values, failed = run_to_end(real_values_steps(bundle.model, paths, layer, args.channel, device), stop) \
            if paths else ({}, {})
    _save(picture.image, out)
    for path, why in failed.items():
        eprint(f"skipped {path}: {why}")
    report = {"layer": layer, "channel": args.channel, "activation": picture.value,
              "start_activation": picture.start_value, "steps": args.steps, "seed": args.seed}
    if values:
        best = max(values, key=lambda p: (values[p], p))
        report |= {"best_real_activation": values[best], "best_real_path": best}
    if args.json:
        print(json.dumps(report))
    else:
        print(f"wrote {out}: the picture {picture.unit.describe(bundle.class_names)} wants; activation "
              f"{picture.value:.6g} (from noise at {picture.start_value:.6g})"
              + (f"; the best image of {args.folder}: {report['best_real_activation']:.6g} ({best})"
                 if values else ""))
    return EXIT_PARTIAL if failed else EXIT_OK
