"""The resources a person sees outside the window: the app icon at every size,
the menu entry, the software-centre metadata and the sample pictures."""

from __future__ import annotations

import configparser
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from alexnet_gui import resources_paths as rp

ROOT = Path(__file__).resolve().parent.parent
SVG_NS = "{http://www.w3.org/2000/svg}"
EXPECTED = [
    "icons/alexnet-gui.svg",
    *(f"icons/alexnet-gui-{n}.png" for n in rp.ICON_SIZES),
    f"{rp.APP_ID}.desktop",
    f"{rp.APP_ID}.metainfo.xml",
    "samples/LICENSE.md",
]


@pytest.mark.parametrize("rel", EXPECTED)
def test_resource_path_finds_every_file(rel):
    path = rp.resource_path(*rel.split("/"))
    assert path.is_file() and path.stat().st_size > 0
    assert path.resolve() == (ROOT / "resources" / rel).resolve()


def test_missing_resource_names_the_file():
    with pytest.raises(FileNotFoundError, match="icons/nope.png"):
        rp.resource_path("icons", "nope.png")


def test_resources_paths_does_not_import_qt():
    # The CLI and the packaging scripts use it without a display.
    src = Path(rp.__file__).read_text()
    assert "PySide6" not in src and "import torch" not in src


@pytest.mark.parametrize("size", rp.ICON_SIZES)
def test_png_icon_is_the_size_its_name_says(size):
    path = rp.icon_path(size)
    assert path.name == f"alexnet-gui-{size}.png"
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size == (size, size)
        assert img.mode == "RGBA"
        # Rounded corners: the corner pixel is transparent, the centre opaque.
        assert img.getpixel((0, 0))[3] == 0
        assert img.getpixel((size // 2, size // 2))[3] == 255


def test_unknown_icon_size_is_refused_with_the_available_sizes():
    with pytest.raises(ValueError, match="16, 32, 48, 64, 128, 256"):
        rp.icon_path(17)


def test_svg_icon_is_square_xml_without_text():
    root = ET.parse(rp.icon_path()).getroot()
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox") == "0 0 256 256"
    assert not list(root.iter(f"{SVG_NS}text"))  # icons carry no words


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(rp.desktop_file(), encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_has_the_keys_a_menu_needs():
    entry = _desktop_entry()
    assert rp.desktop_file().name == f"{rp.APP_ID}.desktop"
    assert entry["Type"] == "Application"
    assert entry["Name"] == "AlexNet GUI"
    assert entry["GenericName"] == "Image Classifier"
    assert entry["Exec"] == "alexnet-gui %F"
    assert entry["Icon"] == rp.APP_ID  # the name install-desktop.sh gives the icons
    assert entry["Terminal"] == "false"
    assert entry["Categories"] == "Graphics;Science;Education;"
    assert entry["StartupWMClass"] == "alexnet-gui"
    assert "AlexNet" in entry["Keywords"].split(";")
    for key in ("Categories", "Keywords", "MimeType"):
        assert entry[key].endswith(";")  # lists end with a separator (Desktop Entry spec)


def test_desktop_entry_opens_the_image_types_the_app_reads():
    mimes = _desktop_entry()["MimeType"].rstrip(";").split(";")
    assert mimes == ["image/jpeg", "image/png", "image/bmp", "image/gif", "image/webp", "image/tiff"]


def test_metainfo_names_the_desktop_file_and_describes_the_app():
    root = ET.parse(rp.metainfo_file()).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == rp.APP_ID
    assert rp.metainfo_file().name == f"{rp.APP_ID}.metainfo.xml"
    launchable = root.find("launchable")
    assert launchable.get("type") == "desktop-id" and launchable.text == rp.desktop_file().name
    assert root.findtext("name") == "AlexNet GUI"
    assert root.findtext("metadata_license") == "CC0-1.0"
    assert root.findtext("project_license") == "MIT"
    assert len(root.findtext("summary")) < 80  # software centres cut long summaries
    assert len(root.findall("description/p")) >= 2
    assert root.find("content_rating") is not None


def test_sample_images_load_as_rgb_pictures():
    from alexnet_gui.core.images import load_image

    samples = rp.sample_images()
    assert 4 <= len(samples) <= 6
    for path in samples:
        img = load_image(path)
        assert img.mode == "RGB" and img.size == (320, 240), path.name


def test_every_sample_has_a_source_and_licence_line():
    note = rp.resource_path("samples", "LICENSE.md").read_text(encoding="utf-8")
    for path in rp.sample_images():
        row = next((line for line in note.splitlines() if f"`{path.name}`" in line), "")
        assert "make_samples.py" in row and "CC0" in row, f"{path.name} missing from samples/LICENSE.md"


def test_committed_samples_are_what_the_script_draws():
    # A stale picture (script edited, files not regenerated) shows up here.
    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import make_samples
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    import numpy as np

    assert sorted(make_samples.SAMPLES) == sorted(p.name for p in rp.sample_images())
    for name, draw in make_samples.SAMPLES.items():
        # Compared as 40x30 block averages: JPEG grain and encoder versions
        # differ, the scene does not.
        drawn = np.asarray(draw().resize((40, 30), Image.Resampling.BOX), dtype=np.int16)
        with Image.open(rp.resource_path("samples", name)) as img:
            committed = np.asarray(img.convert("RGB").resize((40, 30), Image.Resampling.BOX), dtype=np.int16)
        assert np.abs(drawn - committed).mean() < 2.0, name


def test_licence_at_the_top_of_the_tree_is_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert re.search(r"Copyright \(c\) 2026 The AlexNet GUI authors", text)
