"""classify_paths: top-k in order, probabilities as torchvision would give,
bad files as error entries, progress per batch and cancel."""

from __future__ import annotations

import pytest
import torch
import torchvision
from float_paths import assert_same_top

from alexnet_gui.core.images import load_image
from alexnet_gui.core.predict import ClassScore, Prediction, classify_paths, forward, top_k
from alexnet_gui.core.weights import imagenet_categories


@pytest.fixture(scope="module")
def names() -> list[str]:
    return imagenet_categories()


@pytest.fixture
def photos(make_image, write_bytes):
    """Three good images of different sizes and a corrupt one in the middle."""
    good = [make_image(f"p{i}.png", size, seed=i) for i, size in enumerate([(320, 240), (64, 64), (100, 300)])]
    bad = write_bytes("broken.jpg", b"\xff\xd8\xff\xe0 definitely not a jpeg")
    return [good[0], good[1], bad, good[2]]


def _reference_probs(torchvision_model, path) -> torch.Tensor:
    transform = torchvision.models.AlexNet_Weights.IMAGENET1K_V1.transforms()
    with torch.inference_mode():
        logits = torchvision_model(transform(load_image(path)).unsqueeze(0))
    return torch.softmax(logits, dim=1)[0]


def test_top5_matches_softmax_of_torchvision_logits(seeded_model, torchvision_model, names, photos):
    good = [p for p in photos if p.suffix == ".png"]
    results = classify_paths(seeded_model, good, names)
    assert [r.path for r in results] == [str(p) for p in good]
    for path, pred in zip(good, results):
        assert pred.ok and pred.error is None
        probs = _reference_probs(torchvision_model, path)
        values, indices = probs.topk(5)
        # a batch through our model vs one image through torchvision's: equal to float
        # rounding, so near-equal classes of the seeded model may trade places
        assert_same_top(pred.top, [ClassScore(names[i], i, p) for i, p in zip(indices.tolist(), values.tolist())])
        ps = [s.probability for s in pred.top]
        assert ps == sorted(ps, reverse=True)
        assert 0 < sum(ps) <= 1 + 1e-6


def test_a_corrupt_file_in_the_middle_becomes_an_error_entry(seeded_model, names, photos):
    results = classify_paths(seeded_model, photos, names, k=3, batch_size=2)
    assert [r.path for r in results] == [str(p) for p in photos]
    assert [r.ok for r in results] == [True, True, False, True]
    broken = results[2]
    assert "broken.jpg" in broken.error and broken.top == []
    assert broken.as_dict() == {"path": str(photos[2]), "error": broken.error}
    assert all(len(r.top) == 3 for r in results if r.ok)
    # the good ones are unaffected by their neighbour
    alone = classify_paths(seeded_model, [photos[3]], names, k=3)[0]
    assert_same_top(alone.top, results[3].top)  # alone vs in a batch of 2: equal to float rounding


def test_missing_file_is_an_error_entry(seeded_model, names, tmp_path):
    (result,) = classify_paths(seeded_model, [tmp_path / "nowhere.png"], names)
    assert not result.ok and "nowhere.png" in result.error and "does not exist" in result.error


def test_on_batch_reports_each_batch_in_order(seeded_model, names, photos, make_image):
    paths = photos + [make_image("p4.png", (70, 90), seed=4)]
    seen: list[list[Prediction]] = []
    results = classify_paths(seeded_model, paths, names, batch_size=2, on_batch=seen.append)
    assert [len(b) for b in seen] == [2, 2, 1]
    assert [p for b in seen for p in b] == results
    assert [r.path for r in results] == [str(p) for p in paths]


def test_cancelled_stops_before_the_next_batch(seeded_model, names, photos):
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 1  # let the first batch through

    seen = []
    results = classify_paths(seeded_model, photos, names, batch_size=2, on_batch=seen.append, cancelled=cancelled)
    assert [r.path for r in results] == [str(p) for p in photos[:2]]
    assert len(seen) == 1
    assert classify_paths(seeded_model, photos, names, cancelled=lambda: True) == []


def test_empty_input(seeded_model, names):
    assert classify_paths(seeded_model, [], names) == []


def test_top_k_names_and_bounds():
    logits = torch.tensor([[0.0, 3.0, 1.0], [5.0, 0.0, 0.0]])
    rows = top_k(logits, ["cat", "dog"], k=10)  # k is capped at the number of classes
    assert [len(r) for r in rows] == [3, 3]
    assert [s.label for s in rows[0]] == ["dog", "class 2", "cat"]
    assert rows[1][0] == ClassScore("cat", 0, pytest.approx(torch.softmax(logits[1], 0)[0].item()))
    assert sum(s.probability for s in rows[0]) == pytest.approx(1.0)
    assert [len(r) for r in top_k(logits, ["a", "b", "c"], k=0)] == [1, 1]


def test_forward_returns_cpu_logits_without_autograd(seeded_model):
    out = forward(seeded_model, torch.zeros(2, 3, 224, 224))
    assert out.shape == (2, 1000) and out.device.type == "cpu" and not out.requires_grad


def test_prediction_as_dict_is_plain_json_data(seeded_model, names, photos):
    import json

    pred = classify_paths(seeded_model, photos[:1], names, k=2)[0]
    d = json.loads(json.dumps(pred.as_dict()))
    assert d["path"] == str(photos[0])
    assert [set(s) for s in d["top"]] == [{"label", "index", "probability"}] * 2
