"""Contract review's classifier: trained on CUAD's examples and non-clauses; what it finds and how it is marked."""

from __future__ import annotations

import json

import pytest

from assistant.tasks.classifier import NONE, ClauseClassifier, load_other_sentences
from assistant.tasks.contracts import ReviewReport, review_contract, scan_chunk
from assistant.tasks.similar import Example, load_examples
from knowledge.types import Chunk

AUDIT = ["The Company may audit the books and records of the Distributor once a year.",
         "Licensor shall have the right to audit the records of Licensee upon reasonable notice.",
         "The books and records of the Reseller may be audited by the Company's accountants."]
INSURANCE = ["Supplier shall maintain product liability insurance of at least one million dollars.",
             "Distributor shall maintain general liability insurance naming the Company as an additional insured.",
             "Each party shall maintain insurance coverage adequate for its obligations."]
OTHERS = ["The Products shall be delivered to the warehouse of the Buyer.", "Payment is due within thirty days.",
          "The Distributor shall place orders by email.", "Prices are stated in United States dollars.",
          "The Company shall provide marketing materials to the Distributor.", "Invoices shall state the order number."]
TINY = [Example("Audit Rights", t) for t in AUDIT] + [Example("Insurance", t) for t in INSURANCE] + [
    Example("Parties", "between Acme Inc and Beta LLC")]  # not a clause category: left out of training


def chunk(text: str, page: int = 1) -> Chunk:
    return Chunk(doc_id=1, file_name="deal.txt", page=page, ordinal=0, text=text, start_char=0, end_char=len(text))


def test_best_sentence_per_category_above_the_threshold_only():
    classifier = ClauseClassifier(TINY, OTHERS, threshold=0.4)
    sentences = ["Orders shall be placed by email and delivered to the warehouse.",
                 "The Company may audit the books and records of the Reseller."]
    matches = classifier.best(sentences, ["Audit Rights", "Insurance", "Parties"])
    assert [(m.category, m.index) for m in matches] == [("Audit Rights", 1)]
    assert 0.4 <= matches[0].score <= 1.0
    assert ClauseClassifier(TINY, OTHERS, threshold=0.99).best(sentences, ["Audit Rights"]) == []


def test_a_sentence_that_is_most_probably_no_clause_counts_for_none():
    classifier = ClauseClassifier(TINY, OTHERS, threshold=0.0)
    probabilities = classifier.probabilities(["Payment is due within thirty days of delivery."])
    assert set(probabilities) == {"Audit Rights", "Insurance", NONE}
    assert max(probabilities, key=lambda c: probabilities[c][0]) == NONE
    assert classifier.best(["Payment is due within thirty days of delivery."], ["Audit Rights", "Insurance"]) == []


def test_trained_once_english_only_and_nothing_without_examples():
    classifier = ClauseClassifier(TINY, OTHERS)
    assert classifier.model() is classifier.model()
    assert classifier.handles("en") and not classifier.handles("zh")
    assert ClauseClassifier([], OTHERS).best(["The Company may audit the books."], ["Audit Rights"]) == []


def test_a_chinese_contract_gets_no_classifier_findings():
    classifier = ClauseClassifier(TINY, OTHERS, threshold=0.0)
    report = list(review_contract([chunk("甲方与乙方签订本合同，双方同意以下条款。乙方应每年允许甲方审计其账簿和记录。")],
                                  finders=[classifier]))[-1]
    assert all(f.basis == "rules" for f in report.findings)


# ---------------------------------------------------------------- the shipped data, trained for real

INSURANCE_REWORDED = ("Supplier shall keep commercial general liability coverage with limits of at least $2,000,000 "
                      "per occurrence in force throughout the term.")
CONVENIENCE_REWORDED = "Upon thirty days written notice, Company may end this Agreement without cause."


@pytest.fixture(scope="module")
def shipped() -> ClauseClassifier:
    return ClauseClassifier(load_examples(), load_other_sentences())


def test_shipped_other_sentences_are_not_examples():
    others = load_other_sentences()
    assert len(others) > 2000 and all(len(t) >= 40 for t in others)  # where they come from: tests/test_devsets.py
    assert not set(others) & {e.text for e in load_examples()}


@pytest.mark.parametrize("text, category", [(INSURANCE_REWORDED, "Insurance"),
                                            (CONVENIENCE_REWORDED, "Termination for Convenience")])
def test_finds_clauses_no_rule_matches_and_marks_them_possible(shipped, text, category):
    contract = f"The Supplier shall deliver the Products to the Buyer's warehouse each month. {text}"
    assert category not in {f.category for _, f in scan_chunk(chunk(contract))}  # the rules miss it
    events = list(review_contract([chunk(contract, page=3)], finders=[shipped]))
    report = events[-1]
    assert isinstance(report, ReviewReport)
    findings = {f.category: f for f in report.findings}
    found = findings[category]
    assert found.basis == "classifier" and found.quote == text and found.page == 3 and found.score >= 0.5
    assert [f.category for f in report.findings if f.basis == "classifier"] == [category]  # delivery: no clause
    markdown = report.to_markdown()
    assert "a classifier trained on clauses CUAD's annotators marked" in markdown and "possibly" in markdown
    assert json.loads(report.to_json())["findings"][0]["basis"] in {"classifier", "rules"}
