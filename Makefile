# AlexNet GUI: `make run` starts the app, `make test` runs the whole suite.
# Both create .venv with pip when it is missing.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Debian packages Qt needs for a real window and for the offscreen tests.
DEB_PACKAGES := libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 \
	libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 \
	libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3 \
	libglib2.0-0 fonts-dejavu-core libpulse0
# Real data the suite trains on (Fashion-MNIST's idx files under /usr/share/datasets).
TEST_PACKAGES := dataset-fashion-mnist
SCREENSHOT_PACKAGES := xvfb xauth x11-utils

.PHONY: run test bench screenshots package deps venv clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip

venv: $(PY)

# Installs the Debian packages when root and missing; names them otherwise.
deps:
	@missing=""; for p in $(DEB_PACKAGES) $(EXTRA_DEB); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "Missing Debian packages (install them with sudo apt-get install$$missing)"; \
		fi; \
	fi

run: $(PY) deps
	$(PY) -m pip install --quiet -e .
	$(PY) -m alexnet_gui $(ARGS)

# ruff first (its settings are in pyproject.toml), then the suite.
test: $(PY)
	$(MAKE) deps EXTRA_DEB="$(TEST_PACKAGES) $(EXTRA_DEB)"
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m ruff check .
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(PY) deps
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) benchmarks/run_all.py

screenshots: $(PY)
	$(MAKE) deps EXTRA_DEB="$(SCREENSHOT_PACKAGES)"
	$(PY) -m pip install --quiet -e .
	$(PY) packaging/screenshots.py docs

# dist/alexnet-gui/, then the bundle's smoke test (packaging/README.md).
package: $(PY) deps
	$(PY) -m pip install --quiet -e '.[package]'
	$(PY) -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/alexnet-gui.spec
	PYTHON=$(PY) bash packaging/smoke_test.sh dist/alexnet-gui

clean:
	rm -rf build dist *.egg-info .pytest_cache
