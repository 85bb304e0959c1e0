"""Folders a fine-tune cannot use, a disk that refuses the saved model, a garbled feature
cache: through `alexnet-cli finetune` and the window's Fine-tune tab. The user's folder
is never modified, a failed save leaves the earlier file as it was and no temp file."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from fault_inputs import drop, refuse_writes_in, snapshot, write_class_folder, write_text

TINY = {"epochs": 2, "batch_size": 8}


def build_empty(root: Path) -> None:
    root.mkdir()


def build_one_class(root: Path) -> None:
    write_class_folder(root, {"cats": 4})


def build_one_image_class(root: Path) -> None:
    write_class_folder(root, {"cats": 4, "dogs": 1})


def build_only_non_images(root: Path) -> None:
    for name, file in (("cats", "notes.txt"), ("dogs", "readme.md")):
        (root / name).mkdir(parents=True)
        write_text(root / name / file)


FOLDERS = {
    # case: (builder, what the user is told, files the report must name with their cause)
    "empty": (build_empty, "has no class subfolders: put each class's images in its own subfolder", []),
    "one-class": (build_one_class, "only one class ('cats') found: a fine-tune needs at least 2 class folders", []),
    "class-with-one-image": (build_one_image_class, "class 'dogs' has 1 readable image: each class needs at least 2",
                             []),
    "only-non-images": (build_only_non_images, "class 'cats' has 0 readable images: each class needs at least 2; "
                        "class 'dogs' has 0 readable images: each class needs at least 2",
                        [("cats/notes.txt", "not an image file (.txt)"), ("dogs/readme.md", "not an image file (.md)")]),
}


@pytest.mark.parametrize("case", FOLDERS)
def test_cli_refuses_the_folder(cli, tmp_path, case):
    build, message, _ = FOLDERS[case]
    folder = tmp_path / "mine"
    build(folder)
    before = snapshot(folder)
    out = tmp_path / "model.pth"
    code, stdout, err = cli("finetune", folder, "--out", out)
    assert code == 1 and stdout == ""
    *skipped_lines, last = err.splitlines()
    assert last.startswith("alexnet-cli: error: ") and message in last, err
    # The files the scan left out are named with their cause: often why a class is too small.
    assert skipped_lines == [f"skipped {folder / name}: {cause}" for name, cause in FOLDERS[case][2]]
    if case == "empty":
        assert f"{folder} has no class subfolders" in err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".model.pth.*"))
    assert snapshot(folder) == before


@pytest.fixture
def finetune_tab(window, qtbot):
    view = window.finetune_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(view.is_ready, timeout=60000)
    return view


@pytest.mark.parametrize("case", FOLDERS)
def test_window_reports_the_folder_and_keeps_working(window, finetune_tab, tmp_path, case, qtbot, still_classifies,
                                                     no_modal_dialogs):
    view = finetune_tab
    build, message, named = FOLDERS[case]
    folder = tmp_path / "mine"
    build(folder)
    before = snapshot(folder)
    with qtbot.waitSignal(view.health_report_shown, timeout=60000):
        drop(window, [folder])
    report = view.report_text()
    for problem in message.split("; "):
        assert f"Cannot train: {problem}" in report or f"Cannot train: {folder}" in report, report
    for rel, cause in named:
        assert f"skipped {folder / rel}: {cause}" in report
    assert not view.start_button.isEnabled()
    assert no_modal_dialogs == []
    still_classifies(window)
    assert snapshot(folder) == before


# ---------------------------------------------------------------- a disk that refuses the model


DISK = {"unwritable": (errno.EACCES, "permission denied"), "full": (errno.ENOSPC, "disk full")}


@pytest.fixture
def small_folder(tmp_path):
    return write_class_folder(tmp_path / "colours", {"red": 4, "green": 4}, size=64)


@pytest.mark.parametrize("case", DISK)
def test_cli_save_refused_keeps_the_earlier_model(cli, small_folder, tmp_path, monkeypatch, case):
    err_no, cause = DISK[case]
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    out = out_dir / "colours.pth"
    out.write_bytes(b"the model saved last week")
    refuse_writes_in(monkeypatch, out_dir, err_no)
    code, stdout, err = cli("finetune", small_folder, "--out", out, "--epochs", "2")
    if err_no == errno.EACCES:
        # An unwritable folder is found before the work (a probe file), not after training.
        assert code == 2 and stdout == ""
        assert err.splitlines()[-1] == f"alexnet-cli: error: colours.pth: cannot write in {out_dir} ({cause})"
    else:
        # A disk that fills up is only found when the model is written.
        assert code == 1
        assert err.splitlines()[-1] == f"alexnet-cli: error: colours.pth: could not save ({cause})"
    assert out.read_bytes() == b"the model saved last week"
    assert sorted(p.name for p in out_dir.iterdir()) == ["colours.pth"]  # no temp file left


@pytest.mark.parametrize("case", DISK)
def test_window_save_refused_keeps_the_earlier_model(window, finetune_tab, small_folder, tmp_path, monkeypatch, case,
                                                     qtbot, still_classifies):
    view = finetune_tab
    err_no, cause = DISK[case]
    with qtbot.waitSignal(view.health_report_shown, timeout=60000):
        view.set_folder(str(small_folder))
    view.set_settings(**TINY)
    with qtbot.waitSignal(view.run_ended, timeout=120000) as ended:
        assert view.start()
    assert ended.args == ["done"]
    out_dir = tmp_path / "models"
    out_dir.mkdir()
    out = out_dir / "colours.pth"
    out.write_bytes(b"the model saved last week")
    refuse_writes_in(monkeypatch, out_dir, err_no)
    saved = []
    view.model_saved.connect(saved.append)
    with qtbot.waitSignal(view.message_shown, timeout=60000) as shown:
        assert view.save_to(str(out))
    assert shown.args[0] == f"colours.pth: could not save ({cause})"
    assert view.message_label.accessibleName() == f"⚠ colours.pth: could not save ({cause})"
    assert saved == []
    assert out.read_bytes() == b"the model saved last week"
    assert sorted(p.name for p in out_dir.iterdir()) == ["colours.pth"]
    assert view.save_button.isEnabled()  # the result is still there to save elsewhere
    monkeypatch.undo()
    still_classifies(window)


# ---------------------------------------------------------------- a garbled feature cache


def garble(files: list[Path]) -> dict[Path, bytes]:
    """Damage every cache file a different way; returns what each now holds."""
    damaged = {}
    for i, path in enumerate(files):
        data = bytearray(path.read_bytes())
        kind = i % 4
        if kind == 0:
            data[len(data) // 2] ^= 0xFF  # one flipped byte in the values
        elif kind == 1:
            data = data[: len(data) // 3]  # cut short
        elif kind == 2:
            data[:8] = b"JUNKJUNK"  # header overwritten
        else:
            data = bytearray(b"\0" * len(data))  # zeroed
        path.write_bytes(bytes(data))
        damaged[path] = bytes(data)
    return damaged


def test_cli_recomputes_a_garbled_cache_with_the_same_metrics(cli, small_folder, tmp_path):
    from alexnet_gui.core.finetune.cache import cache_dir

    first = cli("finetune", small_folder, "--out", tmp_path / "a.pth", "--json", "--epochs", "3")
    assert first[0] == 0, first[2]
    files = sorted((cache_dir() / "features").rglob("*.f32"))
    assert len(files) == 8  # one per image
    damaged = garble(files)
    second = cli("finetune", small_folder, "--out", tmp_path / "b.pth", "--json", "--epochs", "3")
    assert second[0] == 0, second[2]
    a, b = json.loads(first[1]), json.loads(second[1])
    for key in ("classes", "val_accuracy", "epochs", "confusion_matrix", "skipped"):
        assert a[key] == b[key], key
    assert all(path.read_bytes() != damaged[path] for path in files)  # every entry was written anew
    assert "Traceback" not in second[2]
