"""Contract review's likeness search: nearest CUAD examples, the threshold, and how its findings are marked."""

from __future__ import annotations

import json
import re
import zlib

import numpy as np
import pytest

from assistant.tasks.contracts import Finding, ReviewReport, review_contract, scan_chunk
from assistant.tasks.similar import CATEGORIES, Example, SimilarClauses, _mean_of_nearest, load_examples
from knowledge.types import Chunk

AUDIT = "The reseller's ledgers may be examined yearly by the vendor's accountants to verify the royalty statements."
EXAMPLES = [Example("Audit Rights", "ledgers examined yearly by accountants to verify royalty statements"),
            Example("Audit Rights", "accountants may examine the ledgers to verify royalty statements"),
            Example("Insurance", "the supplier shall maintain product liability insurance coverage"),
            Example("Parties", "between Acme Inc and Beta LLC")]  # not a clause category: ignored


class WordsEmbedder:
    """Bag of hashed words, normalised (a fake: these tests are about the logic around the embedder)."""

    name, multilingual = "fake-words", False

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % 256] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def chunk(text: str, page: int = 1, index: int = 0) -> Chunk:
    return Chunk(doc_id=1, file_name="deal.txt", page=page, ordinal=index, text=text, start_char=0, end_char=len(text))


def test_mean_of_nearest_averages_the_k_largest_or_all():
    sims = np.array([[0.1, 0.9, 0.5, 0.7], [0.2, 0.2, 0.2, 0.2]])
    assert _mean_of_nearest(sims, 2).tolist() == pytest.approx([0.8, 0.2])
    assert _mean_of_nearest(sims[:, :1], 3).tolist() == pytest.approx([0.1, 0.2])


def test_best_sentence_per_category_above_the_threshold_only():
    similar = SimilarClauses(WordsEmbedder(), EXAMPLES, threshold=0.5, neighbours=2)
    sentences = ["Payment is due within thirty days of invoice.", AUDIT]
    matches = similar.best(sentences, ["Audit Rights", "Insurance", "Parties", "No Such Category"])
    assert [(m.category, m.index) for m in matches] == [("Audit Rights", 1)]
    assert 0.5 <= matches[0].score <= 1.0
    assert SimilarClauses(WordsEmbedder(), EXAMPLES, threshold=0.99).best(sentences, ["Audit Rights"]) == []


def test_a_sentence_counts_only_for_the_category_it_is_most_like():
    examples = [*EXAMPLES, Example("Insurance", "accountants ledgers examined yearly verify royalty statements insurance")]
    similar = SimilarClauses(WordsEmbedder(), examples, threshold=0.3, neighbours=1)
    assert [m.category for m in similar.best([AUDIT], ["Audit Rights", "Insurance"])] == ["Audit Rights"]
    assert similar.best([AUDIT], ["Insurance"]) == []  # alike enough, but more like an audit clause


def test_examples_are_embedded_once():
    embedder = WordsEmbedder()
    similar = SimilarClauses(embedder, EXAMPLES)
    for _ in range(3):
        similar.scores([AUDIT])
    assert len(embedder.calls) == 1 + 3  # the examples once, then one call per contract
    assert sorted(similar.vectors()) == ["Audit Rights", "Insurance"]


def test_review_marks_likeness_findings_as_possible_and_only_for_what_rules_missed():
    text = ("This Agreement shall be governed by the laws of the State of New York. " + AUDIT)
    embedder = WordsEmbedder()
    similar = SimilarClauses(embedder, EXAMPLES, threshold=0.5)
    events = list(review_contract([chunk(text, page=4)], finders=[similar]))
    report = events[-1]
    findings = {f.category: f for f in report.findings}
    assert findings["Governing Law"].basis == "rules"
    audit = findings["Audit Rights"]
    assert audit.found and audit.basis == "similar" and audit.page == 4 and audit.quote == AUDIT
    assert audit.risk == "low" and audit.score >= 0.5
    assert not findings["Insurance"].found  # no sentence alike enough
    streamed = [e for e in events if isinstance(e, Finding) and e.category == "Audit Rights"]
    assert streamed and streamed[0].basis == "similar"
    assert "Governing Law" not in _searched_categories(similar, text)


def _searched_categories(similar: SimilarClauses, text: str) -> set[str]:
    seen: set[str] = set()
    original = similar.best
    similar.best = lambda sentences, categories: seen.update(categories) or original(sentences, categories)
    list(review_contract([chunk(text)], finders=[similar]))
    return seen


def test_chinese_contract_skips_english_examples_with_an_english_only_embedder():
    similar = SimilarClauses(WordsEmbedder(), EXAMPLES, threshold=0.0)
    report = list(review_contract([chunk("甲方与乙方签订本合同。乙方应每年允许甲方审计其账簿。")], finders=[similar]))[-1]
    assert all(f.basis == "rules" for f in report.findings)
    assert similar.embedder.calls == []


def test_a_multilingual_embedder_searches_a_chinese_contract_after_an_english_only_finder():
    class Multilingual(WordsEmbedder):
        multilingual = True

    class EnglishOnly:
        basis, threshold = "classifier", 0.5

        def handles(self, lang):
            return lang == "en"

        def best(self, sentences, categories):
            raise AssertionError("an English-only finder must not see a Chinese contract")

    clause = "乙方每年可以派人查看甲方的账簿和记录"  # 18 characters: long enough in Chinese; no rule matches it
    similar = SimilarClauses(Multilingual(), [Example("Audit Rights", clause)], threshold=0.5)
    text = f"甲方与乙方签订本合同，双方同意以下条款。{clause}。"
    report = list(review_contract([chunk(text)], finders=[EnglishOnly(), similar]))[-1]
    assert {f.category: f.basis for f in report.findings}["Audit Rights"] == "similar"


def test_exports_say_a_likeness_finding_is_possible():
    finding = Finding("Audit Rights", True, AUDIT, "deal.txt", 4, "low", "Ask?", basis="similar", score=0.71)
    report = ReviewReport("deal.txt", (finding,))
    markdown = report.to_markdown()
    assert "| Audit Rights | possibly | 4 | low |" in markdown
    assert "no rule matched" in markdown and "0.71" in markdown
    assert json.loads(report.to_json())["findings"][0]["basis"] == "similar"
    chinese = ReviewReport("deal.txt", (finding,), lang="zh").to_markdown()
    assert "可能" in chinese and "0.71" in chinese


# ---------------------------------------------------------------- the shipped examples


def test_shipped_examples_are_clauses_of_every_likeness_category():
    examples = load_examples()
    assert {e.category for e in examples} == set(CATEGORIES)  # where they come from: tests/test_devsets.py
    assert all(len(e.text) >= 40 and e.source for e in examples)


def test_real_embedder_finds_a_reworded_clause_no_rule_matches(kb, embedder, tmp_path):
    handover = ("Neither party may hand over its rights or duties under this agreement to another company without the "
                "written permission of the other party.")
    path = tmp_path / "supply.txt"
    path.write_text("SUPPLY AGREEMENT\n\nThe Supplier shall deliver the Products to the Buyer's warehouse each month. "
                    f"{handover} This Agreement shall be governed by the laws of the State of Delaware.\n",
                    encoding="utf-8")
    chunks = kb.chunks(kb.ingest([path])[0].doc_id)
    assert "Anti-Assignment" not in {f.category for _, f in scan_chunk(chunks[0])}  # the rules miss it
    report = list(review_contract(chunks, finders=[SimilarClauses(embedder, load_examples())]))[-1]
    findings = {f.category: f for f in report.findings}
    assert findings["Anti-Assignment"].basis == "similar" and findings["Anti-Assignment"].quote == handover
    assert findings["Anti-Assignment"].score >= 0.7 and findings["Anti-Assignment"].file_name == "supply.txt"
    assert findings["Governing Law"].basis == "rules"
