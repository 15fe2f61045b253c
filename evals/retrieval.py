"""Retrieval evaluation: ingest a folder into a fresh store, ask each question, report recall@k, MRR and latency.

    python -m evals.retrieval --docs evals/data/squad_en/docs --questions evals/data/squad_en/questions.jsonl

A question is answered at rank r when the r-th retrieved chunk comes from the question's document
(file stem == `doc_id`) and contains one of its answers after normalisation (NFKC, case folding,
whitespace removed: PDF extraction and chunking may break lines inside an answer, and Chinese
text has no spaces to keep).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence
from evals.report import emit

RECALL_AT = (1, 5, 10)


@dataclass(frozen=True)
class Question:
    """One line of a questions file."""

    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str
    is_impossible: bool = False


@dataclass(frozen=True)
class Retrieved:
    """What the metrics need from a search result: where it came from and its text."""

    doc_id: str
    text: str


@dataclass
class EvalReport:
    """Everything one run measured; `to_json()` is what `--json` writes."""

    docs_dir: str
    questions_file: str
    embedder: str
    k: int
    documents: int
    chunks: int
    ingest_errors: list[str]
    ingest_seconds: float
    questions: int
    skipped_impossible: int
    recall: dict[int, float]
    mrr: float
    latency_ms_p50: float
    latency_ms_p99: float
    misses: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        data = asdict(self)
        data["recall"] = {f"recall@{k}": v for k, v in self.recall.items()}
        return data


# --- metrics (pure functions) ---------------------------------------------------------------------


def normalize(text: str) -> str:
    """NFKC, case-folded, with all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def is_hit(text: str, answers: Iterable[str]) -> bool:
    """Whether the text contains any (non-empty) answer, both normalised."""
    haystack = normalize(text)
    return any(needle and needle in haystack for needle in map(normalize, answers))


def first_hit_rank(results: Sequence[Retrieved], question: Question) -> int | None:
    """1-based rank of the first result from the question's document that contains an answer."""
    for rank, result in enumerate(results, start=1):
        if result.doc_id == question.doc_id and is_hit(result.text, question.answers):
            return rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Fraction of questions answered within the top k (0.0 for no questions)."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """Mean of 1/rank, a miss counting 0 (so it is MRR@k for the k that was retrieved)."""
    if not ranks:
        return 0.0
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (p in 0..100) of a non-empty list; 0.0 for an empty one."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- data ------------------------------------------------------------------------------------------


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL file of questions; blank lines are skipped.

    Raises:
        ValueError: a line is not JSON or lacks a required field (the message names the line).
    """
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            questions.append(_parse_question(line, f"{path}:{number}"))
    return questions


def _parse_question(line: str, where: str) -> Question:
    try:
        row = json.loads(line)
        return Question(id=str(row["id"]), question=row["question"], answers=tuple(row.get("answers") or ()),
                        doc_id=str(row["doc_id"]), is_impossible=bool(row.get("is_impossible", False)))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{where}: not a question line ({exc!r})") from exc


def document_paths(docs_dir: Path) -> list[Path]:
    """The files of a documents folder (not recursive, hidden files skipped), sorted by name."""
    return sorted(p for p in Path(docs_dir).iterdir() if p.is_file() and not p.name.startswith("."))


# --- the run ---------------------------------------------------------------------------------------


def evaluate(docs_dir: Path, questions_file: Path, k: int = 10, settings=None, embedder=None) -> EvalReport:
    """Ingest `docs_dir` into a temporary store and score every answerable question.

    Args:
        docs_dir: documents whose file stem is the questions' `doc_id`.
        questions_file: JSONL questions.
        k: results retrieved per question (recall@k is reported for 1, 5, 10 up to k).
        settings: KnowledgeSettings to start from (its data_dir is replaced by a temporary one).
        embedder: an already loaded embedder (tests share one); loaded from settings otherwise.
    """
    from knowledge.config import KnowledgeSettings
    from knowledge.embeddings import load_embedder
    from knowledge.kb import KnowledgeBase

    questions = load_questions(questions_file)
    answerable = [q for q in questions if not q.is_impossible and q.answers]
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        settings = (settings or KnowledgeSettings()).model_copy(update={"data_dir": Path(tmp)})
        embedder = embedder or load_embedder(settings)
        kb = KnowledgeBase(settings, embedder)
        try:
            started = time.perf_counter()
            results = kb.ingest(document_paths(docs_dir))
            ingest_seconds = time.perf_counter() - started
            ranks, latencies = _ask_all(kb, answerable, k)
            chunks = len(kb)
        finally:
            kb.close()
    return EvalReport(
        docs_dir=str(docs_dir), questions_file=str(questions_file), embedder=embedder.name, k=k,
        documents=sum(r.status == "indexed" for r in results), chunks=chunks,
        ingest_errors=[r.error or r.file_name for r in results if r.status == "error"],
        ingest_seconds=round(ingest_seconds, 3), questions=len(answerable),
        skipped_impossible=len(questions) - len(answerable),
        recall={n: round(recall_at(ranks, n), 4) for n in RECALL_AT if n <= k},
        mrr=round(mean_reciprocal_rank(ranks), 4),
        latency_ms_p50=round(percentile(latencies, 50), 2), latency_ms_p99=round(percentile(latencies, 99), 2),
        misses=[q.id for q, r in zip(answerable, ranks) if r is None],
    )


def _ask_all(kb, questions: list[Question], k: int) -> tuple[list[int | None], list[float]]:
    ranks, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        hits = kb.search(question.question, k=k)
        latencies.append((time.perf_counter() - started) * 1000)
        retrieved = [Retrieved(Path(h.chunk.file_name).stem, h.chunk.text) for h in hits]
        ranks.append(first_hit_rank(retrieved, question))
    return ranks, latencies


def format_markdown(report: EvalReport) -> str:
    """The report as a markdown table (one row per metric)."""
    rows = [
        ("documents / chunks", f"{report.documents} / {report.chunks}"),
        ("questions (skipped impossible)", f"{report.questions} ({report.skipped_impossible})"),
        *((f"recall@{n}", f"{value:.3f}") for n, value in report.recall.items()),
        (f"MRR@{report.k}", f"{report.mrr:.3f}"),
        ("ingest time", f"{report.ingest_seconds:.1f} s"),
        ("query latency p50 / p99", f"{report.latency_ms_p50:.1f} / {report.latency_ms_p99:.1f} ms"),
        ("embedder", report.embedder),
    ]
    if report.ingest_errors:
        rows.append(("ingest errors", "; ".join(report.ingest_errors)))
    lines = [f"Retrieval eval: `{report.questions_file}`", "", "| metric | value |", "|---|---|"]
    return "\n".join(lines + [f"| {name} | {value} |" for name, value in rows])


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evals.retrieval", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, required=True, help="folder of documents (file stem = doc_id)")
    parser.add_argument("--questions", type=Path, required=True, help="JSONL: id, question, answers, doc_id")
    parser.add_argument("--k", type=int, default=10, help="results retrieved per question (default 10)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.k < 1:
        print("--k must be at least 1", file=sys.stderr)
        return 2
    # Offline unless asked otherwise: without this an unreachable Hub costs ~75 s of retries.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    report = evaluate(args.docs, args.questions, args.k)
    emit(format_markdown(report), report.to_json(), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
