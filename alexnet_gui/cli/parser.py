"""The whole `alexnet-cli` parser, one sub-command group per module, in the order
`alexnet-cli --help` lists them."""

from __future__ import annotations

import argparse

from . import audit, cache, classify, doctor, explain, export, finetune, summary, units, views, weights

# Each adds its sub-command(s) with a ``handler`` default that runs them.
COMMAND_MODULES = (summary, classify, weights, views, units, explain, finetune, audit, export, cache, doctor)


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="alexnet-cli",
        description="AlexNet from the command line: layer table, classification, weights, "
        "filters and feature maps, fine-tuning.",
    )
    parser.add_argument("--version", action="version", version=f"alexnet-gui {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    return parser
