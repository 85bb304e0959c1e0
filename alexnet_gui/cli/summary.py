"""`alexnet-cli summary`: the per-layer table with totals."""

from __future__ import annotations

import json

from .common import EXIT_OK, CliError


def add_parser(sub) -> None:
    p = sub.add_parser("summary", help="print the per-layer table with totals")
    p.add_argument("--input-size", type=int, default=224, metavar="N", help="square input size (default 224; 227 works too)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=_cmd_summary)


def _cmd_summary(args) -> int:
    from ..core.layers import format_table, layer_table, totals
    from ..core.model import InputTooSmallError

    try:
        rows = layer_table(args.input_size)
    except InputTooSmallError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        t = totals(rows)
        print(json.dumps({
            "input_size": args.input_size,
            "layers": [r.as_dict() for r in rows],
            "totals": {"params": t.params, "conv_params": t.conv_params, "fc_params": t.fc_params,
                       "macs": t.macs, "trainable_params": t.trainable_params},
        }, indent=2))
    else:
        print(f"AlexNet at {args.input_size}x{args.input_size}")
        print(format_table(rows))
    return EXIT_OK
