"""The model and what it does: loading + quantization, streaming generation, remote backends."""

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
