"""Can the model tell answerable from unanswerable questions? A diagnostic for a refusal check.

    python -m evals.answerability --docs evals/data/squad_v2/docs --questions evals/data/squad_v2/questions.jsonl --skip 40

For each question the model sees its gold document and is asked whether that document answers exactly
this question (prompt below); the score is P(yes) / (P(yes) + P(no)) of the reply's first token. Reports
the ROC AUC of that score (answerable vs `is_impossible`) and, per threshold, the refusal rate on
unanswerable questions and the false-refusal rate on answerable ones. An AUC near 0.5 means such a check
cannot help: refusals and false refusals would rise together. `--skip 40` leaves out the 40 questions
`evals.answers` reports on, so a threshold chosen here is not chosen on them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from evals.report import emit
from evals.retrieval import load_questions

PROMPT = ("Read the passage and the question.\n\nPassage:\n{passage}\n\nQuestion: {question}\n\n"
          "Can this exact question be answered using only the passage? Some questions are traps: they reuse the "
          "passage's words but change a detail (a different date, name, place, or relation), so the passage does "
          "not answer them. Reply with yes or no only.")
THRESHOLDS = (0.3, 0.5, 0.7, 0.9)


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not positive or not negative:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def score(model, passage: str, question: str) -> float:
    """P(yes) normalised over yes/no for one question."""
    return p_yes(model, PROMPT.format(passage=passage, question=question))


def p_yes(model, prompt: str) -> float:
    """The model's P(yes) / (P(yes) + P(no)) for the first token of its reply to one user message."""
    probs = model.choice_probabilities([{"role": "user", "content": prompt}], ["yes", "no"])
    return probs["yes"] / max(probs["yes"] + probs["no"], 1e-9)


def evaluate(model, docs: Path, questions_file: Path, skip: int = 0, limit: int | None = None) -> dict:
    questions = load_questions(questions_file)[skip:][:limit]
    rows = [{"id": q.id, "impossible": q.is_impossible,
             "score": score(model, (docs / f"{q.doc_id}.txt").read_text(encoding="utf-8"), q.question)}
            for q in questions]
    answerable = [r["score"] for r in rows if not r["impossible"]]
    impossible = [r["score"] for r in rows if r["impossible"]]
    at = {str(t): {"refusal_unanswerable": sum(s < t for s in impossible) / max(len(impossible), 1),
                   "false_refusal": sum(s < t for s in answerable) / max(len(answerable), 1)} for t in THRESHOLDS}
    return {"model": model.info.label, "questions": len(rows), "answerable": len(answerable),
            "impossible": len(impossible), "auc": round(auc(answerable, impossible), 3), "thresholds": at, "rows": rows}


def format_markdown(report: dict) -> str:
    lines = [f"{report['model']}: {report['questions']} questions ({report['impossible']} unanswerable), "
             f"AUC {report['auc']:.3f}", "", "| refuse when P(yes) < | refusal, unanswerable | false refusal |",
             "|---:|---:|---:|"]
    lines += [f"| {t} | {v['refusal_unanswerable']:.2f} | {v['false_refusal']:.2f} |"
              for t, v in report["thresholds"].items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.answerability", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N questions")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    from assistant.config import AssistantSettings
    from assistant.model import load_model

    settings = AssistantSettings(warmup=False)
    report = evaluate(load_model(settings.chat_model, settings), args.docs, args.questions, args.skip, args.limit)
    emit(format_markdown(report), report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
