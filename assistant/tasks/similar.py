"""Clauses the rules miss, found by likeness to clauses CUAD's annotators marked (nearest sentence embeddings)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.config import DEFAULT_CLAUSE_LIKENESS_THRESHOLD
from knowledge.embeddings import Embedder
from knowledge.lexical import cjk_chars

log = logging.getLogger(__name__)

EXAMPLES_FILE = Path(__file__).resolve().parent.parent / "data" / "cuad_clause_examples.jsonl"
# Categories whose CUAD spans are clauses (sentences). Parties and dates are names and dates: nothing to liken.
CATEGORIES = ("Expiration Date", "Renewal Term", "Notice Period to Terminate Renewal", "Governing Law",
              "Termination for Convenience", "Cap on Liability", "Uncapped Liability", "Non-Compete", "Exclusivity",
              "Anti-Assignment", "Change of Control", "License Grant", "IP Ownership Assignment", "Audit Rights",
              "Insurance", "Warranty Duration", "Liquidated Damages")
MIN_SENTENCE_CHARS = 40
MIN_CJK_SENTENCE_CHARS = 15


@dataclass(frozen=True)
class Example:
    """A clause CUAD's annotators marked: its category, text and the CUAD contract it comes from."""

    category: str
    text: str
    source: str = ""


@dataclass(frozen=True)
class Match:
    """A category's best sentence (its index) and its score (likeness, or the classifier's probability)."""

    category: str
    index: int
    score: float


class ClauseFinder(Protocol):
    """Finds, for categories no rule matched, the sentence most likely to be each (a possible finding)."""

    basis: str  # the findings' Finding.basis: how they were found ("similar", "classifier")
    threshold: float

    def handles(self, lang: str) -> bool: ...

    def best(self, sentences: Sequence[str], categories: Iterable[str]) -> list[Match]: ...

    def prepare(self) -> None:
        """The one-off work before the first search (embedding examples, training), done now."""


def long_enough(sentence: str) -> bool:
    """Long enough to be a clause: 40 characters, or 15 Chinese ones (a Chinese character says about a word)."""
    return len(sentence) >= MIN_SENTENCE_CHARS or cjk_chars(sentence) >= MIN_CJK_SENTENCE_CHARS


def load_examples(path: Path = EXAMPLES_FILE) -> list[Example]:
    """The examples file: JSON Lines of {"category", "text", "file"} (see assistant/data/README.md)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(r["category"], r["text"], r.get("file", "")) for r in rows]


class SimilarClauses:
    """Finds, per category, the contract sentence closest to that category's CUAD examples.

    Args:
        embedder: the knowledge base's embedder (its vectors are normalised).
        examples: annotated clauses; their vectors are computed on first use, once.
        threshold: a sentence counts when the mean cosine similarity to its `neighbours` nearest
            examples of the category reaches this (chosen on the CUAD dev sets; BENCHMARKS.md).
        neighbours: how many nearest examples are averaged (more is steadier than the single nearest).
    """

    basis = "similar"

    def __init__(self, embedder: Embedder, examples: Sequence[Example], threshold: float = DEFAULT_CLAUSE_LIKENESS_THRESHOLD,
                 neighbours: int = 3):
        self.embedder, self.threshold, self.neighbours = embedder, threshold, neighbours
        self._examples = [e for e in examples if e.category in CATEGORIES]
        self._vectors: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    @property
    def multilingual(self) -> bool:
        return self.embedder.multilingual

    def scores(self, sentences: Sequence[str]) -> dict[str, np.ndarray]:
        """Per category with examples, every sentence's similarity to it (mean cosine of its nearest examples)."""
        vectors = self.vectors()
        if not sentences or not vectors:
            return {}
        matrix = self.embedder.embed_batch(list(sentences))
        return {c: _mean_of_nearest(matrix @ v.T, self.neighbours) for c, v in vectors.items()}

    def handles(self, lang: str) -> bool:
        """English always (the examples are English); other languages only with a multilingual embedder."""
        return lang == "en" or self.multilingual

    def best(self, sentences: Sequence[str], categories: Iterable[str]) -> list[Match]:
        """For each category, its closest sentence among those more like it than like any other category."""
        return best_per_category(self.scores(sentences), categories, self.threshold)

    def prepare(self) -> None:
        self.vectors()

    def vectors(self) -> dict[str, np.ndarray]:
        with self._lock:
            if self._vectors is None:
                self._vectors = self._embed_examples()
        return self._vectors

    def _embed_examples(self) -> dict[str, np.ndarray]:
        if not self._examples:
            return {}
        matrix = self.embedder.embed_batch([e.text for e in self._examples])
        categories = np.array([e.category for e in self._examples])
        log.info("clause_examples_embedded examples=%d categories=%d embedder=%r", len(self._examples),
                 len(set(categories)), self.embedder.name)
        return {c: matrix[categories == c] for c in dict.fromkeys(categories)}


def best_per_category(scores: dict[str, np.ndarray], categories: Iterable[str], threshold: float) -> list[Match]:
    """For each wanted category, the best-scored sentence among those that score highest for it.

    A sentence counts for one class only, the one it scores highest for (an assignment clause is not also a
    change-of-control clause; `scores` may hold classes nobody asks for, such as "none"), and only when its
    score reaches the threshold.
    """
    if not scores:
        return []
    names = list(scores)
    nearest = np.argmax(np.stack([scores[c] for c in names], axis=1), axis=1)
    matches = []
    for category in (c for c in categories if c in scores):
        mine = np.where(nearest == names.index(category), scores[category], -1.0)
        index = int(np.argmax(mine))
        if mine[index] >= threshold:
            matches.append(Match(category, index, round(float(mine[index]), 3)))
    return matches


def _mean_of_nearest(similarities: np.ndarray, k: int) -> np.ndarray:
    """Row-wise mean of the k largest values (all of them when a row has fewer)."""
    k = min(k, similarities.shape[1])
    return np.sort(similarities, axis=1)[:, -k:].mean(axis=1)
