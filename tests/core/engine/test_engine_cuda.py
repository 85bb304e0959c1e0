"""On a GPU: ONNX Runtime's CUDA provider when the GPU build is installed (same logits as
torch on CUDA, to the gate's tolerance), else torch on CUDA with the reason. Skipped
without CUDA."""

import numpy as np
import pytest
import torch

from alexnet_gui.core.engine.choose import ChoiceStore
from alexnet_gui.core.engine.engine import EngineSetup, build_engine
from alexnet_gui.core.engine.parity import parity_inputs, top5
from alexnet_gui.core.engine.runners import CUDA_PROVIDER

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_cuda_engine_runs_on_the_gpu_or_says_why_torch_does(seeded_state_dict, shared_graph_cache, tmp_path):
    import onnxruntime as ort

    from alexnet_gui.core.device import place_model
    from alexnet_gui.core.model import build_model

    cuda = torch.device("cuda", 0)
    model = build_model()
    model.load_state_dict(seeded_state_dict)
    model = place_model(model, cuda).eval()
    engine = build_engine(model, cuda, "onnxruntime", weights_key="seeded-cuda",
                          setup=EngineSetup(cache=shared_graph_cache, store=ChoiceStore(tmp_path)))
    if CUDA_PROVIDER in ort.get_available_providers():
        assert engine.name == "onnxruntime", engine.reason
    else:
        assert engine.name == "torch" and "CUDA provider" in engine.reason
    x = parity_inputs(noise=2)
    got = engine.forward(torch.from_numpy(x)).numpy()
    with torch.inference_mode():
        want = model(torch.from_numpy(x).to(cuda)).float().cpu().numpy()
    # TF32 or other kernels on the GPU: the gate's own tolerance, relative to the logits' scale
    assert np.abs(got - want).max() <= 1e-4 * max(1.0, float(np.abs(want).max()))
    np.testing.assert_array_equal(top5(got), top5(want))
