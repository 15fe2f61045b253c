"""Scoring logic of evals.answers and evals.contracts on hand-made data, and the contracts CLI end to end."""

from __future__ import annotations

import json

from evals import answers, contracts
from tests import factory


def test_answer_metrics():
    assert answers.exact_match("The Isdene [1].", ["Isdene"]) == 1.0
    assert answers.token_f1("It is built on the river Isdene [2]", ["Isdene"]) == 2 * (1 / 6) / (1 / 6 + 1)
    assert answers.exact_match("三十天", ["三十天"]) == 1.0 and answers.token_f1("提前三十天", ["三十天"]) == 2 * 0.6 * 1 / 1.6


def test_answer_summary_counts_refusals_and_citations():
    rows = [
        {"impossible": False, "answers": ["a"], "answer": "a [1]", "not_found": False, "confidence": 0.8,
         "cited": ["x:1", "y:2"], "cited_correct": [True, False], "cited_attributed": [False, True], "seconds": 1.0},
        {"impossible": False, "answers": ["b"], "answer": "nope", "not_found": True, "confidence": 0.1,
         "cited": [], "cited_correct": [], "cited_attributed": [], "seconds": 1.0},
        {"impossible": True, "answers": [], "answer": "nope", "not_found": True, "confidence": 0.9,
         "cited": [], "cited_correct": [], "cited_attributed": [], "seconds": 3.0},
    ]
    report = answers.summarise(rows, "m")
    assert (report.exact_match, report.citation_precision, report.false_refusal_rate) == (0.5, 0.5, 0.5)
    assert (report.model_citation_precision, report.attributed_citations) == (1.0, 1)
    assert report.refusal_rate_impossible == 1.0 and report.answered_with_citation == 1.0
    # right: the first (contains "a") and the third (refuses an unanswerable question); wrong: the false refusal
    assert report.answer_contains_gold == 0.5 and report.confidence_auc == 1.0
    assert [(b["answers"], b["right"]) for b in report.calibration] == [(1, 0.0), (0, None), (2, 1.0)]
    assert "| 0.7-1.0 | 2 | 1.00 |" in answers.format_markdown(report)


def test_confidence_auc_counts_ties_half_and_needs_right_and_wrong_answers():
    def row(confidence, right):
        return {"impossible": True, "answers": [], "answer": "", "not_found": right, "confidence": confidence}

    assert answers.confidence_auc([row(0.9, True), row(0.5, True), row(0.5, False), row(0.1, False)]) == 3.5 / 4
    assert answers.confidence_auc([row(0.9, True)]) is None
    wrong_answer = {"impossible": False, "answers": ["Paris"], "answer": "Lyon [1].", "not_found": False}
    answered_unanswerable = {"impossible": True, "answers": [], "answer": "Lyon [1].", "not_found": False}
    assert not answers.is_right(wrong_answer) and not answers.is_right(answered_unanswerable)
    assert answers.is_right({**wrong_answer, "answer": "It is Paris [1]."})


def test_contract_scoring():
    gold = [
        {"contract_id": "c1", "category": "Governing Law", "has_clause": True,
         "spans": [{"text": "This Agreement shall be governed by the laws of the State of New York."}]},
        {"contract_id": "c1", "category": "Non-Compete", "has_clause": False, "spans": []},
        {"contract_id": "c1", "category": "Exclusivity", "has_clause": True, "spans": [{"text": "exclusive distributor"}]},
    ]
    predictions = {("c1", "Governing Law"): ("governed by the laws of the State of New York",),
                   ("c1", "Non-Compete"): ("shall not compete",), ("c1", "Exclusivity"): ("Unrelated text entirely.",)}
    result = contracts.summary(contracts.score(predictions, gold))
    assert result["categories"]["Governing Law"] == {"tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert result["categories"]["Non-Compete"]["fp"] == 1
    assert result["categories"]["Exclusivity"] | {} == {"tp": 0, "fp": 1, "fn": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert result["micro"]["recall"] == 0.5
    assert result["quotes"] == {"given": 3, "right": 1, "precision": 0.3333}


def test_contract_scoring_counts_a_category_found_when_any_of_its_quotes_overlaps():
    gold = [{"contract_id": "c1", "category": "Exclusivity", "has_clause": True, "spans": [{"text": "exclusive distributor"}]},
            {"contract_id": "c1", "category": "Non-Compete", "has_clause": False, "spans": []}]
    predictions = {("c1", "Exclusivity"): ("Unrelated text entirely.", "appoints B as its exclusive distributor in France"),
                   ("c1", "Non-Compete"): ("shall not compete", "nor solicit its customers")}
    result = contracts.summary(contracts.score(predictions, gold))
    assert result["categories"]["Exclusivity"] | {} == {"tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert result["categories"]["Non-Compete"]["fp"] == 1  # two wrong quotes are one false finding...
    assert result["quotes"] == {"given": 4, "right": 1, "precision": 0.25}  # ...and two wrong quotes
    first = contracts.summary(contracts.score({k: q[:1] for k, q in predictions.items()}, gold))
    assert first["micro"]["recall"] == 0.0  # the first quote alone misses it


def test_contracts_cli_end_to_end(tmp_path, capsys):
    folder = tmp_path / "contracts"
    folder.mkdir()
    factory.contract_pdf(folder / "dist.pdf")
    gold = [{"contract_id": "dist", "category": "Governing Law", "has_clause": True,
             "spans": [{"text": "This Agreement shall be governed by the laws of the State of New York."}]},
            {"contract_id": "dist", "category": "Non-Compete", "has_clause": False, "spans": []}]
    annotations = tmp_path / "gold.jsonl"
    annotations.write_text("\n".join(json.dumps(g) for g in gold), encoding="utf-8")
    assert contracts.main(["--contracts", str(folder), "--annotations", str(annotations), "--json", str(tmp_path / "o.json")]) == 0
    result = json.loads((tmp_path / "o.json").read_text())
    assert result["micro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert result["similarity"] == 0.65 and result["classifier"] == 0.5 and result["rules_only"] == result["micro"]
    assert result["first_quote_only"] == result["micro"] and result["quotes"]["given"] >= 1
    assert result["possible"]["right"] == 0 and result["possible"]["found"] >= 0
    out = capsys.readouterr().out
    assert "| Governing Law | 1 | 0 | 0 |" in out and "| rules + classifier (threshold 0.5), then likeness (threshold 0.65) |" in out
    assert contracts.main(["--contracts", str(folder), "--annotations", str(annotations), "--rules-only",
                           "--json", str(tmp_path / "r.json")]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["similarity"] is None
    assert contracts.main(["--contracts", str(folder), "--annotations", str(annotations), "--no-classifier",
                           "--json", str(tmp_path / "n.json")]) == 0
    assert json.loads((tmp_path / "n.json").read_text())["classifier"] is None
    assert "| rules + likeness (threshold 0.65) |" in capsys.readouterr().out
