"""The per-layer table reproduces AlexNet's well-known numbers."""

from __future__ import annotations

import pytest
import torch

from alexnet_gui.core.layers import format_table, layer_table, totals
from alexnet_gui.core.model import AlexNet, InputTooSmallError, build_model, swap_head


def _real_shapes(model: AlexNet, size: int) -> dict[str, tuple[int, ...]]:
    """Output shape of every layer from an actual forward pass (batch dim dropped)."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    for name, module in model.named_modules():
        if name.count(".") == 1 or name == "avgpool":
            handles.append(module.register_forward_hook(
                lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))))
    with torch.inference_mode():
        model(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    return shapes


def test_totals_at_224():
    rows = layer_table(224)
    t = totals(rows)
    assert t.params == 61_100_840
    assert t.conv_params == 2_469_696
    assert t.fc_params == 58_631_144
    assert t.trainable_params == 61_100_840
    with torch.device("meta"):  # counts only: nothing is allocated
        assert t.params == sum(p.numel() for p in AlexNet().parameters())
    assert round(t.macs / 1e9, 3) == 0.714
    assert round(t.fc_to_conv_ratio, 1) == 23.7


def test_fc6_has_37_752_832_parameters():
    rows = {r.name: r for r in layer_table(224)}
    fc6 = rows["classifier.1"]
    assert fc6.kind == "Linear"
    assert fc6.params == 37_752_832 == 9216 * 4096 + 4096
    assert fc6.macs == 9216 * 4096
    assert fc6.output_shape == (4096,)


def test_every_layer_is_listed_in_order():
    names = [r.name for r in layer_table()]
    assert names == [f"features.{i}" for i in range(13)] + ["avgpool"] + [f"classifier.{i}" for i in range(7)]


@pytest.mark.parametrize("size", [224, 227, 63, 300])
def test_shapes_match_a_real_forward(size, seeded_model):
    real = _real_shapes(seeded_model, size)
    rows = layer_table(size)
    assert {r.name: r.output_shape for r in rows} == real


def test_227_input_gives_a_56x56_conv1_and_the_same_map_after_pool1():
    rows = {r.name: r for r in layer_table(227)}
    assert rows["features.0"].output_shape == (64, 56, 56)  # (227 + 4 - 11) // 4 + 1
    assert rows["features.2"].output_shape == (64, 27, 27)
    assert rows["features.12"].output_shape == (256, 6, 6)
    assert rows["features.0"].macs == 64 * 56 * 56 * 3 * 11 * 11
    r224 = {r.name: r for r in layer_table(224)}
    assert r224["features.0"].output_shape == (64, 55, 55)
    assert r224["features.0"].macs == 64 * 55 * 55 * 3 * 11 * 11
    assert totals(list(rows.values())).params == 61_100_840


def test_conv_macs_at_224():
    rows = {r.name: r.macs for r in layer_table(224)}
    assert rows["features.3"] == 192 * 27 * 27 * 64 * 5 * 5
    assert rows["features.6"] == 384 * 13 * 13 * 192 * 3 * 3
    assert rows["features.8"] == 256 * 13 * 13 * 384 * 3 * 3
    assert rows["features.10"] == 256 * 13 * 13 * 256 * 3 * 3
    assert rows["features.1"] == rows["features.2"] == rows["avgpool"] == 0


def test_each_rows_params_equal_the_torch_modules():
    with torch.device("meta"):
        model = AlexNet()
    modules = dict(model.named_modules())
    for row in layer_table(224, model):
        assert row.params == sum(p.numel() for p in modules[row.name].parameters()), row.name
        assert row.kind == type(modules[row.name]).__name__


def test_table_follows_a_swapped_head():
    model = swap_head(build_model(seed=0), 5)
    rows = {r.name: r for r in layer_table(224, model)}
    assert rows["classifier.6"].output_shape == (5,)
    assert rows["classifier.6"].params == 4096 * 5 + 5


def test_trainable_flags_follow_requires_grad():
    model = build_model(seed=0)
    for p in model.features.parameters():
        p.requires_grad_(False)
    rows = layer_table(224, model)
    by_name = {r.name: r for r in rows}
    assert not by_name["features.0"].trainable
    assert by_name["classifier.1"].trainable and by_name["classifier.6"].trainable
    assert not by_name["features.1"].trainable  # no parameters at all
    t = totals(rows)
    assert t.trainable_params == t.fc_params
    assert t.params == 61_100_840


def test_too_small_input_size_is_refused():
    with pytest.raises(InputTooSmallError, match="63"):
        layer_table(62)


def test_format_table_prints_rows_and_totals():
    text = format_table(layer_table())
    assert "61,100,840" in text
    assert "2,469,696" in text and "58,631,144" in text
    assert "37,752,832" in text
    assert "0.714 G" in text
    assert "64x55x55" in text
    assert len(text.splitlines()) == 2 + 21 + 3  # header, rule, rows, rule, total, summary
