"""evals.clause_finders: folds by contract, the false-alarm table and the contract tallies, on tiny inputs."""

from __future__ import annotations

import numpy as np

from assistant.tasks.similar import Example
from evals.clause_finders import _rates, _tally, folds_of, format_markdown, held_out_scores, sentence_table
from tests.assistant.test_similar import WordsEmbedder


def test_folds_keep_a_contract_together():
    folds = folds_of(["b", "a", "b", "c", "a"], 2)
    assert folds.tolist() == [1, 0, 1, 0, 0]


def test_held_out_scores_cover_every_example_and_other_once():
    examples = [Example("Audit Rights", f"the company may audit the books and records of party {i}", f"c{i}")
                for i in range(4)] + [Example("Insurance", f"the supplier shall maintain liability insurance {i}", f"c{i}")
                                      for i in range(4)]
    others = [f"the goods shall be delivered to warehouse number {i}" for i in range(6)]
    scores = held_out_scores(examples, others, [f"d{i % 3}" for i in range(6)], 2, WordsEmbedder())
    for name in ("classifier", "likeness"):
        assert len(scores[name]["right"]) == len(scores[name]["top"]) == 8 and len(scores[name]["other_top"]) == 6
        assert np.mean(scores[name]["right"]) >= 0.75  # the other contracts' wording is the same


def test_sentence_table_sets_the_threshold_by_false_alarms():
    scores = {"classifier": {"right": [True, True, False], "top": [0.9, 0.5, 0.95], "other_top": [0.1] * 90 + [0.7] * 10},
              "likeness": {"right": [True, True, True], "top": [0.7, 0.7, 0.7], "other_top": [0.6] * 100}}
    low, high = sentence_table(scores)[0], sentence_table(scores)[-1]  # 1% and 10% false alarms
    assert low["classifier"] == {"threshold": 0.7, "named": round(1 / 3, 3)}  # 0.5 is below it; 0.95 is wrong
    assert high["false_alarms"] == 0.1 and high["classifier"]["named"] == round(2 / 3, 3)
    assert low["likeness"] == {"threshold": 0.6, "named": 1.0}


def test_tally_counts_added_findings_right_and_wrong():
    tally = {"tp": 0, "fp": 0, "fn": 0, "added_right": 0, "added_wrong": 0}
    rows = [{"contract_id": "c", "category": "Audit Rights", "has_clause": True,
             "spans": [{"text": "The Company may audit the books."}]},
            {"contract_id": "c", "category": "Insurance", "has_clause": False, "spans": []},
            {"contract_id": "c", "category": "Governing Law", "has_clause": True,
             "spans": [{"text": "governed by the laws of Ohio"}]}]
    added = {"Audit Rights": ("The Company may audit the books.",), "Insurance": ("Payment is due in 30 days.",)}
    _tally(tally, rows, {**added, "Governing Law": None}, added)  # the rules found nothing; both were added
    assert tally == {"tp": 1, "fp": 1, "fn": 1, "added_right": 1, "added_wrong": 1}
    assert _rates(tally)["recall"] == 0.5 and _rates(tally)["precision"] == 0.5
    report = {"folds": 2, "examples": 8, "example_contracts": 4, "others": 6, "other_contracts": 3,
              "sentences": sentence_table({"classifier": {"right": [True], "top": [0.9], "other_top": [0.1]},
                                           "likeness": {"right": [True], "top": [0.9], "other_top": [0.1]}}),
              "contracts": [{"threshold": 0.5, **_rates(tally)}]}
    assert "| 0.5 | 0.500 | 0.500 | 1 | 1 |" in format_markdown(report)
