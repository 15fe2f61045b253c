"""Could the model check the possible findings' candidates? A diagnostic for a verifier of possible findings.

    python -m evals.clause_check --sets cuad cuad_dev2 [--finder classifier|likeness] [--json OUT]

For every (contract, category) of the given CUAD sets, the search's candidate sentence (the classifier or the
likeness search alone, as the app runs it but before the rules) is shown to the model, which is asked whether
it is a clause of that category; the score is P(yes) / (P(yes) + P(no)) of the reply's first token. A candidate
is right when it quotes a gold span. Reports the ROC AUC of that score and of the search's own score
(right vs wrong candidates), and per threshold how many candidates and right ones a check would keep.
Run it on the dev sets only: a threshold chosen here must not be chosen on the held-out sets.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from evals.answerability import auc, p_yes
from evals.contracts import load_annotations, overlaps
from evals.report import emit

DATA = Path(__file__).resolve().parent / "data"
PROMPT = ("Contract clause categories are from the CUAD dataset. Category: {category} ({description}).\n\n"
          "Passage:\n{quote}\n\nIs this passage a {category} clause? Reply with yes or no only.")
THRESHOLDS = (0.3, 0.5, 0.7, 0.8, 0.9)


def candidates(finder, kb, set_dir: Path) -> list[dict]:
    """The search's candidate per (contract, category) of one CUAD set, and whether it quotes a gold span."""
    from assistant.tasks.contracts import find_possible
    from assistant.tasks.clauses import BY_NAME

    gold = load_annotations(set_dir / "annotations.jsonl")
    rows = []
    for path in sorted((set_dir / "contracts").iterdir()):
        wanted = {g["category"]: g for g in gold if g["contract_id"] == path.stem}
        chunks = kb.chunks(kb.ingest_file(path).doc_id)
        for finding in find_possible(finder, chunks, [BY_NAME[c] for c in wanted], "en"):
            spans = [s["text"] for s in wanted[finding.category]["spans"]]
            rows.append({"contract": path.stem, "category": finding.category, "quote": finding.quote,
                         "score": finding.score, "right": bool(spans) and overlaps(finding.quote, spans)})
    return rows


def check(model, rows: list[dict]) -> list[dict]:
    """Add the model's P(yes) to each candidate."""
    from assistant.tasks.clauses import BY_NAME

    for row in rows:
        prompt = PROMPT.format(category=row["category"], description=BY_NAME[row["category"]].description,
                               quote=row["quote"][:1500])
        row["p_yes"] = p_yes(model, prompt)
    return rows


def summarise(model_label: str, rows: list[dict]) -> dict:
    right, wrong = [r for r in rows if r["right"]], [r for r in rows if not r["right"]]
    kept = {str(t): {"kept": sum(r["p_yes"] >= t for r in rows), "right": sum(r["p_yes"] >= t for r in right)}
            for t in THRESHOLDS}
    return {"model": model_label, "candidates": len(rows), "right": len(right),
            "auc_model": round(auc([r["p_yes"] for r in right], [r["p_yes"] for r in wrong]), 3),
            "auc_score": round(auc([r["score"] for r in right], [r["score"] for r in wrong]), 3),
            "thresholds": kept, "rows": rows}


def format_markdown(report: dict) -> str:
    lines = [f"{report['model']}: {report['candidates']} candidates, {report['right']} right; ROC AUC of P(yes) "
             f"{report['auc_model']:.3f}, of the search's score {report['auc_score']:.3f}", "",
             "| keep when P(yes) >= | kept | right among kept |", "|---:|---:|---:|"]
    lines += [f"| {t} | {v['kept']} | {v['right']} |" for t, v in report["thresholds"].items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.clause_check", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["cuad", "cuad_dev2"], help="CUAD sets under evals/data")
    parser.add_argument("--finder", choices=("classifier", "likeness"), default="classifier",
                        help="the search whose candidates are checked (English contracts: the classifier)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    from assistant.config import AssistantSettings
    from assistant.model import load_model
    from assistant.tasks.classifier import ClauseClassifier, load_other_sentences
    from assistant.tasks.similar import SimilarClauses, load_examples
    from knowledge.config import KnowledgeSettings
    from knowledge.embeddings import load_embedder
    from knowledge.kb import KnowledgeBase

    settings = AssistantSettings(warmup=False)
    with tempfile.TemporaryDirectory(prefix="clause-check-") as tmp:
        knowledge = KnowledgeSettings(data_dir=Path(tmp))
        embedder = load_embedder(knowledge)
        kb = KnowledgeBase(knowledge, embedder)
        finder = (ClauseClassifier(load_examples(), load_other_sentences(), settings.clause_classifier_threshold)
                  if args.finder == "classifier" else
                  SimilarClauses(embedder, load_examples(), threshold=settings.clause_likeness_threshold))
        rows = [row for name in args.sets for row in candidates(finder, kb, DATA / name)]
        kb.close()
    model = load_model(settings.chat_model, settings)
    report = summarise(model.info.label, check(model, rows))
    emit(format_markdown(report), report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
