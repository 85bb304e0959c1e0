"""What a person installing the app gets: a wheel with both commands and every
resource, a desktop entry that installs and uninstalls cleanly, and the
bundle's entry point that dispatches to the window or the command line."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from alexnet_gui.resources_paths import APP_ID, ICON_SIZES

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
FC_PARAMS_TOTAL = 61_100_840


def _resource_files() -> list[str]:
    """Every file under resources/ that must ship, relative to it."""
    return sorted(
        p.relative_to(ROOT / "resources").as_posix()
        for p in (ROOT / "resources").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(extra)
    return env


# ---------------------------------------------------------------- desktop entry


def _run_script(name: str, data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(PACKAGING / name), *args], capture_output=True, text=True, timeout=60,
                          env=_clean_env(XDG_DATA_HOME=str(data), HOME=str(data.parent / "home")))


def _installed(data: Path) -> list[Path]:
    return [
        data / "applications" / f"{APP_ID}.desktop",
        data / "metainfo" / f"{APP_ID}.metainfo.xml",
        data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
        *(data / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{APP_ID}.png" for n in ICON_SIZES),
    ]


def test_install_then_uninstall_desktop_entry_leaves_nothing(tmp_path):
    data = tmp_path / "share"
    done = _run_script("install-desktop.sh", data)
    assert done.returncode == 0, done.stderr
    for path in _installed(data):
        assert path.is_file(), path
    assert (data / "applications" / f"{APP_ID}.desktop").read_text() == \
        (ROOT / "resources" / f"{APP_ID}.desktop").read_text()
    assert (data / "icons/hicolor/48x48/apps" / f"{APP_ID}.png").read_bytes() == \
        (ROOT / "resources/icons/alexnet-gui-48.png").read_bytes()

    done = _run_script("uninstall-desktop.sh", data)
    assert done.returncode == 0, done.stderr
    assert sorted(p.relative_to(data).as_posix() for p in data.rglob("*")) == []


def test_uninstall_keeps_other_applications_files(tmp_path):
    data = tmp_path / "share"
    others = [data / "applications" / "other.desktop", data / "icons/hicolor/48x48/apps/other.png"]
    for path in others:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("someone else's")
    assert _run_script("install-desktop.sh", data).returncode == 0
    assert _run_script("uninstall-desktop.sh", data).returncode == 0
    assert all(p.read_text() == "someone else's" for p in others)
    assert not any(p.exists() for p in _installed(data))
    assert not list(data.rglob(f"{APP_ID}*"))


def test_install_for_a_bundle_points_exec_at_its_binary(tmp_path):
    binary = tmp_path / "my apps" / "alexnet-gui"  # a space, as in real install folders
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    data = tmp_path / "share"
    done = _run_script("install-desktop.sh", data, "--exec", str(binary))
    assert done.returncode == 0, done.stderr
    lines = (data / "applications" / f"{APP_ID}.desktop").read_text().splitlines()
    assert f'Exec="{binary}" %F' in lines
    assert f"TryExec={binary}" in lines


def test_install_refuses_a_binary_path_it_cannot_quote(tmp_path):
    binary = tmp_path / "cost$5" / "alexnet-gui"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    done = _run_script("install-desktop.sh", tmp_path / "share", "--exec", str(binary))
    assert done.returncode == 1
    assert "cost$5" in done.stderr
    assert not (tmp_path / "share" / "applications" / f"{APP_ID}.desktop").exists()


# ---------------------------------------------------------------- PyInstaller bundle


@pytest.mark.parametrize("script", ["install-desktop.sh", "uninstall-desktop.sh", "smoke_test.sh"])
def test_shell_scripts_parse(script):
    done = subprocess.run(["bash", "-n", str(PACKAGING / script)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_smoke_test_says_what_is_missing_without_a_bundle(tmp_path):
    done = subprocess.run(["bash", str(PACKAGING / "smoke_test.sh"), str(tmp_path / "nothing")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "make package" in done.stderr


def _spec_list(name: str) -> list[str]:
    tree = ast.parse((PACKAGING / "alexnet-gui.spec").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"alexnet-gui.spec has no {name} list")


_LOADED_MODULES = r"""
import io, contextlib, json, pkgutil, sys, importlib
import torch
from alexnet_gui.core.model import build_model
import alexnet_gui
weights, image = sys.argv[1], sys.argv[2]
torch.save(build_model(seed=0).state_dict(), weights)
from alexnet_gui.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["classify", "--json", "--weights", weights, image]) == 0
for info in pkgutil.walk_packages(alexnet_gui.__path__, "alexnet_gui."):
    if not info.name.endswith("__main__"):  # that one starts the window
        importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def test_bundle_leaves_out_nothing_the_app_loads(tmp_path):
    # A module left out of the bundle but imported at run time breaks only the
    # frozen app; catch it here, where it costs seconds, not a 4-minute build.
    unused = _spec_list("unused_modules")
    assert "PySide6.QtWebEngineCore" in unused
    sample = ROOT / "resources" / "samples" / "car.png"
    done = subprocess.run([sys.executable, "-c", _LOADED_MODULES, str(tmp_path / "w.pth"), str(sample)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=_clean_env(QT_QPA_PLATFORM="offscreen", TORCH_HOME=str(tmp_path / "torch"),
                                         XDG_CACHE_HOME=str(tmp_path / "cache")))
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    offending = sorted({name for name in unused for m in loaded if m == name or m.startswith(name + ".")})
    assert offending == [], "the spec leaves these out, but the app loads them"


def _frozen_entry():
    spec = importlib.util.spec_from_file_location("frozen_entry", PACKAGING / "frozen_entry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frozen_entry_hidden_cli_flag_runs_the_command_line_tool(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["alexnet-gui", "--cli", "summary", "--json"])
    assert _frozen_entry().main() == 0
    assert json.loads(capsys.readouterr().out)["totals"]["params"] == FC_PARAMS_TOTAL


def test_frozen_entry_without_the_flag_is_the_window_command(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["alexnet-gui", "--help"])
    with pytest.raises(SystemExit) as exit_info:
        _frozen_entry().main()
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: alexnet-gui")


# ---------------------------------------------------------------- wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the source tree (the checkout stays clean)."""
    if not (ROOT / "README.md").exists():
        pytest.skip("pyproject.toml names README.md, which does not exist yet")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("alexnet_gui", "resources"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--no-index", "-q", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=300, env=_clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("alexnet_gui-*.whl")
    return path


def test_wheel_declares_both_commands(wheel):
    with zipfile.ZipFile(wheel) as zf:
        (entry_points,) = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = zf.read(entry_points).decode()
    sections = dict(re.findall(r"\[(\w+)\]\n((?:[^\[]+\n?)*)", text))
    assert "alexnet-gui = alexnet_gui.app:main" in sections["gui_scripts"]
    assert "alexnet-cli = alexnet_gui.cli:main" in sections["console_scripts"]


def test_wheel_ships_every_resource_and_the_licence(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = [rel for rel in _resource_files() if f"alexnet_gui/resources/{rel}" not in names]
    assert missing == []
    assert any(re.search(r"\.dist-info/(licenses/)?LICENSE$", n) for n in names)
    assert not any(n.startswith(("tests/", "packaging/", "benchmarks/")) for n in names)


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv whose only copy of the app is the wheel; torch, PySide6 etc.
    come from the project's environment through a plain path entry (not a site
    dir, so its editable-install hook stays inactive)."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                           "-q", str(wheel)], capture_output=True, text=True, timeout=300, env=_clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def _checkout_modules() -> set[str]:
    """Every module of the source tree, named as it installs (resources/ is alexnet_gui.resources)."""
    names = set()
    for top, package in ((ROOT / "alexnet_gui", "alexnet_gui"), (ROOT / "resources", "alexnet_gui.resources")):
        for path in top.rglob("*.py"):
            parts = path.relative_to(top).with_suffix("").parts
            if "__pycache__" not in parts:
                names.add(".".join((package, *parts)).removesuffix(".__init__"))
    return names


def test_wheel_ships_every_module(wheel):
    with zipfile.ZipFile(wheel) as zf:
        shipped = {n.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
                   for n in zf.namelist() if n.endswith(".py")}
    assert sorted(_checkout_modules() - shipped) == [], "the wheel leaves these modules out"


_IMPORT_EVERY_MODULE = r"""
import importlib, json, pkgutil, sys
import alexnet_gui
names, failed = [], {}
def walk_failed(name):  # a package that failed to import while the walk looked inside it
    exc = sys.exc_info()[1]
    failed[name] = f"{type(exc).__name__}: {exc}"
for info in pkgutil.walk_packages(alexnet_gui.__path__, "alexnet_gui.", onerror=walk_failed):
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except BaseException as exc:  # whatever a module raises on import, even SystemExit, names it
        failed[info.name] = f"{type(exc).__name__}: {exc}"
print(json.dumps({"package": alexnet_gui.__file__, "modules": names, "failed": failed}))
"""


def test_every_module_imports_from_the_installed_wheel(installed, tmp_path):
    # The __main__ modules are imported too: they run only as a program, never on import
    # (the model process is spawned and imports the main module).
    done = subprocess.run([str(installed / "bin" / "python"), "-c", _IMPORT_EVERY_MODULE],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env=_clean_env(QT_QPA_PLATFORM="offscreen", TORCH_HOME=str(tmp_path / "torch"),
                                         XDG_CACHE_HOME=str(tmp_path / "cache")))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert Path(report["package"]).is_relative_to(installed), report["package"]  # the wheel's, not the checkout's
    assert report["failed"] == {}, "these modules of the installed wheel do not import"
    unreached = sorted(_checkout_modules() - set(report["modules"]) - {"alexnet_gui"})
    assert unreached == [], "the walk never reached these modules (a folder without __init__.py?)"


def test_wheel_installs_and_both_commands_run(installed, tmp_path):
    env = _clean_env(QT_QPA_PLATFORM="offscreen")
    where = subprocess.run([str(installed / "bin" / "python"), "-c",
                            "import alexnet_gui.resources_paths as r; print(r.desktop_file())"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout + where.stderr

    cli = subprocess.run([str(installed / "bin" / "alexnet-cli"), "summary", "--json"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=180)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["totals"]["params"] == FC_PARAMS_TOTAL

    if not (ROOT / "alexnet_gui" / "app.py").exists():
        pytest.skip("alexnet_gui/app.py does not exist yet")
    gui = subprocess.run([str(installed / "bin" / "alexnet-gui"), "--help"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=180)
    assert gui.returncode == 0, gui.stderr
    assert gui.stdout.startswith("usage: alexnet-gui")
