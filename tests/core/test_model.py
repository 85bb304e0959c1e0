"""The written-out AlexNet is torchvision's AlexNet: same keys, shapes and logits."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from alexnet_gui.core.model import MIN_INPUT_SIZE, AlexNet, InputTooSmallError, build_model, swap_head


def test_state_dict_keys_and_shapes_match_torchvision():
    with torch.device("meta"):  # shapes only: nothing is allocated
        ours = AlexNet().state_dict()
        theirs = torchvision.models.alexnet().state_dict()
    assert list(ours) == list(theirs)
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


def test_same_weights_same_input_same_logits_as_torchvision(seeded_model, torchvision_model):
    x = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ours, theirs = seeded_model(x), torchvision_model(x)
    assert ours.shape == (3, 1000)
    assert (ours - theirs).abs().max().item() <= 1e-5


def test_torchvision_weights_load_into_ours_unchanged(torchvision_model):
    model = AlexNet()
    model.load_state_dict(torchvision_model.state_dict(), strict=True)
    for key, value in torchvision_model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value)


def test_build_model_seed_is_reproducible_and_in_eval_mode():
    a, b, c = build_model(seed=0), build_model(seed=0), build_model(seed=1)
    assert not a.training
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert not torch.equal(a.features[0].weight, c.features[0].weight)


def test_build_model_seed_does_not_disturb_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build_model(seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_swap_head_keeps_every_other_layer_and_makes_a_new_linear():
    model = build_model(seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    old_head = model.classifier[6]
    swap_head(model, 7)
    head = model.classifier[6]
    assert isinstance(head, nn.Linear) and head is not old_head
    assert (head.in_features, head.out_features) == (4096, 7)
    assert model.num_classes == 7
    after = model.state_dict()
    assert set(after) == set(before)
    for key, value in before.items():
        if key.startswith("classifier.6."):
            assert after[key].shape[0] == 7
        else:
            assert torch.equal(after[key], value), key
    with torch.inference_mode():
        assert model(torch.zeros(2, 3, 224, 224)).shape == (2, 7)


def test_swap_head_refuses_zero_classes():
    with pytest.raises(ValueError, match="at least one class"):
        swap_head(build_model(seed=0), 0)


@pytest.mark.parametrize("size", [(62, 62), (62, 224), (224, 40), (1, 1)])
def test_input_below_63_pixels_is_a_clear_error(seeded_model, size):
    h, w = size
    with pytest.raises(InputTooSmallError, match="63"):
        seeded_model(torch.zeros(1, 3, h, w))


def test_63_pixels_is_enough(seeded_model):
    assert MIN_INPUT_SIZE == 63
    with torch.inference_mode():
        out = seeded_model(torch.randn(2, 3, 63, 63))
    assert out.shape == (2, 1000)
    assert torch.isfinite(out).all()


def test_num_classes_and_dropout_parameters():
    with torch.device("meta"):
        model = AlexNet(num_classes=10, dropout=0.25)
    assert model.num_classes == 10
    assert model.classifier[6].out_features == 10
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert [d.p for d in dropouts] == [0.25, 0.25]
    assert build_model(num_classes=3, seed=0).num_classes == 3


def test_dropout_only_acts_in_training_mode():
    model = build_model(seed=0)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(model(x), model(x))  # eval: deterministic
        model.train()
        torch.manual_seed(0)
        a = model(x)
        torch.manual_seed(1)
        b = model(x)
    assert not torch.equal(a, b)


def test_outputs_are_logits_not_probabilities(seeded_model):
    x = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(2)) * 3
    with torch.inference_mode():
        out = seeded_model(x)
    sums = out.sum(dim=1)
    assert not torch.allclose(sums, torch.ones_like(sums), atol=1e-3)
    assert (out < 0).any()
    # softmax of the output is a distribution; the output itself is not
    assert torch.allclose(torch.softmax(out, 1).sum(1), torch.ones(4), atol=1e-5)
    assert not any(isinstance(m, (nn.Softmax, nn.LogSoftmax)) for m in seeded_model.modules())
