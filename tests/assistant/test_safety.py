"""The operator's sensitive-word filter: input refused, output masked even across token boundaries, all logged."""

from __future__ import annotations

import logging

from assistant.events import Done, Notice, ReasoningDelta, TextDelta, Usage
from assistant.safety import MASK, REFUSALS, FilteredEngine, SensitiveWordFilter
from tests.assistant.fakes import ScriptedEngine


class PiecewiseEngine(ScriptedEngine):
    """Streams exactly the given pieces (to split a word across deltas)."""

    def __init__(self, pieces):
        super().__init__()
        self.pieces = pieces

    def stream(self, messages, params=None, cancel=None):
        self.prompts.append(list(messages))
        yield from self.pieces
        yield Done("stop", Usage(1, len(self.pieces)))


def text_of(events, kind=TextDelta):
    return "".join(e.text for e in events if isinstance(e, kind))


def test_input_with_a_listed_word_never_reaches_the_model(caplog):
    inner = ScriptedEngine("fine")
    engine = FilteredEngine(inner, SensitiveWordFilter(["Project Falcon", "机密"]))
    with caplog.at_level(logging.WARNING):
        events = list(engine.stream([{"role": "user", "content": "Tell me about PROJECT  falcon".replace("  ", " ")}]))
    assert inner.prompts == [] and isinstance(events[0], Notice) and events[0].level == "error"
    assert "sensitive_words_blocked direction=input" in caplog.text
    refused = list(engine.stream([{"role": "user", "content": "这份文件是机密吗"}]))[0]
    assert refused.level == "error" and refused.message == REFUSALS["zh"]  # in the visitor's language


def test_a_caller_that_checked_the_visitors_words_streams_document_text_masked_not_refused():
    inner = ScriptedEngine("Project Falcon is on page 2.")
    engine = FilteredEngine(inner, SensitiveWordFilter(["project falcon"]))
    assert engine.refusal("Where is the code name?") is None
    assert engine.refusal("What is Project Falcon?").message == REFUSALS["en"]
    prompt = [{"role": "user", "content": "Source: Project Falcon starts in May.\nQuestion: Where is the code name?"}]
    assert text_of(engine.stream_masked(prompt)).strip() == f"{MASK} is on page 2."
    assert inner.prompts == [prompt]


def test_output_is_masked_across_deltas_and_logged(caplog):
    pieces = [TextDelta("The code name is Pro"), TextDelta("ject Fal"), TextDelta("con, as planned."),
              ReasoningDelta("thinking about 机"), ReasoningDelta("密 files")]
    engine = FilteredEngine(PiecewiseEngine(pieces), SensitiveWordFilter(["project falcon", "机密"]))
    with caplog.at_level(logging.WARNING):
        events = list(engine.stream([{"role": "user", "content": "What is the code name?"}]))
    assert text_of(events) == f"The code name is {MASK}, as planned."
    assert text_of(events, ReasoningDelta) == f"thinking about {MASK} files"
    assert isinstance(events[-1], Done) and "sensitive_words_masked direction=output" in caplog.text


def test_no_words_configured_passes_everything_through():
    engine = FilteredEngine(ScriptedEngine("hello world"), SensitiveWordFilter([]))
    assert text_of(engine.stream([{"role": "user", "content": "hi"}])).strip() == "hello world"


def test_words_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("# operator list\nalpha\n\n贝塔\n", encoding="utf-8")
    words = SensitiveWordFilter.from_settings(["gamma"], path)
    assert words.find("Alpha, 贝塔 and GAMMA") == ["alpha", "gamma", "贝塔"]


def test_runtime_wraps_both_engines_when_words_are_configured(monkeypatch):
    from assistant.config import AssistantSettings
    from assistant.runtime import Runtime, with_word_filter

    engine = ScriptedEngine()
    monkeypatch.setenv("ASSISTANT_SENSITIVE_WORDS", '["forbidden"]')
    wrapped = with_word_filter(Runtime(chat=engine, code=engine), AssistantSettings())
    assert isinstance(wrapped.chat, FilteredEngine) and wrapped.code is wrapped.chat
    assert with_word_filter(Runtime(chat=engine, code=engine), AssistantSettings(sensitive_words=[])).chat is engine


def test_a_filtered_word_in_a_contract_quote_does_not_block_its_explanation():
    """The quote is the document's text, not the visitor's: the explanation is written, with the word masked."""
    from assistant.tasks.contracts import Finding, explain

    engine = FilteredEngine(ScriptedEngine("This clause names Project Falcon as the licensed product."),
                            SensitiveWordFilter(["project falcon"]))
    finding = Finding("License Grant", True, "Licensor grants a licence to Project Falcon.", "c.txt", 1, "medium",
                      "Is the licence exclusive?")
    assert explain(engine, finding) == f"This clause names {MASK} as the licensed product."


def test_masking_leaves_everything_but_the_listed_words_as_written():
    """NFKC and case folding change lengths ("…" is "...", "ß" is "ss"): the output keeps its own case and characters."""
    words = SensitiveWordFilter(["falcon", "机密"])
    text = "The Term is Five (5) years… see Section 2. Straße GmbH, ﬁle Ⅻ."
    assert words.redact(text) == text  # nothing listed: not a character changed
    assert words.redact("Straße… FALCON ﬁle: 机密！") == f"Straße… {MASK} ﬁle: {MASK}！"
    assert words.redact("Ｆａｌｃｏｎ’s plan") == f"{MASK}’s plan"  # full-width letters match and are masked whole
    assert words.redact("cafe\u0301 falcon") == f"cafe\u0301 {MASK}"
    ligature = SensitiveWordFilter(["fi"])
    assert ligature.redact("a ﬁne day") == f"a {MASK}ne day"  # the ligature is one character: masked whole


def test_streamed_output_with_length_changing_characters_is_masked_across_deltas():
    pieces = [TextDelta("Straße… the Fal"), TextDelta("con plan, Ⅻ.")]
    engine = FilteredEngine(PiecewiseEngine(pieces), SensitiveWordFilter(["falcon"]))
    assert text_of(engine.stream([{"role": "user", "content": "q"}])) == f"Straße… the {MASK} plan, Ⅻ."
