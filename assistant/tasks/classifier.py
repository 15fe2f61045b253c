"""Clauses the rules miss, found by a classifier trained on CUAD's annotated clauses (word n-grams, logistic regression).

English only: the examples are English and word n-grams do not cross languages (Chinese contracts fall back to
the likeness search with a multilingual embedder; see `find_possible` in contracts.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from assistant.config import DEFAULT_CLAUSE_CLASSIFIER_THRESHOLD
from assistant.tasks.similar import CATEGORIES, Example, Match, best_per_category

log = logging.getLogger(__name__)

OTHERS_FILE = Path(__file__).resolve().parent.parent / "data" / "cuad_other_sentences.jsonl"
NONE = "(none)"  # the class of sentences that are none of the categories


def load_other_sentences(path: Path = OTHERS_FILE) -> list[str]:
    """Sentences of CUAD contracts that are none of the clause categories (see assistant/data/README.md)."""
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class ClauseClassifier:
    """Per category, the contract sentence a classifier most confidently puts in it.

    TF-IDF of word 1-2-grams and a multinomial logistic regression over the categories plus "none", trained
    on first use (about 2 s) from CUAD's examples (positives) and CUAD sentences that are no clause (negatives).

    Args:
        examples: annotated clauses (the categories' positives).
        others: sentences that belong to no category.
        threshold: a sentence counts for a category when its probability reaches this (chosen on the CUAD
            dev sets by cross-validation over contracts; BENCHMARKS.md).
    """

    basis = "classifier"

    def __init__(self, examples: Sequence[Example], others: Sequence[str],
                 threshold: float = DEFAULT_CLAUSE_CLASSIFIER_THRESHOLD):
        self.threshold = threshold
        self._examples = [e for e in examples if e.category in CATEGORIES]
        self._others = list(others)
        self._model = None
        self._lock = threading.Lock()

    def handles(self, lang: str) -> bool:
        return lang == "en"

    def probabilities(self, sentences: Sequence[str]) -> dict[str, np.ndarray]:
        """Each class's probability for every sentence (the categories with examples, and NONE)."""
        vectorizer, model = self.model()
        if not sentences or model is None:
            return {}
        matrix = model.predict_proba(vectorizer.transform(list(sentences)))
        return {str(c): matrix[:, i] for i, c in enumerate(model.classes_)}

    def best(self, sentences: Sequence[str], categories: Iterable[str]) -> list[Match]:
        """For each category, its most probable sentence among those more probably it than anything else."""
        return best_per_category(self.probabilities(sentences), categories, self.threshold)

    def prepare(self) -> None:
        self.model()

    def model(self):
        """(vectorizer, model), trained once; (None, None) without examples."""
        with self._lock:
            if self._model is None:
                self._model = self._train()
        return self._model

    def _train(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        if not self._examples:
            return None, None
        started = time.perf_counter()
        texts = [e.text for e in self._examples] + self._others
        labels = [e.category for e in self._examples] + [NONE] * len(self._others)
        # min_df=2: an n-gram seen once is a contract's own wording, not a category's.
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        model = LogisticRegression(C=10.0, solver="newton-cg", max_iter=1000).fit(vectorizer.fit_transform(texts), labels)
        log.info("clause_classifier_trained examples=%d others=%d features=%d seconds=%.1f", len(self._examples),
                 len(self._others), len(vectorizer.vocabulary_), time.perf_counter() - started)
        return vectorizer, model
