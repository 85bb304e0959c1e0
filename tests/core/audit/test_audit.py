"""The audit finds planted mislabels, exact and near copies, and a train/val leak."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from alexnet_gui.core.audit import audit_folder
from alexnet_gui.core.audit.duplicates import COLOUR_MAX_LEVELS, PHASH_MAX_BITS, exact_pairs, fc7_pairs, leaks, phash_pairs
from alexnet_gui.core.audit.mislabels import confident_disagreements
from alexnet_gui.core.audit.phash import BITS, phash_file


def pair_set(pairs):
    return {frozenset((p.a, p.b)) for p in pairs}


def test_planted_problems_are_found(planted, seeded_model):
    result = audit_folder(planted.root, seeded_model, "seeded", trained=False)
    top10 = [m.path for m in result.mislabelled[:10]]
    for path in planted.mislabels:
        assert str(path) in top10, (path, [(m.path, m.predicted, m.confidence) for m in result.mislabelled[:10]])
    found = pair_set(result.duplicates)
    for a, b in planted.exact + planted.near + [planted.leak]:
        assert frozenset((str(a), str(b))) in found
    exact = [p for p in result.duplicates if p.kind == "exact"]
    # nothing clean is an exact duplicate: the exact pairs are the planted copies, no more
    assert pair_set(exact) == {frozenset((str(a), str(b))) for a, b in planted.exact + [planted.leak]}
    assert all(p.similarity == 1.0 for p in exact)
    assert [(p.a, p.b) for p in result.leaks] == [(str(planted.leak[0]), str(planted.leak[1]))]
    assert not any(p.kind == "fc7" for p in result.duplicates)  # untrained weights: no fc7 pairs


def test_a_second_audit_computes_nothing(planted, seeded_model, count_forwards):
    first = audit_folder(planted.root, seeded_model, "seeded", trained=False)
    assert first.computed == first.image_count == count_forwards["images"]
    second = audit_folder(planted.root, seeded_model, "seeded", trained=False)
    assert second.computed == 0 and count_forwards["images"] == first.image_count
    assert [m.path for m in second.mislabelled] == [m.path for m in first.mislabelled]


def test_phash_and_colour_match_copies_but_not_another_picture(planted, tmp_path):
    (a, resized), (b, jpeg) = planted.near
    with Image.open(a) as img:
        w, h = img.size
        img.crop((w // 20, h // 20, w, h)).save(tmp_path / "cropped.png")  # 5 % off two sides
    other = planted.root / "train" / "circles" / "circles-09.png"
    (ha, ca), (hr, cr), (hb, cb), (hj, cj), (hc, cc), (ho, co) = (
        phash_file(str(p)) for p in (a, resized, b, jpeg, tmp_path / "cropped.png", other))
    assert ha.shape == (BITS,)
    for (h1, c1), (h2, c2) in (((ha, ca), (hr, cr)), ((hb, cb), (hj, cj)), ((ha, ca), (hc, cc))):
        assert (h1 != h2).sum() <= PHASH_MAX_BITS and np.abs(c1 - c2).mean() <= COLOUR_MAX_LEVELS
    assert (ha != ho).sum() > PHASH_MAX_BITS or np.abs(ca - co).mean() > COLOUR_MAX_LEVELS
    pairs = phash_pairs([str(a), "cropped", str(other)], [(ha, ca), (hc, cc), (ho, co)], ["1", "2", "3"])
    assert [(p.a, p.b, p.kind) for p in pairs] == [(str(a), "cropped", "phash")]


def test_exact_pairs_group_to_the_first_copy():
    pairs = exact_pairs(["a", "b", "c", "d"], ["x", "y", "x", "x"])
    assert [(p.a, p.b) for p in pairs] == [("a", "c"), ("a", "d")]


def test_fc7_pairs_use_the_cosine_and_skip_known_pairs():
    rng = np.random.default_rng(0)
    base = np.abs(rng.normal(size=(3, 64))).astype(np.float32)
    features = np.concatenate([base, base[:1] * 2.0 + 0.01, base[1:2]])  # (5, 64)
    pairs = fc7_pairs(list("abcde"), features, known={frozenset("be")})
    assert [(p.a, p.b) for p in pairs] == [("a", "d")]
    assert pairs[0].similarity == pytest.approx(1.0, abs=1e-3)


def test_fc7_pairs_refuse_features_that_do_not_tell_images_apart(seeded_model, planted):
    # the seeded (random) backbone's fc7 points the same way for every picture
    result = audit_folder(planted.root, seeded_model, "seeded", trained=True)
    assert not any(p.kind == "fc7" for p in result.duplicates)
    assert any("hardly differ" in w for w in result.warnings)


def test_leaks_put_the_train_image_first():
    pairs = exact_pairs(["val/x", "train/x", "train/y", "train/z"], ["1", "1", "2", "2"])
    assert [(p.a, p.b) for p in leaks(pairs, {"val/x"})] == [("train/x", "val/x")]


def test_confident_disagreements_come_before_the_others():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8], [0.95, 0.05], [0.55, 0.45]])
    labels = np.array([0, 0, 1, 1, 1, 1])
    flagged = confident_disagreements(probs, labels)
    # class 0's threshold is 0.85: among the rows filed under 1 only row 4 (0.95) clears it;
    # row 5 leans to class 0 without reaching it and comes after; rows 0-3 agree with their folder
    assert [(i, j) for i, j, _, _ in flagged] == [(4, 0), (5, 0)]
    assert flagged[0][2] == pytest.approx(0.95) and flagged[0][3] == pytest.approx(0.05)


def test_the_map_puts_each_class_on_its_own_island():
    from alexnet_gui.core.audit.datamap import map_coordinates

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 256)) * 4
    labels = np.repeat(np.arange(3), 30)
    features = centres[labels] + rng.normal(size=(90, 256))
    xy = map_coordinates(features.astype(np.float32))
    assert xy.shape == (90, 2) and np.isfinite(xy).all()
    # every dot's nearest neighbour on the map is of its own class
    d = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(90) * 1e9
    assert (labels[d.argmin(axis=1)] == labels).mean() > 0.95
    np.testing.assert_allclose(map_coordinates(features.astype(np.float32)), xy, atol=1e-4)  # seeded
