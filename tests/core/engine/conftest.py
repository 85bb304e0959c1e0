"""One graph cache for the engine tests of a session: exporting AlexNet takes seconds,
so the seeded model's graphs are exported once and read back by every test that
does not test the export itself."""

import pytest


@pytest.fixture(scope="session")
def shared_graph_cache(tmp_path_factory):
    from alexnet_gui.core.engine.cache import GraphCache

    return GraphCache(tmp_path_factory.mktemp("onnx_cache"))


@pytest.fixture(scope="session")
def seeded_ort_engine(seeded_model, shared_graph_cache, tmp_path_factory):
    """The seeded model in ONNX Runtime, gated (asked for explicitly: no timing involved)."""
    import torch

    from alexnet_gui.core.engine.choose import ChoiceStore
    from alexnet_gui.core.engine.engine import EngineSetup, build_engine

    setup = EngineSetup(cache=shared_graph_cache, store=ChoiceStore(tmp_path_factory.mktemp("choice")))
    return build_engine(seeded_model, torch.device("cpu"), "onnxruntime", setup=setup)
