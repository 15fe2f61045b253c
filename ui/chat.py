"""Chat tab: streamed, cited answers from the visitor's documents; reasoning collapsed; sources side panel."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import gradio as gr

from assistant.events import Done, Notice, ReasoningDelta, TextDelta
from assistant.tasks.chat import ChatOptions, answer
from assistant.tasks.events import Answer, Sources
from knowledge.errors import KnowledgeError
from knowledge.sessions import session_key
from ui.i18n import t
from ui.messages import knowledge_error_text, listed, request_language, say
from ui.render import Turn, chat_messages, confidence_markdown, history_for_model, sources_markdown
from ui.services import Services

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 8000  # a long pasted paragraph fits; a megabyte is not streamed back per token
# The box takes more, so a longer paste reaches the server and is cut there with a notice (the box would cut silently)
MAX_BOX_CHARS = 100_000

# Example questions in the page's language (the English page also shows that a Chinese question works).
EXAMPLES = {
    "en": ["What is the termination notice period?", "Summarise the main obligations of each party.",
           "本合同的管辖法律是什么？"],
    "zh": ["提前多少天书面通知可以终止合同？", "总结各方的主要义务。", "本合同的管辖法律是什么？"],
}


# ---------------------------------------------------------------- handler (plain function, tested directly)


def chat_stream(services: Services, session_id: str, question: str, turns: list[Turn],
                cancel: threading.Event | None = None, options: ChatOptions = ChatOptions(),
                lang: str = "en") -> Iterator[list[Turn]]:
    """Answer `question` from the session's documents; yields the updated turns after every event.

    A question over MAX_QUESTION_CHARS keeps its end (where a question after a pasted text sits), with a notice:
    every streamed update carries the question back.
    """
    question = (question or "").strip()
    if not question:
        yield turns
        return
    cut = len(question) > MAX_QUESTION_CHARS
    turn = Turn(question[-MAX_QUESTION_CHARS:].strip())
    question = turn.question
    if cut:
        turn.notices.append(say(lang, "chat.question_cut", limit=MAX_QUESTION_CHARS))
    turns = [*turns, turn]
    if not has_documents(services, session_id):  # nothing to search: say where documents come from, skip the model
        turn.answer, turn.not_found, turn.finished = say(lang, "chat.no_documents"), True, True
        yield turns
        return
    history = history_for_model(turns[:-1])
    try:
        with services.metrics.track("chat") as generation:
            for event in answer(services.runtime.chat, services.retriever(session_id), question, history, options,
                                cancel):
                apply_event(turn, event, generation, lang)
                yield turns
    except KnowledgeError as error:  # e.g. the store closed under the question: the tab was closed meanwhile
        log.warning("chat_store_error session=%s error=%s", session_key(session_id), error)
        turn.answer = f"❌ {knowledge_error_text(error, lang)}"
    turn.finished = True
    yield turns


def has_documents(services: Services, session_id: str) -> bool:
    """Whether a question can find anything: the visitor's own documents or a non-empty shared library."""
    if services.library is not None and len(services.library):
        return True
    return bool(services.stores.view(session_id).documents())


def example_visibility(lang: str) -> dict[str, bool]:
    """Which language's example questions the page shows (one list per language; the page's own)."""
    shown = lang if lang in EXAMPLES else "en"
    return {code: code == shown for code in EXAMPLES}


def panels_for_new_question(lang: str) -> tuple[str, str]:
    """(sources, confidence) while a new question waits for its passages: the previous answer's are gone."""
    return say(lang, "chat.searching"), ""


def apply_event(turn: Turn, event, generation, lang: str = "en") -> None:
    """Fold one streamed event into the turn."""
    match event:
        case Sources(items=items, query=query, summary=summary):
            turn.sources, turn.query = items, query
            if summary is not None and summary.used < summary.total:  # a long document: say what was read
                turn.notices.append(say(lang, "chat.summary_scope", used=summary.used, total=summary.total,
                                        documents=listed(lang, summary.documents)))
        case TextDelta(text=text):
            generation.token()
            turn.answer += text
        case ReasoningDelta(text=text):
            generation.token()
            turn.reasoning += text
        case Notice(message=message):
            turn.notices.append(message)
        case Answer():
            turn.answer, turn.cited = event.text, event.cited
            turn.confidence, turn.not_found = event.confidence, event.not_found
            turn.unsupported_numbers, turn.unsupported_words = event.unsupported_numbers, event.unsupported_words
            turn.off_question, turn.repeats_question = event.off_question, event.repeats_question
            turn.absent_numbers = event.absent_numbers
        case Done(finish_reason=reason, usage=usage):
            generation.done(usage.completion_tokens)
            turn.stopped, turn.looped, turn.cut = reason == "cancelled", reason == "repetition", reason == "length"
            if turn.cut and not turn.answer.strip():  # R1 thought until the limit: no answer to be confident in
                turn.confidence = None


# ---------------------------------------------------------------- UI


@dataclass
class ChatTab:
    question: gr.Textbox
    send: gr.Button
    examples: dict[str, gr.Dataset] = field(default_factory=dict)  # by language; the page shows its own


def chat_inputs() -> ChatTab:
    """The question box and Ask button, made before the tabs (unrendered) so the Knowledge tab can lock them."""
    # One line that grows to eight: Gradio sends a one-line box on Enter; Shift+Enter adds a new line.
    question = gr.Textbox(label=t("chat.question"), placeholder=t("chat.placeholder"), lines=1, max_lines=8,
                          elem_id="question", max_length=MAX_BOX_CHARS, render=False)
    return ChatTab(question, gr.Button(t("chat.send"), variant="primary", elem_id="send", render=False))


def build_chat(services: Services, inputs: ChatTab) -> ChatTab:
    """The tab; returns `inputs` with its per-language example lists (app.py shows the page language's)."""
    question, send = inputs.question, inputs.send
    with gr.Tab(t("tab.chat"), id="chat"):
        turns = gr.State([], time_to_live=services.settings.session_ttl_s)
        asked = gr.Textbox(visible=False)  # the question being answered, so the box is free for the next one
        # The question box comes after the sources, not inside the answer's column: on a phone the columns stack,
        # and a walkthrough found the sources below the box and the examples, far from the answer they belong to.
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label=t("chat.title"), height=520, elem_id="chatbot", buttons=["copy"],
                                     allow_tags=False, feedback_options=None)
                confidence = gr.Markdown(elem_id="confidence")
            with gr.Column(scale=2):
                gr.Markdown(t("chat.sources_title"))
                sources = gr.Markdown(elem_id="sources")
        question.render()
        with gr.Row():
            send.render()
            # red only while an answer streams: a bright Stop with nothing running looked clickable
            stop = gr.Button(t("chat.stop"), variant="secondary", elem_id="stop")
            clear = gr.Button(t("chat.clear"), elem_id="clear")
        for code, examples in EXAMPLES.items():
            inputs.examples[code] = gr.Examples(examples, inputs=[question], label=t("chat.examples"),
                                                elem_id=f"examples-{code}", visible=code == "en").dataset

    def take_question(text, request: gr.Request):
        """Move the question out of the box at once (the visitor may type the next one while this one streams)."""
        services.stops.arm(request.session_hash, "chat")  # a Stop reaches it from now on, even while it is queued
        if not (text or "").strip():
            return text, "", gr.skip(), gr.skip()
        return text, "", *panels_for_new_question(request_language(request))  # the last answer's panels go

    def on_ask(text, state, request: gr.Request):
        lang = request_language(request)
        with services.stops.running(request.session_hash, "chat") as cancel:
            for current in chat_stream(services, request.session_hash, text, state or [], cancel, lang=lang):
                last = current[-1] if current else None
                yield (chat_messages(current, lang), current,
                       sources_markdown(last.sources, last.cited, last.query, lang) if last else "",
                       confidence_markdown(last, lang), gr.skip())  # the hidden copy stays: the box is the visitor's

    def on_stop(request: gr.Request):
        services.stops.stop(request.session_hash, "chat")

    def on_clear(request: gr.Request):
        services.stops.stop(request.session_hash, "chat")  # the model stops too, not only the page's updates
        return [], [], "", ""

    # One dependency for both triggers: a question sent while one streams waits for it ("always_last"), never
    # runs beside it on the same history. `asked` (hidden) keeps /ask's question parameter and its 4 outputs.
    limits = {"concurrency_id": "model", "concurrency_limit": services.settings.model_concurrency}
    taken = gr.on([send.click, question.submit], take_question, [question], [asked, question, sources, confidence],
                  queue=False, api_visibility="private")
    answering = taken.then(on_ask, [asked, turns], [chatbot, turns, sources, confidence, asked], api_name="ask",
                           trigger_mode="always_last", **limits)
    stop.click(on_stop, None, None, queue=False, api_name="stop_chat")
    cleared = clear.click(on_clear, None, [chatbot, turns, sources, confidence], cancels=[answering],
                          api_visibility="private")
    taken.then(lambda: gr.Button(variant="stop"), None, stop, queue=False, api_visibility="private")
    for ended in (answering, cleared):
        ended.then(lambda: gr.Button(variant="secondary"), None, stop, queue=False, api_visibility="private")
    return inputs
