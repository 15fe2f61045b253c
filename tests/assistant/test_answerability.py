"""Answerability probe: its arithmetic, its file, the hidden states it reads from a real model, and chat's refusal."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from assistant import answerability
from assistant.answerability import Probe, Verdict, find_probe, probe_path, slug
from assistant.tasks.chat import ChatOptions, answer
from assistant.tasks.events import Answer, Sources
from evals.probe import build_probe, default_layers, fit, threshold_for, train
from tests.assistant.fakes import ScriptedEngine


class ProbedEngine(ScriptedEngine):
    """A scripted engine whose probe gives a fixed verdict (logic around the probe only)."""

    def __init__(self, verdict, *replies):
        super().__init__(*replies)
        self.verdict = verdict
        self.checked = []

    def answerability(self, messages, language):
        self.checked.append((messages, language))
        return self.verdict


def separable(n=120, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(size=(n, dim)) + y[:, None] * np.linspace(0.0, 1.5, dim)
    return x.astype(np.float32), y


def test_probe_probability_equals_the_fitted_pipeline():
    x, y = separable()
    pipeline = fit(x, y, 0.1)
    data = {"x": x[:, None, :], "y": y, "layers": np.array([3]), "gated": 0, "languages": np.array(["en"])}
    probe = build_probe(data, {"layer": 3, "C": 0.1, "threshold": 0.5}, "m", "synthetic")
    expected = pipeline.predict_proba(x[:5])[:, 1]
    assert [probe.probability(row) for row in x[:5]] == pytest.approx(expected, abs=1e-6)


def test_probe_file_round_trip_and_shape_checks(tmp_path):
    x, y = separable()
    data = {"x": x[:, None, :], "y": y, "layers": np.array([2]), "gated": 0, "languages": np.array(["en"])}
    probe = build_probe(data, {"layer": 2, "C": 0.1, "threshold": 0.4}, "Org/Some-Model 1.5B", "synthetic")
    probe.save(probe_path("Org/Some-Model 1.5B", tmp_path))
    assert probe_path("Org/Some-Model 1.5B", tmp_path).name == "org--some-model-1.5b.json"
    loaded = find_probe("Org/Some-Model 1.5B", hidden_size=16, layers=4, directory=tmp_path)
    assert loaded is not None and loaded.probability(x[0]) == pytest.approx(probe.probability(x[0]), abs=1e-5)
    assert find_probe("Org/Some-Model 1.5B", hidden_size=32, layers=4, directory=tmp_path) is None  # other shapes
    assert find_probe("Org/Some-Model 1.5B", hidden_size=16, layers=1, directory=tmp_path) is None  # too shallow
    assert find_probe("Another/Model", hidden_size=16, layers=4, directory=tmp_path) is None
    (tmp_path / f"{slug('Broken')}.json").write_text("{not json", encoding="utf-8")
    assert find_probe("Broken", hidden_size=16, layers=4, directory=tmp_path) is None
    (tmp_path / f"{slug('Partial')}.json").write_text('{"model": "Partial", "layer": 2}', encoding="utf-8")
    assert find_probe("Partial", hidden_size=16, layers=4, directory=tmp_path) is None


def test_threshold_refuses_at_most_the_allowed_share_of_answerable_questions():
    answerable = np.array([0.05, 0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.9])
    threshold = threshold_for(answerable, 0.1)
    assert threshold == 0.9 and np.mean(answerable >= threshold) <= 0.1
    assert np.mean(answerable >= threshold_for(answerable, 0.3)) == pytest.approx(0.3)
    assert threshold_for(answerable, 0.0) > answerable.max()


def test_training_picks_the_informative_layer_and_reports_out_of_fold_figures():
    x, y = separable(n=200)
    noise = np.random.default_rng(1).normal(size=x.shape).astype(np.float32)
    data = {"x": np.stack([noise, x], axis=1), "y": y, "groups": np.arange(200) // 10,
            "layers": np.array([4, 6]), "gated": 0}
    chosen, table = train(data, max_false_refusal=0.1)
    assert chosen["layer"] == 6 and chosen["auc"] > 0.8 and len(table) == 6
    assert chosen["cv_false_refusal"] <= 0.1 and chosen["cv_refusal_unanswerable"] > 0.3


def test_default_layers_are_the_middle_of_the_model():
    assert default_layers(28) == [5, 7, 9, 11, 13, 15, 17]
    assert default_layers(2) == [1]


def test_chat_refuses_without_calling_the_model_when_the_probe_says_unanswerable(kb, docs):
    kb.ingest([docs["docx"]])
    engine = ProbedEngine(Verdict(0.93, 0.6), "never used")
    events = list(answer(engine, kb, "How many days of paid leave do employees receive?"))
    final = [e for e in events if isinstance(e, Answer)][0]
    assert engine.prompts == [] and [language for _, language in engine.checked] == ["en"]
    assert final.not_found and final.unanswerable == 0.93 and final.confidence == 0.93
    assert [e for e in events if isinstance(e, Sources)][0].items  # the passages found are still shown


def test_chat_answers_when_the_probe_passes_and_records_its_reading(kb, docs):
    kb.ingest([docs["docx"]])
    engine = ProbedEngine(Verdict(0.2, 0.6), "Employees receive 25 days [1].")
    final = [e for e in answer(engine, kb, "How many days of paid leave do employees receive?")
             if isinstance(e, Answer)][0]
    assert not final.not_found and final.unanswerable == 0.2 and final.cited == (1,)


def test_chat_without_a_probe_or_with_it_switched_off_is_unchanged(kb, docs):
    kb.ingest([docs["docx"]])
    question = "How many days of paid leave do employees receive?"
    plain = [e for e in answer(ScriptedEngine("25 days [1]."), kb, question) if isinstance(e, Answer)][0]
    assert plain.unanswerable is None and not plain.not_found
    off = ProbedEngine(Verdict(0.99, 0.5), "25 days [1].")
    final = [e for e in answer(off, kb, question, options=ChatOptions(answerability=False)) if isinstance(e, Answer)][0]
    assert off.checked == [] and not final.not_found


def test_hidden_states_are_the_models_own_and_stop_early(small_model):
    prompt = small_model.encode(small_model.render_prompt([{"role": "user", "content": "Where is Leeds?"}]))
    with torch.inference_mode():
        full = small_model.model(input_ids=torch.tensor([prompt]), output_hidden_states=True).hidden_states
    found = small_model.hidden_states(prompt, [2, 5])
    assert set(found) == {2, 5}
    for layer in (2, 5):
        assert torch.allclose(found[layer], full[layer][0, -1].float(), atol=1e-4)
    with pytest.raises(ValueError):
        small_model.hidden_states(prompt, [small_model.layer_count + 1])


def test_a_real_engine_with_a_probe_refuses_or_answers_by_its_verdict(small_model, small_settings, kb, docs,
                                                                      tmp_path, monkeypatch):
    """The real model's hidden state goes through a probe file found by the model's name."""
    from assistant.generation import LocalEngine

    kb.ingest([docs["docx"]])
    question = "How many days of paid leave do employees receive?"
    monkeypatch.setattr(answerability, "PROBES_DIR", tmp_path)
    size = small_model.hidden_size
    for intercept, refuses in ((8.0, True), (-8.0, False)):
        Probe(small_model.info.name, 3, (0.0,) * size, (1.0,) * size, (0.0,) * size, intercept, 0.5).save(
            probe_path(small_model.info.name))
        engine = LocalEngine(small_model, small_settings.model_copy(update={"answerability_probe": True}))
        try:
            final = [e for e in answer(engine, kb, question) if isinstance(e, Answer)][0]
            messages = [{"role": "user", "content": "这份文件说了什么？"}]
            assert engine.answerability(messages, "zh") is None  # trained on English questions only
            assert engine.answerability(messages, "en") is not None
        finally:
            engine.close()
        assert final.not_found is refuses and final.unanswerable == pytest.approx(1 / (1 + np.exp(-intercept)), abs=1e-4)
    assert LocalEngine(small_model, small_settings).probe is None  # off unless asked for
