"""Token-budgeted, sentence-respecting, CJK-aware chunking that keeps page numbers and character offsets."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from knowledge.types import Page

# Offsets of each token of each text: the embedding tokenizer's view of the text.
TokenOffsets = Callable[[list[str]], list[list[tuple[int, int]]]]

# A sentence ends after . ! ? (followed by space/end) or after CJK 。！？；, plus closing quotes/brackets;
# a blank line ends a paragraph. A full stop does not end one after a company suffix, a title or "e.g."
# ("Acme, Inc. (the Company)", "Mr. Smith"), nor after a month or "No." when a number follows ("Dec. 8, 2005").
_NO_END_AFTER = ("Inc", "Ltd", "Corp", "Co", "Mr", "Mrs", "Ms", "Dr", "e.g", "i.e", "vs")
_NO_END_BEFORE_NUMBER = ("Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "No")
_FULL_STOP = ("".join(rf"(?<!\b{re.escape(w)})" for w in _NO_END_AFTER) + r"\.(?=\s|$)"
              + "(?!(?:" + "|".join(rf"(?<=(?<![a-z]){w}\.)" for w in _NO_END_BEFORE_NUMBER) + r")\s+\d)")
_SENTENCE_END = re.compile(rf"(?:{_FULL_STOP}|[!?;](?=\s|$)|[。！？；!?]|\n\s*\n)[\"'”’」』）)\]]*", re.IGNORECASE)


@dataclass(frozen=True)
class TextSpan:
    """A chunk before it is stored: its page, order within the document, text and offsets in the page."""

    page: int
    ordinal: int
    text: str
    start_char: int
    end_char: int
    tokens: int


class Chunker:
    """Packs whole sentences into chunks of at most `chunk_tokens` tokens, overlapping by `overlap`.

    A sentence longer than the budget is cut at token boundaries (the only time a sentence is cut).
    Chunks never cross a page, so every chunk cites exactly one page.
    """

    def __init__(self, token_offsets: TokenOffsets, chunk_tokens: int = 512, overlap: float = 0.2):
        if chunk_tokens < 8:
            raise ValueError("chunk_tokens must be at least 8")
        self._offsets = token_offsets
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = int(chunk_tokens * overlap)

    def split_pages(self, pages: Sequence[Page]) -> list[TextSpan]:
        """Chunk every page with text, numbering chunks across the document."""
        pages = [p for p in pages if p.text.strip()]
        offsets = self._offsets([p.text for p in pages]) if pages else []
        spans: list[TextSpan] = []
        for page, page_offsets in zip(pages, offsets):
            for start, end, tokens in self._pack(page.text, page_offsets):
                text = page.text[start:end]
                spans.append(TextSpan(page.number, len(spans), text, start, end, tokens))
        return spans

    def _pack(self, text: str, offsets: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
        units = self._units(text, offsets)
        chunks: list[tuple[int, int, int]] = []
        first = 0
        while first < len(units):
            last, total = first, units[first][2]
            while last + 1 < len(units) and total + units[last + 1][2] <= self.chunk_tokens:
                last += 1
                total += units[last][2]
            chunks.append((units[first][0], units[last][1], total))
            if last + 1 >= len(units):
                break
            first = self._overlap_start(units, first, last)
        return chunks

    def _overlap_start(self, units: list[tuple[int, int, int]], first: int, last: int) -> int:
        """First unit of the next chunk: step back over trailing units within the overlap budget."""
        start, carried = last + 1, 0
        while start - 1 > first and carried + units[start - 1][2] <= self.overlap_tokens:
            start -= 1
            carried += units[start][2]
        return start

    def _units(self, text: str, offsets: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
        """Sentences as (start, end, tokens); oversized sentences split into budget-sized pieces."""
        starts = [s for s, _ in offsets]
        units = []
        for start, end in sentence_spans(text):
            lo, hi = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
            if hi - lo <= self.chunk_tokens:
                units.append((start, end, hi - lo))
                continue
            for piece in range(lo, hi, self.chunk_tokens):
                stop = min(piece + self.chunk_tokens, hi)
                piece_end = offsets[stop][0] if stop < hi else end
                units.append((offsets[piece][0] if piece > lo else start, piece_end, stop - piece))
        return [u for u in units if u[1] > u[0]]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, covering all non-space text."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
