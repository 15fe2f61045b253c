"""Answer evaluation: grounded chat over a fresh store; exact match, token F1, citation precision, refusals.

    python -m evals.answers --docs evals/data/squad_en/docs --questions evals/data/squad_en/questions.jsonl

Same question format as evals.retrieval. For answerable questions: exact match and token F1 of the
answer (citation markers removed) against the best gold answer, SQuAD-style normalisation (Chinese
scored per character); citation precision = share of cited sources whose page contains a gold answer;
false refusals = answerable questions answered "not in your documents". For `is_impossible`
questions: the refusal rate.

Whether the confidence means anything: an answer is *right* when it contains a gold answer (after the same
normalisation; for an unanswerable question, when it refuses). `confidence_auc` is the chance that a right
answer carries a higher confidence than a wrong one (0.5: the number says nothing), and the calibration
table gives, per confidence band, how many answers fell there and how many of them were right.
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import re
import string
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from evals.answerability import auc
from evals.retrieval import Question, document_paths, is_hit, load_questions, percentile
from evals.report import emit

_PUNCT = set(string.punctuation) | set("，。！？；：、“”‘’（）《》【】")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MARKER = re.compile(r"\[\d+\]")  # a citation marker, [n]


@dataclass
class AnswerReport:
    model: str
    questions: int
    answerable: int
    impossible: int
    exact_match: float
    f1: float
    citation_precision: float
    citations: int
    attributed_citations: int
    model_citation_precision: float | None  # None: the model wrote no marker
    answered_with_citation: float
    refusal_rate_impossible: float
    gate_refusals: int  # of all questions, refused by the relevance gate (nothing relevant retrieved)
    false_refusal_rate: float
    mean_confidence: float
    answer_contains_gold: float  # answerable questions whose answer contains a gold answer
    confidence_auc: float | None  # None: all answers right, or all wrong
    calibration: list[dict]  # per confidence band: answers and the share right
    seconds_per_question_p50: float
    probe_auc: float | None = None  # the answerability probe's P(unanswerable), impossible vs answerable; None: no probe
    probe_refusals: int = 0  # refusals the probe made (before the model answered)
    unsupported_number_answers: int = 0  # answers stating a number no passage holds (their confidence halved)
    unsupported_number_right: int = 0  # of those, answers that are right all the same
    unsupported_word_answers: int = 0  # answers stating a name or rate no passage holds (their confidence halved)
    unsupported_word_right: int = 0  # of those, answers that are right all the same
    off_question_answers: int = 0  # answers resting on passage sentences that share no word with the question
    off_question_right: int = 0  # of those, answers that are right all the same
    repeats_question_answers: int = 0  # answers with no words of their own (the question's, or a bare "[1]")
    repeats_question_right: int = 0  # of those, answers that are right all the same
    number_refusals: int = 0  # refused without the model: the question's own number is in no passage
    rows: list[dict] = field(default_factory=list)


# --- metrics (pure) -----------------------------------------------------------------------------------


def answer_tokens(text: str) -> list[str]:
    """SQuAD normalisation (lower, no punctuation/articles); Chinese characters are tokens of their own."""
    text = _MARKER.sub(" ", text.lower())
    text = "".join(" " if ch in _PUNCT else ch for ch in text)
    text = _ARTICLES.sub(" ", text)
    tokens = []
    for word in text.split():
        tokens.extend(list(word) if _CJK.search(word) else [word])
    return tokens


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    return float(any(answer_tokens(prediction) == answer_tokens(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    return max((_f1(answer_tokens(prediction), answer_tokens(a)) for a in answers), default=0.0)


def _f1(predicted: list[str], gold: list[str]) -> float:
    common = sum((collections.Counter(predicted) & collections.Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


# --- the run ------------------------------------------------------------------------------------------


def evaluate(docs_dir: Path, questions_file: Path, engine, limit: int | None = None, embedder=None,
             options=None) -> AnswerReport:
    """Ingest the documents into a temporary store and answer every question with grounded chat."""
    from knowledge.config import KnowledgeSettings
    from knowledge.embeddings import load_embedder
    from knowledge.kb import KnowledgeBase

    questions = load_questions(questions_file)[:limit]
    with tempfile.TemporaryDirectory(prefix="answers-eval-") as tmp:
        settings = KnowledgeSettings(data_dir=Path(tmp))
        kb = KnowledgeBase(settings, embedder or load_embedder(settings))
        try:
            kb.ingest(document_paths(docs_dir))
            rows = [ask(kb, engine, q, options) for q in questions]
        finally:
            kb.close()
    return summarise(rows, engine.info.label)


def ask(kb, engine, question: Question, options=None) -> dict:
    """Answer one question; returns the row the metrics are computed from."""
    from assistant.tasks.chat import ChatOptions, answer
    from assistant.tasks.events import Answer, Sources

    started = time.perf_counter()
    sources, final = (), None
    for event in answer(engine, kb, question.question, options=options or ChatOptions()):
        if isinstance(event, Sources):
            sources = event.items
        elif isinstance(event, Answer):
            final = event
    cited = [s for s in sources if final and s.number in final.cited]
    pages = _page_texts(kb, cited)
    return {"id": question.id, "impossible": question.is_impossible, "answers": list(question.answers),
            "answer": final.text if final else "", "not_found": bool(final and final.not_found),
            "gated": not sources,  # the relevance gate found nothing: refused without asking the model
            "confidence": final.confidence if final else 0.0,
            "unanswerable": final.unanswerable if final else None,
            "probe_refused": bool(final and final.not_found and final.unanswerable is not None
                                  and final.unanswerable >= _probe_threshold(engine)),
            "cited": [f"{s.file_name}:{s.page}" for s in cited],
            "cited_correct": [is_hit(text, question.answers) for text in pages],
            "cited_attributed": [s.number in final.attributed for s in cited],
            "unsupported_numbers": list(final.unsupported_numbers) if final else [],
            "unsupported_words": list(final.unsupported_words) if final else [],
            "off_question": bool(final and final.off_question),
            "repeats_question": bool(final and final.repeats_question),
            "absent_numbers": list(final.absent_numbers) if final else [],
            "seconds": time.perf_counter() - started}


def _probe_threshold(engine) -> float:
    """The engine's probe threshold (above 1 when it has none: nothing counts as refused by it)."""
    probe = getattr(engine, "probe", None)
    return probe.threshold if probe is not None else 2.0


CONFIDENCE_BANDS = ((0.0, 0.4), (0.4, 0.7), (0.7, 1.0))


def is_right(row: dict) -> bool:
    """A refusal for an unanswerable question; an answer containing a gold answer for the others."""
    if row["impossible"]:
        return row["not_found"]
    return not row["not_found"] and is_hit(_MARKER.sub(" ", row["answer"]), row["answers"])


def confidence_auc(rows: list[dict]) -> float | None:
    """P(a right answer's confidence > a wrong one's), ties half; None if all answers are right or all wrong."""
    right = [r["confidence"] for r in rows if is_right(r)]
    wrong = [r["confidence"] for r in rows if not is_right(r)]
    return round(auc(right, wrong), 4) if right and wrong else None


def calibration(rows: list[dict]) -> list[dict]:
    """Answers per confidence band and the share of them that were right."""
    bands = []
    for low, high in CONFIDENCE_BANDS:
        inside = [r for r in rows if low <= r["confidence"] < high or (high == 1.0 and r["confidence"] == 1.0)]
        bands.append({"band": f"{low:.1f}-{high:.1f}", "answers": len(inside),
                      "right": _mean(is_right(r) for r in inside) if inside else None})
    return bands


def _page_texts(kb, cited) -> list[str]:
    """Full text of each cited source's page (citations are judged at page level)."""
    by_doc = {d.name: d.doc_id for d in kb.documents()}
    texts = []
    for source in cited:
        chunks = kb.chunks(by_doc[source.file_name]) if source.file_name in by_doc else []
        texts.append(" ".join(c.text for c in chunks if c.page == source.page))
    return texts


def summarise(rows: list[dict], model: str) -> AnswerReport:
    answerable = [r for r in rows if not r["impossible"]]
    impossible = [r for r in rows if r["impossible"]]
    attempted = [r for r in answerable if not r["not_found"]]
    judged = [(ok, added) for r in attempted for ok, added in zip(r["cited_correct"], r["cited_attributed"])]
    return AnswerReport(
        model=model, questions=len(rows), answerable=len(answerable), impossible=len(impossible),
        exact_match=_mean(exact_match(r["answer"], r["answers"]) for r in answerable),
        f1=_mean(token_f1(r["answer"], r["answers"]) for r in answerable),
        citation_precision=_mean(ok for ok, _ in judged), citations=len(judged),
        attributed_citations=sum(added for _, added in judged),
        model_citation_precision=(_mean(ok for ok, added in judged if not added)
                                  if not all(added for _, added in judged) else None),
        answered_with_citation=_mean(bool(r["cited"]) for r in attempted),
        refusal_rate_impossible=_mean(r["not_found"] for r in impossible),
        gate_refusals=sum(r.get("gated", False) for r in rows),
        false_refusal_rate=_mean(r["not_found"] for r in answerable),
        mean_confidence=_mean(r["confidence"] for r in rows),
        answer_contains_gold=_mean(is_right(r) for r in answerable),
        confidence_auc=confidence_auc(rows),
        calibration=calibration(rows),
        seconds_per_question_p50=round(percentile([r["seconds"] for r in rows], 50), 2),
        probe_auc=probe_auc(rows), probe_refusals=sum(r.get("probe_refused", False) for r in rows),
        unsupported_number_answers=sum(bool(r.get("unsupported_numbers")) for r in rows),
        unsupported_number_right=sum(bool(r.get("unsupported_numbers")) and is_right(r) for r in rows),
        unsupported_word_answers=sum(bool(r.get("unsupported_words")) for r in rows),
        unsupported_word_right=sum(bool(r.get("unsupported_words")) and is_right(r) for r in rows),
        off_question_answers=sum(bool(r.get("off_question")) for r in rows),
        off_question_right=sum(bool(r.get("off_question")) and is_right(r) for r in rows),
        repeats_question_answers=sum(bool(r.get("repeats_question")) for r in rows),
        repeats_question_right=sum(bool(r.get("repeats_question")) and is_right(r) for r in rows),
        number_refusals=sum(bool(r.get("absent_numbers")) for r in rows), rows=rows)


def probe_auc(rows: list[dict]) -> float | None:
    """Chance that an unanswerable question's probe probability beats an answerable one's; None without a probe."""
    scored = [r for r in rows if r.get("unanswerable") is not None]
    impossible = [r["unanswerable"] for r in scored if r["impossible"]]
    answerable = [r["unanswerable"] for r in scored if not r["impossible"]]
    return round(auc(impossible, answerable), 4) if impossible and answerable else None


def _mean(values) -> float:
    values = [float(v) for v in values]
    return round(sum(values) / len(values), 4) if values else 0.0


def format_markdown(report: AnswerReport) -> str:
    rows = [("model", report.model), ("questions (answerable / impossible)",
                                      f"{report.questions} ({report.answerable} / {report.impossible})"),
            ("exact match", f"{report.exact_match:.3f}"), ("token F1", f"{report.f1:.3f}"),
            ("citation precision", f"{report.citation_precision:.3f} ({report.citations} citations, "
                                   f"{report.attributed_citations} added by attribution)"),
            ("citation precision, the model's own markers",
             "n/a (none)" if report.model_citation_precision is None else f"{report.model_citation_precision:.3f}"),
            ("answers with a citation", f"{report.answered_with_citation:.3f}"),
            ("refusal rate, impossible", f"{report.refusal_rate_impossible:.3f}"),
            ("false refusal rate, answerable", f"{report.false_refusal_rate:.3f}"),
            ("refusals by the relevance gate (before the model)", str(report.gate_refusals)),
            ("answers containing a gold answer, answerable", f"{report.answer_contains_gold:.3f}"),
            ("mean confidence", f"{report.mean_confidence:.3f}"),
            ("confidence AUC, right vs wrong answers",
             "n/a" if report.confidence_auc is None else f"{report.confidence_auc:.3f}"),
            ("answerability probe: AUC, unanswerable vs answerable",
             "n/a (no probe)" if report.probe_auc is None else f"{report.probe_auc:.3f}"),
            ("answerability probe: refusals it made", str(report.probe_refusals)),
            ("refusals because the question's number is in no passage", str(report.number_refusals)),
            ("answers stating a number no passage holds (right all the same)",
             f"{report.unsupported_number_answers} ({report.unsupported_number_right})"),
            ("answers stating a name or rate no passage holds (right all the same)",
             f"{report.unsupported_word_answers} ({report.unsupported_word_right})"),
            ("answers resting on sentences that share no word with the question (right all the same)",
             f"{report.off_question_answers} ({report.off_question_right})"),
            ("answers with no words of their own (right all the same)",
             f"{report.repeats_question_answers} ({report.repeats_question_right})"),
            ("seconds per question (p50)", f"{report.seconds_per_question_p50:.2f}")]
    bands = [f"| {b['band']} | {b['answers']} | {'-' if b['right'] is None else format(b['right'], '.2f')} |"
             for b in report.calibration]
    return "\n".join(["| metric | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), "",
                      "| confidence | answers | share right |", "|---|---|---|", *bands])


SHORT_ANSWER_TOKENS = 160  # SQuAD and CMRC answers are a few words: a longer cap only lets small models ramble


def reasons(engine) -> bool:
    """Whether the engine's model thinks before it answers (DeepSeek-R1): 160 tokens would end inside its thinking."""
    return bool(getattr(engine, "reasons", False))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.answers", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--json", type=Path, help="write the report (with per-question rows) here")
    parser.add_argument("--probe", action="store_true", help="turn the model's answerability probe on")
    parser.add_argument("--max-new-tokens", type=int, default=None,
                        help=f"answer length cap (default {SHORT_ANSWER_TOKENS}; a reasoning model such as "
                             "DeepSeek-R1 gets the app's own cap, its thinking counts)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    from assistant.config import AssistantSettings
    from assistant.runtime import load_runtime

    from assistant.tasks.chat import ChatOptions

    runtime = load_runtime(AssistantSettings(temperature=0.0, warmup=False, answerability_probe=args.probe))
    cap = args.max_new_tokens or (None if reasons(runtime.chat) else SHORT_ANSWER_TOKENS)
    try:
        report = evaluate(args.docs, args.questions, runtime.chat, args.limit, options=ChatOptions(max_new_tokens=cap))
    finally:
        runtime.close()
    emit(format_markdown(report), asdict(report), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
