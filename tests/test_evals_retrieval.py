"""The retrieval eval: its metrics on hand-made rankings, and the whole CLI on a tiny real knowledge base."""

from __future__ import annotations

import json

import pytest

from evals.retrieval import (
    Question,
    Retrieved,
    first_hit_rank,
    is_hit,
    load_questions,
    main,
    mean_reciprocal_rank,
    normalize,
    percentile,
    recall_at,
)


def question(answers=("Paris",), doc_id="france") -> Question:
    return Question(id="q1", question="What is the capital?", answers=tuple(answers), doc_id=doc_id)


def test_normalize_folds_width_case_and_whitespace():
    assert normalize("  ＡＢＣ  Déf\n\tghi ") == "abcdéfghi"  # NFKC turns full-width letters into ASCII
    assert normalize("ﬁle") == "file"  # NFKC expands the ligature
    assert normalize("北京\n大学") == "北京大学"  # a line break inside Chinese text does not hide a match


def test_is_hit_needs_one_non_empty_answer_in_the_text():
    assert is_hit("The capital is PARIS.", ["paris"])
    assert is_hit("位于北京\n大学校园内", ["北京大学", "清华"])
    assert is_hit("Revenue was 12,5 million", ["Revenue was 12,5"])
    assert not is_hit("The capital is Lyon.", ["Paris"])
    assert not is_hit("anything", [""])  # an empty answer must not match everything
    assert not is_hit("anything", [])


def test_first_hit_rank_requires_the_right_document():
    results = [
        Retrieved("germany", "Paris is not here, Berlin is."),  # answer text but the wrong document
        Retrieved("france", "France is in Europe."),  # right document, no answer
        Retrieved("france", "Its capital is Paris."),
    ]
    assert first_hit_rank(results, question()) == 3
    assert first_hit_rank(results[:2], question()) is None
    assert first_hit_rank([], question()) is None


def test_recall_and_mrr_on_hand_made_ranks():
    ranks = [1, 3, None, 10, 2]
    assert recall_at(ranks, 1) == pytest.approx(1 / 5)
    assert recall_at(ranks, 5) == pytest.approx(3 / 5)
    assert recall_at(ranks, 10) == pytest.approx(4 / 5)
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 10 + 1 / 2) / 5)
    assert recall_at([], 5) == 0.0 and mean_reciprocal_rank([]) == 0.0


def test_percentile_interpolates():
    assert percentile([10.0], 99) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(list(range(101)), 99) == pytest.approx(99.0)
    assert percentile([], 50) == 0.0


def test_load_questions_reads_optional_fields_and_names_bad_lines(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": 1, "question": "q?", "answers": ["a"], "doc_id": "d"}\n\n'
                    '{"id": "2", "question": "x?", "answers": [], "doc_id": "d", "is_impossible": true}\n',
                    encoding="utf-8")
    first, second = load_questions(path)
    assert first == Question("1", "q?", ("a",), "d", False)
    assert second.is_impossible and second.answers == ()
    path.write_text('{"id": "3", "question": "no doc id"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="q.jsonl:1"):
        load_questions(path)


DOCS = {
    "volcano": "Mount Kelud is a volcano in East Java. Its 1919 eruption killed about 5,000 people, mostly "
               "through lahars. Engineers later dug tunnels to drain the crater lake.",
    "bakery": "The Riverside Bakery opens at six in the morning. Its sourdough starter is called Gertrude "
              "and is fed twice a day with rye flour. The bakery closes on Mondays.",
    "tea": "龙井茶产于浙江省杭州市西湖一带，属于绿茶。明前龙井在清明节前采摘，品质最好。",
}
QUESTIONS = [
    {"id": "v1", "question": "How many people died in the 1919 eruption of Kelud?", "answers": ["about 5,000"],
     "doc_id": "volcano"},
    {"id": "b1", "question": "What is the name of the bakery's sourdough starter?", "answers": ["GERTRUDE"],
     "doc_id": "bakery"},
    {"id": "t1", "question": "龙井茶产于哪里？", "answers": ["浙江省杭州市西湖"], "doc_id": "tea"},
    {"id": "x1", "question": "Who owns the bakery?", "answers": [], "doc_id": "bakery", "is_impossible": True},
]


def test_cli_end_to_end_on_a_tiny_real_knowledge_base(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    docs = tmp_path / "docs"
    docs.mkdir()
    for doc_id, text in DOCS.items():
        (docs / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in QUESTIONS) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"

    assert main(["--docs", str(docs), "--questions", str(questions), "--k", "5", "--json", str(out)]) == 0

    printed = capsys.readouterr().out
    assert "| recall@1 |" in printed and "| MRR@5 |" in printed and "recall@10" not in printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["documents"] == 3 and report["chunks"] >= 3 and report["ingest_errors"] == []
    assert report["questions"] == 3 and report["skipped_impossible"] == 1
    assert report["recall"] == {"recall@1": 1.0, "recall@5": 1.0}  # three unrelated documents: no excuse to miss
    assert report["mrr"] == 1.0 and report["misses"] == []
    assert report["latency_ms_p50"] > 0 and report["latency_ms_p99"] >= report["latency_ms_p50"]
