"""Code tab: a prompt, the generated code (highlighted), and "run tests" in the sandbox."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import gradio as gr

from assistant.events import Done, Notice, ReasoningDelta, TextDelta
from assistant.sandbox import SandboxLimits, SandboxResult, isolation_problem, run_python
from assistant.tasks.code import CodeBlock, CodeRun, extract_code, generate_code
from ui.i18n import t
from ui.messages import request_language, say
from ui.render import escape, sandbox_markdown
from ui.services import Services

EXAMPLES = [
    ["Write a Python function is_palindrome(s) that ignores case and non-alphanumeric characters.",
     "assert is_palindrome('A man, a plan, a canal: Panama')\nassert not is_palindrome('hello')"],
    ["写一个 Python 函数 fib(n)，返回第 n 个斐波那契数（fib(0)=0）。", "assert fib(0) == 0\nassert fib(10) == 55"],
]


@dataclass
class CodeView:
    """What the tab shows at one moment of a generation."""

    code: str = ""
    tests: str = ""
    reasoning: str = ""
    result: str = ""


# ---------------------------------------------------------------- handlers (plain functions, tested directly)


def code_stream(services: Services, request: str, tests: str = "", generate_tests: bool = False,
                cancel: threading.Event | None = None, lang: str = "en") -> Iterator[CodeView]:
    """Generate code for `request`; run it against the given (or generated) tests; retry once on failure."""
    request, tests = (request or "").strip(), (tests or "").strip()
    view = CodeView(tests=tests)
    if not request:
        yield CodeView(tests=tests, result=say(lang, "code.describe"))
        return
    raw, notices, have_block, first_reason = "", [], False, None
    run = bool(tests) or generate_tests
    with services.metrics.track("code") as generation:
        for event in generate_code(services.runtime.code, request, tests or None, run=run,
                                   generate_tests=generate_tests, cancel=cancel, limits=services.sandbox):
            match event:
                case TextDelta(text=text):
                    generation.token()
                    raw += text
                    if not have_block and ("```" in raw or "\n" in raw):  # a first line or fence: judge it
                        view.code = extract_code(raw)  # the code so far: no fences, no prose around it
                case ReasoningDelta(text=text):
                    generation.token()
                    view.reasoning += text
                case Notice(message=message):
                    notices.append(f"⚠️ {escape(message)}")
                case CodeBlock(kind="tests", code=code, cut=cut):
                    view.tests, view.result = code, say(lang, "code.running")
                    if cut:
                        notices.append(say(lang, "code.tests_cut"))
                case CodeBlock(code=code, cut=cut):
                    view.code, raw, have_block = code, "", True
                    if cut:
                        notices.append(say(lang, "code.cut"))
                    writing = run and not view.tests  # none given: the model writes the tests first
                    view.result = say(lang, "code.writing_tests" if writing else "code.running") if run else ""
                case CodeRun(result=result, attempt=attempt, tests=origin, invalid_tests=invalid):
                    view.result = run_markdown(result, attempt, origin, lang, same=result.reason == first_reason,
                                               invalid_tests=invalid)
                    first_reason = result.reason
                case Done(finish_reason=reason, usage=usage):
                    generation.done(usage.completion_tokens)
                    if reason == "cancelled":
                        notices.append(say(lang, "code.stopped"))
                    waiting = (say(lang, "code.running"), say(lang, "code.writing_tests"))
                    if view.result in waiting:  # nothing ran: stopped, or the model wrote no usable tests
                        view.result = "" if reason == "cancelled" else say(lang, "code.no_tests_written")
            yield _with_notices(view, notices)


def run_markdown(result: SandboxResult, attempt: int, origin: str, lang: str = "en", same: bool = False,
                 invalid_tests: bool = False) -> str:
    """One attempt's verdict; after a first failure, that a retry comes (or, when the tests themselves are not valid
    Python, that none does); after a retry that failed the model's own tests, that the tests may be what is wrong
    (`same`: the same check failed both times).

    A small model's tests can contradict the request ("assert is_palindrome('Racecar') is False"); its retry then
    fails the same way, and only the visitor can tell which side is wrong.
    """
    label = say(lang, "code.attempt", attempt=attempt, origin=say(lang, f"code.{origin}"))
    note = ""
    if invalid_tests:
        note = "\n\n" + say(lang, "code.tests_invalid")
    elif not result.passed and attempt == 1:
        note = "\n\n" + say(lang, "code.retry")
    elif not result.passed and origin == "generated":
        note = "\n\n" + say(lang, "code.tests_suspect_same" if same else "code.tests_suspect")
    return sandbox_markdown(result, label, lang) + note


def run_tests(code: str, tests: str, runner: Callable[[str, str], SandboxResult] = run_python, lang: str = "en") -> str:
    """Run the code in the editor (maybe edited by the visitor) against the tests in the sandbox."""
    if not (code or "").strip():
        return say(lang, "code.need_code")
    if not (tests or "").strip():
        return say(lang, "code.need_tests")
    return sandbox_markdown(runner(code, tests), say(lang, "code.your_tests"), lang)


def isolation_note(limits: SandboxLimits) -> str:
    """A line under "run tests" when this server cannot isolate runs (asked once per process); empty otherwise."""
    problem = isolation_problem() if limits.isolation == "required" else None
    return f"⚠️ {escape(problem)}" if problem else ""


def _with_notices(view: CodeView, notices: list[str]) -> CodeView:
    if not notices:
        return replace(view)
    return CodeView(view.code, view.tests, view.reasoning, "\n\n".join([*notices, view.result]).strip())


# ---------------------------------------------------------------- UI


def build_code(services: Services) -> None:
    with gr.Tab(t("tab.code"), id="code"):
        with gr.Row():
            with gr.Column():
                prompt = gr.Textbox(label=t("code.prompt"), lines=4, elem_id="code-prompt")
                tests = gr.Code(label=t("code.tests"), language="python", lines=6, interactive=True,
                                elem_id="code-tests")
                generate_tests = gr.Checkbox(False, label=t("code.generate_tests"))
                with gr.Row():
                    generate = gr.Button(t("code.generate"), variant="primary", elem_id="generate")
                    stop = gr.Button(t("chat.stop"), variant="stop")
                # Labels, not a table: the table's headers would be the (untranslated) i18n keys of the inputs.
                gr.Examples(EXAMPLES, inputs=[prompt, tests], label=t("chat.examples"),
                            example_labels=["is_palindrome(s) ✓", "fib(n) ✓"])  # the same in both languages
            with gr.Column():
                code = gr.Code(label=t("code.code"), language="python", lines=16, interactive=True,
                               elem_id="code-output")
                run = gr.Button(t("code.run"), elem_id="run-tests")
                gr.Markdown(isolation_note(services.sandbox), elem_id="sandbox-note")
                result = gr.Markdown(elem_id="code-result")
                with gr.Accordion(t("code.reasoning"), open=False):
                    reasoning = gr.Markdown()

    def on_generate(text, test_code, write_tests, request: gr.Request):
        with services.stops.running(request.session_hash, "code") as cancel:
            for view in code_stream(services, text, test_code, write_tests, cancel, request_language(request)):
                yield view.code, view.tests, escape(view.reasoning), view.result

    def on_stop(request: gr.Request):
        services.stops.stop(request.session_hash, "code")

    def arm(request: gr.Request):  # from the click on, Stop reaches the request, also while it waits in the queue
        services.stops.arm(request.session_hash, "code")
        # and "Run tests" waits: the generation's next update would overwrite that run's verdict (a walkthrough's
        # click during the automatic retry never showed its result)
        return gr.Button(interactive=False)

    armed = generate.click(arm, None, run, queue=False, api_visibility="private")
    generating = armed.then(on_generate, [prompt, tests, generate_tests], [code, tests, reasoning, result],
                            api_name="generate_code", concurrency_id="model",
                            concurrency_limit=services.settings.model_concurrency)
    generating.then(lambda: gr.Button(interactive=True), None, run, queue=False, api_visibility="private")
    def on_run(code_text, test_code, request: gr.Request):
        runner = functools.partial(run_python, limits=services.sandbox)
        return run_tests(code_text, test_code, runner, lang=request_language(request))

    run.click(on_run, [code, tests], [result], api_name="run_tests", concurrency_id="sandbox",
              concurrency_limit=2)
    stop.click(on_stop, None, None, queue=False, api_name="stop_code")
