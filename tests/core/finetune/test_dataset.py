"""Scanning a folder: counts, skipped files with causes, refusals, the split."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from alexnet_gui.core.finetune import FinetuneError, scan_folder, split

from .conftest import make_shapes


def test_counts_classes_and_hashes(shapes):
    report = scan_folder(shapes)
    assert report.ok and report.layout == "folders"
    assert report.classes == ["circles", "squares", "triangles"]
    assert report.counts == {"circles": 12, "squares": 12, "triangles": 12}
    assert report.skipped == [] and report.warnings == []
    assert all(len(e.sha256) == 64 for e in report.images)
    assert "circles: 12" in report.summary()


def test_images_in_nested_folders_count_and_hidden_files_do_not(tmp_path):
    root = make_shapes(tmp_path / "data", per_class=3)
    nested = root / "circles" / "more" / "deeper"
    nested.mkdir(parents=True)
    (root / "circles" / "circles-00.png").rename(nested / "moved.png")
    (root / "squares" / ".hidden.png").write_bytes(b"junk")
    (root / ".thumbnails").mkdir()
    (root / ".thumbnails" / "x.png").write_bytes(b"junk")
    report = scan_folder(root)
    assert report.counts == {"circles": 3, "squares": 3, "triangles": 3}
    assert report.skipped == []


def test_unreadable_and_non_image_files_are_skipped_with_their_cause(shapes):
    (shapes / "circles" / "notes.txt").write_text("not a picture")
    good = (shapes / "squares" / "squares-00.png").read_bytes()
    (shapes / "squares" / "cut.png").write_bytes(good[: len(good) // 2])
    (shapes / "triangles" / "empty.jpg").write_bytes(b"")
    (shapes / "triangles" / "fake.jpg").write_bytes(b"this is text pretending to be a jpeg")
    jpeg = io.BytesIO()
    Image.effect_noise((120, 120), 60).convert("RGB").save(jpeg, "JPEG")
    (shapes / "circles" / "cut.jpg").write_bytes(jpeg.getvalue()[: len(jpeg.getvalue()) // 2])
    (shapes / "README.md").write_text("loose file")
    before = {p: p.stat().st_mtime_ns for p in shapes.rglob("*")}

    report = scan_folder(shapes)

    causes = {os.path.basename(s.path): s.error for s in report.skipped}
    assert set(causes) == {"notes.txt", "cut.png", "empty.jpg", "fake.jpg", "cut.jpg", "README.md"}
    assert "not an image file (.txt)" in causes["notes.txt"]
    assert "damaged or truncated" in causes["cut.png"]
    assert "damaged or truncated" in causes["cut.jpg"]
    assert "empty" in causes["empty.jpg"]
    assert "not an image" in causes["fake.jpg"]
    assert "class folder" in causes["README.md"]
    assert report.ok and report.counts == {"circles": 12, "squares": 12, "triangles": 12}
    assert any("skipped" in w for w in report.warnings)
    assert {p: p.stat().st_mtime_ns for p in shapes.rglob("*")} == before  # nothing written


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda root: None, "no class subfolders"),
        (lambda root: make_shapes(root, per_class=3, classes=("circles",)), "only one class"),
        (lambda root: make_shapes(root, per_class=1), "has 1 readable image"),
    ],
    ids=["empty", "one-class", "one-image-per-class"],
)
def test_refusals_are_reported_and_raise(tmp_path, build, expected):
    root = tmp_path / "data"
    root.mkdir()
    build(root)
    report = scan_folder(root)
    assert not report.ok
    assert any(expected in p for p in report.problems)
    with pytest.raises(FinetuneError, match=expected):
        report.raise_if_refused()


def test_only_non_images_is_refused_and_lists_every_file(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        (tmp_path / cls / "doc.txt").write_text("x")
        (tmp_path / cls / "bad.png").write_bytes(b"not png")
    report = scan_folder(tmp_path)
    assert not report.ok
    assert "class 'a' has 0 readable images" in " ".join(report.problems)
    assert len(report.skipped) == 4


def test_missing_folder_and_file_raise(tmp_path):
    with pytest.raises(FinetuneError, match="no such folder"):
        scan_folder(tmp_path / "nope")
    (tmp_path / "f.png").write_bytes(b"x")
    with pytest.raises(FinetuneError, match="not a folder"):
        scan_folder(tmp_path / "f.png")


def test_imbalance_is_a_warning_not_a_refusal(tmp_path):
    make_shapes(tmp_path, per_class=10, classes=("circles",))
    make_shapes(tmp_path, per_class=3, classes=("squares",), seed=1)
    report = scan_folder(tmp_path)
    assert report.ok
    assert any("imbalanced" in w and "'circles' has 10" in w for w in report.warnings)


def test_train_and_val_folders_are_used_as_given(tmp_path):
    make_shapes(tmp_path / "train", per_class=4)
    make_shapes(tmp_path / "val", per_class=2, seed=5)
    report = scan_folder(tmp_path)
    assert report.ok and report.layout == "train/val"
    assert report.classes == ["circles", "squares", "triangles"]
    train, val = split(report, 0.5, seed=3)
    assert len(train) == 12 and len(val) == 6
    assert all(os.sep + "val" + os.sep in e.path for e in val)


def test_train_and_val_with_different_classes_is_refused(tmp_path):
    make_shapes(tmp_path / "train", per_class=2)
    make_shapes(tmp_path / "val", per_class=2, classes=("circles", "squares"))
    report = scan_folder(tmp_path)
    assert not report.ok
    assert "only in train/: triangles" in report.problems[0]


def test_separate_val_folder(tmp_path):
    make_shapes(tmp_path / "mine", per_class=3)
    make_shapes(tmp_path / "check", per_class=2, seed=9)
    report = scan_folder(tmp_path / "mine", val_folder=tmp_path / "check")
    assert report.layout == "train/val" and len(report.val_images) == 6


def test_split_is_stratified_seeded_and_keeps_one_of_each(tmp_path):
    make_shapes(tmp_path, per_class=12, classes=("circles", "squares"))
    make_shapes(tmp_path, per_class=2, classes=("triangles",), seed=2)
    report = scan_folder(tmp_path)
    train, val = split(report, 0.2, seed=0)
    val_counts = [sum(e.label == c for e in val) for c in range(3)]
    assert val_counts == [2, 2, 1]  # round(12 * 0.2) = 2; a 2-image class gives 1 and keeps 1
    assert len(train) + len(val) == 26 and not {e.path for e in train} & {e.path for e in val}
    assert split(report, 0.2, seed=0) == (train, val)
    assert split(report, 0.2, seed=1)[1] != val


def test_scan_can_be_cancelled(shapes):
    from alexnet_gui.core.finetune import FinetuneCancelled

    with pytest.raises(FinetuneCancelled):
        scan_folder(shapes, cancelled=lambda: True)


def test_identical_files_in_two_classes_are_a_warning(shapes):
    (shapes / "squares" / "odd-one.png").write_bytes((shapes / "circles" / "circles-00.png").read_bytes())
    report = scan_folder(shapes)
    assert report.ok
    assert any("identical copy in another class" in w for w in report.warnings)
