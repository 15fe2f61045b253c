"""Turning the core's typed events into Markdown for the page. Document text and file names are data: escaped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.info import ModelInfo
from assistant.markdown import literal
from assistant.runtime import Runtime
from assistant.sandbox import SandboxResult, missing_module, reads_input
from assistant.tasks.clauses import display_name
from assistant.tasks.contracts import REPORT_WORDS, Finding, Passage, found_word, pages_of
from assistant.tasks.events import Source
from knowledge.lexical import rewrapped_cjk
from knowledge.types import IngestResult
from ui.messages import MESSAGES, columns, counted, error_text, listed, say

PASSAGE_CHARS = 700
_CODE = re.compile(r"(```.*?(?:```|\Z)|`[^`\n]*`)", re.DOTALL)  # fenced blocks (also unclosed while streaming), spans
_FALLBACK_SUFFIX = " (offline fallback)"


def table_frame(rows: list[list], lang: str, table: str):
    """A "documents" or "findings" table with its header row in the visitor's language.

    A pandas frame, not a gr.Dataframe update: API clients keep getting {"headers", "data"}.
    """
    import pandas as pd  # noqa: PLC0415 - gradio's own dependency

    return pd.DataFrame(rows, columns=columns(lang, table))


def escape(text: str) -> str:
    """Make text inert in Gradio Markdown: no HTML, no emphasis, links, headings, tables or code."""
    return literal(text)


# ---------------------------------------------------------------- status line


def status_markdown(runtime: Runtime, embedder_name: str, lang: str = "en", multilingual: bool = True) -> str:
    """The status line: which model answers (or the offline fallback), on which device, quantized how.

    Why a model is not the configured one is said in a sentence; the loader's exception text is in the log.
    An English-only search model is said too: Chinese text is then found by its words alone.
    """
    chat, code = runtime.chat.info, runtime.code.info
    parts = [say(lang, "status.chat", model=escape(model_line(chat, lang)))]
    if code is not chat and code != chat:
        parts.append(say(lang, "status.code", model=escape(model_line(code, lang))))
    parts.append(say(lang, "status.embeddings", model=escape(embedder_label(embedder_name, lang))))
    notices = dict.fromkeys(n for info in (chat, code) for n in model_notices(info, lang))
    if not multilingual:
        notices[say(lang, "status.english_search")] = None
    return " · ".join(parts) + "".join(f"  \n⚠️ {escape(n)}" for n in notices)


_OFFLINE_COPY = re.compile(r"^(.+) \(offline copy from the (\S+) package\)$")


def embedder_label(name: str, lang: str = "en") -> str:
    """The search model's name for the status line, in the page's language (a path: its last part)."""
    copy = _OFFLINE_COPY.match(name)
    if copy:
        return say(lang, "status.offline_copy", model=copy.group(1), package=copy.group(2))
    return Path(name).name or name


def model_line(info: ModelInfo, lang: str = "en") -> str:
    """e.g. `DeepSeek-R1-Distill-Qwen-1.5B · GPU (cuda) · 4-bit NF4 · 1.20 GB`."""
    label = info.label.removesuffix(_FALLBACK_SUFFIX)
    if info.offline_fallback:
        label = say(lang, "status.fallback_label", label=label)
    device = "CPU" if info.device == "cpu" else \
        say(lang, "status.gpu", device=info.device) if info.device.startswith("cuda") else info.device
    quantization = say(lang, f"quant.{info.quantization}") if f"quant.{info.quantization}" in MESSAGES["en"] \
        else info.quantization
    size = [f"{info.footprint_bytes / 1e9:.2f} GB"] if info.footprint_bytes else []
    return " · ".join([label, device, quantization, *size])


def model_notices(info: ModelInfo, lang: str = "en") -> list[str]:
    """Why this model is not quite what was configured, in the visitor's language (a notice matching
    neither the fallback nor the quantization case is shown as the loader wrote it)."""
    notices, text = [], info.notice or ""
    if info.offline_fallback:
        configured = info.fallback_for
        model = configured.rstrip("/").split("/")[-1] if configured else say(lang, "status.configured")
        notices.append(say(lang, "status.fallback", model=model, fallback=info.label.removesuffix(_FALLBACK_SUFFIX)))
    if "unquantized" in text:
        notices.append(say(lang, "status.unquantized"))
    if text and not notices:
        notices.append(text)
    return notices


# ---------------------------------------------------------------- chat


@dataclass
class Turn:
    """One question and its answer, as this session's chat state keeps it (never Gradio's format)."""

    question: str
    answer: str = ""
    reasoning: str = ""
    sources: tuple[Source, ...] = ()
    query: str = ""
    cited: tuple[int, ...] = ()
    confidence: float | None = None
    not_found: bool = False
    notices: list[str] = field(default_factory=list)
    finished: bool = False
    stopped: bool = False
    looped: bool = False  # the engine cut the answer short in a loop
    cut: bool = False  # the answer (or, with no answer, the reasoning) reached the length limit
    unsupported_numbers: tuple[str, ...] = ()  # numbers the answer states that no source holds
    unsupported_words: tuple[str, ...] = ()  # names and rates ("per month") the answer states that no source holds
    off_question: bool = False  # the passage sentences the answer rests on do not mention what was asked
    repeats_question: bool = False  # the answer has no words of its own
    absent_numbers: tuple[str, ...] = ()  # a "not found" reply's: the question's numbers that no source holds


def chat_messages(turns: list[Turn], lang: str = "en") -> list[dict]:
    """The ONE function that knows gr.Chatbot's message format (Gradio 6: role/content/metadata dicts)."""
    messages: list[dict] = []
    for turn in turns:
        messages.append({"role": "user", "content": escape(turn.question)})
        if turn.reasoning:
            log = "" if turn.finished or turn.answer else say(lang, "chat.thinking")
            messages.append({"role": "assistant", "content": escape(turn.reasoning.strip()),
                             "metadata": {"title": say(lang, "chat.reasoning"), "status": "done", "log": log}})
        messages.append({"role": "assistant", "content": answer_markdown(turn, lang)})
    return messages


def history_for_model(turns: list[Turn]) -> list[dict]:
    """Earlier finished turns as the assistant's own {"role", "content"} messages (visible text only).

    Stopped answers are left out: the visitor did not want them, and a half sentence is no context to build on.
    """
    history = []
    for turn in turns:
        if turn.finished and turn.answer and not turn.stopped:
            history += [{"role": "user", "content": turn.question}, {"role": "assistant", "content": turn.answer}]
    return history


def answer_markdown(turn: Turn, lang: str = "en") -> str:
    """The visible answer, then what qualifies it (stopped, notices such as how much of a document a summary read),
    then the cited sources: the answer is what a reader looks for first, and stays where it started streaming."""
    parts = [model_markdown(turn.answer.strip()) or ("…" if not turn.finished else "")]
    if turn.stopped or turn.looped:
        parts.append(say(lang, "chat.stopped" if turn.stopped else "chat.looped"))
    elif turn.cut:
        parts.append(say(lang, "chat.cut" if turn.answer.strip() else "chat.thought_out"))
    parts += [f"> ⚠️ {escape(n)}" for n in turn.notices]
    by_number = {s.number: s for s in turn.sources}
    cited = [by_number[n] for n in sorted(set(turn.cited)) if n in by_number]  # in number order: [1]; [2]; [4]; [5]
    if cited:
        parts.append(say(lang, "chat.sources") + "; ".join(
            say(lang, "chat.source_ref", number=s.number, file=escape(s.file_name), page=s.page) for s in cited))
    return "\n\n".join(p for p in parts if p)


def model_markdown(markdown: str) -> str:
    """Model text as Markdown that loads nothing by itself: HTML tags show as text and images as links.

    An image (`![x](…)`, `![x][ref]`, `<img src>`, a style's url()) loads on its own, so an instruction planted in a
    document could make the answer send the visitor's data to any server in its URL. Code spans and blocks are kept
    as they are: Markdown shows their content as text.
    """
    parts = _CODE.split(markdown)
    return "".join(part if i % 2 else part.replace("<", "&lt;").replace("![", "[") for i, part in enumerate(parts))


def excerpt(text: str, query: str, limit: int = PASSAGE_CHARS) -> str:
    """About `limit` characters of the passage around its sentence that shares most words with the query."""
    # a PDF line wrapped inside a Chinese word: no space there; after a heading ("第三条 合同期限"), one
    text = " ".join(rewrapped_cjk(text).split())
    if len(text) <= limit:
        return text
    wanted = {w for w in re.findall(r"\w+", query.lower()) if len(w) > 3}
    sentences = [m for m in re.finditer(r"[^.!?。！？]+[.!?。！？]*", text)]
    best = max(sentences, key=lambda m: len(wanted & set(re.findall(r"\w+", m.group().lower()))), default=None)
    center = (best.start() + best.end()) // 2 if best else 0
    start = max(0, min(center - limit // 2, len(text) - limit))
    return ("…" if start else "") + text[start:start + limit].strip() + ("…" if start + limit < len(text) else "")


def sources_markdown(sources: tuple[Source, ...], cited: tuple[int, ...] = (), query: str = "",
                     lang: str = "en") -> str:
    """The side panel: every passage the model was given, cited ones marked, with file and page."""
    if not sources:
        return say(lang, "chat.no_passages")
    blocks = []
    for s in sources:
        mark = say(lang, "chat.cited") if s.number in cited else ""
        head = say(lang, "chat.source_head", number=s.number, file=escape(s.file_name), page=s.page)
        blocks.append(f"{head}{mark} {relevance_note(s, lang)}\n\n> {escape(excerpt(s.text, query))}")
    return "\n\n".join(blocks)


def relevance_note(source: Source, lang: str = "en") -> str:
    """Why the passage was given: its relevance and what it is made of (a walkthrough saw "relevance 1.00" on most
    passages: the share of the question's words is often whole while the meaning matches less); nothing for a
    passage of a document read whole for a summary."""
    parts = []
    if source.similarity is not None:
        parts.append(say(lang, "chat.similarity", value=f"{source.similarity:.2f}"))
    if source.word_share is not None:
        parts.append(say(lang, "chat.word_share", value=f"{source.word_share:.0%}"))
    if not parts:
        return ""
    inside = f"（{'，'.join(parts)}）" if lang == "zh" else f" ({', '.join(parts)})"
    return f"<small>{say(lang, 'chat.relevance')} {source.relevance:.2f}{inside}</small>"


def confidence_markdown(turn: Turn | None, lang: str = "en") -> str:
    """The line under the chat: how far to trust the answer; nothing for a stopped (partial) answer."""
    if turn is None or turn.confidence is None or turn.stopped:
        return ""
    if turn.not_found:
        return absent_markdown(turn, lang)
    level = "high" if turn.confidence >= 0.7 else "medium" if turn.confidence >= 0.4 else "low"
    line = say(lang, "chat.confidence", confidence=f"{turn.confidence:.0%}", level=say(lang, f"level.{level}"))
    if turn.unsupported_numbers:
        line += "  \n" + say(lang, "chat.unsupported_numbers", numbers=escape(", ".join(turn.unsupported_numbers)))
    if turn.unsupported_words:
        line += "  \n" + say(lang, "chat.unsupported_words", words=escape(listed(lang, turn.unsupported_words)))
    if turn.off_question:
        line += "  \n" + say(lang, "chat.off_question")
    if turn.repeats_question:
        line += "  \n" + say(lang, "chat.repeats_question")
    return line


def absent_markdown(turn: Turn, lang: str = "en") -> str:
    """A "not found" answer. Its confidence-absent is low when relevant passages were found (1 - best relevance,
    or the answerability probe's own probability): "not in your documents" would then contradict the Sources
    panel, so the line says the model found no answer in the passages shown, and points at them."""
    if turn.absent_numbers:  # the question's own number is in no passage: the model was not asked
        numbers = listed(lang, (f"“{n}”" for n in turn.absent_numbers))
        return say(lang, "chat.absent_numbers", numbers=escape(numbers))
    if turn.sources and turn.confidence < 0.5:
        best = max(s.relevance for s in turn.sources)
        return say(lang, "chat.absent_unclear", relevance=f"{best:.2f}")
    if not turn.sources:  # nothing passed the relevance check: say that, not a certainty of 100%
        return say(lang, "chat.absent_nothing")
    return say(lang, "chat.absent", confidence=f"{turn.confidence:.0%}")


# ---------------------------------------------------------------- knowledge


def ingest_line(result: IngestResult, lang: str = "en") -> str:
    name = escape(result.file_name)
    if result.status == "error":
        return f"❌ {escape(error_text(result, lang))}"
    if result.status == "duplicate":
        if result.same_as and result.same_as != result.file_name:  # "where did my file go?"
            return say(lang, "ingest.duplicate_of", name=name, same=escape(result.same_as))
        return say(lang, "ingest.duplicate", name=name)
    warnings = counted(lang, len(result.warnings), "warning")
    warn = say(lang, "ingest.warnings", warnings=warnings) if result.warnings else ""
    return say(lang, "ingest.done", name=name, pages=counted(lang, result.pages, "page"), ocr=result.ocr_pages,
               chunks=counted(lang, result.chunks, "chunk"), seconds=result.seconds) + warn


# ---------------------------------------------------------------- contracts and code


def finding_row(finding: Finding, lang: str = "en") -> list:
    """A row of the findings table (a Dataframe shows plain text: no escaping needed).

    A category quoted in several places shows the best quote, then each other one after a marker with its page
    (the table shows text, not Markdown, so the marker separates them), and every page in the page column.
    """
    words = REPORT_WORDS.get(lang, REPORT_WORDS["en"])  # the exported report's words for found and risk
    quotes = "\n\n".join([finding.quote, *(f"{_also(p, finding.page, lang)} {p.quote}" for p in finding.also)])
    # risk next to the category: on a phone the table scrolls sideways, and what comes first is in view
    return [display_name(finding.category, lang), words[finding.risk], words[found_word(finding)], pages_of(finding),
            quotes, finding.explanation]


def _also(place: Passage, page: int | None, lang: str) -> str:
    """The marker before another quote: its page, or "the same page" when it is the best quote's page too."""
    return say(lang, "review.also_here") if place.page == page else say(lang, "review.also", page=place.page)


# The sandbox's English reasons, in Chinese (what varies - limits, signal names, exceptions, why - is kept)
_SANDBOX_REASONS_ZH = (
    (re.compile(r"passed: .*"), "代码和测试运行无误"),
    (re.compile(r"stopped: exceeded the (\S+) s time limit"), "超过 {0} 秒的时间限制，已停止"),
    (re.compile(r"stopped: exceeded the (\S+) MB memory limit"), "超过 {0} MB 的内存限制，已停止"),
    (re.compile(r"stopped: wrote more than the (\S+) MB file/output limit"), "写入超过 {0} MB 的文件/输出限制，已停止"),
    (re.compile(r"stopped: killed by (.+)"), "被 {0} 终止"),
    (re.compile(r"blocked: (.+)"), "{0}"),  # the status before it already says 已拦截
    (re.compile(r"failed: (.+)", re.DOTALL), "{0}"),
    (re.compile(r"error: (.+)", re.DOTALL), "错误：{0}"),
)


def sandbox_reason(reason: str, lang: str = "en") -> str:
    """The sandbox's reason for its verdict in the visitor's language."""
    if lang != "zh":
        return reason
    for pattern, template in _SANDBOX_REASONS_ZH:
        if match := pattern.fullmatch(reason):
            reason = template.format(*match.groups())
            break
    return _PLACE.sub(_place_zh, reason)


def _place_zh(match: re.Match) -> str:
    """"(tests, line 2: assert f())" as 测试第 2 行."""
    return f"（{'测试' if match.group(1) == 'tests' else '代码'}第 {match.group(2)} 行：{match.group(3)}）"


_PLACE = re.compile(r" ?\((tests|code), line (\d+): (.*)\)$", re.DOTALL)  # where the sandbox says a failure was


def sandbox_markdown(result: SandboxResult, label: str = "", lang: str = "en") -> str:
    """The sandbox's verdict, reason and output (output in a fenced block: inert)."""
    icon = "✅" if result.passed else "❌"
    status = say(lang, f"sandbox.{result.status}") if f"sandbox.{result.status}" in MESSAGES["en"] else result.status
    reason = sandbox_reason(result.reason, lang)
    reason = reason if lang == "zh" else reason.removeprefix(f"{result.status}: ")  # "✅ passed: passed: …" said it twice
    head = f"{icon} **{status}**{f' ({escape(label)})' if label else ''}: {escape(reason)} · {result.duration_s:.2f} s"
    if module := missing_module(result):
        head += "\n\n" + say(lang, "sandbox.no_module", module=module)
    elif reads_input(result):
        head += "\n\n" + say(lang, "sandbox.no_input")
    output = "\n".join(x for x in (result.stdout.strip(), result.stderr.strip()) if x)
    if not output:
        return head
    return f"{head}\n\n```text\n{output.replace('```', '` ` `')[-4000:]}\n```"
