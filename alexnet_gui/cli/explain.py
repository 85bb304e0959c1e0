"""`alexnet-cli explain`: why the model decided, as a heat map over the image's crop,
written as the PNG the window's Explain view saves for the same settings (the core
draws both), and optionally described as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from .common import EXIT_OK, EXIT_PARTIAL, CliError, add_model_args, load_model_for_cli


def add_parser(sub) -> None:
    from ..core.explain import DEFAULT_LAYER, LAYERS, METHODS

    p = sub.add_parser("explain", help="draw which pixels drove a class (Grad-CAM, occlusion, …) as a PNG")
    p.add_argument("image", metavar="IMAGE", help="the image (resized and centre-cropped to 224 as for classify)")
    add_model_args(p)
    p.add_argument("--method", choices=METHODS, default="gradcam", help="attribution method (default: gradcam)")
    p.add_argument("--layer", default=DEFAULT_LAYER, metavar="NAME",
                   help="Grad-CAM's conv block: " + ", ".join(f"{k} ({v})" for k, v in LAYERS.items())
                   + f"; default {DEFAULT_LAYER}")
    p.add_argument("--target", default=None, metavar="LABEL_OR_INDEX",
                   help="the class to explain, by name or index (default: the top-1 class)")
    p.add_argument("--patch", type=int, default=32, metavar="PX", help="occlusion: the grey square's side (32)")
    p.add_argument("--stride", type=int, default=16, metavar="PX", help="occlusion: its step (16)")
    p.add_argument("--opacity", type=float, default=0.5, metavar="A", help="heat map opacity, 0..1 (0.5)")
    p.add_argument("--out", required=True, metavar="FILE.png", help="PNG to write (a temp name, then renamed)")
    p.add_argument("--json", action="store_true", help="print the explanation as JSON")
    p.set_defaults(handler=_cmd_explain)


def _cmd_explain(args) -> int:
    from ..core.explain import ExplainError, ExplainImageError, ExplainSettings, explain
    from ..core.explain.picture import explanation_picture
    from ..core.render import save_png

    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"{out}: the folder {out.parent} does not exist")
    if not 0 <= args.opacity <= 1:
        raise CliError("--opacity must be between 0 and 1")
    try:
        settings = ExplainSettings(method=args.method, layer=args.layer, target=args.target, patch=args.patch,
                                   stride=args.stride).validate()
    except ExplainError as exc:
        raise CliError(str(exc)) from None
    bundle, _ = load_model_for_cli(args)
    try:
        e = explain(bundle.model, list(bundle.class_names), args.image, settings, path=args.image,
                    description=bundle.describe())
    except ExplainImageError as exc:
        raise CliError(str(exc), EXIT_PARTIAL) from None
    except ExplainError as exc:
        raise CliError(str(exc)) from None
    try:
        save_png(explanation_picture(e, args.opacity), out)
    except OSError as exc:
        raise CliError(f"{out}: could not write the PNG ({exc.strerror or exc})") from None
    if args.json:
        print(json.dumps(e.as_dict()))
    else:
        y, x = e.peak_in_image
        print(f"wrote {out}: {e.title} for {e.target.label} ({e.target.probability * 100:.1f} %), "
              f"strongest at x={x}, y={y} of {Path(args.image).name}")
    return EXIT_OK
