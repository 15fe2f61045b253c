"""Operator-configured sensitive-word filter on what visitors send and what the model says; every hit is logged.

Only the visitor's own words are a reason to refuse: a task whose prompt also holds document text (chat's
sources) checks the visitor's question with `FilteredEngine.refusal` and streams with `stream_masked`.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.events import Done, Event, GenerationParams, Notice, ReasoningDelta, TextDelta, Usage
from assistant.reasoning import Message
from knowledge.lexical import has_cjk

log = logging.getLogger(__name__)

MASK = "***"
REFUSALS = {
    "en": "This request contains words the operator of this service does not allow, so it was not sent to the model.",
    "zh": "这个请求包含本服务运营方不允许的词语，因此没有发送给模型。",
}


def document_stream(engine):
    """`engine.stream` without the word filter's input check, for prompts holding document text (still masked)."""
    return getattr(engine, "stream_masked", engine.stream)


class SensitiveWordFilter:
    """Case-insensitive, NFKC-normalised matching of a word list (English or Chinese, no word boundaries)."""

    def __init__(self, words: Sequence[str]):
        self.words = sorted({_norm(w) for w in words if w.strip()}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, self.words))) if self.words else None

    @classmethod
    def from_settings(cls, words: Sequence[str], path: Path | None) -> SensitiveWordFilter:
        listed = list(words)
        if path is not None:
            listed += [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()
                       if line.strip() and not line.startswith("#")]
        return cls(listed)

    def __bool__(self) -> bool:
        return self._pattern is not None

    @property
    def longest(self) -> int:
        return len(self.words[0]) if self.words else 0

    def find(self, text: str) -> list[str]:
        """The listed words present in the text."""
        return sorted(set(self._pattern.findall(_norm(text)))) if self._pattern else []

    def redact(self, text: str) -> str:
        """The text with every listed word masked; everything else exactly as it was (case, width, punctuation)."""
        spans = self.spans(text)
        for start, end in reversed(spans):
            text = text[:start] + MASK + text[end:]
        return text

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the listed words are in `text` (its own positions, matched on the normalised text), merged."""
        if not self._pattern:
            return []
        normalised, starts, ends = _normalised(text)
        spans: list[tuple[int, int]] = []
        for match in self._pattern.finditer(normalised):
            start, end = starts[match.start()], ends[match.end() - 1]
            if spans and start < spans[-1][1]:  # two words inside one character's expansion (e.g. a ligature)
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
        return spans


class FilteredEngine:
    """Wraps an Engine: refuses input with listed words; masks them in the streamed output."""

    def __init__(self, engine, words: SensitiveWordFilter):
        self._engine = engine
        self._filter = words
        self.info = engine.info

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def refusal(self, text: str) -> Notice | None:
        """The refusal notice, in the text's language (Chinese or English), when the visitor's text has listed words."""
        hits = self._filter.find(text)
        if not hits:
            return None
        log.warning("sensitive_words_blocked direction=input count=%d words=%s", len(hits), hits)
        return Notice(REFUSALS["zh" if has_cjk(text) else "en"], "error")

    def stream(self, messages: Sequence[Message], params: GenerationParams | None = None,
               cancel: threading.Event | None = None) -> Iterator[Event]:
        """Refuse when the last user message has listed words (for prompts that are the visitor's own words)."""
        last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        notice = self.refusal(last_user)
        if notice is not None:
            yield notice
            yield Done("stop", Usage(0, 0))
            return
        yield from self.stream_masked(messages, params, cancel)

    def stream_masked(self, messages: Sequence[Message], params: GenerationParams | None = None,
                      cancel: threading.Event | None = None) -> Iterator[Event]:
        """Output masking only: for callers that checked the visitor's own words with `refusal`."""
        yield from self._masked(self._engine.stream(messages, params, cancel))

    def _masked(self, events: Iterator[Event]) -> Iterator[Event]:
        """Hold back the last (longest word - 1) characters of each kind so a word split across deltas is caught."""
        pending = {TextDelta: "", ReasoningDelta: ""}
        keep = max(self._filter.longest - 1, 0)
        for event in events:
            kind = type(event)
            if kind not in pending:
                yield from self._flush(pending) if isinstance(event, Done) else ()
                yield event
                continue
            text = pending[kind] + event.text
            cut = _safe_cut(text, keep, self._filter)
            pending[kind] = text[cut:]
            if cut:
                yield kind(self._checked(text[:cut]))

    def _flush(self, pending: dict) -> Iterator[Event]:
        for kind, text in pending.items():
            if text:
                yield kind(self._checked(text))
                pending[kind] = ""

    def _checked(self, text: str) -> str:
        hits = self._filter.find(text)
        if hits:
            log.warning("sensitive_words_masked direction=output count=%d words=%s", len(hits), hits)
        return self._filter.redact(text)


def _safe_cut(text: str, keep: int, words: SensitiveWordFilter) -> int:
    """Where to split: before the held-back tail, but never inside a listed word."""
    cut = max(len(text) - keep, 0)
    for start, end in words.spans(text):
        if start < cut < end:
            cut = end
    return cut


def _normalised(text: str) -> tuple[str, list[int], list[int]]:
    """`_norm(text)` built piece by piece (a character with its combining marks), with, for each normalised
    character, where its piece starts and ends in `text`: NFKC and case folding change lengths ("ﬁ" is "fi")."""
    pieces, start = [], 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]):
            pieces.append((start, i))
            start = i
    normalised, starts, ends = [], [], []
    for start, end in pieces:
        part = _norm(text[start:end])
        normalised.append(part)
        starts += [start] * len(part)
        ends += [end] * len(part)
    return "".join(normalised), starts, ends


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()
