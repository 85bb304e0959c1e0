"""benchmarks/run_all.py's verdict: its exit status and what RESULTS.md says about
failed budgets. No model runs: the benchmark scripts here are stand-ins that print
a result line, and the software probe is replaced by one that imports nothing."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from pathlib import Path

import pytest

RUN_ALL = Path(__file__).resolve().parent.parent / "benchmarks" / "run_all.py"


@pytest.fixture()
def run_all():
    spec = importlib.util.spec_from_file_location("bench_run_all_under_test", RUN_ALL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(what: str, passed, budget: str = "<= 0.9 x reference") -> dict:
    return {"what": what, "measured": "10 ms", "reference": "20 ms (ref)", "ratio": 0.5, "budget": budget,
            "passed": passed}


def result(*rows: dict, **extra) -> dict:
    return {"rows": list(rows), "script": "bench_x.py", "args": [], "seconds": 1.0, "others_before": 0.0,
            "others_during": 0.0, "load_before_run": "0 0 0", "load_after_run": "0 0 0", **extra}


def test_exit_status_passes_fails_and_errors(run_all):
    ok = result(row("a", True), row("b", None, "reported"))
    assert run_all.exit_status([ok]) == 0
    assert run_all.exit_status([ok, result(row("c", False))]) == 1
    assert run_all.exit_status([ok, result(error="exit 1", stderr="boom")]) == 2
    assert run_all.exit_status([result(row("c", False)), result(error="timeout", stderr="")]) == 2
    assert [x["what"] for x in run_all.failed_rows([ok, result(row("c", False), row("d", False))])] == ["c", "d"]


def test_results_name_the_failed_budgets(run_all, tmp_path):
    info = {"python": "3", "torch": "t", "torch_threads": 2, "torchvision": "v", "pyside6": "p", "pillow": "P",
            "numpy": "n", "cuda": False}
    mach = {"cpu": "cpu", "cores": 2, "usable_cores": 2, "ram": "1 GiB", "os": "os"}
    out = tmp_path / "R.md"
    results = [result(row("fast thing", True), row("slow thing", False), row("head start", None, "reported"))]
    run_all.write_results(out, info, mach, results, 60.0, quick=True)
    text = out.read_text(encoding="utf-8")
    assert "| slow thing | 10 ms | 20 ms (ref) | 0.50 | <= 0.9 x reference | **FAIL** |" in text
    assert "**Budgets: 1 of 2 met; 1 failed:**" in text
    assert "- FAIL: slow thing: 10 ms against 20 ms (ref), ratio 0.50; budget <= 0.9 x reference" in text
    assert "FAIL: fast thing" not in text and "FAIL: head start" not in text

    results = [result(row("fast thing", True), row("head start", None, "reported"))]
    run_all.write_results(out, info, mach, results, 60.0, quick=True)
    text = out.read_text(encoding="utf-8")
    assert "Budgets: 1 of 1 met." in text and "FAIL" not in text


@pytest.mark.parametrize(("passed", "status"), [(True, 0), (False, 1), ("crash", 2)])
def test_main_exit_status_end_to_end(run_all, tmp_path, monkeypatch, capsys, passed, status):
    """The whole of ``main`` with a stand-in benchmark script in a process of its own."""
    body = ('raise SystemExit("no result")' if passed == "crash" else
            f"print('BENCH_RESULT ' + json.dumps({{'rows': [{row('stand-in', passed)!r}]}}))")
    script = tmp_path / "bench_standin.py"
    script.write_text(textwrap.dedent(f"""\
        import json
        {body}
        """), encoding="utf-8")
    info = {"python": "3", "torch": "t", "torch_threads": 2, "torchvision": "v", "pyside6": "p", "pillow": "P",
            "numpy": "n", "cuda": False, "cuda_version": None, "gpu": None}
    monkeypatch.setattr(run_all, "INFO", f"print({json.dumps(json.dumps(info))})")
    monkeypatch.setattr(run_all, "BENCHES", [("standin", str(script), [], [], 60, False)])
    monkeypatch.setattr(run_all, "others_share", lambda seconds=1.0: 0.0)
    out = tmp_path / "RESULTS.md"
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--quiet-wait", "0", "--out", str(out)])
    assert run_all.main() == status
    text = out.read_text(encoding="utf-8")
    printed = capsys.readouterr().out
    if status == 1:
        assert "- FAIL: stand-in:" in text and "- FAIL: stand-in:" in printed
    elif status == 2:
        assert "**ERROR**" in text and "- ERROR: `" in printed
    else:
        assert "Budgets: 1 of 1 met." in text and "FAIL" not in text
    assert (tmp_path / "RESULTS.json").is_file()
