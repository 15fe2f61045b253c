"""Contract-review evaluation on CUAD-style annotations: per-category precision, recall, F1; micro and macro.

    python -m evals.contracts --contracts DIR --annotations FILE.jsonl [--json OUT]
        [--classifier T] [--similarity T] [--no-classifier] [--rules-only]

DIR holds `<contract_id>.txt` or `.pdf`; each annotation line has `contract_id`, `category`,
`has_clause` (bool) and `spans` (list of {"text": ...}). A category found in a contract is a true
positive when the contract has the clause and one of the category's quotes overlaps a gold span (after
whitespace and case normalisation, one contains the other or they share a run of at least 20 characters);
a found category without such overlap is a false positive (and the gold clause a false negative). The review
quotes up to three places per category the rules find (the best match first); the report also gives the
figures of the first quote alone, from the same run, and the share of all quotes that overlap a gold span.
The review runs as the app runs it (rules, then possible findings for what they miss: the classifier for
English contracts, likeness to CUAD's examples for others; no model); the table scores both together, and a
second table compares rules alone from the same run. `--no-classifier` searches English contracts by likeness
instead (the system before the classifier).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Sequence

from assistant.config import DEFAULT_CLAUSE_CLASSIFIER_THRESHOLD, DEFAULT_CLAUSE_LIKENESS_THRESHOLD
from evals.retrieval import normalize
from evals.report import emit

MIN_SHARED_CHARS = 20


@dataclass
class CategoryScore:
    category: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    quotes: int = 0  # quotes given for the category over all contracts...
    quotes_right: int = 0  # ...and those that overlap a gold span

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def overlaps(quote: str, spans: Sequence[str]) -> bool:
    """Whether the quote overlaps any gold span (containment or a shared run of >= 20 characters)."""
    q = normalize(quote)
    for span in map(normalize, spans):
        if not q or not span:
            continue
        if q in span or span in q:
            return True
        match = SequenceMatcher(None, q, span, autojunk=False).find_longest_match(0, len(q), 0, len(span))
        if match.size >= MIN_SHARED_CHARS:
            return True
    return False


def score(predictions: dict[tuple[str, str], Sequence[str] | None], gold: list[dict]) -> dict[str, CategoryScore]:
    """Tally TP/FP/FN per category. predictions[(contract_id, category)]: the quotes, best first; None: not found."""
    scores: dict[str, CategoryScore] = {}
    for row in gold:
        s = scores.setdefault(row["category"], CategoryScore(row["category"]))
        quotes = predictions.get((row["contract_id"], row["category"]))
        spans = [sp["text"] for sp in row.get("spans") or []] if row["has_clause"] else []
        right = [overlaps(quote, spans) for quote in quotes or ()]
        s.quotes, s.quotes_right = s.quotes + len(right), s.quotes_right + sum(right)
        if any(right):
            s.tp += 1
        else:
            s.fp += quotes is not None
            s.fn += bool(row["has_clause"])
    return scores


def summary(scores: dict[str, CategoryScore]) -> dict:
    fields = ("tp", "fp", "fn", "quotes", "quotes_right")
    total = CategoryScore("micro", *(sum(getattr(s, f) for s in scores.values()) for f in fields))
    rated = list(scores.values())
    macro = {m: round(sum(getattr(s, m) for s in rated) / len(rated), 4) if rated else 0.0
             for m in ("precision", "recall", "f1")}
    quotes = {"given": total.quotes, "right": total.quotes_right,
              "precision": round(total.quotes_right / total.quotes, 4) if total.quotes else 0.0}
    return {"micro": {m: round(getattr(total, m), 4) for m in ("precision", "recall", "f1")}, "macro": macro,
            "quotes": quotes,
            "categories": {s.category: {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": round(s.precision, 4),
                                        "recall": round(s.recall, 4), "f1": round(s.f1, 4)} for s in rated}}


def predict(contracts_dir: Path, contract_ids: set[str], similarity: float | None = None,
            classifier: float | None = None) -> tuple[dict, float]:
    """Ingest each contract into a temporary store and run the review (no model).

    Returns {(contract_id, category): (quotes, best first, or None, basis)} and the seconds it took.

    similarity: the threshold of the search by likeness to CUAD's examples for what the rules miss; None: none.
    classifier: the threshold of the classifier for what the rules miss (English; before likeness); None: none.
    """
    from assistant.tasks.classifier import ClauseClassifier, load_other_sentences
    from assistant.tasks.contracts import ReviewReport, review_contract
    from assistant.tasks.similar import SimilarClauses, load_examples
    from knowledge.config import KnowledgeSettings
    from knowledge.embeddings import load_embedder
    from knowledge.kb import KnowledgeBase

    predictions: dict[tuple[str, str], tuple[str | None, str]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="contracts-eval-") as tmp:
        settings = KnowledgeSettings(data_dir=Path(tmp))
        embedder = load_embedder(settings)
        kb = KnowledgeBase(settings, embedder)
        examples = load_examples()
        finders = [ClauseClassifier(examples, load_other_sentences(), threshold=classifier)] * (classifier is not None)
        finders += [SimilarClauses(embedder, examples, threshold=similarity)] * (similarity is not None)
        for path in sorted(p for p in contracts_dir.iterdir() if p.stem in contract_ids):
            result = kb.ingest_file(path)
            if not result.ok:
                logging.getLogger(__name__).warning("contract_unreadable file=%s error=%s", path.name, result.error)
                continue
            events = review_contract(kb.chunks(result.doc_id), finders=finders)
            report = [e for e in events if isinstance(e, ReviewReport)][0]
            predictions |= {(path.stem, f.category): (tuple(p.quote for p in f.places) or None, f.basis)
                            for f in report.findings}
        kb.close()
    return predictions, time.perf_counter() - started


def load_annotations(path: Path) -> list[dict]:
    """The annotation lines of a CUAD-style set (JSON Lines)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def comparison(result: dict, rules: dict) -> str:
    """Rules alone, rules plus the search for what they miss, and the first quotes alone: micro, from the same run."""
    searches = [f"classifier (threshold {result['classifier']})"] * (result["classifier"] is not None)
    searches += [f"likeness (threshold {result['similarity']})"] * (result["similarity"] is not None)
    both = "rules + " + ", then ".join(searches) if searches else "rules only (no search for what they miss)"
    rows = [("rules only", rules["micro"])] * bool(searches)
    rows += [(both, result["micro"]), (both + ": first quote only", result["first_quote_only"])]
    lines = ["| micro | precision | recall | F1 |", "|---|---|---|---|"]
    lines += [f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |" for name, m in rows]
    if searches:
        possible = result["possible"]
        lines.append(f"\npossible findings (no rule matched): {possible['found']}, right {possible['right']}")
    return "\n".join(lines)


def quotes_line(result: dict) -> str:
    q = result["quotes"]
    return f"quotes given: {q['given']}, overlapping a gold span: {q['right']} (quote precision {q['precision']:.3f})"


def split(predictions: dict, gold: list[dict]) -> tuple[dict, dict, dict, dict]:
    """Scores of everything found, of rule findings alone, of the first quotes alone, and the count of possible
    findings and right ones."""
    both = summary(score({k: quotes for k, (quotes, _) in predictions.items()}, gold))
    rules = summary(score({k: quotes if basis == "rules" else None for k, (quotes, basis) in predictions.items()}, gold))
    first = summary(score({k: quotes and quotes[:1] for k, (quotes, _) in predictions.items()}, gold))
    similar = score({k: quotes if basis != "rules" else None for k, (quotes, basis) in predictions.items()}, gold)
    right = sum(s.tp for s in similar.values())
    return both, rules, first, {"found": right + sum(s.fp for s in similar.values()), "right": right}


def format_markdown(result: dict) -> str:
    lines = ["| category | TP | FP | FN | precision | recall | F1 |", "|---|---|---|---|---|---|---|"]
    for name, s in sorted(result["categories"].items()):
        lines.append(f"| {name} | {s['tp']} | {s['fp']} | {s['fn']} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1']:.2f} |")
    for avg in ("micro", "macro"):
        m = result[avg]
        lines.append(f"| **{avg}** | | | | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.contracts", description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=Path, required=True)
    parser.add_argument("--annotations", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--similarity", type=float, default=DEFAULT_CLAUSE_LIKENESS_THRESHOLD,
                        help="threshold of the likeness search for categories the rules miss (default: the app's)")
    parser.add_argument("--classifier", type=float, default=DEFAULT_CLAUSE_CLASSIFIER_THRESHOLD,
                        help="threshold of the classifier for what the rules miss in English contracts (default: the app's)")
    parser.add_argument("--no-classifier", action="store_true", help="likeness search only (the system before it)")
    parser.add_argument("--rules-only", action="store_true", help="no search for what the rules miss")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    gold = load_annotations(args.annotations)
    similarity = None if args.rules_only else args.similarity
    classifier = None if args.rules_only or args.no_classifier else args.classifier
    predictions, seconds = predict(args.contracts, {row["contract_id"] for row in gold}, similarity, classifier)
    result, rules, first, possible = split(predictions, gold)
    result |= {"similarity": similarity, "classifier": classifier, "rules_only": rules["micro"],
               "first_quote_only": first["micro"], "possible": possible, "seconds": round(seconds, 2),
               "contracts": len({r["contract_id"] for r in gold})}
    emit(format_markdown(result) + "\n\n" + comparison(result, rules) + "\n\n" + quotes_line(result) +
         f"\n\n{result['contracts']} contracts in {seconds:.1f} s", result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
