"""Task-level events (sources, answers, findings, progress) streamed next to the generation events."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """A numbered passage the answer may cite as [number].

    Attributes:
        relevance: 0..1, the better of the two below (1 for a passage of a document read whole for a summary).
        similarity: the embedding's cosine similarity to the question (None: not searched by meaning).
        word_share: the share of the question's own words the passage (or its file name) holds (None: not searched).
    """

    number: int
    file_name: str
    page: int
    text: str
    relevance: float
    similarity: float | None = None
    word_share: float | None = None


@dataclass(frozen=True)
class SummaryScope:
    """What a summary request was given: passages spread over whole documents, not the best-matching ones.

    Attributes:
        documents: the documents the passages come from, in the order given to the model.
        used: passages given to the model.
        total: passages the summarised documents have (used < total: the summary leaves parts out).
    """

    documents: tuple[str, ...]
    used: int
    total: int


@dataclass(frozen=True)
class Sources:
    """The passages given to the model, before it starts answering (`summary`: set when they were spread over whole
    documents for a summary request)."""

    items: tuple[Source, ...]
    query: str
    summary: SummaryScope | None = None


@dataclass(frozen=True)
class Answer:
    """The finished answer: which sources it cited, and how much to trust it.

    Attributes:
        text: the visible answer.
        cited: source numbers cited, in order of first use (invalid numbers removed).
        confidence: 0..1, from retrieval relevance and citation coverage (README explains).
        not_found: the documents do not contain the answer (said instead of answering from memory).
        invalid_citations: numbers the model wrote that match no source.
        attributed: numbers in `cited` that the model did not write: added after the answer to
            sentences whose terms one source clearly holds (see assistant.tasks.chat.attribute).
        unanswerable: the answerability probe's P(the sources do not answer the question); None when no
            probe ran (see assistant.answerability).
        unsupported_numbers: numbers the answer states that none of its sources holds ("3410" where the
            passage says 4410): the confidence is halved and the reader asked to check them.
        unsupported_words: names and rates the answer states that its sources, their file names and the question
            do not ("Acme" where the contract names Northwind, "每月" for "per year"): treated like numbers.
        off_question: the passage sentences the answer rests on share no word with the question ("Lena Brandt",
            the data protection officer, for who approves claims): the confidence is halved and the reader warned.
        repeats_question: the answer has no words of its own, only the question's (or a bare "[1]"): the same.
        absent_numbers: for a "not found" reply, the numbers the question states that no passage holds ("9th"
            in "the 9th century" over passages about 911): why the model was not asked.
    """

    text: str
    cited: tuple[int, ...]
    confidence: float
    not_found: bool = False
    invalid_citations: tuple[int, ...] = field(default_factory=tuple)
    attributed: tuple[int, ...] = field(default_factory=tuple)
    unanswerable: float | None = None
    unsupported_numbers: tuple[str, ...] = field(default_factory=tuple)
    unsupported_words: tuple[str, ...] = field(default_factory=tuple)
    absent_numbers: tuple[str, ...] = field(default_factory=tuple)
    off_question: bool = False
    repeats_question: bool = False


@dataclass(frozen=True)
class Progress:
    """Work done so far, e.g. chunks scanned in a contract review."""

    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class Explaining:
    """The model starts on a finding's explanation, the `number`-th of `total`: the slow part of a contract review."""

    category: str
    number: int
    total: int
