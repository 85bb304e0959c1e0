"""Weights download from the banner, device selection and CUDA fallbacks in the window."""

from __future__ import annotations

import pytest
import torch
from loopback import BytesHandler, serving


@pytest.fixture
def weights_server(seeded_weights):
    routes = {f"/{seeded_weights.name}": seeded_weights.read_bytes()}
    with serving(BytesHandler, routes=routes) as (_server, url):
        yield f"{url}/{seeded_weights.name}"


def test_download_with_wrong_hash_leaves_nothing(make_window, weights_server, tmp_path, qtbot):
    window = make_window(weights=None)
    assert window.banner.isVisible()
    dest = tmp_path / "dl" / "alexnet-owt-7be5be79.pth"
    with qtbot.waitSignal(window.client.worker.download_failed, timeout=30000) as blocker:
        window.start_download(weights_server, str(dest))
    # The seeded file is not torchvision's: the SHA-256 prefix check refuses it.
    assert "7be5be79" in blocker.args[0]
    # The signal comes from the download thread; the banner says it once the window's slot ran.
    qtbot.waitUntil(lambda: "failed" in window.banner.label.text().lower(), timeout=5000)
    assert not dest.exists()
    assert not list(dest.parent.glob("*.part")) if dest.parent.exists() else True
    assert window.banner.download_button.isEnabled()
    assert not window.model_info.trained


def test_device_selector_without_cuda(make_window, qtbot, monkeypatch):
    window = make_window()
    cuda_item = window.device_box.model().item(2)
    assert cuda_item.isEnabled() == torch.cuda.is_available()
    if not torch.cuda.is_available():
        assert "not available" in cuda_item.toolTip()
        with qtbot.waitSignal(window.client.worker.notice, timeout=30000) as blocker:
            window.client.device_requested.emit("cuda")
        assert "CUDA is not available" in blocker.args[0]
        qtbot.waitUntil(lambda: "CPU" in window.device_label.text(), timeout=30000)


def test_cuda_out_of_memory_falls_back_to_cpu(make_window, image_dir, qtbot, monkeypatch):
    """A CUDA OOM during a forward retries on the CPU and says so."""
    import alexnet_gui.core.predict as predict

    window = make_window()
    worker = window.client.local_service  # the model's service, in a thread of this process here
    real_forward = predict.forward

    def flaky_forward(model, batch, device=None):
        if device is not None and device.type == "cuda":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_forward(model, batch, torch.device("cpu"))

    monkeypatch.setattr(predict, "forward", flaky_forward)
    # Pretend the model sits on a GPU; moving a CPU model "back" to the CPU is a no-op.
    worker.device = torch.device("cuda", 0)
    notices = []
    window.client.events.notice.connect(notices.append)
    window.open_paths([image_dir(1) / "img000.png"])
    qtbot.waitUntil(lambda: len(window.classify_view.bars.texts()) == 5, timeout=30000)
    qtbot.waitUntil(lambda: any("using the CPU" in n for n in notices), timeout=5000)
    assert worker.device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_classify_on_cuda(make_window, image_dir, qtbot):
    window = make_window()
    window.client.device_requested.emit("cuda")
    qtbot.waitUntil(lambda: "CUDA" in window.device_label.text(), timeout=60000)
    window.open_paths([image_dir(1) / "img000.png"])
    qtbot.waitUntil(lambda: len(window.classify_view.bars.texts()) == 5, timeout=30000)


def finetuned_checkpoint(path, base_sha: str):
    from alexnet_gui.core.model import build_model, swap_head
    from alexnet_gui.core.weights import save_checkpoint

    model = swap_head(build_model(seed=1), 3)
    save_checkpoint(path, model.state_dict(), ["cats", "dogs", "owls"], {"base_weights_sha256": base_sha})
    return path


def test_finetuned_checkpoint_keeps_base_and_names_classes(make_window, image_dir, tmp_path, qtbot):
    window = make_window()
    base_sha = window.model_info.sha256
    ckpt = finetuned_checkpoint(tmp_path / "pets.pth", base_sha)
    notices = []
    window.client.worker.notice.connect(notices.append)
    window.load_weights(str(ckpt))
    qtbot.waitUntil(lambda: window.model_info.source == "finetuned", timeout=30000)
    assert window.model_info.class_names == ["cats", "dogs", "owls"]
    assert window.model_info.base_description is not None  # the base stays for Compare
    window.classify_view.set_compare(True)
    window.client.compare_requested.emit(True)
    window.open_paths([image_dir(1) / "img000.png"])
    qtbot.waitUntil(lambda: len(window.classify_view.compare_bars.texts()) == 5, timeout=30000)
    assert {t.split(" — ")[0] for t in window.classify_view.bars.texts()} <= {"cats", "dogs", "owls"}
    assert not any("other base weights" in n for n in notices)


def test_finetuned_checkpoint_from_other_base_is_flagged(make_window, tmp_path, qtbot):
    window = make_window()
    ckpt = finetuned_checkpoint(tmp_path / "pets.pth", "0" * 64)
    with qtbot.waitSignal(window.client.worker.notice, timeout=30000) as blocker:
        window.load_weights(str(ckpt))
    assert "pets.pth was fine-tuned from other base weights" in blocker.args[0]
    qtbot.waitUntil(lambda: window.model_info.source == "finetuned", timeout=30000)


def test_switching_device_moves_the_kept_base_model_too(seeded_weights, qtbot):
    """With a fine-tuned head in use, Compare still runs the base: it must follow the device."""
    from alexnet_gui.core.bundle import bundle_from_file
    from alexnet_gui.worker.scheduler import Scheduler
    from alexnet_gui.worker.service import ModelService

    events = []
    worker = ModelService(lambda name, *args: events.append(name), Scheduler(on_end=lambda ended: None))
    worker.device = torch.device("cpu")
    base, tuned = bundle_from_file(seeded_weights), bundle_from_file(seeded_weights)
    moved = []
    for name, bundle in (("base", base), ("fine-tuned", tuned)):
        bundle.to = lambda device, move=bundle.to, name=name: (moved.append((name, device.type)), move(device))[1]
    worker.bundle, worker.base_bundle = tuned, base
    worker.set_device("cpu")
    assert ("base", "cpu") in moved and ("fine-tuned", "cpu") in moved
    assert worker.base_bundle is base and worker.bundle is tuned
