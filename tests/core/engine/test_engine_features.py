"""The fine-tune's features computed by ONNX Runtime's cut graphs equal torch's."""

import numpy as np
import torch
from shape_folders import make_shapes

from alexnet_gui.core.finetune.cache import FeatureCache
from alexnet_gui.core.finetune.control import RunControl
from alexnet_gui.core.finetune.dataset import scan_folder
from alexnet_gui.core.finetune.extract import extract_features


def test_a_fine_tunes_features_in_onnxruntime_equal_torchs(seeded_ort_engine, seeded_model, tmp_path):
    folder = make_shapes(tmp_path / "shapes", per_class=4)
    entries = scan_folder(folder).images
    views = {"plain": len(entries), "flip": len(entries)}
    cpu = torch.device("cpu")
    for layer in ("pool5", "fc7"):
        by_torch = extract_features(seeded_model, entries, layer, views, "k", cpu, RunControl(),
                                    FeatureCache(tmp_path / f"torch-{layer}"))
        by_ort = extract_features(seeded_model, entries, layer, views, "k", cpu, RunControl(),
                                  FeatureCache(tmp_path / f"ort-{layer}"), engine=seeded_ort_engine)
        assert seeded_ort_engine.features_runner(layer) is not None
        assert by_ort.computed == by_torch.computed == len(entries)
        for view in views:
            want, got = by_torch.features[view], by_ort.features[view]
            scale = max(1.0, float(np.abs(want).max()))
            assert np.abs(want - got).max() <= 1e-4 * scale, (layer, view)
