"""The model and what it does: loading + quantization, streaming generation, remote backends."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see knowledge/__init__.py

from assistant.config import AssistantSettings
from assistant.events import Done, Event, GenerationParams, Notice, ReasoningDelta, TextDelta, Usage

__all__ = [
    "AssistantSettings",
    "Done",
    "Event",
    "GenerationParams",
    "Notice",
    "ReasoningDelta",
    "TextDelta",
    "Usage",
]
