"""The code task: extraction, run/retry logic with a scripted engine, and one real end-to-end run."""

from __future__ import annotations

import threading

import pytest

from assistant import prompts
from assistant.events import Done, GenerationParams, Notice, ReasoningDelta, TextDelta, Usage
from assistant.info import ModelInfo
from assistant.sandbox import SandboxResult, missing_module
from assistant.tasks.code import (CodeBlock, CodeRun, code_closed, complete_prefix, extract_code, generate_code,
                                  without_redefinitions)
from tests.assistant.fakes import ScriptedEngine

ADD = "```python\ndef add(a, b):\n    return a + b\n```"
WRONG_ADD = "Here you go:\n```python\ndef add(a, b):\n    return a - b\n```\nThis subtracts."
ADD_TESTS = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n"


def events_of(stream) -> list:
    return list(stream)


def only(events, kind) -> list:
    return [e for e in events if isinstance(e, kind)]


# ---------------------------------------------------------------- extraction (pure)


def test_extracts_a_python_block_and_ignores_the_prose():
    text = "Sure! Here is the function:\n\n```python\ndef f(x):\n    return x * 2\n```\n\nIt doubles `x`."
    assert extract_code(text) == "def f(x):\n    return x * 2"


def test_extracts_untagged_and_py_blocks_but_not_other_languages():
    assert extract_code("```\nimport math\nprint(math.pi)\n```") == "import math\nprint(math.pi)"
    assert extract_code("Run:\n```bash\npip install x\n```\n```py\nx = 1\n```") == "x = 1"


def test_picks_the_largest_block_and_drops_example_usage():
    text = ("```python\ndef is_prime(n):\n    if n < 2:\n        return False\n    return all(n % d for d in "
            "range(2, int(n ** 0.5) + 1))\n```\nExample:\n```python\nprint(is_prime(7))\n```")
    assert extract_code(text).startswith("def is_prime(n):") and "print(" not in extract_code(text)


def test_joins_a_helper_block_the_main_block_calls():
    text = ("First a helper:\n```python\ndef gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n```\n"
            "Then the solution:\n```python\ndef lcm_of_list(values):\n    result = 1\n    for v in values:\n"
            "        result = result * v // gcd(result, v)\n    return result\n```")
    code = extract_code(text)
    assert code.index("def gcd") < code.index("def lcm_of_list")


def test_an_unclosed_fence_is_kept():
    assert extract_code("```python\ndef f():\n    return 1\n") == "def f():\n    return 1"


def test_code_without_fences_loses_the_prose_around_it():
    text = "The answer is below.\ndef square(x):\n    return x * x\n\nThis returns the square of x."
    assert extract_code(text) == "def square(x):\n    return x * x"
    assert extract_code("I cannot help with that.") == ""


def test_main_guard_and_think_blocks_are_removed():
    text = ("<think>maybe ```python\nwrong()\n```</think>```python\ndef f():\n    return 1\n\n"
            "if __name__ == \"__main__\":\n    print(f(input()))\n```")
    assert extract_code(text) == "def f():\n    return 1"


def test_a_trailing_example_section_is_dropped_but_code_the_program_needs_stays():
    """The 0.5B ended median() with "# Example usage:" and `print(median([]))  # Raises ValueError`: run before the
    tests, that line failed a correct solution."""
    median = "def median(xs):\n    if not xs:\n        raise ValueError('empty')\n    return sorted(xs)[len(xs) // 2]"
    answer = f"```python\n{median}\n\n# Example usage:\nprint(median([3, 1, 2]))  # 2\nprint(median([]))  # raises\n```"
    assert extract_code(answer) == median
    checks = "def f(x):\n    return x\n\n# Test cases\nassert f(1) == 1\nfor i in range(3):\n    print(f(i))"
    assert extract_code(checks) == "def f(x):\n    return x"
    assert extract_code(checks, tests=True) == checks  # in tests the asserts are the point
    tests = "```python\ndef test_add():\n    assert add(1, 2) == 3\n\n# Test cases\nassert add(2, 2) == 4\n```"
    events = events_of(generate_code(ScriptedEngine(ADD, tests), "add", run=True, generate_tests=True))
    assert only(events, CodeBlock)[1].code.endswith("# Test cases\nassert add(2, 2) == 4")
    cache = "class C:\n    pass\n\n# 示例\nc = C()\nc.put(1)\nprint(c)"
    assert extract_code(cache) == "class C:\n    pass"
    kept = ["def main():\n    print(1)\n\nmain()",  # the program's entry point, no example comment
            "def f():\n    return TABLE[0]\n\n# example table\nTABLE = [1]",  # a name the function uses
            "x = int('1')\nprint(x)",  # a script: nothing defined
            "def f():\n    return 1\n\n# usage\nimport os\nprint(f())"]  # an import is no try-out
    assert [extract_code(code) for code in kept] == kept


def test_generated_tests_without_a_check_are_no_tests():
    """The 0.5B wrote LRUCache again as its 'tests'; with the copy dropped, `import pytest` remained, ran without a
    single check, and the verdict read "passed"."""
    lru = "```python\nclass LRUCache:\n    def get(self, key):\n        return -1\n```"
    copy = "```python\nimport pytest\n\nclass LRUCache:\n    def get(self, key):\n        return key\n```"
    events = events_of(generate_code(ScriptedEngine(lru, copy), "an LRU cache", run=True, generate_tests=True))
    assert not only(events, CodeRun) and only(events, CodeBlock)[1].code == ""
    from assistant.tasks.code import has_checks
    assert has_checks("def test_a():\n    assert f()") and has_checks("with pytest.raises(E):\n    f()")
    assert has_checks("class T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(f(), 1)")
    assert not has_checks("import pytest\nprint(f(1))") and not has_checks("def broken(:")


def test_code_closed_detects_a_finished_python_block():
    assert not code_closed("```python\ndef f():\n    pass\n")
    assert code_closed("```python\ndef f():\n    pass\n```")
    assert not code_closed("```bash\nls\n```")


# ---------------------------------------------------------------- the task with a scripted engine


class ThinkingEngine(ScriptedEngine):
    """An R1-style engine: reasoning (with a decoy code block) first, then the answer."""

    def stream(self, messages, params=None, cancel=None):
        yield ReasoningDelta("Let me think. ```python\ndef add(a, b):\n    return 0\n```")
        yield from super().stream(messages, params, cancel)


def test_without_run_streams_the_answer_then_the_code_then_done():
    engine = ScriptedEngine(ADD)
    events = events_of(generate_code(engine, "add two numbers"))
    assert "".join(e.text for e in only(events, TextDelta)).strip() == ADD
    assert only(events, CodeBlock) == [CodeBlock("def add(a, b):\n    return a + b")]
    assert isinstance(events[-1], Done) and len(only(events, Done)) == 1
    assert engine.prompts == [[{"role": "user", "content": prompts.CODE_TASK.render(request="add two numbers")}]]


def test_code_answers_are_never_cut_short_as_loops():
    """Code repeats lines on purpose: a sudoku board of zero rows tripped the loop stop in a review."""
    engine = ScriptedEngine(ADD, "not this")
    events_of(generate_code(engine, "add two numbers", params=GenerationParams(max_new_tokens=50)))
    assert [(p.stop_repetition, p.max_new_tokens) for p in engine.params] == [(0, 50)]


def test_only_the_answer_text_counts_not_the_reasoning():
    events = events_of(generate_code(ThinkingEngine(ADD), "add two numbers", tests=ADD_TESTS, run=True))
    assert only(events, ReasoningDelta)
    assert only(events, CodeBlock)[0].code == "def add(a, b):\n    return a + b"
    assert only(events, CodeRun)[0].result.passed


def test_a_passing_run_is_not_retried():
    engine = ScriptedEngine(ADD, "must not be asked")
    events = events_of(generate_code(engine, "add two numbers", tests=ADD_TESTS, run=True))
    runs = only(events, CodeRun)
    assert len(runs) == 1 and runs[0].result.status == "passed" and runs[0].tests == "given"
    assert len(engine.prompts) == 1 and isinstance(events[-1], Done)


def test_a_failure_is_fed_back_once_and_the_fix_runs():
    engine = ScriptedEngine(WRONG_ADD, ADD)
    events = events_of(generate_code(engine, "add two numbers", tests=ADD_TESTS, run=True))
    first, second = only(events, CodeRun)
    assert first.result.status == "failed" and "assert add(2, 3) == 5" in first.result.reason
    assert second.attempt == 2 and second.result.passed
    assert [b.attempt for b in only(events, CodeBlock)] == [1, 2]
    retry = engine.prompts[1][0]["content"]
    assert "return a - b" in retry and "AssertionError" in retry and "add two numbers" in retry
    assert events[-1] == Done("stop", Usage(20, len(WRONG_ADD.split()) + len(ADD.split())))  # both calls


def test_a_second_failure_is_reported_without_a_third_try():
    engine = ScriptedEngine(WRONG_ADD, WRONG_ADD, "never")
    events = events_of(generate_code(engine, "add", tests=ADD_TESTS, run=True))
    assert [r.result.passed for r in only(events, CodeRun)] == [False, False] and len(engine.prompts) == 2


def test_generated_tests_are_written_by_the_model_and_not_streamed_as_answer():
    tests = "```python\ndef test_add():\n    assert add(1, 2) == 3\n```"
    engine = ScriptedEngine(ADD, tests)
    events = events_of(generate_code(engine, "add two numbers", run=True, generate_tests=True))
    assert "test_add" not in "".join(e.text for e in only(events, TextDelta))
    assert only(events, CodeBlock)[1] == CodeBlock("def test_add():\n    assert add(1, 2) == 3", kind="tests")
    run = only(events, CodeRun)[0]
    assert run.tests == "generated" and run.result.passed and "1 passed, 0 failed" in run.result.stdout
    # the model is told what the solution defines: told only the task, the 1.5B wrote the solution again
    assert engine.prompts[1][0]["content"] == prompts.CODE_TESTS.render(request="add two numbers",
                                                                         signatures="def add(a, b):")
    assert "it defines:\ndef add(a, b):\nDo not write the solution again" in engine.prompts[1][0]["content"]
    assert engine.params[1].answer_prefix == prompts.CODE_TESTS_START and engine.params[0].answer_prefix == ""


def test_signatures_name_what_tests_may_call():
    from assistant.tasks.code import signatures

    code = "import math\n\ndef area(r, *, precise=False):\n    return math.pi * r * r\n\nclass Shape:\n    pass\n"
    assert signatures(code) == "def area(r, *, precise=False):\nclass Shape:"
    assert signatures("def broken(:") == ""


def test_generated_tests_that_redefine_the_function_test_the_solution_not_their_copy():
    """Seen in the app: the model's tests defined reverse_words again, so they passed whatever the code did."""
    wrong = "```python\ndef reverse_words(s):\n    return s\n```"
    tests = ("```python\nimport pytest\nfrom solution import reverse_words\n\n@staticmethod\ndef reverse_words(s):\n"
             "    return ' '.join(reversed(s.split()))\n\nHELPER = 1\n\ndef test_reverse():\n"
             "    assert reverse_words('a b') == 'b a'\n```")
    events = events_of(generate_code(ScriptedEngine(wrong, tests, wrong), "reverse words", run=True,
                                     generate_tests=True))
    written = only(events, CodeBlock)[1].code
    assert "def reverse_words" not in written and "from solution" not in written and "@staticmethod" not in written
    assert "import pytest" in written and "HELPER = 1" in written and "def test_reverse" in written
    assert not only(events, CodeRun)[0].result.passed  # the solution's own reverse_words is what is tested
    assert without_redefinitions("assert f(1) == 2", "def f(x):\n    return x + 1") == "assert f(1) == 2"
    assert without_redefinitions("def f(:", "def f(x): pass") == "def f(:"  # unparsable: left as written


def test_tests_cut_at_the_length_limit_run_their_complete_part_against_the_solution():
    """A walkthrough's 0.5B wrote word_counts again above 19 asserts and hit its length limit inside the 20th: the
    file did not compile, no check ran, and the retry rewrote code that was never at fault."""
    counts = "```python\ndef word_counts(text):\n    return {w: text.lower().split().count(w) for w in text.lower().split()}\n```"
    cut = ("```python\nimport pytest\n\ndef word_counts(text):\n    return {}\n\ndef test_word_counts():\n"
           "    assert word_counts('a A') == {'a': 2}\n    assert word_counts('') == {}\n    assert word_counts('Nin")
    engine = ScriptedEngine(counts, cut, "never", finish=["stop", "length", "stop"])
    events = events_of(generate_code(engine, "count words, ignoring case", run=True, generate_tests=True))
    tests = only(events, CodeBlock)[1]
    assert tests == CodeBlock("import pytest\n\n\ndef test_word_counts():\n    assert word_counts('a A') == {'a': 2}\n"
                              "    assert word_counts('') == {}", kind="tests", cut=True)
    run = only(events, CodeRun)[0]
    assert run.result.passed and "1 passed, 0 failed" in run.result.stdout and len(engine.prompts) == 2
    assert complete_prefix("x = 1\ny = (2,\n") == "x = 1" and complete_prefix("f(") == ""
    assert complete_prefix("a = 1\n\nb = 2") == "a = 1\n\nb = 2"


def test_a_solution_cut_at_the_length_limit_says_so():
    events = events_of(generate_code(ScriptedEngine("```python\ndef add(a, b):\n    return a +", finish="length"), "add"))
    (block,) = only(events, CodeBlock)
    assert block.cut and block.code.rstrip() == "def add(a, b):\n    return a +"
    assert not only(events_of(generate_code(ScriptedEngine(ADD), "add")), CodeBlock)[0].cut


def test_tests_that_are_not_valid_python_get_no_retry():
    """Rewriting the code cannot fix a test that does not compile: the retry would only cost a model call."""
    engine = ScriptedEngine(ADD, "never")
    events = events_of(generate_code(engine, "add", tests="assert add(1, 2) == 3\nassert add(2, 'x) == 1", run=True))
    (run,) = only(events, CodeRun)
    assert run.invalid_tests and run.result.status == "failed" and "SyntaxError" in run.result.reason
    assert "tests, line 2" in run.result.reason and len(engine.prompts) == 1 and isinstance(events[-1], Done)
    wrong = events_of(generate_code(ScriptedEngine(WRONG_ADD, ADD), "add", tests=ADD_TESTS, run=True))
    assert not only(wrong, CodeRun)[0].invalid_tests  # a failing check is the code's to fix


def test_a_missing_module_is_named_to_the_retry():
    """Told only the ModuleNotFoundError, the 0.5B imported `requests` again in its retry."""
    fetch = "```python\nimport requests\n\ndef title(url):\n    return requests.get(url).text\n```"
    engine = ScriptedEngine(fetch, fetch)
    events = events_of(generate_code(engine, "fetch a page's title", tests="assert title('x') == 'y'", run=True))
    first = only(events, CodeRun)[0].result
    assert missing_module(first) == "requests"
    retry = engine.prompts[1][0]["content"]
    assert "Note: the module 'requests' is not installed where the code runs" in retry
    assert "use only the Python standard library" in retry
    assert missing_module(SandboxResult(False, "failed", "failed: AssertionError", "", "AssertionError", 0.1, 1)) is None
    asks = "```python\ndef total():\n    return int(input('a? ')) + 1\n```"
    engine = ScriptedEngine(asks, asks)
    events_of(generate_code(engine, "add one to a number", tests="assert total() == 2", run=True))
    assert "Note: the code runs without a keyboard" in engine.prompts[1][0]["content"]
    nested = SandboxResult(False, "failed", "", "", "Traceback…\nModuleNotFoundError: No module named 'a.b_c'", 0.1, 1)
    assert missing_module(nested) == "a.b_c"


def test_run_without_tests_runs_nothing():
    events = events_of(generate_code(ScriptedEngine(ADD), "add", run=True))
    assert not only(events, CodeRun) and isinstance(events[-1], Done)


def test_the_runner_gets_code_and_tests():
    calls = []

    def runner(code, tests):
        calls.append((code, tests))
        return SandboxResult(True, "passed", "passed", "", "", 0.0, 0)

    events_of(generate_code(ScriptedEngine(ADD), "add", tests=ADD_TESTS, run=True, runner=runner))
    assert calls == [("def add(a, b):\n    return a + b", ADD_TESTS)]


class SlowEngine:
    """Streams one character at a time and honours `cancel` like LocalEngine."""

    info = ModelInfo("slow", "slow test engine", "cpu", "none", "float32", 0)

    def __init__(self, reply: str):
        self.reply, self.sent = reply, 0

    def stream(self, messages, params=None, cancel=None):
        yield Notice("using a test engine", "info")
        for char in self.reply:
            if cancel is not None and cancel.is_set():
                yield Done("cancelled", Usage(5, self.sent))
                return
            self.sent += 1
            yield TextDelta(char)
        yield Done("stop", Usage(5, self.sent))


def test_stop_after_code_ends_the_generation_at_the_closing_fence():
    reply = ADD + "\n\nExplanation: " + "blah " * 200
    engine = SlowEngine(reply)
    events = events_of(generate_code(engine, "add", stop_after_code=True))
    assert engine.sent == len(ADD)
    assert only(events, CodeBlock)[0].code == "def add(a, b):\n    return a + b"
    assert only(events, Notice) and events[-1].finish_reason == "stop"


def test_cancel_ends_with_done_cancelled_and_runs_nothing():
    cancel = threading.Event()
    stream = generate_code(SlowEngine(ADD * 5), "add", tests=ADD_TESTS, run=True, cancel=cancel)
    events = [next(stream), next(stream)]
    cancel.set()
    events += list(stream)
    assert not only(events, CodeRun) and events[-1].finish_reason == "cancelled"


# ---------------------------------------------------------------- end to end with a real model


@pytest.fixture(scope="module")
def coder_engine(small_settings):
    """LocalEngine over the packaged Qwen2.5-Coder-0.5B (the code fallback; SmolLM2 cannot write code)."""
    from assistant.generation import LocalEngine
    from assistant.model import load_model

    settings = small_settings.model_copy(update={"offline_model": "qwen2.5-coder-0.5b", "max_new_tokens": 160})
    engine = LocalEngine(load_model(settings.code_model, settings), settings)
    yield engine
    engine.close()


def test_real_model_writes_code_that_passes_in_the_sandbox(coder_engine):
    request = "Write a Python function reverse_string(s) that returns the string s reversed."
    tests = "assert reverse_string('abc') == 'cba'\nassert reverse_string('') == ''\n"
    events = events_of(generate_code(coder_engine, request, tests=tests, run=True, stop_after_code=True,
                                     params=GenerationParams(temperature=0.0)))
    runs = only(events, CodeRun)
    assert runs, "the generated code never ran"
    assert "def reverse_string" in only(events, CodeBlock)[0].code
    assert runs[-1].result.passed, runs[-1].result.reason
    assert isinstance(events[-1], Done) and events[-1].usage.completion_tokens > 0


def test_real_model_writes_tests_not_the_solution_again(coder_engine):
    """Asked for tests of median(), the 0.5B wrote median() again and nothing ran; its answer now begins with a
    test (prompts.CODE_TESTS_START)."""
    median = ("```python\ndef median(xs):\n    if not xs:\n        raise ValueError('empty list')\n"
              "    xs = sorted(xs)\n    mid = len(xs) // 2\n    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2\n```")

    class Solution:  # the real model writes the tests; the solution is fixed
        info = coder_engine.info

        def stream(self, messages, params=None, cancel=None):
            if "Write pytest-style tests" in messages[0]["content"]:
                yield from coder_engine.stream(messages, params, cancel)
                return
            yield from ScriptedEngine(median).stream(messages, params, cancel)

    request = "Write a function median(xs) that returns the median of a list of numbers; raise ValueError on an empty list."
    events = events_of(generate_code(Solution(), request, run=True, generate_tests=True,
                                     params=GenerationParams(temperature=0.0)))
    tests = only(events, CodeBlock)[1]
    assert tests.kind == "tests" and "def test_" in tests.code and "def median" not in tests.code
    assert only(events, CodeRun)  # they ran
