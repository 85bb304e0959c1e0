"""Run every benchmark, each in a fresh process, and rewrite benchmarks/RESULTS.md.

``make bench`` runs this. Each script prints ``BENCH_RESULT {json}`` with
table rows (what, measured, reference, ratio, budget, passed) and notes; this
collects them with the machine's description and its load average before and
after each script (other work on a 2-core machine moves every number).
The latency, feature maps, throughput and fine-tune benchmarks run on CUDA too
when there is a GPU. Data, weights and caches live in a temp folder removed at the end.

Exit status: 0 when every budget row passed, 1 when any budget row failed
(RESULTS.md names them under the table and the run's last lines list them),
2 when a script did not run to its end (its rows are missing). A row with the
budget "reported" has no verdict and never fails the run.

    python benchmarks/run_all.py [--only startup,latency] [--quick] [--no-cuda] [--quiet-wait S] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULT_PREFIX = "BENCH_RESULT "

# name, script, arguments, arguments with --quick, timeout (s), runs on CUDA too
BENCHES = [
    ("startup", "bench_startup.py", [], ["--runs", "1"], 420, False),
    ("latency", "bench_latency.py", [], ["--n", "5"], 240, True),
    ("throughput", "bench_throughput.py", [], ["--per-class", "16"], 360, True),
    ("stall", "bench_stall.py", [], ["--drops", "3", "--folder-per-class", "16", "--finetune-per-class", "12"], 360, False),
    ("finetune", "bench_finetune.py", [], ["--per-class", "40"], 600, True),
    ("features", "bench_features.py", [], ["--n", "3", "--warmup", "1"], 240, True),
    ("recovery", "bench_recovery.py", [], ["--runs", "1"], 300, False),
    ("memory", "bench_memory.py", [], [], 240, False),
    ("soak", "bench_soak.py", [], ["--per-class", "25"], 600, False),
    ("transfer", "bench_transfer.py", [], ["--n", "10"], 180, False),
    ("explain", "bench_explain.py", [], ["--n", "1"], 420, False),
    ("engine", "bench_engine.py", [], ["--n", "5", "--batches", "2", "--images", "16"], 300, False),
    ("units", "bench_units.py", [], ["--n", "128", "--steps", "32"], 900, False),
    ("distributed", "bench_distributed.py", [], ["--n", "64", "--rounds", "2"], 900, False),
    ("audit", "bench_audit.py", [], ["--per-class", "25"], 600, False),
    ("camera", "bench_camera.py", [], ["--frames", "60", "--seconds", "4"], 300, False),
]

INFO = r"""
import json, platform, sys
import torch, torchvision, PySide6, PIL, numpy
cuda = torch.cuda.is_available()
print(json.dumps({
    "python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
    "pyside6": PySide6.__version__, "pillow": PIL.__version__, "numpy": numpy.__version__,
    "torch_threads": torch.get_num_threads(), "cuda": cuda, "cuda_version": torch.version.cuda,
    "gpu": torch.cuda.get_device_name(0) if cuda else None,
}))
"""


def cpu_busy_seconds() -> float:
    """CPU-seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def others_share(seconds: float = 1.0) -> float:
    """Share of all cores (0..1) used by other processes over ``seconds`` while we sleep."""
    b0 = cpu_busy_seconds()
    time.sleep(seconds)
    return max(0.0, (cpu_busy_seconds() - b0) / (seconds * (os.cpu_count() or 1)))


def wait_for_quiet(max_wait: float, threshold: float) -> float:
    """Sleep until other processes use less than ``threshold`` of the CPU (or ``max_wait`` passes)."""
    end = time.monotonic() + max_wait
    share = others_share()
    while share >= threshold and time.monotonic() < end:
        share = others_share()
    return share


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    osname = platform.system()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "ram": ram,
            "os": f"{osname}, kernel {platform.release()}, {platform.machine()}"}


def run_one(script: str, args: list[str], timeout: int, env: dict, quiet_wait: float) -> dict:
    share_before = wait_for_quiet(quiet_wait, 0.25) if quiet_wait > 0 else others_share()
    t0 = time.perf_counter()
    before = loadavg()
    busy0, mine0 = cpu_busy_seconds(), children_cpu_seconds()
    try:
        out = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True,
                             timeout=timeout, env=env, cwd=HERE.parent)
        rc, stdout, stderr = out.returncode, out.stdout, out.stderr
    except subprocess.TimeoutExpired as exc:
        rc = "timeout"
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
    seconds = time.perf_counter() - t0
    others = (cpu_busy_seconds() - busy0) - (children_cpu_seconds() - mine0)
    others_during = max(0.0, others / (seconds * (os.cpu_count() or 1)))
    result = None
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
            break
    if result is None or rc != 0:
        tail = "\n".join(ln for ln in stderr.splitlines() if "propagateSizeHints" not in ln)[-1500:]
        tail = tail.replace(str(HERE.parent), ".")  # no machine-specific paths in the committed results
        result = {"error": f"exit {rc}", "stderr": tail, **(result or {})}
    result.update(seconds=seconds, load_before_run=before, load_after_run=loadavg(), script=script, args=args,
                  others_before=share_before, others_during=others_during)
    return result


def verdict(passed) -> str:
    return {True: "PASS", False: "**FAIL**", None: "—"}[passed]


def budget_rows(results: list[dict]) -> list[dict]:
    """Every row with a budget (a verdict of pass or fail), in table order."""
    return [x for r in results for x in r.get("rows", []) if x.get("passed") is not None]


def failed_rows(results: list[dict]) -> list[dict]:
    return [x for x in budget_rows(results) if x["passed"] is False]


def errored(results: list[dict]) -> list[dict]:
    return [r for r in results if "error" in r]


def exit_status(results: list[dict]) -> int:
    """2 if a script did not finish, else 1 if a budget row failed, else 0."""
    if errored(results):
        return 2
    return 1 if failed_rows(results) else 0


def summary_lines(results: list[dict]) -> list[str]:
    """What the run's verdict is, for RESULTS.md (Markdown) and the console."""
    budgets, failed, broken = budget_rows(results), failed_rows(results), errored(results)
    lines = [f"Budgets: {len(budgets) - len(failed)} of {len(budgets)} met"
             + (f"; {len(failed)} failed:" if failed else ".")]
    for x in failed:
        ratio = "" if x["ratio"] is None else f", ratio {x['ratio']:.2f}"
        lines.append(f"- FAIL: {x['what']}: {x['measured']} against {x['reference']}{ratio}; budget {x['budget']}")
    for r in broken:
        lines.append(f"- ERROR: `{r['script']}` did not finish ({r['error']}); its rows are missing")
    return lines


def write_results(path: Path, info: dict, mach: dict, results: list[dict], total_s: float, quick: bool) -> None:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`benchmarks/run_all.py`); rerun it to refresh. Budgets are the ones in "
        "the design; every reference is measured in the same run on the same machine.",
        "",
        f"- Date: {now}" + (" (quick run: reduced sizes)" if quick else ""),
        f"- Machine: {mach['cpu']}, {mach['cores']} cores ({mach['usable_cores']} usable), {mach['ram']} RAM; "
        f"{mach['os']}",
        f"- Software: Python {info.get('python')}, torch {info.get('torch')} ({info.get('torch_threads')} intra-op "
        f"threads), torchvision {info.get('torchvision')}, PySide6 {info.get('pyside6')}, Pillow {info.get('pillow')}, "
        f"NumPy {info.get('numpy')}",
        "- Device: CPU" + (f"; CUDA {info.get('cuda_version')} on {info.get('gpu')} (latency, feature maps, "
                           "throughput and fine-tune also run there)" if info.get("cuda")
                           else " (no CUDA device: the CUDA rows are absent)"),
        "- Weights: seeded random (`build_model(seed=0)` saved to a temp file): the same tensors and the same compute "
        "as the ImageNet file; only accuracies differ. Qt runs offscreen (`QT_QPA_PLATFORM=offscreen`).",
        f"- Whole run: {total_s / 60:.1f} min.",
        "",
        "| what | measured | reference | ratio | budget | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        for x in r.get("rows", []):
            ratio = "" if x["ratio"] is None else f"{x['ratio']:.2f}"
            lines.append(f"| {x['what']} | {x['measured']} | {x['reference']} | {ratio} | {x['budget']} | "
                         f"{verdict(x['passed'])} |")
        if "error" in r:
            lines.append(f"| {r.get('name', r['script'])} | not measured ({r['error']}) | | | | **ERROR** |")
    head, *items = summary_lines(results)
    lines += ["", f"**{head}**" if items else head]
    if items:
        lines += [""] + items
    lines += ["", "## Notes", ""]
    for r in results:
        for note in r.get("notes", []):
            lines.append(f"- {note}")
        if "error" in r:
            lines += [f"- `{r['script']}` failed ({r['error']}):", "", "```", r.get("stderr", "").strip(), "```", ""]
    lines += ["", "## Load while measuring", "",
              "Other processes' share of all cores just before and during each script (from /proc/stat, less "
              "the benchmark's own CPU time), and the load average (1, 5, 15 min; it includes the benchmark "
              "itself). Others' work slows both sides of a ratio, but not always equally, and it lengthens GUI "
              "stalls: numbers measured while others used the CPU are upper bounds.", "",
              "| script | arguments | seconds | others before | others during | load before | load after |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r['script']} | {' '.join(r['args']) or '—'} | {r['seconds']:.0f} | "
                     f"{r['others_before'] * 100:.0f} % | {r['others_during'] * 100:.0f} % | {r['load_before_run']} | "
                     f"{r['load_after_run']} |")
    lines += ["", "How each number is measured: see the docstring at the top of each `benchmarks/bench_*.py` and "
              "`benchmarks/README.md`.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated names: " + ",".join(b[0] for b in BENCHES))
    ap.add_argument("--quick", action="store_true", help="small sizes: checks the scripts, numbers mean little")
    ap.add_argument("--no-cuda", action="store_true", help="skip the CUDA runs even with a GPU")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--quiet-wait", type=float, default=20.0,
                    help="before each script, wait up to this many seconds for other processes to use < 25 %% of the CPU")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None

    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="alexnet-gui-bench-"))
    env = dict(os.environ, ALEXNET_BENCH_DIR=str(work), QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    try:
        info = json.loads(subprocess.run([sys.executable, "-c", INFO], capture_output=True, text=True, check=True,
                                         env=env).stdout.strip().splitlines()[-1])
        mach = machine()
        print(f"{mach['cpu']}, {mach['cores']} cores; torch {info['torch']}; CUDA: {info['cuda']}", flush=True)
        devices = ["cpu"] + (["cuda"] if info["cuda"] and not args.no_cuda else [])
        results = []
        for name, script, extra, quick_extra, timeout, on_cuda in BENCHES:
            if only and name not in only:
                continue
            for device in devices if on_cuda else ["cpu"]:
                argv = (quick_extra if args.quick else extra) + (["--device", device] if on_cuda else [])
                print(f"[{time.perf_counter() - t0:5.0f} s] {script} {' '.join(argv)}", flush=True)
                r = run_one(script, argv, timeout, env, args.quiet_wait)
                print(f"    others used {r['others_before'] * 100:.0f} % of the CPU before, "
                      f"{r['others_during'] * 100:.0f} % during ({r['seconds']:.0f} s)", flush=True)
                for x in r.get("rows", []):
                    print(f"    {verdict(x['passed']):8} {x['what']}: {x['measured']} vs {x['reference']}", flush=True)
                if "error" in r:
                    print(f"    ERROR {r['error']}\n{r['stderr']}", flush=True)
                results.append(r)
        total = time.perf_counter() - t0
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        write_results(Path(args.out), info, mach, results, total, args.quick)
        (Path(args.out).with_suffix(".json")).write_text(json.dumps(
            {"machine": mach, "software": info, "results": results}, indent=1, default=float), encoding="utf-8")
        print(f"wrote {args.out} in {total / 60:.1f} min", flush=True)
        for line in summary_lines(results):
            print(line, flush=True)
        return exit_status(results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
