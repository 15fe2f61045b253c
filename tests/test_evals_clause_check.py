"""evals.clause_check: candidates from the real likeness search on a tiny CUAD-style set, a fake judge's scores."""

from __future__ import annotations

import json
from types import SimpleNamespace

from assistant.tasks.similar import SimilarClauses, load_examples
from evals.clause_check import candidates, check, format_markdown, summarise

HANDOVER = ("Neither party may hand over its rights or duties under this agreement to another company without the "
            "written permission of the other party.")


class WordJudge:
    """Says yes when the passage mentions the other party: a stand-in for the model."""

    info = SimpleNamespace(label="word judge")

    def choice_probabilities(self, messages, choices):
        yes = 0.9 if "other party" in messages[0]["content"].split("Passage:")[1] else 0.1
        return {"yes": yes, "no": 1 - yes}


def test_candidates_are_scored_against_gold_spans(kb, embedder, tmp_path):
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "deal.txt").write_text(f"The Supplier shall deliver the goods monthly. {HANDOVER}\n",
                                                     encoding="utf-8")
    gold = [{"contract_id": "deal", "category": "Anti-Assignment", "has_clause": True, "spans": [{"text": HANDOVER}]},
            {"contract_id": "deal", "category": "Insurance", "has_clause": False, "spans": []}]
    (tmp_path / "annotations.jsonl").write_text("\n".join(json.dumps(g) for g in gold), encoding="utf-8")
    rows = candidates(SimilarClauses(embedder, load_examples()), kb, tmp_path)
    assert [(r["category"], r["right"]) for r in rows] == [("Anti-Assignment", True)]
    report = summarise("word judge", check(WordJudge(), rows))
    assert report["candidates"] == 1 and report["right"] == 1 and report["rows"][0]["p_yes"] == 0.9
    assert report["thresholds"]["0.5"] == {"kept": 1, "right": 1}
    assert "| 0.5 | 1 | 1 |" in format_markdown(report)


def test_auc_separates_right_from_wrong_candidates():
    rows = [{"right": True, "p_yes": 0.9, "score": 0.7}, {"right": False, "p_yes": 0.2, "score": 0.8}]
    report = summarise("x", rows)
    assert report["auc_model"] == 1.0 and report["auc_score"] == 0.0
