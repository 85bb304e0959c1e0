"""The scan's summaries are cached like the fine-tune's features: a second look at any channel of a
scanned layer runs nothing, an edited image is computed again (alone), a new layer costs one pass,
and other weights compute everything again."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from alexnet_gui.core.images import expand_paths
from alexnet_gui.core.model import build_model
from alexnet_gui.core.units.run import run_to_end, top_images_steps
from alexnet_gui.core.units.scan import scan_steps, weights_key

CPU = torch.device("cpu")


def top(model, folder, layer, channel):
    paths = [str(p) for p in expand_paths([folder])]
    return run_to_end(top_images_steps(model, paths, layer, channel, weights_key(model), CPU))


def test_a_second_look_at_any_channel_of_a_scanned_layer_computes_nothing(seeded_model, picture_folder,
                                                                           count_forwards):
    first = top(seeded_model, picture_folder, "conv5", 3)
    assert count_forwards["images"] == 14 and first.computed == 14
    again = top(seeded_model, picture_folder, "conv5", 3)
    other = top(seeded_model, picture_folder, "features.10", 200)
    assert count_forwards["images"] == 14 and again.computed == 0 and other.computed == 0
    assert [(im.path, im.value, im.box) for im in again.images] == [(im.path, im.value, im.box) for im in first.images]


def test_an_edited_image_is_computed_again_and_only_it(seeded_model, picture_folder, count_forwards):
    top(seeded_model, picture_folder, "relu3", 9)
    edited = picture_folder / "noise-1.png"
    Image.fromarray(np.full((120, 160, 3), 250, dtype=np.uint8)).save(edited)
    result = top(seeded_model, picture_folder, "relu3", 9)
    assert count_forwards["images"] == 15 and result.computed == 1


def test_a_new_layer_costs_one_pass_and_other_weights_compute_again(seeded_model, picture_folder, count_forwards):
    top(seeded_model, picture_folder, "pool5", 0)
    top(seeded_model, picture_folder, "fc6", 0)
    assert count_forwards["images"] == 28
    other = build_model(seed=1)
    result = top(other, picture_folder, "pool5", 0)
    assert count_forwards["images"] == 42 and result.computed == 14
    assert weights_key(other) != weights_key(seeded_model)
    assert weights_key(seeded_model, "abc123") == "abc123"  # a weights file's hash when there is one


def test_a_scan_is_steps_with_progress_and_a_stopped_scan_keeps_its_batches(seeded_model, picture_folder,
                                                                             count_forwards):
    paths = [str(p) for p in expand_paths([picture_folder])]
    seen = []
    steps = scan_steps(seeded_model, paths, ["conv2"], weights_key(seeded_model), CPU, batch_size=5,
                       progress=lambda done, total: seen.append((done, total)))
    next(steps)  # the files hashed
    next(steps)  # the first batch
    steps.close()  # a cancel: the job is not stepped again
    assert seen == [(0, 14), (5, 14)]
    scan = run_to_end(scan_steps(seeded_model, paths, ["conv2"], weights_key(seeded_model), CPU, batch_size=5))
    assert scan.computed == 9 and count_forwards["images"] == 14
