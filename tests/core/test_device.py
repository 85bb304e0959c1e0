"""Device choice: auto / cpu / cuda[:N], and never a crash when CUDA is missing."""

from __future__ import annotations

import pytest
import torch
from float_paths import assert_close_to_scale

from alexnet_gui.core import device as device_module
from alexnet_gui.core.device import DeviceError, describe_device, is_out_of_memory, resolve_device


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def one_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_cpu():
    assert resolve_device("cpu") == (torch.device("cpu"), None)
    assert resolve_device(" CPU ") == (torch.device("cpu"), None)


def test_auto_without_cuda_is_the_cpu(no_cuda):
    assert resolve_device("auto") == (torch.device("cpu"), None)
    assert resolve_device("") == (torch.device("cpu"), None)
    assert resolve_device(None) == (torch.device("cpu"), None)


def test_auto_with_cuda_is_cuda(one_gpu):
    assert resolve_device("auto")[0].type == "cuda"


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "CUDA:1"])
def test_cuda_without_cuda_falls_back_to_the_cpu_with_a_message(no_cuda, spec):
    device, note = resolve_device(spec)
    assert device == torch.device("cpu")
    assert "CUDA is not available" in note and "CPU" in note


def test_cuda_index(one_gpu):
    assert resolve_device("cuda:0") == (torch.device("cuda:0"), None)
    device, note = resolve_device("cuda:3")
    assert device == torch.device("cuda:0")
    assert "no CUDA device 3" in note


@pytest.mark.parametrize("spec", ["gpu", "mps", "cuda:x", "cuda:", "cuda:-1", "cuda:²", "cpu:0", "cuda:1:2"])
def test_malformed_spec_raises(spec):
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device(spec)


@pytest.mark.parametrize("spec", ["cuda:-1", "cuda:x"])
def test_malformed_spec_raises_with_cuda_too(one_gpu, spec):
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device(spec)


def test_describe_device(monkeypatch):
    assert describe_device(torch.device("cpu")) == "CPU"
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "Test GPU")
    assert describe_device(torch.device("cuda:1")) == "CUDA 1 (Test GPU)"

    def broken(_i):
        raise RuntimeError("no driver")

    monkeypatch.setattr(torch.cuda, "get_device_name", broken)
    assert describe_device(torch.device("cuda")) == "CUDA 0 (GPU)"


def test_out_of_memory_is_recognised():
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))


def test_cuda_available_follows_torch(no_cuda):
    assert device_module.cuda_available() is False


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_model_moves_to_cuda_and_runs(seeded_model):
    import copy

    from alexnet_gui.core.predict import forward

    device, note = resolve_device("cuda")
    assert device.type == "cuda" and note is None
    model = copy.deepcopy(seeded_model).to(device)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    out = forward(model, x, device)
    assert out.device.type == "cpu" and out.shape == (2, 1000)
    with torch.inference_mode():
        expected = seeded_model(x)
    assert torch.allclose(out, expected, atol=1e-2, rtol=1e-3)  # TF32/cuDNN differ slightly
    assert describe_device(device).startswith("CUDA 0 (")


def test_placed_on_the_cpu_the_model_is_channels_last_and_gives_torchvisions_logits(
        seeded_model, torchvision_model):
    import copy

    from alexnet_gui.core.device import place_model
    from alexnet_gui.core.predict import forward

    model = place_model(copy.deepcopy(seeded_model), torch.device("cpu"))
    conv1 = model.features[0].weight
    assert conv1.is_contiguous(memory_format=torch.channels_last) and not conv1.is_contiguous()
    assert model.state_dict().keys() == torchvision_model.state_dict().keys()
    x = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        expected = torchvision_model(x)
    # channels-last vs contiguous, and one image vs a batch: equal to float rounding
    assert_close_to_scale(forward(model, x), expected)
    assert_close_to_scale(forward(model, x[:1]), expected[:1])


def test_placing_on_cuda_keeps_the_default_layout(monkeypatch):
    from alexnet_gui.core.device import place_model

    seen = {}

    class Recorder(torch.nn.Module):
        def to(self, *args, **kwargs):
            seen.update(kwargs)
            return self

    place_model(Recorder(), torch.device("cuda", 0))
    assert seen["memory_format"] is torch.contiguous_format and seen["device"].type == "cuda"
