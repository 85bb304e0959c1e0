"""ONNX Runtime against torch: the same logits (to a tolerance scaled to them), the same
top-5, a gate that falls back with a reason, graphs read from the cache the second time."""

import numpy as np
import pytest
import torch

from alexnet_gui.core.engine import check_engine_choice
from alexnet_gui.core.engine.cache import GraphCache, model_digest
from alexnet_gui.core.engine.choose import ChoiceStore
from alexnet_gui.core.engine.engine import EngineSetup, build_engine
from alexnet_gui.core.engine.parity import RELATIVE_TOLERANCE, check_parity, compare, parity_inputs, top5
from alexnet_gui.core.finetune.extract import backbone_features
from alexnet_gui.core.predict import forward

CPU = torch.device("cpu")


def _within(reference: np.ndarray, candidate: np.ndarray) -> float:
    scale = max(1.0, float(np.abs(reference).max()))
    return float(np.abs(reference - candidate).max()) / scale


def test_onnxruntime_gives_torchs_logits_and_top5(seeded_ort_engine, seeded_model):
    assert seeded_ort_engine.name == "onnxruntime" and seeded_ort_engine.reason is None
    assert seeded_ort_engine.parity.ok and seeded_ort_engine.parity.inputs >= 3
    x = parity_inputs(noise=3)
    got = seeded_ort_engine.forward(torch.from_numpy(x)).numpy()
    want = forward(seeded_model, torch.from_numpy(x)).numpy()
    assert got.shape == want.shape == (len(x), 1000)
    assert _within(want, got) <= RELATIVE_TOLERANCE
    np.testing.assert_array_equal(top5(got), top5(want))


def test_batch_axis_is_dynamic(seeded_ort_engine):
    x = parity_inputs(noise=5, images=[])
    whole = seeded_ort_engine.forward(x).numpy()
    one_by_one = np.concatenate([seeded_ort_engine.forward(x[i : i + 1]).numpy() for i in range(5)])
    assert whole.shape == (5, 1000)
    assert _within(whole, one_by_one) <= RELATIVE_TOLERANCE


@pytest.mark.parametrize("layer, dim", [("pool5", 9216), ("fc7", 4096)])
def test_truncated_graphs_equal_backbone_features(seeded_ort_engine, seeded_model, layer, dim):
    x = parity_inputs(noise=2)
    assert seeded_ort_engine.features_runner(layer) is not None, seeded_ort_engine.feature_reasons
    got = seeded_ort_engine.features(x, layer)
    with torch.inference_mode():
        want = backbone_features(seeded_model, torch.from_numpy(x), layer).numpy()
    assert got.shape == want.shape == (len(x), dim)
    assert _within(want, got) <= RELATIVE_TOLERANCE


def test_fc7_comes_from_the_classifying_session(seeded_ort_engine):
    """One session classifies and gives the fine-tune its fc7 features: no second copy of
    fc6/fc7 in memory, no second session to start when a fine-tune begins."""
    fc7 = seeded_ort_engine.features_runner("fc7")
    assert fc7 is not None and fc7.session is seeded_ort_engine.ort.session
    assert fc7.output_name == "fc7" and seeded_ort_engine.ort.output_name == "logits"


def test_second_load_reads_the_cached_graph(seeded_model, tmp_path):
    cache = GraphCache(tmp_path / "first")
    setup = EngineSetup(cache=cache, store=ChoiceStore(tmp_path))
    build_engine(seeded_model, CPU, "onnxruntime", weights_key="seeded", setup=setup)
    assert cache.exports == 1
    files = sorted(cache.root.glob("*.onnx"))
    assert len(files) == 1 and files[0].name.startswith("engine-")  # logits and fc7 in one graph
    assert not list(cache.root.glob("*.part"))  # written to a temp name and renamed
    again = GraphCache(tmp_path / "first")
    engine = build_engine(seeded_model, CPU, "onnxruntime", weights_key="seeded",
                          setup=EngineSetup(cache=again, store=ChoiceStore(tmp_path)))
    assert engine.name == "onnxruntime" and again.exports == 0


def test_the_key_changes_with_the_weights_kind_and_versions(seeded_model, monkeypatch, tmp_path):
    from alexnet_gui.core.engine import cache as cache_module

    c = GraphCache(tmp_path)
    assert c.path("a", "logits") != c.path("b", "logits") != c.path("a", "fc7")
    before = c.path("a", "logits")
    monkeypatch.setattr(cache_module, "library_versions", lambda: {"onnxruntime": "0.0.0"})
    assert c.path("a", "logits") != before
    other = torch.nn.Linear(2, 2)
    assert model_digest(seeded_model) == model_digest(seeded_model)
    assert model_digest(seeded_model) != model_digest(other)


def test_a_broken_runner_fails_the_gate_and_torch_runs_with_a_reason(seeded_model, shared_graph_cache, monkeypatch,
                                                                      tmp_path):
    from alexnet_gui.core.engine import runners

    real_call = runners.OrtRunner.__call__
    monkeypatch.setattr(runners.OrtRunner, "__call__", lambda self, x: real_call(self, x) + 0.5)
    engine = build_engine(seeded_model, CPU, "onnxruntime", weights_key="broken",
                          setup=EngineSetup(cache=shared_graph_cache, store=ChoiceStore(tmp_path)))
    assert engine.name == "torch"
    assert "differ from torch" in engine.reason
    assert engine.parity is not None and not engine.parity.ok
    x = torch.from_numpy(parity_inputs(noise=1, images=[]))
    np.testing.assert_array_equal(engine.forward(x).numpy(), forward(seeded_model, x).numpy())


def test_a_runner_that_raises_fails_the_gate():
    def boom(x):
        raise RuntimeError("kernel missing\nmore")

    report = check_parity(lambda x: np.zeros((len(x), 10), np.float32), boom, np.zeros((3, 3, 2, 2), np.float32))
    assert not report.ok and "kernel missing" in report.reason()


def test_the_tolerance_is_relative_to_the_logits_scale():
    ref = np.zeros((1, 10), np.float32)
    ref[0, :6] = [600, 500, 400, 300, 200, 100]
    assert compare(ref, ref + 0.05).ok  # 0.05 <= 1e-4 x 600
    assert not compare(ref, ref + 0.07).ok
    swapped = ref.copy()
    swapped[0, [3, 4]] = swapped[0, [4, 3]]
    assert not compare(ref, swapped).top5_identical


def test_auto_measures_once_and_remembers(seeded_model, shared_graph_cache, monkeypatch, tmp_path):
    from alexnet_gui.core.engine import choose as choose_module

    calls = []

    def fake_measure(torch_run, ort_run):
        calls.append(1)
        return {"torch": 2.0, "onnxruntime": 1.0}

    monkeypatch.setattr(choose_module, "measure", fake_measure)
    setup = EngineSetup(cache=shared_graph_cache, store=ChoiceStore(tmp_path))
    first = build_engine(seeded_model, CPU, "auto", weights_key="auto", setup=setup)
    second = build_engine(seeded_model, CPU, "auto", weights_key="auto", setup=setup)
    assert first.name == second.name == "onnxruntime" and len(calls) == 1
    assert (tmp_path / "engine-choice.json").is_file()

    monkeypatch.setattr(choose_module, "measure", lambda t, o: {"torch": 1.0, "onnxruntime": 2.0})
    slower = build_engine(seeded_model, CPU, "auto", weights_key="auto",
                          setup=EngineSetup(cache=shared_graph_cache, store=ChoiceStore(tmp_path / "other")))
    assert slower.name == "torch" and "faster" in slower.reason


def test_torch_when_asked_and_unknown_choices_refused(seeded_model):
    engine = build_engine(seeded_model, CPU, "torch")
    assert engine.name == "torch" and engine.reason is None
    with pytest.raises(ValueError, match="unknown engine"):
        check_engine_choice("tensorrt")


def test_cuda_without_the_cuda_provider_runs_torch(seeded_model, monkeypatch, tmp_path):
    from alexnet_gui.core.engine import engine as engine_module

    monkeypatch.setattr(engine_module, "ort_providers", lambda device: None)
    engine = build_engine(seeded_model, CPU, "onnxruntime", weights_key="x",
                          setup=EngineSetup(cache=GraphCache(tmp_path), store=ChoiceStore(tmp_path)))
    assert engine.name == "torch" and "CUDA provider" in engine.reason
