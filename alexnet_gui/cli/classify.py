"""`alexnet-cli classify`: top-k predictions for images and folders, printed in the
order the inputs were given, each line as soon as its batch is done."""

from __future__ import annotations

import json

from .common import EXIT_OK, EXIT_PARTIAL, CliError, StopOnCtrlC, add_model_args, eprint, load_model_for_cli
from .distributed import is_root, shared_run
from .engine_args import add_engine_arg, engine_for_cli


def add_parser(sub) -> None:
    p = sub.add_parser("classify", help="top-k predictions for images and folders")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders (recursed)")
    add_model_args(p)
    p.add_argument("--top", type=int, default=5, metavar="K", help="how many classes per image (default 5)")
    p.add_argument("--batch-size", type=int, default=32, metavar="B",
                   help="images decoded and run through the model together (default 32); "
                   "smaller needs less memory, larger is faster on a GPU")
    p.add_argument("--json", action="store_true", help="print one JSON array, one object per image")
    add_engine_arg(p)
    p.set_defaults(handler=_cmd_classify)


def _cmd_classify(args) -> int:
    if args.top < 1:
        raise CliError("--top must be at least 1")
    if args.batch_size < 1:
        raise CliError("--batch-size must be at least 1")
    paths, order = _gather_inputs(args.paths) if is_root() else ([], [])  # rank 0 looks, the others are told
    bundle, device = load_model_for_cli(args)
    printer = None
    with shared_run(bundle, device) as (team, bundle, device):
        if team is not None:
            paths, order = team.broadcast((paths, order))
        engine = engine_for_cli(bundle, device, args.engine) if paths else None
        printer = _InputOrderPrinter(order, text=not args.json)
        results = _classify(args, bundle, paths, device, engine, printer, team)
    if results is None:  # a rank other than 0 of a torchrun launch: its share is with rank 0
        return EXIT_OK
    printer.show_errors_up_to_next_path()
    if args.json:
        _print_json(order, results, bundle.trained, engine.name if engine else "torch",
                    team.world_size if team else None)
    if not order:
        eprint("no images found")
        return EXIT_PARTIAL
    return EXIT_PARTIAL if printer.failed else EXIT_OK


def _classify(args, bundle, paths, device, engine, printer, team):
    """Every prediction in input order (None on a rank other than 0). Alone: printed batch by
    batch. Under torchrun: each rank classifies its contiguous share, rank 0 gathers and prints."""
    from ..core.predict import classify_paths

    lo, hi = team.bounds(len(paths)) if team is not None else (0, len(paths))
    with StopOnCtrlC(sigterm=team is not None) as stop:
        results = classify_paths(bundle.model, paths[lo:hi], bundle.class_names, k=args.top,
                                 batch_size=args.batch_size, device=device, cancelled=stop, engine=engine,
                                 on_batch=printer.show_batch if team is None else None)
        if team is None:
            return results
        shares = team.gather_objects(results)
    if not team.is_root:
        return None
    results = [p for share in shares for p in share]
    printer.show_batch(results)
    return results


def _gather_inputs(inputs: list[str]) -> tuple[list, list]:
    """The image files found in ``inputs``, and the output order: for each, in the order
    given, an index into those files or an error entry (an unreadable folder's error sits
    where the folder was given)."""
    from ..core.images import ImageLoadError, expand_paths

    paths, order = [], []
    for p in inputs:
        skipped: list[ImageLoadError] = []
        try:
            found = expand_paths([p], skipped)
        except ImageLoadError as exc:
            order.append({"path": exc.path, "error": str(exc)})
        else:
            order.extend({"path": e.path, "error": str(e)} for e in skipped)
            order.extend(range(len(paths), len(paths) + len(found)))
            paths.extend(found)
    return paths, order


class _InputOrderPrinter:
    """Prints each result as its batch arrives, with the input errors between them in
    their places (text mode); in JSON mode it only keeps count and remembers failures."""

    def __init__(self, order: list, text: bool) -> None:
        self.order = order
        self.text = text
        self.shown = 0  # entries of ``order`` dealt with so far
        self.failed = any(isinstance(e, dict) for e in order)

    def show_errors_up_to_next_path(self) -> None:
        while self.shown < len(self.order) and isinstance(self.order[self.shown], dict):
            e = self.order[self.shown]
            if self.text:
                print(f"{e['path']}: error: {e['error']}", flush=True)
            self.shown += 1

    def show_batch(self, batch) -> None:
        for pred in batch:
            self.failed |= not pred.ok
            self.show_errors_up_to_next_path()
            self.shown += 1
            if not self.text:
                continue
            if pred.ok:
                best = ", ".join(f"{s.label} {s.probability * 100:.1f}%" for s in pred.top)
                print(f"{pred.path}: {best}", flush=True)
            else:
                print(f"{pred.path}: error: {pred.error}", flush=True)


def _print_json(order: list, results: list, trained: bool, engine: str, world_size: int | None = None) -> None:
    entries = [{**(e if isinstance(e, dict) else results[e].as_dict()), "engine": engine} for e in order]
    if world_size is not None:  # a torchrun launch: how many ranks shared the work
        entries = [{**e, "world_size": world_size} for e in entries]
    if not trained:  # every answer is random: say so where a script looks
        entries = [{**e, "weights": "untrained"} for e in entries]
    print(json.dumps(entries, indent=2, ensure_ascii=False))
