"""Bad weights through `alexnet-cli --weights`, the window's Load weights and both downloads:
refused with a message naming the file and the cause, code never runs, the current model
stays, and a failed download leaves no file (and an earlier file untouched)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest
import torch
from fault_inputs import snapshot, write_png
from float_paths import assert_same_top
from loopback import BytesHandler, cut, serving

from alexnet_gui.core.model import build_model


class Exploit:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def write_malicious(path: Path, marker: Path) -> None:
    state = {k: v for k, v in build_model(num_classes=2, seed=0).state_dict().items() if k.startswith("classifier.6")}
    state["features.0.weight"] = Exploit(marker)
    torch.save(state, path)


def write_wrong_head(path: Path) -> None:
    """Every layer right but fc8, which takes 2048 inputs where AlexNet's fc7 gives 4096."""
    state = build_model(seed=0).state_dict()
    state["classifier.6.weight"] = torch.zeros(1000, 2048)
    torch.save(state, path)


def write_truncated(path: Path, seeded_weights: Path) -> None:
    shutil.copyfile(seeded_weights, path)
    os.truncate(path, path.stat().st_size // 2)


@pytest.fixture(scope="module")
def bad_weights(tmp_path_factory, seeded_weights):
    """case -> (folder holding only that file, marker file the malicious one would create)."""
    root = tmp_path_factory.mktemp("bad-weights")
    marker = root / "code-ran"
    for case, (name, _) in BAD.items():
        (root / case).mkdir()
    write_malicious(root / "malicious-pickle" / "evil.pth", marker)
    write_wrong_head(root / "wrong-head-size" / "narrow-head.pth")
    write_truncated(root / "truncated" / "half.pth", seeded_weights)
    return root, marker


BAD = {
    "malicious-pickle": ("evil.pth", "evil.pth: not a weights file this app can load safely (it refers to "),
    "wrong-head-size": ("narrow-head.pth", "narrow-head.pth: layer classifier.6.weight has shape (1000, 2048) "
                        "in the weights but (1000, 4096) in the model"),
    "truncated": ("half.pth", "half.pth: not a weights file this app can load safely "
                  "(the file is truncated or corrupted)"),
}


@pytest.mark.parametrize("case", BAD)
def test_cli_refuses_bad_weights(cli, bad_weights, tmp_path, case):
    root, marker = bad_weights
    folder = root / case
    name, message = BAD[case]
    image = tmp_path / "photo.png"
    write_png(image)
    before = snapshot(folder)
    code, out, err = cli("classify", image, weights=folder / name)
    assert code == 2 and out == ""
    assert err.startswith(f"alexnet-cli: error: {message}"), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not marker.exists()
    assert snapshot(folder) == before


@pytest.mark.parametrize("case", BAD)
def test_window_refuses_bad_weights_and_keeps_its_model(window, bad_weights, case, qtbot, no_modal_dialogs,
                                                        still_classifies):
    root, marker = bad_weights
    folder = root / case
    name, message = BAD[case]
    before = window.model_info
    with qtbot.waitSignal(window.client.worker.model_load_failed, timeout=60000) as blocker:
        window.load_weights(str(folder / name))
    assert blocker.args[0].startswith(message), blocker.args[0]
    qtbot.waitUntil(lambda: no_modal_dialogs != [], timeout=10000)  # the window hears it after the worker said it
    assert no_modal_dialogs == [f"{blocker.args[0]}\n\nThe current model stays in use."]
    assert message in window.statusBar().currentMessage()
    assert not marker.exists()
    still_classifies(window)
    assert window.model_info is before


# ---------------------------------------------------------------- a fine-tune made on other base weights


@pytest.fixture(scope="module")
def other_base_checkpoint(tmp_path_factory):
    """A fine-tuned checkpoint (3 classes) whose meta names base weights this test never loads."""
    from alexnet_gui.core.weights import save_checkpoint

    path = tmp_path_factory.mktemp("finetuned") / "pets-alexnet.pth"
    model = build_model(num_classes=3, seed=1)
    save_checkpoint(path, model.state_dict(), ["cat", "dog", "fish"], {"base_weights_sha256": "f" * 64})
    return path


def test_cli_checkpoint_from_other_base_weights_uses_its_own_backbone(cli_json, other_base_checkpoint, tmp_path,
                                                                      seeded_weights):
    """The checkpoint holds every layer, so what it says does not depend on the base the user
    has; nothing warns that its base differs (the app has no notion of "the loaded base" here)."""
    from alexnet_gui.core.bundle import bundle_from_file
    from alexnet_gui.core.predict import classify_paths

    image = tmp_path / "photo.png"
    write_png(image)
    code, entries, err = cli_json("classify", image, weights=other_base_checkpoint)
    assert code == 0 and err == ""
    bundle = bundle_from_file(other_base_checkpoint)
    expected = classify_paths(bundle.model, [image], bundle.class_names, k=3)[0].as_dict()
    (entry,) = entries
    assert entry.keys() == expected.keys() | {"engine"} and entry["path"] == expected["path"]
    assert_same_top(entry["top"], expected["top"])  # the CLI's model is placed channels-last: to float rounding
    assert {t["label"] for t in entries[0]["top"]} == {"cat", "dog", "fish"}
    assert bundle.meta["base_weights_sha256"] != hashlib.sha256(seeded_weights.read_bytes()).hexdigest()


def test_window_checkpoint_from_other_base_weights(window, other_base_checkpoint, qtbot, good_image, seeded_weights):
    from fault_inputs import drop

    base = window.model_info
    with qtbot.waitSignal(window.client.worker.model_loaded, timeout=60000) as blocker:
        window.load_weights(str(other_base_checkpoint))
    info = blocker.args[0]
    try:
        assert info.source == "finetuned" and info.class_names == ["cat", "dog", "fish"]
        assert info.meta["base_weights_sha256"] != base.sha256
        assert info.base_description is not None  # the loaded base is kept for Compare (and the mismatch is flagged)
        image = good_image()
        drop(window, [image])
        view = window.classify_view
        qtbot.waitUntil(lambda: view.current_path() == str(image) and len(view.bars.texts()) == 3, timeout=30000)
        assert {t.split(" — ")[0] for t in view.bars.texts()} == {"cat", "dog", "fish"}
    finally:
        with qtbot.waitSignal(window.client.worker.model_loaded, timeout=60000):
            window.load_weights(str(seeded_weights))


# ---------------------------------------------------------------- downloads


PAYLOAD_BYTES = 3 << 20  # several 1 MiB chunks
NAME = "alexnet-owt-7be5be79.pth"


@pytest.fixture(scope="module")
def server():
    buf = io.BytesIO()
    torch.save({"classifier.6.weight": torch.randn(PAYLOAD_BYTES // 16384, 4096,
                                                   generator=torch.Generator().manual_seed(0))}, buf)
    payload = buf.getvalue()
    with serving(BytesHandler, routes={f"/{NAME}": payload, f"/cut/{NAME}": cut(payload)}) as (_httpd, url):
        yield url, payload


def part_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part")) if folder.exists() else []


def test_cli_download_with_the_wrong_hash_saves_nothing(cli, server, tmp_path):
    url, payload = server
    dest = tmp_path / "hub" / NAME
    code, out, err = cli("weights", "download", "--to", dest, "--url", f"{url}/{NAME}", weights=None, device=None)
    got = hashlib.sha256(payload).hexdigest()[:8]
    assert code == 2
    assert err == (f"alexnet-cli: error: {NAME}: downloaded file is corrupt (SHA-256 starts {got}, expected "
                   f"7be5be79); nothing was saved\n")
    assert not dest.exists() and part_files(dest.parent) == []


def test_cli_download_cut_off_halfway_keeps_the_earlier_file(cli, server, tmp_path):
    url, payload = server
    dest = tmp_path / "hub" / NAME
    dest.parent.mkdir()
    dest.write_bytes(b"the file that was here before")
    code, out, err = cli("weights", "download", "--to", dest, "--url", f"{url}/cut/{NAME}", weights=None, device=None)
    assert code == 2
    assert err.startswith(f"alexnet-cli: error: {NAME}: download failed (connection closed after "
                          f"{len(payload) // 2} of {len(payload)} bytes). Put the file at {dest}")
    assert dest.read_bytes() == b"the file that was here before"
    assert part_files(dest.parent) == []


def test_window_download_cut_off_halfway_leaves_nothing(window, server, tmp_path, qtbot, still_classifies):
    url, payload = server
    dest = tmp_path / "hub" / NAME
    with qtbot.waitSignal(window.client.worker.download_failed, timeout=60000) as blocker:
        window.start_download(f"{url}/cut/{NAME}", str(dest))
    assert blocker.args[0].startswith(f"{NAME}: download failed (connection closed after {len(payload) // 2} of "
                                      f"{len(payload)} bytes)")
    qtbot.waitUntil(lambda: window.banner.label.text().startswith(f"Download failed: {NAME}: download failed"),
                    timeout=10000)
    assert window.banner.download_button.isEnabled()
    assert not dest.exists() and part_files(dest.parent) == []
    still_classifies(window)
    window.banner.hide()  # the banner stays up to offer another try; the shared window is trained
