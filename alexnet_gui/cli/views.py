"""`alexnet-cli filters` and `alexnet-cli features`: the window's Filters and Feature
maps grids written as PNG, headless. Both draw with ``core.render``, as the window
does, so the same settings give the same pixels."""

from __future__ import annotations

from pathlib import Path

from .common import EXIT_OK, EXIT_PARTIAL, CliError, add_model_args, load_model_for_cli


def add_parser(sub) -> None:
    _add_filters(sub)
    _add_features(sub)


def _add_out(p) -> None:
    p.add_argument("--out", required=True, metavar="FILE.png", help="PNG to write (written to a temp name, then renamed)")
    p.add_argument("--scale", type=int, default=None, metavar="N",
                   help="pixels per weight/activation (default: tiles of about 40 pixels)")


def _add_filters(sub) -> None:
    p = sub.add_parser("filters", help="draw a conv layer's learned kernels as a PNG grid")
    add_model_args(p)
    p.add_argument("--layer", default="features.0", metavar="NAME",
                   help="conv layer: features.0 (conv1, RGB; default), features.3, .6, .8 or .10 "
                        "(kernels averaged over their inputs, grey)")
    norm = p.add_mutually_exclusive_group()
    norm.add_argument("--per-filter", dest="per_filter", action="store_true", default=True,
                      help="stretch each kernel to its own full range (default)")
    norm.add_argument("--global", dest="per_filter", action="store_false",
                      help="one scale for every kernel of the layer, so their strengths compare")
    p.add_argument("--page", type=int, default=None, metavar="N",
                   help="only page N (1-based) of 64 kernels, as the window pages them; default: all")
    _add_out(p)
    p.set_defaults(handler=_cmd_filters)


def _add_features(sub) -> None:
    p = sub.add_parser("features", help="draw every channel of one layer's activations for an image as a PNG grid")
    p.add_argument("image", metavar="IMAGE", help="the image (resized and centre-cropped to 224 as for classify)")
    add_model_args(p)
    p.add_argument("--layer", required=True, metavar="NAME",
                   help="a layer of `features`: features.0 (conv1) … features.12 (the last pool)")
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--per-channel", dest="shared", action="store_false", default=False,
                       help="stretch each channel to its own range (default)")
    scale.add_argument("--shared", dest="shared", action="store_true",
                       help="one colour scale for every channel of the layer")
    p.add_argument("--sort", action="store_true", help="highest mean activation first (default: channel order)")
    _add_out(p)
    p.set_defaults(handler=_cmd_features)


def _check_out(args) -> Path:
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"{out}: the folder {out.parent} does not exist")
    if args.scale is not None and not 1 <= args.scale <= 64:
        raise CliError("--scale must be between 1 and 64")
    return out


def _write(rgb, layout, out: Path, what: str) -> int:
    from ..core.render import save_png

    try:
        save_png(rgb, out)
    except OSError as exc:
        raise CliError(f"{out}: could not write the PNG ({exc.strerror or exc})") from None
    print(f"wrote {out}: {what}, {layout.count} tiles, {rgb.shape[1]}x{rgb.shape[0]} pixels")
    return EXIT_OK


def _cmd_filters(args) -> int:
    from ..core.introspect import CONV_LAYERS, conv_layer
    from ..core.render import filters_mosaic, page_count

    out = _check_out(args)
    if args.layer not in CONV_LAYERS:
        raise CliError(f"{args.layer!r} is not a conv layer; choose one of {', '.join(CONV_LAYERS)}")
    bundle, _ = load_model_for_cli(args)
    weight = conv_layer(bundle.model, args.layer).weight.detach().float().cpu().numpy()  # (C_out, C_in, k, k)
    pages = page_count(weight.shape[0])
    if args.page is not None and not 1 <= args.page <= pages:
        raise CliError(f"--page must be between 1 and {pages} for {args.layer}")
    page = None if args.page is None else args.page - 1
    rgb, layout = filters_mosaic(weight, args.per_filter, page, args.scale)
    norm = "per filter" if args.per_filter else "one scale"
    return _write(rgb, layout, out, f"{args.layer} kernels ({norm}) of {bundle.describe()}")


def _cmd_features(args) -> int:
    from ..core.images import ImageLoadError, load_image
    from ..core.introspect import feature_layers, feature_maps
    from ..core.preprocess import preprocess
    from ..core.render import feature_mosaic

    out = _check_out(args)
    bundle, _ = load_model_for_cli(args)
    names = [name for name, _ in feature_layers(bundle.model)]
    if args.layer not in names:
        raise CliError(f"{args.layer!r} is not a layer of `features`; choose one of {', '.join(names)}")
    try:
        x = preprocess(load_image(args.image))  # (3, 224, 224)
    except ImageLoadError as exc:
        raise CliError(str(exc), EXIT_PARTIAL) from None
    layers = feature_maps(bundle.model, x)
    act = layers[names.index(args.layer)]
    rgb, layout, _ = feature_mosaic(act.maps, args.shared, args.sort, args.scale)
    return _write(rgb, layout, out, f"{act.label} of {Path(args.image).name}")
