"""`alexnet-cli cache info | clear`: the fine-tune feature cache."""

from __future__ import annotations

import json

from .common import EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("cache", help="the fine-tune feature cache: where it is, how big, clear it")
    csub = p.add_subparsers(dest="action", required=True, metavar="{info,clear}")
    info = csub.add_parser("info", help="where the cache is and how much it holds")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(handler=_cmd_cache_info)
    clear = csub.add_parser("clear", help="delete cached features (they are recomputed when needed)")
    clear.add_argument("--samples", action="store_true", help="delete the sample data sets too")
    clear.set_defaults(handler=_cmd_cache_clear)


def _cmd_cache_info(args) -> int:
    from ..core.finetune.cache import cache_info

    info = cache_info()
    if args.json:
        print(json.dumps({"path": info.path, "feature_entries": info.feature_entries,
                          "feature_bytes": info.feature_bytes, "sample_bytes": info.sample_bytes}))
    else:
        print(f"{info.path}: {info.feature_entries} cached feature vectors ({_mb(info.feature_bytes)}), "
              f"sample data sets {_mb(info.sample_bytes)}")
    return EXIT_OK


def _cmd_cache_clear(args) -> int:
    from ..core.finetune.cache import cache_dir, clear_cache

    freed = clear_cache(samples=args.samples)
    print(f"freed {_mb(freed)} in {cache_dir()}")
    return EXIT_OK


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"
