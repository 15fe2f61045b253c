"""Code generation: prompt the code model, extract its code, optionally run it against tests and retry once."""

from __future__ import annotations

import ast
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Literal

from assistant import prompts
from assistant.events import Done, Event, GenerationParams, Notice, TextDelta, Usage
from assistant.generation import Engine
from assistant.sandbox import SandboxLimits, SandboxResult, missing_module, reads_input, run_python

logger = logging.getLogger(__name__)

_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_CLOSED_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)\n[ \t]*```", re.DOTALL)
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_PYTHON_TAGS = {"python", "py", "python3", "py3", ""}
_CODE_START = re.compile(r"^(?:def |class |import |from \S+ import |@\w|async def )", re.MULTILINE)
_RETRY_OUTPUT_CHARS = 2000


@dataclass(frozen=True)
class CodeBlock:
    """Code extracted from the model's answer.

    Attributes:
        code: the Python source.
        kind: "solution", or "tests" for tests the model wrote.
        attempt: 1 for the first answer, 2 for the retry.
        cut: the model reached its length limit while writing it (a solution may be unfinished; tests lose
            their unfinished end).
    """

    code: str
    kind: Literal["solution", "tests"] = "solution"
    attempt: int = 1
    cut: bool = False


@dataclass(frozen=True)
class CodeRun:
    """The result of running a solution against tests in the sandbox.

    Attributes:
        result: the sandbox's verdict, reason and output.
        attempt: which CodeBlock ran (1 or 2).
        tests: "given" by the user or "generated" by the model.
        invalid_tests: the tests themselves are not valid Python, so the code never ran and no retry follows
            (rewriting the code cannot fix them).
    """

    result: SandboxResult
    attempt: int = 1
    tests: Literal["given", "generated"] = "given"
    invalid_tests: bool = False


Runner = Callable[[str, str], SandboxResult]


# ---------------------------------------------------------------- extraction (pure)


def extract_code(text: str, tests: bool = False) -> str:
    """The Python code in a model answer.

    Fenced ```python (or untagged) blocks are preferred: the largest one, with any other block that
    defines a name it uses put in front of it. Without fences, the text from the first line that
    looks like code is kept, less trailing prose. `if __name__ == "__main__":` sections are dropped, and so is a
    solution's trailing example section (see `strip_example_usage`).

    Args:
        text: the visible answer (reasoning already removed; a stray `<think>` block is stripped).
        tests: the answer holds tests: asserts after its last function are checks, not an example.

    Returns:
        The code, or "" when there is none.
    """
    text = _THINK.sub("", text)
    blocks = python_blocks(text)
    if blocks:
        code = join_needed(blocks)
    else:
        code = unfenced_code(text)
    code = strip_main_guard(code)
    return (code if tests else strip_example_usage(code)).strip("\n")


def python_blocks(text: str) -> list[str]:
    """Bodies of fenced blocks tagged python (or untagged), in order; an unclosed last fence counts."""
    found = [(tag.lower(), body) for tag, body in _FENCE.findall(text)]
    return [body for tag, body in found if tag in _PYTHON_TAGS and body.strip()]


def join_needed(blocks: list[str]) -> str:
    """The largest block, preceded (in answer order) by the blocks that define names it calls."""
    main = max(blocks, key=len)
    used = set(re.findall(r"\b([A-Za-z_]\w*)\s*\(", main)) | set(re.findall(r"\b([A-Z]\w*)\b", main))
    own = _defined(main)
    helpers = [b for b in blocks if b is not main and (_defined(b) - own) & used]
    return "\n\n".join([*(b.strip("\n") for b in helpers), main.strip("\n")])


def _defined(code: str) -> set[str]:
    return set(re.findall(r"^(?:async\s+)?(?:def|class)\s+(\w+)", code, re.MULTILINE))


def unfenced_code(text: str) -> str:
    """Code in an answer without fences: from the first code-looking line, trailing prose dropped."""
    start = _CODE_START.search(text)
    if start is None:
        return text.strip() if _parses(text.strip()) else ""
    code = text[start.start():].rstrip()
    return complete_prefix(code) or code


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return bool(code)


def strip_main_guard(code: str) -> str:
    """Drop top-level `if __name__ == "__main__":` sections (they would run, and may wait for input)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    lines = code.splitlines()
    for node in reversed(tree.body):
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            del lines[node.lineno - 1:node.end_lineno]
    return "\n".join(lines).rstrip() + "\n"


def complete_prefix(code: str) -> str:
    """The longest run of whole lines from the start of `code` that parses ("" when none does).

    Tests a model wrote until its length limit end inside a statement ("assert f('Ninet"); the whole file then
    fails to compile and not one of its checks runs. Their complete part is what can be run.
    """
    lines = code.splitlines()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end])
        if _parses(candidate):
            return candidate
    return ""


def strip_example_usage(code: str) -> str:
    """Drop the statements after the last function or class when they only try it out.

    Asked for none, small models still end with "# Example usage" and calls such as `print(median([]))  # raises
    ValueError`: run before the tests, such a line failed a correct solution. The tail goes when it holds only
    expressions, assignments, loops, conditions and asserts whose names nothing above uses, and either follows a
    comment that calls it an example, a usage or a test, or only prints and assigns (a closing `main()` stays).
    """
    try:
        body = ast.parse(code).body
    except (SyntaxError, ValueError):
        return code
    defs = [i for i, node in enumerate(body) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    if not defs or defs[-1] == len(body) - 1:
        return code
    head, tail = body[:defs[-1] + 1], body[defs[-1] + 1:]
    if not all(isinstance(node, _TRY_OUT) for node in tail) or _names(tail, ast.Store) & _names(head, ast.Load):
        return code
    lines = code.splitlines()
    between = lines[head[-1].end_lineno:tail[0].lineno - 1]
    if not (any(_EXAMPLE_NOTE.search(line) for line in between) or all(map(_prints_or_assigns, tail))):
        return code
    logger.info("code: dropped a trailing example section of %d statements", len(tail))
    return "\n".join(lines[:head[-1].end_lineno]).rstrip() + "\n"


_TRY_OUT = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.If, ast.Try, ast.With, ast.Assert)
_EXAMPLE_NOTE = re.compile(r"#.*(?:example|usage|demo|sample|test|示例|用法|例子|测试)", re.IGNORECASE)


def _names(nodes: list[ast.stmt], context: type) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, context)}


def _prints_or_assigns(node: ast.stmt) -> bool:
    if isinstance(node, ast.Expr):
        call = node.value
        return isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"
    return isinstance(node, (ast.Assign, ast.AnnAssign))


def generated_tests(answer: str, code: str) -> str:
    """The tests in a model's answer that can run against `code`: their complete part, without a main guard or
    copies of what the solution defines; "" when no check is left (the 0.5B often writes the solution again
    instead: what remained, `import pytest`, ran without a check and read as passed)."""
    tests = without_redefinitions(strip_main_guard(complete_prefix(extract_code(answer, tests=True))), code)
    tests = tests.strip("\n")
    return tests if has_checks(tests) else ""


def has_checks(tests: str) -> bool:
    """Whether test code checks anything: an `assert`, a unittest `self.assert…` or a `raises(…)`/`fail(…)`."""
    try:
        tree = ast.parse(tests)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr.startswith("assert") or node.func.attr in ("raises", "fail")):
            return True
    return False


def without_redefinitions(tests: str, code: str) -> str:
    """Model-written tests without their own copies of what the solution defines.

    A small model often repeats the function above its asserts; the tests then check that copy and pass
    whatever the solution does. Top-level definitions, assignments and imports of a name the solution
    defines are dropped (the solution's come first in the program, so the tests still see them).
    """
    try:
        solution, suite = ast.parse(code), ast.parse(tests)
    except (SyntaxError, ValueError):
        return tests
    defined = set().union(*(_bound(node) for node in solution.body)) - {"*"}
    copies = [node for node in suite.body if _bound(node) & defined]
    if not copies:
        return tests
    lines = tests.splitlines()
    for node in reversed(copies):
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        del lines[first - 1:node.end_lineno]
    logger.info("generated tests: dropped %d copies of the solution's definitions", len(copies))
    return "\n".join(lines).strip("\n")


def signatures(code: str) -> str:
    """The code's top-level functions and classes as `def name(args):` / `class Name:` lines ("" if it does not
    parse): what tests of it may call."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ""
    lines = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines.append(f"def {node.name}({ast.unparse(node.args)}):")
        elif isinstance(node, ast.ClassDef):
            lines.append(f"class {node.name}:")
    return "\n".join(lines)


def _bound(node: ast.stmt) -> set[str]:
    """The names a top-level statement defines."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, ast.ImportFrom):
        return {alias.asname or alias.name for alias in node.names}
    return set()


# ---------------------------------------------------------------- the task


@dataclass
class _Generation:
    """Text and token counts of one model call."""

    text: str = ""
    usage: Usage = Usage(0, 0)
    finish: str = "stop"
    stop_after_code: bool = False


def generate_code(engine: Engine, request: str, tests: str | None = None, run: bool = False,
                  generate_tests: bool = False, cancel: threading.Event | None = None,
                  params: GenerationParams | None = None, limits: SandboxLimits | None = None,
                  runner: Runner | None = None, stop_after_code: bool = False) -> Iterator[Event | CodeBlock | CodeRun]:
    """Stream a code answer; optionally run it against tests and retry once on failure.

    Events: the model's Notice/ReasoningDelta/TextDelta, CodeBlock(solution); when `run`: CodeBlock(tests)
    if the model wrote them, CodeRun; after a failure the retry's model events, CodeBlock(attempt=2) and a
    second CodeRun. Exactly one Done comes last (usage summed over every model call).

    Args:
        engine: the code model.
        request: what the user asked for.
        tests: test code to run after the solution (plain asserts, `test_*` functions or HumanEval `check`).
        run: run the solution in the sandbox (needs tests, given or generated).
        generate_tests: when no tests are given, ask the model to write them.
        cancel: set to stop; the stream then ends with Done("cancelled").
        params: sampling overrides for every model call (the loop stop is always off: code repeats lines).
        limits: sandbox limits.
        runner: (code, tests) -> SandboxResult; defaults to the sandbox (tests may inject a fake).
        stop_after_code: end each model call as soon as its first ```python block closes (evals: the prose
            after the code costs time and is never used).
    """
    runner = runner or (lambda code, test_code: run_python(code, test_code, limits))
    # code repeats lines on purpose (a board of zeros, a table of cases): no call is cut short as a loop
    params = replace(params or GenerationParams(), stop_repetition=0)
    total = _Generation(stop_after_code=stop_after_code)
    first = yield from _stream(engine, prompts.CODE_TASK.render(request=request), params, cancel, total)
    code = extract_code(first.text)
    yield CodeBlock(code, cut=first.finish == "length")
    if run and first.finish != "cancelled" and not _cancelled(cancel):
        yield from _run_and_retry(engine, request, code, tests, generate_tests, cancel, params, runner, total)
    yield Done("cancelled" if _cancelled(cancel) else total.finish, total.usage)


def _run_and_retry(engine: Engine, request: str, code: str, tests: str | None, generate_tests: bool,
                   cancel: threading.Event | None, params: GenerationParams | None, runner: Runner,
                   total: _Generation) -> Iterator[Event | CodeBlock | CodeRun]:
    origin: Literal["given", "generated"] = "given"
    if tests is None and generate_tests:
        prompt = prompts.CODE_TESTS.render(request=request, signatures=signatures(code) or "(nothing named)")
        begun = replace(params or GenerationParams(), answer_prefix=prompts.CODE_TESTS_START)
        written = yield from _stream(engine, prompt, begun, cancel, total, forward_text=False)
        tests, origin = generated_tests(written.text, code), "generated"
        yield CodeBlock(tests, kind="tests", cut=written.finish == "length")
    if not tests or _cancelled(cancel):
        logger.info("code run skipped reason=%s", "cancelled" if tests else "no tests")
        return
    result = runner(code, tests)
    invalid = not result.passed and not _parses(tests)
    yield CodeRun(result, 1, origin, invalid_tests=invalid)
    if result.passed or invalid or _cancelled(cancel):
        return
    retry = prompts.CODE_RETRY.render(request=request, code=code, status=result.reason,
                                      output=_failure_output(result))
    fixed = yield from _stream(engine, retry, params, cancel, total)
    if fixed.finish == "cancelled" or _cancelled(cancel):
        return
    second = extract_code(fixed.text) or code
    yield CodeBlock(second, attempt=2, cut=fixed.finish == "length")
    yield CodeRun(runner(second, tests), 2, origin)


def _stream(engine: Engine, prompt: str, params: GenerationParams | None, cancel: threading.Event | None,
            total: _Generation, forward_text: bool = True) -> Iterator[Event]:
    """Forward one model call's events (not its Done); return its answer text; add its usage to `total`."""
    pieces: list[str] = []
    generation = _Generation()
    stop = threading.Event() if total.stop_after_code else cancel
    for event in engine.stream([{"role": "user", "content": prompt}], params, stop):
        if isinstance(event, Done):
            generation.usage, generation.finish = event.usage, event.finish_reason
            continue
        if isinstance(event, TextDelta):
            pieces.append(event.text)
            if stop is not cancel and (_cancelled(cancel) or ("`" in event.text and code_closed("".join(pieces)))):
                stop.set()
        if forward_text or isinstance(event, Notice):
            yield event
    generation.text = "".join(pieces)
    if generation.finish == "cancelled" and not _cancelled(cancel):
        generation.finish = "stop"  # we stopped it after the code block on purpose
    total.usage = Usage(total.usage.prompt_tokens + generation.usage.prompt_tokens,
                        total.usage.completion_tokens + generation.usage.completion_tokens)
    total.finish = generation.finish
    return generation


def code_closed(text: str) -> bool:
    """Whether `text` holds a complete fenced block tagged python (or untagged)."""
    return any(tag.lower() in _PYTHON_TAGS and body.strip() for tag, body in _CLOSED_FENCE.findall(text))


def _failure_output(result: SandboxResult) -> str:
    output = (result.stderr.strip() or result.stdout.strip() or result.reason)[-_RETRY_OUTPUT_CHARS:]
    if module := missing_module(result):  # told only the error, the 0.5B imported `requests` again
        output += (f"\nNote: the module {module!r} is not installed where the code runs, and there is no network "
                   "to install it: use only the Python standard library.")
    elif reads_input(result):
        output += "\nNote: the code runs without a keyboard: take the values as function arguments, not from input()."
    return output


def _cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()
