"""Contract-review evaluation on CUAD-style annotations: per-category precision, recall, F1; micro and macro.

    python -m evals.contracts --contracts DIR --annotations FILE.jsonl [--json OUT]

DIR holds `<contract_id>.txt` or `.pdf`; each annotation line has `contract_id`, `category`,
`has_clause` (bool) and `spans` (list of {"text": ...}). A category found in a contract is a true
positive when the contract has the clause and the quoted text overlaps a gold span (after whitespace
and case normalisation, one contains the other or they share a run of at least 20 characters);
a found clause without such overlap is a false positive (and the gold clause a false negative).
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

from evals.retrieval import normalize
from evals.report import emit

MIN_SHARED_CHARS = 20


@dataclass
class CategoryScore:
    category: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

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


def score(predictions: dict[tuple[str, str], str | None], gold: list[dict]) -> dict[str, CategoryScore]:
    """Tally TP/FP/FN per category. predictions[(contract_id, category)] is the quote, or None if not found."""
    scores: dict[str, CategoryScore] = {}
    for row in gold:
        key = (row["contract_id"], row["category"])
        s = scores.setdefault(row["category"], CategoryScore(row["category"]))
        quote = predictions.get(key)
        spans = [sp["text"] for sp in row.get("spans") or []]
        if row["has_clause"] and quote is not None and overlaps(quote, spans):
            s.tp += 1
        else:
            s.fp += quote is not None
            s.fn += bool(row["has_clause"])
    return scores


def summary(scores: dict[str, CategoryScore]) -> dict:
    total = CategoryScore("micro", *(sum(getattr(s, f) for s in scores.values()) for f in ("tp", "fp", "fn")))
    rated = list(scores.values())
    macro = {m: round(sum(getattr(s, m) for s in rated) / len(rated), 4) if rated else 0.0
             for m in ("precision", "recall", "f1")}
    return {"micro": {m: round(getattr(total, m), 4) for m in ("precision", "recall", "f1")}, "macro": macro,
            "categories": {s.category: {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": round(s.precision, 4),
                                        "recall": round(s.recall, 4), "f1": round(s.f1, 4)} for s in rated}}


def predict(contracts_dir: Path, contract_ids: set[str]) -> tuple[dict, float]:
    """Ingest each contract into a temporary store and run the review (rules only, no model)."""
    from assistant.tasks.contracts import ReviewReport, review_contract
    from knowledge.config import KnowledgeSettings
    from knowledge.embeddings import load_embedder
    from knowledge.kb import KnowledgeBase

    predictions: dict[tuple[str, str], str | None] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="contracts-eval-") as tmp:
        settings = KnowledgeSettings(data_dir=Path(tmp))
        kb = KnowledgeBase(settings, load_embedder(settings))
        for path in sorted(p for p in contracts_dir.iterdir() if p.stem in contract_ids):
            result = kb.ingest_file(path)
            if not result.ok:
                logging.getLogger(__name__).warning("contract_unreadable file=%s error=%s", path.name, result.error)
                continue
            report = [e for e in review_contract(kb.chunks(result.doc_id)) if isinstance(e, ReviewReport)][0]
            predictions |= {(path.stem, f.category): (f.quote if f.found else None) for f in report.findings}
        kb.close()
    return predictions, time.perf_counter() - started


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
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    gold = [json.loads(line) for line in args.annotations.read_text(encoding="utf-8").splitlines() if line.strip()]
    predictions, seconds = predict(args.contracts, {row["contract_id"] for row in gold})
    result = summary(score(predictions, gold)) | {"seconds": round(seconds, 2), "contracts": len({r["contract_id"] for r in gold})}
    emit(format_markdown(result) + f"\n\n{result['contracts']} contracts in {seconds:.1f} s", result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
