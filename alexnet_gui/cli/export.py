"""`alexnet-cli export`: the model to take away, as ONNX (with a standalone predict.py
beside it) or TorchScript, checked against torch before it is reported written."""

from __future__ import annotations

import json
from pathlib import Path

from .common import EXIT_OK, CliError, eprint, load_model_for_cli


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write the model as ONNX (with a standalone predict.py) or TorchScript")
    p.add_argument("--weights", metavar="PATH",
                   help="weights file (ImageNet .pth or a fine-tuned model); default: torch hub cache")
    p.add_argument("--format", choices=("onnx", "torchscript"), default="onnx", help="onnx (default) or torchscript")
    p.add_argument("--out", required=True, metavar="PATH", help="the file to write (its folder gets predict.py)")
    p.add_argument("--int8", action="store_true",
                   help="ONNX only: quantise the fully connected layers to int8 (about a quarter of the size) "
                   "and print how often its top-1/top-5 agree with float's on --images")
    p.add_argument("--images", metavar="FOLDER",
                   help="images to measure int8 against float on (default: the bundled sample images)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=_cmd_export, device="cpu")


def _cmd_export(args) -> int:
    from ..core.engine.export import ExportError, export_model
    from ..core.images import ImageLoadError, expand_paths

    if args.images and not args.int8:
        raise CliError("--images is for --int8 (the agreement of int8 with float)")
    images = None
    if args.images:
        try:
            images = expand_paths([args.images], [])
        except ImageLoadError as exc:
            raise CliError(str(exc)) from None
        if not images:
            raise CliError(f"no images found in {args.images}")
    out = Path(args.out).expanduser().absolute()
    bundle, _device = load_model_for_cli(args)
    try:
        report = export_model(bundle.model, bundle.class_names, args.format, out, int8=args.int8, images=images,
                              description=bundle.describe(),
                              progress=None if args.json else lambda what, f: eprint(f"{what}…") if f < 1 else None)
    except ExportError as exc:
        raise CliError(str(exc), code=1) from None
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.summary())
    return EXIT_OK
