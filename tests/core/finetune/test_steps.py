"""The fine-tune as steps: ``finetune_steps`` yields between batches, gives what
``run_finetune`` gives, honours a cancel at its next step, and keeps torch's settings
(the head's one CPU thread, its seeded generators) to its own steps, so whatever runs
between two of them (a classify answered by the model's worker) sees the process's own."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from alexnet_gui.core.finetune import FinetuneCancelled, FinetuneSettings, clear_cache, finetune_steps, run_finetune
from alexnet_gui.core.finetune import extract as extract_module

from .conftest import make_shapes

BASE_SHA = "5e" * 32


def drive(steps, between=lambda: None):
    """Run ``steps`` to its end as the worker's scheduler does: ``between()`` at every pause."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value
        between()


def test_the_run_pauses_between_every_two_batches(shapes, seeded_model, monkeypatch):
    monkeypatch.setattr(extract_module, "extract_batch_size", lambda device: 6)  # 36 images: 6 batches
    settings = FinetuneSettings(epochs=2, batch_size=8)
    log = []
    result = drive(finetune_steps(shapes, settings, seeded_model, BASE_SHA,
                                  progress=lambda e: log.append((e.phase, e.step))),
                   between=lambda: log.append("pause"))

    extract = [i for i, entry in enumerate(log) if entry != "pause" and entry[0] == "extract"]
    assert [log[i][1] for i in extract] == [0, 6, 12, 18, 24, 30, 36]
    for a, b in zip(extract, extract[1:]):
        assert "pause" in log[a:b], f"no pause between {log[a]} and {log[b]}"

    batches = math.ceil(result.train_count / settings.batch_size)
    epochs = [log.index(("train", k)) for k in range(settings.epochs + 1)]
    for a, b in zip(epochs, epochs[1:]):
        assert log[a:b].count("pause") >= batches  # one pause before each batch of the epoch
    assert log[-1] == ("done", 1)


@pytest.mark.parametrize("mode", ["head", "classifier"])
def test_steps_give_what_run_finetune_gives(tmp_path, seeded_model, mode):
    """Between the steps another job draws from torch's random generator and runs a
    forward pass with dropout, as a classify or another tool would: the run, whose
    dropout (classifier mode) and head init draw from its own seeded generator, is unmoved."""
    folder = make_shapes(tmp_path / "small", per_class=5)
    settings = FinetuneSettings(mode=mode, epochs=3, batch_size=4)
    expected = run_finetune(folder, settings, seeded_model, BASE_SHA)
    clear_cache()  # the second run computes its features too, as the first did

    other = torch.nn.Dropout(0.5).train()

    def other_job():
        torch.rand(100)
        other(torch.ones(64))
        with torch.inference_mode():
            seeded_model(torch.zeros(1, 3, 224, 224))

    got = drive(finetune_steps(folder, settings, seeded_model, BASE_SHA), between=other_job)

    assert got.computed == expected.computed == 15
    assert got.val_accuracy == expected.val_accuracy
    assert [dataclasses.astuple(e) for e in got.epochs] == [dataclasses.astuple(e) for e in expected.epochs]
    assert got.confusion_matrix.tolist() == expected.confusion_matrix.tolist()
    assert got.val_predictions == expected.val_predictions
    assert got.state_dict.keys() == expected.state_dict.keys()
    for key, value in expected.state_dict.items():  # one computation done twice: the same bits
        assert torch.equal(got.state_dict[key], value), key


def test_a_cancel_between_steps_stops_the_run_at_its_next_step(shapes, seeded_model, count_forwards, monkeypatch):
    monkeypatch.setattr(extract_module, "extract_batch_size", lambda device: 12)  # three batches of 12
    state = {"cancel": False}
    steps = finetune_steps(shapes, None, seeded_model, BASE_SHA, cancelled=lambda: state["cancel"])
    while count_forwards["images"] < 12:
        next(steps)
    state["cancel"] = True  # suspended after the first batch, before the second
    with pytest.raises(FinetuneCancelled):
        next(steps)
    assert count_forwards["images"] == 12  # no batch after the cancel
    with pytest.raises(StopIteration):
        next(steps)


def test_the_heads_one_thread_and_seed_hold_only_inside_its_steps(shapes, seeded_model, two_threads):
    inside = {"extract": set(), "train": set()}

    def progress(e):
        if e.phase in inside:
            inside[e.phase].add(torch.get_num_threads())

    rng_before = torch.random.get_rng_state()
    suspended_threads, rng_moved = set(), []

    def suspended():
        suspended_threads.add(torch.get_num_threads())
        rng_moved.append(not torch.equal(torch.random.get_rng_state(), rng_before))

    result = drive(finetune_steps(shapes, FinetuneSettings(epochs=3, batch_size=8), seeded_model, BASE_SHA,
                                  progress=progress), between=suspended)
    assert result.val_count > 0
    assert inside == {"extract": {two_threads}, "train": {1}}  # the head trains on one thread
    assert suspended_threads == {two_threads}  # between its steps the process has its own count
    assert len(rng_moved) > 10 and not any(rng_moved)  # and its own random generator
    assert torch.get_num_threads() == two_threads


def test_a_run_closed_mid_training_leaves_the_process_as_it_was(shapes, seeded_model, two_threads):
    """The worker closes a cancelled job's steps (or drops them) while it is suspended."""
    training = {"epochs": 0}

    def progress(e):
        training["epochs"] += e.phase == "train"

    steps = finetune_steps(shapes, FinetuneSettings(epochs=50, batch_size=8), seeded_model, BASE_SHA,
                           progress=progress)
    while training["epochs"] < 2:
        next(steps)
    assert torch.get_num_threads() == two_threads
    steps.close()
    assert torch.get_num_threads() == two_threads
