"""Context trimming, parameter defaults and incremental detokenization (pure logic, fake token counts)."""

from __future__ import annotations

from assistant.config import AssistantSettings
from assistant.events import GenerationParams
import random

from assistant.generation import Detokenizer, LoopWatch, fit_to_context, resolve_params, without_loop


def encode(messages):
    """One token per word, plus 2 per message for the template."""
    return [0] * sum(len(m["content"].split()) + 2 for m in messages)


def keep_tail(text, n):
    return " ".join(text.split()[-n:]) if n else ""


def test_short_input_is_untouched():
    ids, warning = fit_to_context([{"role": "user", "content": "a b c"}], encode, keep_tail, 10)
    assert len(ids) == 5 and warning is None


def test_oldest_turns_go_first_system_stays():
    messages = [{"role": "system", "content": "rules"}] + [
        {"role": r, "content": " ".join(["w"] * 10)} for r in ("user", "assistant", "user", "assistant")
    ] + [{"role": "user", "content": "question?"}]
    ids, warning = fit_to_context(messages, encode, keep_tail, 30)
    assert len(ids) <= 30
    assert "dropped 2 earlier message(s)" in warning  # 54 tokens - 2 x 12 = 30


def test_long_last_message_keeps_its_end():
    words = " ".join(f"w{i}" for i in range(100))
    ids, warning = fit_to_context([{"role": "user", "content": words}], encode, keep_tail, 20)
    assert len(ids) <= 20
    assert "cut" in warning and "earlier" not in warning
    assert warning.startswith("Input trimmed to fit the model's 20-token context (102 ->")


def test_params_default_to_settings():
    settings = AssistantSettings(temperature=0.6, top_p=0.95, max_new_tokens=99)
    assert resolve_params(None, settings).temperature == 0.6
    assert resolve_params(GenerationParams(temperature=0.0), settings).temperature == 0.0
    assert resolve_params(GenerationParams(max_new_tokens=5), settings).max_new_tokens == 5
    assert resolve_params(None, settings.model_copy(update={"stop_repetition": 40})).stop_repetition == 40
    assert resolve_params(GenerationParams(stop_repetition=0), settings).stop_repetition == 0


def test_detokenizer_waits_for_complete_characters():
    pieces = {1: b"\xe4\xbd", 2: b"\xa0", 3: b" ok"}  # 你 split over two tokens

    def decode(ids):
        return b"".join(pieces[i] for i in ids).decode("utf-8", "replace")

    detokenizer = Detokenizer(decode)
    assert [detokenizer.push(i) for i in (1, 2, 3)] == ["", "你", " ok"]


def loop_period(ids, min_span):
    watch = LoopWatch(min_span)
    return [watch.push(i) for i in ids][-1]


def test_a_loop_is_a_block_repeated_three_times_over_at_least_the_minimum_span():
    sentence = list(range(100, 120))  # a 20-token sentence
    assert loop_period([1, 2, 3] + sentence * 3, min_span=60) == 20
    assert loop_period([1, 2, 3] + sentence * 3 + sentence[:7], min_span=60) == 20  # at any point of the block
    assert loop_period([1, 2, 3] + sentence * 2, min_span=60) == 0  # two copies: said twice, not a loop
    assert loop_period([7] * 63, min_span=64) == 0 and loop_period([7] * 64, min_span=64) == 1
    assert loop_period([1, 2] * 40, min_span=0) == 0  # 0: never
    assert loop_period(list(range(500)), min_span=64) == 0


def test_the_loop_watch_agrees_with_the_definition_on_random_streams():
    def by_definition(ids, min_span, repeats=3, max_period=256):
        for period in range(1, min(max_period, len(ids) // repeats) + 1):
            span = max(min_span, repeats * period)
            if span <= len(ids) and ids[-span + period:] == ids[-span:-period]:
                return period
        return 0

    rng = random.Random(7)
    for _ in range(200):
        ids = [rng.randrange(3) for _ in range(rng.randrange(1, 40))] + rng.randrange(1, 9) * [
            rng.randrange(3) for _ in range(rng.randrange(1, 12))]
        watch = LoopWatch(16)
        assert [watch.push(i) for i in ids] == [by_definition(ids[:n], 16) for n in range(1, len(ids) + 1)], ids


def test_a_looped_text_keeps_one_copy_cut_at_a_sentence_or_line_end():
    assert without_loop("Answer: the term is 5 years. The term is 5 years. The term is 5 years. The te") == \
        "Answer: the term is 5 years. The term is 5 years."
    # the copies start mid-sentence (" years. B"): the cut moves to the sentence's end
    assert without_loop("A years. B years. B years. B years. B ye") == "A years. B years."
    assert without_loop("续约期限为一年。续约期限为一年。续约期限为一年。续约") == "续约期限为一年。"
    assert without_loop("def f():\n    x = g(a, b)\n    x = g(a, b)\n    x = g(a, b)\n    x = g(a") == \
        "def f():\n    x = g(a, b)"
    # an abbreviation's dot is no sentence end
    assert without_loop("Use a tool, e.g. a wrench, e.g. a wrench, e.g. a wrench, e.g. a wrench, e.g. a") == \
        "Use a tool, e.g. a wrench"
    for text in ("It was 1000", "Yes. Yes.", "The answer is 10 [1]. It was 1000.", ""):
        assert without_loop(text) == text  # short repeats are text, not a loop
    assert without_loop("哈" * 4000) == "哈"
