"""core.finetune.sharded without processes: rank 0's progress counts every rank's images,
and a refusal found by rank 0's scan reaches every rank whole."""

from __future__ import annotations

import pytest

from alexnet_gui.core.finetune import FinetuneError, FinetuneSettings, Progress
from alexnet_gui.core.finetune.control import RunControl
from alexnet_gui.core.finetune.sharded import TeamProgress, scan_and_split

from .conftest import make_shapes


class FakeTeam:
    """Two ranks in one process: a shared counter, and a broadcast that hands over rank 0's object."""

    def __init__(self, rank: int, counters: dict, board: list) -> None:
        self.rank, self.world_size, self.is_root = rank, 2, rank == 0
        self.counters, self.board = counters, board

    def count(self, key: str, add: int = 0) -> int:
        self.counters[key] = self.counters.get(key, 0) + add
        return self.counters[key]

    def broadcast(self, obj=None):
        if self.is_root:
            self.board.append(obj)
        return self.board[-1]


def test_rank_0_shows_the_images_of_every_rank():
    counters, shown = {}, []
    root = TeamProgress(RunControl(shown.append), FakeTeam(0, counters, []), total=100, key="k")
    other = TeamProgress(RunControl(None), FakeTeam(1, counters, []), total=100, key="k")
    root.emit(Progress("extract", 0, 50))
    other.emit(Progress("extract", 30, 50))  # rank 1 is ahead
    root.emit(Progress("extract", 20, 50))
    other.emit(Progress("extract", 50, 50))
    root.emit(Progress("extract", 50, 50))
    assert [(e.step, e.total) for e in shown] == [(0, 100), (50, 100), (100, 100)]
    root.emit(Progress("train", 1, 3))  # other phases pass through as they are
    assert shown[-1] == Progress("train", 1, 3)


def test_a_refusal_on_rank_0_is_raised_on_every_rank_with_its_skipped_files(tmp_path):
    one = make_shapes(tmp_path / "one", per_class=3, classes=("circles",))
    (one / "circles" / "notes.txt").write_text("x")
    board: list = []
    settings = FinetuneSettings()
    errors = []
    for rank in (0, 1):  # rank 0 scans and broadcasts; rank 1 only hears
        with pytest.raises(FinetuneError) as caught:
            scan_and_split(one if rank == 0 else tmp_path / "not-read", None, settings, RunControl(), None,
                           FakeTeam(rank, {}, board))
        errors.append(caught.value)
    assert str(errors[0]) == str(errors[1]) and "only one class" in str(errors[1])
    assert [s.path for s in errors[1].skipped] == [s.path for s in errors[0].skipped] != []


def test_every_rank_gets_rank_0s_split(tmp_path):
    folder = make_shapes(tmp_path / "shapes", per_class=5)
    board: list = []
    settings = FinetuneSettings(seed=4)
    got = [scan_and_split(folder, None, settings, RunControl(), None, FakeTeam(rank, {}, board)) for rank in (0, 1)]
    alone = scan_and_split(folder, None, settings, RunControl(), None, None)
    for report, train, val in got:
        assert report.classes == alone[0].classes
        assert [e.path for e in train] == [e.path for e in alone[1]] and [e.path for e in val] == [e.path for e in alone[2]]


def test_a_folder_rank_0_cannot_read_fails_every_rank_alike(tmp_path):
    board: list = []
    errors = []
    for rank in (0, 1):
        with pytest.raises(FinetuneError) as caught:
            scan_and_split(tmp_path / "missing", None, FinetuneSettings(), RunControl(), None, FakeTeam(rank, {}, board))
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and "missing" in errors[0]
    assert isinstance(board[0], tuple) and len(board[0]) == 2  # the message and the skipped files went across
