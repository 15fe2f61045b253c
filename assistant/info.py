"""What the UI status line shows about the model behind an engine."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    """What the UI status line shows about a loaded model.

    Attributes:
        name: what was configured (Hub id, directory or GGUF path).
        label: human-readable name, marked "offline fallback" when it is one.
        device: torch device the weights live on.
        quantization: nf4, int8 (bitsandbytes), int8-dynamic (torch, CPU) or none.
        dtype: compute dtype.
        footprint_bytes: `model.get_memory_footprint()` after load.
        offline_fallback: True when the configured weights were unavailable.
        notice: why the fallback was used, for the UI.
        fallback_for: the configured model this offline fallback stands in for (None: not a fallback, or unknown).
    """

    name: str
    label: str
    device: str
    quantization: str
    dtype: str
    footprint_bytes: int
    offline_fallback: bool = False
    notice: str | None = None
    fallback_for: str | None = None

    @property
    def status_line(self) -> str:
        """One-line summary, e.g. `DeepSeek-R1-Distill-Qwen-1.5B · cuda · nf4 · 1.2 GB`."""
        return f"{self.label} · {self.device} · {self.quantization} · {self.footprint_bytes / 1e9:.2f} GB"
