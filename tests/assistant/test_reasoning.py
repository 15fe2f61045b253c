"""ThinkSplitter, reasoning stripping and R1 message shaping, on synthetic chunks and the real R1 template."""

from __future__ import annotations

import pytest

from assistant.events import ReasoningDelta, TextDelta
from assistant.generation import Detokenizer
from assistant.reasoning import ThinkSplitter, prepare_messages, strip_reasoning


def split(chunks, starts_in_reasoning):
    splitter = ThinkSplitter(starts_in_reasoning)
    events = [e for chunk in chunks for e in splitter.feed(chunk)] + list(splitter.finish())
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    answer = "".join(e.text for e in events if isinstance(e, TextDelta))
    return reasoning, answer


COMPLETION = "Okay, 2+2 is 4.\n</think>\n\nThe answer is **4**."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
def test_template_opened_think_tag_split_anywhere(size):
    chunks = [COMPLETION[i:i + size] for i in range(0, len(COMPLETION), size)]
    assert split(chunks, True) == ("Okay, 2+2 is 4.\n", "The answer is **4**.")


@pytest.mark.parametrize("size", [1, 4, 100])
def test_model_opens_think_itself(size):
    text = "<think>\n" + COMPLETION
    chunks = [text[i:i + size] for i in range(0, len(text), size)]
    assert split(chunks, False) == ("\nOkay, 2+2 is 4.\n", "The answer is **4**.")


def test_model_that_never_thinks_is_all_answer():
    assert split(["Hello", " <b>world</b>", " <"], False) == ("", "Hello <b>world</b> <")


def test_unclosed_reasoning_stays_reasoning():
    assert split(["still thinking </thi"], True) == ("still thinking </thi", "")


def test_strip_reasoning_from_history():
    assert strip_reasoning("<think>\nsecret\n</think>\n\nAnswer") == "Answer"
    assert strip_reasoning("secret\n</think>\n\nAnswer") == "Answer"  # template-opened think
    assert strip_reasoning("plain answer") == "plain answer"


def test_prepare_messages_folds_system_for_r1_and_strips_reasoning():
    messages = [
        {"role": "system", "content": "Cite sources."},
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": "<think>hmm</think>A1"},
        {"role": "user", "content": "Q2"},
    ]
    assert prepare_messages(messages, no_system_prompt=True) == [
        {"role": "user", "content": "Cite sources.\n\nQ1"},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": "Q2"},
    ]
    assert prepare_messages(messages, no_system_prompt=False)[0] == {"role": "system", "content": "Cite sources."}


def test_real_r1_tokenizer_special_ids(r1_tokenizer):
    ids = r1_tokenizer.convert_tokens_to_ids(["<｜User｜>", "<｜Assistant｜>", "<think>", "</think>"])
    assert (r1_tokenizer.bos_token_id, r1_tokenizer.eos_token_id, ids) == (151646, 151643,
                                                                          [151644, 151645, 151648, 151649])


def test_real_r1_template_drops_earlier_reasoning(r1_tokenizer):
    messages = prepare_messages([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "<think>\nprivate\n</think>\n\nHello"},
        {"role": "user", "content": "2+2?"},
    ], no_system_prompt=True)
    prompt = r1_tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert "private" not in prompt
    assert prompt.startswith("<｜begin▁of▁sentence｜><｜User｜>Be brief.\n\nHi<｜Assistant｜>Hello")
    assert prompt.rstrip().endswith(("<｜Assistant｜>", "<think>"))


@pytest.mark.parametrize("opened_by_template", [True, False])
def test_real_r1_tokens_stream_into_reasoning_and_answer(r1_tokenizer, opened_by_template):
    completion = ("" if opened_by_template else "<think>\n") + "嗯，2+2等于4。\n</think>\n\nThe answer is **4**. 答案是4。"
    ids = r1_tokenizer(completion, add_special_tokens=False)["input_ids"]
    assert 151649 in ids  # </think> is one token in the real vocabulary
    detokenizer = Detokenizer(lambda t: r1_tokenizer.decode(t, skip_special_tokens=True))
    chunks = [detokenizer.push(token) for token in ids]
    reasoning, answer = split(chunks, opened_by_template)
    assert reasoning.strip() == "嗯，2+2等于4。"
    assert answer == "The answer is **4**. 答案是4。"
