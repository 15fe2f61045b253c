"""DeepSeek-R1 conventions: split the `<think>` stream into reasoning and answer, prepare chat turns."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from assistant.events import ReasoningDelta, TextDelta

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"
_THINK_BLOCK = re.compile(r"^.*?</think>\s*|<think>.*?</think>\s*", re.DOTALL)

Message = dict[str, str]


def _held_back(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag` (it may be a split tag)."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:n]):
            return n
    return 0


def opens_reasoning(rendered: str) -> bool:
    """Whether a rendered prompt ends inside `<think>` (newer R1-distill templates; older ones let the model open it)."""
    return rendered.rstrip().endswith(OPEN_TAG)


def reasoning_skip(rendered: str, is_reasoning_model: bool) -> str:
    """What to append to a rendered prompt so a reasoning model answers at once: the rest of an empty `<think>`
    block ("" for a model that does not reason)."""
    if opens_reasoning(rendered):
        return f"\n{CLOSE_TAG}\n\n"
    return f"{OPEN_TAG}\n\n{CLOSE_TAG}\n\n" if is_reasoning_model else ""


class ThinkSplitter:
    """Turns a streamed R1 completion into ReasoningDelta / TextDelta events.

    R1-distill templates end the prompt with `<think>\\n`, so the completion starts inside the
    reasoning and leaves it at `</think>`. Models that open the tag themselves, and models that
    never think at all, are handled too; tags split across chunks are reassembled.

    Args:
        starts_in_reasoning: True when the prompt already opened `<think>`.
    """

    def __init__(self, starts_in_reasoning: bool = False) -> None:
        self._state = "reasoning" if starts_in_reasoning else "start"
        self._buffer = ""
        self._pending: list[tuple[str, str]] = []

    def feed(self, chunk: str) -> Iterator[TextDelta | ReasoningDelta]:
        """Consume one chunk of completion text; yield what can be emitted safely."""
        self._buffer += chunk
        while self._buffer:
            if not self._step():
                break
        yield from self._drain()

    def finish(self) -> Iterator[TextDelta | ReasoningDelta]:
        """Flush whatever is still held back at the end of the stream."""
        if self._state == "start" and self._buffer.strip() == "":
            self._buffer = ""
        self._state = "reasoning" if self._state == "reasoning" else "answer"
        self._pending.append((self._state, self._buffer))
        self._buffer = ""
        yield from self._drain()

    def _step(self) -> bool:
        """Advance the state machine on the buffer; False when more input is needed."""
        if self._state == "start":
            return self._step_start()
        if self._state == "reasoning":
            return self._step_until(CLOSE_TAG, "reasoning")
        if self._state == "answer_start":  # drop the blank lines after </think>
            self._buffer = self._buffer.lstrip()
            self._state = "answer" if self._buffer else "answer_start"
            return bool(self._buffer)
        self._pending.append(("answer", self._buffer))
        self._buffer = ""
        return False

    def _step_start(self) -> bool:
        stripped = self._buffer.lstrip()
        if stripped.startswith(OPEN_TAG):
            self._buffer = stripped[len(OPEN_TAG):]
            self._state = "reasoning"
            return True
        if stripped == "" or OPEN_TAG.startswith(stripped):
            return False  # whitespace or a partial "<thi": wait
        self._state = "answer"  # the model does not think
        return True

    def _step_until(self, tag: str, kind: str) -> bool:
        index = self._buffer.find(tag)
        if index >= 0:
            self._pending.append((kind, self._buffer[:index]))
            self._buffer = self._buffer[index + len(tag):]
            self._state = "answer_start"
            return True
        keep = _held_back(self._buffer, tag)
        cut = len(self._buffer) - keep
        self._pending.append((kind, self._buffer[:cut]))
        self._buffer = self._buffer[cut:]
        return False

    def _drain(self) -> Iterator[TextDelta | ReasoningDelta]:
        pending, self._pending = self._pending, []
        for kind, text in pending:
            if text:
                yield ReasoningDelta(text) if kind == "reasoning" else TextDelta(text)


def strip_reasoning(text: str) -> str:
    """Remove a `<think>...</think>` block (or everything up to a lone `</think>`) from an earlier answer."""
    if CLOSE_TAG not in text:
        return text
    return _THINK_BLOCK.sub("", text, count=1)


def prepare_messages(messages: Sequence[Message], no_system_prompt: bool) -> list[Message]:
    """Shape chat turns for the model.

    Earlier assistant turns lose their reasoning (R1 must not be fed its own thoughts back). For R1
    distills (`no_system_prompt`), system instructions move into the first user turn.

    Args:
        messages: `{"role", "content"}` dicts, oldest first.
        no_system_prompt: fold system messages into the first user message.

    Returns:
        New list of messages.
    """
    shaped = [
        {"role": m["role"], "content": strip_reasoning(m["content"]) if m["role"] == "assistant" else m["content"]}
        for m in messages
    ]
    if not no_system_prompt:
        return shaped
    system = "\n\n".join(m["content"] for m in shaped if m["role"] == "system")
    rest = [m for m in shaped if m["role"] != "system"]
    if system and rest and rest[0]["role"] == "user":
        rest[0] = {"role": "user", "content": f"{system}\n\n{rest[0]['content']}"}
    elif system:
        rest.insert(0, {"role": "user", "content": system})
    return rest
