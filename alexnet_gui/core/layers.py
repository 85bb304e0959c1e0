"""The per-layer table: output shape, parameters and multiply-adds.

Multiply-adds (MACs) count one multiply plus one add as one operation, for
convolutions and linear layers only (bias adds included in that one op).
ReLU, pooling, dropout and the adaptive average pool are listed with 0 MACs:
they are comparisons and additions, a rounding error next to the convolutions.
At 224x224 the total is ~0.714 G MACs (1.43 GFLOPs if a MAC is two FLOPs).
"""

from __future__ import annotations

from torch import nn

from .layer_rows import LayerRow, LayerTotals, format_shape, totals
from .model import AlexNet, check_input_size, meta_model

__all__ = ["LayerRow", "LayerTotals", "format_shape", "format_table", "layer_table", "totals"]


def _conv_out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def layer_table(input_size: int = 224, model: AlexNet | None = None) -> list[LayerRow]:
    """Rows for every layer of ``model`` (a fresh 1000-class AlexNet by default).

    Shapes are computed analytically, so this needs no forward pass and no weights.
    """
    check_input_size(input_size, input_size)
    if model is None:
        # Only shapes and counts are read: a real model would spend ~0.3 s filling 61 M weights.
        model = meta_model()
    rows: list[LayerRow] = []
    c, h, w = 3, input_size, input_size
    for prefix, seq in (("features", model.features), ("avgpool", None), ("classifier", model.classifier)):
        modules = [("avgpool", model.avgpool)] if seq is None else [
            (f"{prefix}.{i}", m) for i, m in enumerate(seq)
        ]
        for name, m in modules:
            params = sum(p.numel() for p in m.parameters())
            trainable = any(p.requires_grad for p in m.parameters())
            macs = 0
            if isinstance(m, nn.Conv2d):
                (kh, kw), (sh, sw), (ph, pw) = m.kernel_size, m.stride, m.padding
                h, w = _conv_out(h, kh, sh, ph), _conv_out(w, kw, sw, pw)
                c = m.out_channels
                macs = c * h * w * (m.in_channels // m.groups) * kh * kw
                shape: tuple[int, ...] = (c, h, w)
            elif isinstance(m, nn.MaxPool2d):
                k, s = m.kernel_size, m.stride
                h, w = _conv_out(h, k, s, m.padding), _conv_out(w, k, s, m.padding)
                shape = (c, h, w)
            elif isinstance(m, nn.AdaptiveAvgPool2d):
                h, w = m.output_size
                shape = (c, h, w)
                c = c * h * w  # what the flatten hands the classifier
            elif isinstance(m, nn.Linear):
                c = m.out_features
                macs = m.in_features * m.out_features
                shape = (c,)
            else:  # ReLU, Dropout: shape unchanged
                shape = (c, h, w) if prefix == "features" else (c,)
            rows.append(LayerRow(name, type(m).__name__, shape, params, macs, trainable))
    return rows


def format_table(rows: list[LayerRow]) -> str:
    """Plain-text table with totals, as the CLI prints it."""
    header = f"{'layer':<14}{'type':<19}{'output':>12}{'params':>14}{'mult-adds':>16}  trainable"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.name:<14}{r.kind:<19}{format_shape(r.output_shape):>12}"
            f"{r.params:>14,}{r.macs:>16,}  {'yes' if r.trainable else '-'}"
        )
    t = totals(rows)
    lines += [
        "-" * len(header),
        f"{'total':<33}{'':>12}{t.params:>14,}{t.macs:>16,}",
        f"conv layers {t.conv_params:,} params; fully connected {t.fc_params:,} params "
        f"({t.fc_to_conv_ratio:.1f}x the conv layers); {t.macs / 1e9:.3f} G multiply-adds",
    ]
    return "\n".join(lines)
