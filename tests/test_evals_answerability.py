"""evals.answerability: AUC and threshold rates (fake scorer), and the real model's choice probabilities."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from evals.answerability import auc, evaluate, format_markdown


def test_auc():
    assert auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auc([0.1], [0.9]) == 0.0
    assert auc([0.5], [0.5]) == 0.5


class KeywordJudge:
    """Says yes when the question's last word is in the passage: a stand-in for the model's logic."""

    info = SimpleNamespace(label="keyword judge")

    def choice_probabilities(self, messages, choices):
        text = messages[0]["content"]
        passage, question = text.split("Passage:\n")[1].split("\n\nQuestion: ")
        word = question.split("\n")[0].rstrip("?").split()[-1]
        yes = 0.9 if word in passage else 0.2
        return {"yes": yes, "no": 1 - yes}


def test_evaluate_reports_auc_and_rates(tmp_path):
    (tmp_path / "d.txt").write_text("The Normans lived in Normandy.", encoding="utf-8")
    lines = [{"id": "1", "question": "Where did the Normans live in Normandy?", "answers": ["Normandy"], "doc_id": "d"},
             {"id": "2", "question": "Where did the Normans live in Sicily?", "answers": [], "doc_id": "d",
              "is_impossible": True},
             {"id": "0", "question": "skipped?", "answers": ["x"], "doc_id": "d"}]
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(x) for x in [lines[2], *lines[:2]]), encoding="utf-8")
    report = evaluate(KeywordJudge(), tmp_path, questions, skip=1)
    assert (report["questions"], report["auc"]) == (2, 1.0)
    assert report["thresholds"]["0.5"] == {"refusal_unanswerable": 1.0, "false_refusal": 0.0}
    assert "AUC 1.000" in format_markdown(report)


def test_real_model_choice_probabilities(small_model):
    probs = small_model.choice_probabilities([{"role": "user", "content": "Is the sky blue? Reply yes or no."}],
                                             ["yes", "no"])
    assert set(probs) == {"yes", "no"}
    assert all(0.0 <= p <= 1.0 for p in probs.values()) and 0.0 < sum(probs.values()) <= 1.0 + 1e-6


@pytest.fixture(scope="module")
def small_model():
    from assistant.config import AssistantSettings
    from assistant.model import load_offline_fallback
    from tests.assistant.conftest import CACHE_DIR

    return load_offline_fallback(AssistantSettings(offline_model="smollm2-135m", cache_dir=CACHE_DIR, warmup=False,
                                                   quantization="none"), "test")
