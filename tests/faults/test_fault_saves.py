"""Saving when things go wrong: the CSV export on a disk that refuses it, and a process
killed in the middle of writing a model over an earlier one."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fault_inputs import drop, refuse_writes_in

ROOT = Path(__file__).resolve().parents[2]

DISK = {"unwritable": (errno.EACCES, "Permission denied"), "full": (errno.ENOSPC, "No space left on device")}


@pytest.mark.parametrize("case", DISK)
def test_csv_export_refused_keeps_the_earlier_file(window, tmp_path, monkeypatch, case, qtbot, good_image,
                                                   no_modal_dialogs, still_classifies):
    from PySide6.QtWidgets import QFileDialog

    err_no, cause = DISK[case]
    image = good_image()
    drop(window, [image])
    qtbot.waitUntil(lambda: window.classify_view.images.entry_for(str(image)).status == "done", timeout=60000)
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    out = out_dir / "predictions.csv"
    out.write_text("path,label1\nlast-week.png,tabby\n")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV (*.csv)"))
    refuse_writes_in(monkeypatch, out_dir, err_no)
    window.actions["export"].trigger()
    assert no_modal_dialogs == [f"predictions.csv: {cause}"]
    assert out.read_text() == "path,label1\nlast-week.png,tabby\n"
    assert sorted(p.name for p in out_dir.iterdir()) == ["predictions.csv"]
    monkeypatch.undo()
    still_classifies(window)


# ---------------------------------------------------------------- killed mid-save

# The child saves a whole 3-class AlexNet (~230 MB) with the app's save_checkpoint. Its file
# object stalls once 32 MB are written, as a slow disk would, and says so: the parent
# then kills it with SIGKILL while the temp file is half written.
CHILD = textwrap.dedent("""
    import os, sys, time
    from alexnet_gui.core.model import build_model
    from alexnet_gui.core.weights import save_checkpoint

    STALL_AFTER = 32 << 20
    real_fdopen = os.fdopen

    class StallingFile:
        def __init__(self, f):
            self.f, self.written = f, 0
        def write(self, data):
            if self.written >= STALL_AFTER:
                self.f.flush()
                print("stalled", self.written, flush=True)
                time.sleep(600)
            self.written += len(data)
            return self.f.write(data)
        def __getattr__(self, name):
            return getattr(self.f, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return self.f.__exit__(*exc)

    os.fdopen = lambda *a, **k: StallingFile(real_fdopen(*a, **k))
    model = build_model(num_classes=3, seed=2)
    print("saving", flush=True)
    save_checkpoint(sys.argv[1], model.state_dict(), ["new-a", "new-b", "new-c"], {"note": "never finished"})
    print("saved", flush=True)
""")


@pytest.fixture(scope="module")
def killed_mid_save(tmp_path_factory):
    from alexnet_gui.core.model import build_model
    from alexnet_gui.core.weights import file_sha256, save_checkpoint

    folder = tmp_path_factory.mktemp("killed")
    path = folder / "pets.pth"
    save_checkpoint(path, build_model(num_classes=2, seed=1).state_dict(), ["cat", "dog"], {"note": "the good one"})
    before = file_sha256(path)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TORCH_HOME=str(folder / "torch"),
               XDG_CACHE_HOME=str(folder / "cache"))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in child.stdout:  # blocks until the child stalls mid-write (or ends)
            lines.append(line.strip())
            if line.startswith(("stalled", "saved")):
                break
        parts = sorted(folder.glob(".pets.pth.*.part"))
        part_size = parts[0].stat().st_size if parts else 0
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    return {"path": path, "before": before, "lines": lines, "parts": parts, "part_size": part_size,
            "returncode": child.returncode, "stderr": child.stderr.read()}


def test_the_kill_came_mid_write(killed_mid_save):
    k = killed_mid_save
    assert k["lines"][-1].startswith("stalled"), (k["lines"], k["stderr"])
    assert k["returncode"] == -signal.SIGKILL
    assert len(k["parts"]) == 1 and 0 < k["part_size"] < 200 << 20  # a temp file, half written


def test_the_earlier_model_is_untouched_and_still_loads(killed_mid_save, cli_json, tmp_path):
    from fault_inputs import write_png

    from alexnet_gui.core.weights import file_sha256

    k = killed_mid_save
    assert file_sha256(k["path"]) == k["before"]
    image = tmp_path / "photo.png"
    write_png(image)
    code, entries, err = cli_json("classify", image, weights=k["path"])
    assert code == 0 and {t["label"] for t in entries[0]["top"]} == {"cat", "dog"}


def test_the_half_written_temp_file_is_never_taken_for_a_model(killed_mid_save, cli):
    from alexnet_gui.core.images import find_images
    from alexnet_gui.core.weights import WeightsError, load_weights

    part = killed_mid_save["parts"][0]
    folder = part.parent
    assert part.name.startswith(".pets.pth.") and part.name.endswith(".part")  # hidden, and says what it is
    assert find_images(folder) == []
    with pytest.raises(WeightsError, match=r"not a weights file this app can load safely \(the file is truncated"):
        load_weights(part)
    code, out, err = cli("weights", "status", "--weights", part, weights=None, device=None)
    assert code == 2 and err.startswith(f"alexnet-cli: error: {part.name}: not a weights file")

