"""Typed events the assistant core streams; the UI alone decides how they look."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class TextDelta:
    """A piece of the visible answer."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of the model's reasoning (R1 `<think>` block); shown collapsed."""

    text: str


@dataclass(frozen=True)
class Notice:
    """Something the user should see that is not the answer (input trimmed, fallback model, error)."""

    message: str
    level: Literal["info", "warning", "error"] = "warning"


@dataclass(frozen=True)
class Usage:
    """Token counts of one generation."""

    prompt_tokens: int
    completion_tokens: int


FinishReason = Literal["stop", "length", "cancelled", "error", "repetition"]  # repetition: stopped in a loop


@dataclass(frozen=True)
class Done:
    """The last event of every stream.

    Attributes:
        finish_reason: why generation ended.
        usage: token counts.
        batch_size: the largest number of requests this one shared a forward pass with (1 = alone).
    """

    finish_reason: FinishReason
    usage: Usage
    batch_size: int = 1


Event = TextDelta | ReasoningDelta | Notice | Done


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters of one request; `None` means the engine's configured default.

    Attributes:
        max_new_tokens: cap on generated tokens.
        temperature: 0 means greedy decoding.
        top_p: nucleus sampling mass.
        stop_repetition: end the answer once its last this-many-or-more tokens are one block repeated three
            times or more (a loop); 0 = never (code, which repeats lines on purpose).
        reasoning: False: a reasoning model (DeepSeek-R1) answers at once, its `<think>` block closed empty in
            the prompt. For short requests (a question rewrite, a clause explanation) whose few tokens R1's
            thinking would use up before it wrote a word. Models that do not reason, and remote servers, ignore
            it.
        answer_prefix: the start of the answer, written into the prompt for the model to continue (and streamed
            first as text): "```python\nimport pytest\n\n\ndef test_" makes a small model write tests where,
            asked for tests, it wrote the solution again. A reasoning model then answers without thinking. Remote
            servers ignore it (the answer is then the model's own from its first word).
    """

    max_new_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_repetition: int | None = None
    reasoning: bool = True
    answer_prefix: str = ""
