"""On a GPU the scan ranks as on the CPU and a picture is made there too (skipped without CUDA)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from alexnet_gui.core.finetune.cache import FeatureCache
from alexnet_gui.core.images import expand_paths
from alexnet_gui.core.units import Unit, VisualizeSettings
from alexnet_gui.core.units.run import run_to_end, top_images_steps
from alexnet_gui.core.units.visualize import visualize_steps

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_the_top_images_on_cuda_are_the_cpus(seeded_model, picture_folder, tmp_path):
    paths = [str(p) for p in expand_paths([picture_folder])]
    gpu = copy.deepcopy(seeded_model).cuda()
    on_cpu = run_to_end(top_images_steps(seeded_model, paths, "conv4", 5, "k", torch.device("cpu"),
                                         FeatureCache(tmp_path / "cpu")))
    on_gpu = run_to_end(top_images_steps(gpu, paths, "conv4", 5, "k", torch.device("cuda"),
                                         FeatureCache(tmp_path / "gpu")))
    scale = max(abs(im.value) for im in on_cpu.images)
    assert np.allclose([im.value for im in on_gpu.images], [im.value for im in on_cpu.images], atol=1e-3 * scale)
    assert {im.path for im in on_gpu.images[:5]} <= {im.path for im in on_cpu.images}


def test_a_picture_is_made_on_cuda(seeded_model):
    gpu = copy.deepcopy(seeded_model).cuda()
    picture = run_to_end(visualize_steps(gpu, Unit("features.6", 5), VisualizeSettings(steps=16)))
    assert picture.image.shape == (224, 224, 3) and picture.value > picture.start_value
