"""Fast checks on the committed dev sets (no models): files parse, gold answers and spans are in their text."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from assistant.tasks.clauses import CUAD_NAMES

DATA = Path(__file__).resolve().parents[1] / "evals" / "data"
QUESTION_SETS = ("squad_v2", "cmrc2018", "squad_v2_rhine", "squad_en", "zh")


def _devsets():
    spec = importlib.util.spec_from_file_location("make_devsets", DATA / "make_devsets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_devsets", module)  # dataclasses look their module up while it is executed
    spec.loader.exec_module(module)
    return module


devsets = _devsets()


@pytest.mark.parametrize("name", QUESTION_SETS)
def test_question_set_is_consistent(name):
    set_dir = DATA / name
    rows = [json.loads(line) for line in (set_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows, name
    assert {"id", "question", "answers", "doc_id", "is_impossible"} <= set(rows[0])
    assert len({r["id"] for r in rows}) == len(rows)
    assert devsets.check_questions(set_dir) == []


REAL_SETS = {name: (raw, prefix) for name, raw, prefix in devsets.REAL_SETS}


@pytest.mark.parametrize("name", sorted(REAL_SETS))
def test_real_sets_are_rebuilt_identically_from_raw(name, tmp_path):
    raw, prefix = REAL_SETS[name]
    docs, items, _ = devsets.paragraph_set(DATA / "raw" / raw, prefix)
    devsets.write_set(tmp_path / name, docs, items)
    assert (tmp_path / name / "questions.jsonl").read_text(encoding="utf-8") == \
        (DATA / name / "questions.jsonl").read_text(encoding="utf-8")
    for doc in (DATA / name / "docs").iterdir():
        assert (tmp_path / name / "docs" / doc.name).read_text(encoding="utf-8") == doc.read_text(encoding="utf-8")


def test_probe_training_set_shares_no_paragraph_or_question_with_the_evaluated_slice():
    def rows(name):
        return [json.loads(line) for line in (DATA / name / "questions.jsonl").read_text(encoding="utf-8").splitlines()]

    def texts(name):
        return {p.read_text(encoding="utf-8") for p in (DATA / name / "docs").iterdir()}

    assert not {r["id"] for r in rows("squad_v2")} & {r["id"] for r in rows("squad_v2_rhine")}
    assert not texts("squad_v2") & texts("squad_v2_rhine")


def test_squad_slice_keeps_unanswerable_questions():
    rows = [json.loads(line) for line in (DATA / "squad_v2" / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    impossible = [r for r in rows if r["is_impossible"]]
    assert impossible and all(r["answers"] == [] for r in impossible)


@pytest.mark.parametrize("raw", ("squad_v2_dev_slice.json", "squad_v2_rhine.json"))
def test_squad_raw_offsets_match_context(raw):
    """answer_start in the raw slice points at the answer text: a check that the transcription is exact."""
    data = json.loads((DATA / "raw" / raw).read_text(encoding="utf-8"))
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                for answer in qa["answers"]:
                    start = answer["answer_start"]
                    assert paragraph["context"][start:start + len(answer["text"])] == answer["text"], qa["id"]


CUAD_SETS = [pytest.param(name, raw_sub, pattern, id=name) for name, raw_sub, pattern in devsets.CUAD_SETS]


@pytest.mark.parametrize("name, raw_sub, pattern", CUAD_SETS)
def test_cuad_spans_occur_in_their_contracts(name, raw_sub, pattern):
    assert devsets.check_cuad(DATA / name, CUAD_NAMES) == []


@pytest.mark.parametrize("name, raw_sub, pattern", CUAD_SETS)
def test_cuad_annotations_cover_every_category_once_per_contract(name, raw_sub, pattern):
    rows = [json.loads(line) for line in (DATA / name / "annotations.jsonl").read_text(encoding="utf-8").splitlines()]
    names = CUAD_NAMES
    contracts = {r["contract_id"] for r in rows}
    assert contracts and all((DATA / name / "contracts" / f"{c}.txt").is_file() for c in contracts)
    for contract in contracts:
        assert sorted(r["category"] for r in rows if r["contract_id"] == contract) == sorted(names)
    assert set(devsets.CUAD_CATEGORIES.values()) == names


@pytest.mark.parametrize("name, raw_sub, pattern", CUAD_SETS)
def test_cuad_annotations_are_rebuilt_identically_from_raw(name, raw_sub, pattern):
    rows, problems = devsets.cuad_set(DATA / "raw" / raw_sub, DATA / name / "contracts", pattern)
    assert problems == []
    committed = [json.loads(line) for line in (DATA / name / "annotations.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == committed


def test_cuad_sets_share_no_contract():
    """By CUAD file name, so the same contract under another id is caught too."""
    sets = {name: {json.loads(p.read_text(encoding="utf-8"))["cuad_filename"].lower()
                   for p in (DATA / "raw" / sub).glob(pattern)} for name, sub, pattern in devsets.CUAD_SETS}
    assert all(sets.values()) and len(sets) == 8
    names = list(sets)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            assert not sets[first] & sets[second], (first, second)
    stems = [p.stem for name in names for p in (DATA / name / "contracts").glob("*.txt")]
    assert len(stems) == len(set(stems))


def test_clause_examples_come_from_no_evaluated_contract_and_rebuild_identically():
    rows, dropped = devsets.clause_examples()
    evaluated = devsets.evaluated_cuad_files()
    assert len(evaluated) >= 39 and dropped["evaluated contract"] > 0  # the raw parts do hold some: left out
    assert rows and not {r["file"].lower() for r in rows} & evaluated
    assert devsets.check_clause_examples() == []


def test_checker_catches_an_answer_missing_from_its_document(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "d.txt").write_text("The Normans gave their name to Normandy.\n", encoding="utf-8")
    line = {"id": "1", "question": "q?", "answers": ["Brittany"], "doc_id": "d", "is_impossible": False}
    (tmp_path / "questions.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert len(devsets.check_questions(tmp_path)) == 1
    assert devsets.occurs_in("gave  their\nname", "The Normans gave their name")


def test_classifier_negatives_come_from_dev_contracts_only_and_rebuild_identically():
    rows = [json.loads(line) for line in devsets.OTHER_SENTENCES.read_text(encoding="utf-8").splitlines()]
    assert {r["file"].split("/")[0] for r in rows} == set(devsets.DEV_CUAD_SETS)
    assert not any("heldout" in name for name in devsets.DEV_CUAD_SETS)
    assert devsets.check_other_sentences() == []


def test_off_collection_questions_rebuild_identically_and_none_is_answered_by_the_collection():
    assert devsets.check_off_collection() == []
    name, _raw, _prefix = devsets.OFF_COLLECTION
    rows = [json.loads(line) for line in (DATA / name / devsets.OFF_COLLECTION_FILE).read_text(encoding="utf-8").splitlines()]
    own = {p.stem for p in (DATA / name / "docs").iterdir()}
    assert len(rows) > 200 and all(r["is_impossible"] and r["answers"] == [] for r in rows)
    assert not {r["doc_id"] for r in rows} & own


def test_off_collection_drops_a_question_whose_answer_the_collection_holds(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("The Rhine flows into the North Sea.", encoding="utf-8")
    kept, dropped = devsets.off_collection_items(tmp_path, DATA / "raw" / "squad_v2_rhine.json", "rhine")
    assert dropped >= 1 and not any("Where does the Rhine empty" in i.question for i in kept)
