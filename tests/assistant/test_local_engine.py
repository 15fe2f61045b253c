"""The real small offline model on CPU: fallback, streaming, cancellation, batching, trimming, warm-up."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from assistant.events import Done, GenerationParams, Notice, TextDelta
from assistant.generation import without_loop
from assistant.model import ModelUnavailable, load_model
from assistant.runtime import load_runtime

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
STORY = [{"role": "user", "content": "Write a long story about a dragon who learns to bake bread."}]
LOOP = [{"role": "user", "content": "Repeat after me: la la la la la la la la la la la la"}]  # SmolLM2 loops


def answer(events):
    events = list(events)
    return "".join(e.text for e in events if isinstance(e, TextDelta)), events[-1]


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


def test_unavailable_model_falls_back_to_labelled_offline_model(small_model):
    info = small_model.info
    assert info.offline_fallback and info.label == "SmolLM2-135M-Instruct (offline fallback)"
    assert "DeepSeek-R1-Distill-Qwen-1.5B is unavailable" in info.notice
    assert info.fallback_for == "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"  # the UI names it from here
    assert (info.device, info.quantization, info.dtype) == ("cpu", "none", "float32")
    assert 400e6 < info.footprint_bytes < 700e6  # 135M parameters in fp32
    assert "offline fallback" in info.status_line


def test_without_fallback_a_missing_model_fails_fast_and_clearly(small_settings):
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="no-such/model is unavailable"):
        load_model("no-such/model", small_settings.model_copy(update={"offline_model": "none"}))
    assert time.monotonic() - started < 10


def test_streams_a_correct_answer_token_by_token(engine):
    events = list(engine.stream(QUESTION))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 3 and "Paris" in "".join(d.text for d in deltas)
    done = events[-1]
    assert isinstance(done, Done) and done.finish_reason == "stop"
    assert done.usage.prompt_tokens > 10 and 0 < done.usage.completion_tokens <= 24


def test_cancel_stops_generation_within_two_tokens(engine):
    cancel = threading.Event()
    stream = engine.stream(STORY, GenerationParams(max_new_tokens=200), cancel)
    seen = 0
    for event in stream:
        if isinstance(event, TextDelta):
            seen += 1
            if seen == 3:
                cancel.set()
                at_cancel = seen
        if isinstance(event, Done):
            done = event
    assert done.finish_reason == "cancelled"
    assert done.usage.completion_tokens <= at_cancel + 2
    assert wait_until(lambda: engine.active_requests == 0, timeout=1.0)  # the model stopped decoding


def test_closing_the_stream_frees_the_batch(engine):
    stream = engine.stream(STORY, GenerationParams(max_new_tokens=200))
    for event in stream:
        if isinstance(event, TextDelta):
            break
    stream.close()
    assert wait_until(lambda: engine.active_requests == 0, timeout=1.0)


def run_concurrently(engine, conversations, delays):
    results = [None] * len(conversations)

    def worker(index):
        time.sleep(delays[index])
        results[index] = answer(engine.stream(conversations[index], GenerationParams(max_new_tokens=24)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(conversations))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_requests_are_batched_and_match_sequential_greedy(engine):
    conversations = [QUESTION, [{"role": "user", "content": "Name three primary colors."}]]
    alone = [answer(engine.stream(c, GenerationParams(max_new_tokens=24))) for c in conversations]
    together = run_concurrently(engine, conversations, delays=[0, 0])
    assert [done.batch_size for _, done in together] == [2, 2]
    assert [text for text, _ in together] == [text for text, _ in alone]


def test_late_request_joins_the_running_batch(engine):
    conversations = [STORY, QUESTION]
    alone = [answer(engine.stream(c, GenerationParams(max_new_tokens=24))) for c in conversations]
    together = run_concurrently(engine, conversations, delays=[0, 0.3])  # after the first one's prefill
    assert together[1][1].batch_size == 2
    assert [text for text, _ in together] == [text for text, _ in alone]


def test_too_long_input_is_trimmed_with_a_visible_notice(engine):
    long_question = [{"role": "user", "content": "filler " * 3000 + "What is the capital of France?"}]
    events = list(engine.stream(long_question, GenerationParams(max_new_tokens=8)))
    assert isinstance(events[0], Notice) and events[0].message.startswith("Input trimmed")
    assert isinstance(events[-1], Done) and events[-1].usage.prompt_tokens <= engine.model.context_length - 8


def test_runtime_loads_one_shared_model_and_warms_it_up(small_settings):
    runtime = load_runtime(small_settings.model_copy(update={"warmup": True}))
    try:
        assert runtime.chat is runtime.code
        assert runtime.chat.info.offline_fallback
        assert runtime.chat.active_requests == 0 and runtime.chat.largest_batch == 1  # warm-up ran
    finally:
        runtime.close()


def test_an_offline_fallback_decodes_greedily_unless_a_temperature_was_set(small_model, small_settings):
    """A walkthrough: the sampled small model answered one question right, empty or wrong from run to run."""
    from assistant.config import AssistantSettings
    from assistant.runtime import decoding_settings

    unset = AssistantSettings(**small_settings.model_dump(exclude={"temperature"}))
    assert unset.temperature == 0.6 and decoding_settings(small_model.info, unset).temperature == 0.0
    assert decoding_settings(small_model.info, small_settings.model_copy(update={"temperature": 0.7})).temperature \
        == 0.7  # an operator's choice stands
    assert decoding_settings(replace(small_model.info, offline_fallback=False), unset).temperature == 0.6  # DeepSeek


def test_idle_scheduler_thread_ends_and_the_next_request_starts_a_new_one(small_model, small_settings):
    """An idle scheduler must not keep its OpenMP pool alive (it slows other threads' torch work on CPU)."""
    from assistant.generation import LocalEngine

    engine = LocalEngine(small_model, small_settings.model_copy(update={"engine_idle_s": 0.1}))
    try:
        first, _ = answer(engine.stream(QUESTION))
        assert wait_until(lambda: not any(t.name == "local-engine" and t.is_alive() for t in threading.enumerate()))
        second, done = answer(engine.stream(QUESTION))
        assert second == first and "Paris" in second and done.finish_reason == "stop"
    finally:
        engine.close()


def test_requests_arriving_while_the_scheduler_retires_are_all_answered(small_model, small_settings):
    from assistant.generation import LocalEngine

    engine = LocalEngine(small_model, small_settings.model_copy(update={"engine_idle_s": 0.01}))
    results: list[str] = []

    def ask(delay: float) -> None:
        time.sleep(delay)
        results.append(answer(engine.stream(QUESTION, GenerationParams(max_new_tokens=3)))[1].finish_reason)

    threads = [threading.Thread(target=ask, args=(i * 0.007,)) for i in range(12)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results == ["length"] * 12
    finally:
        engine.close()


def test_a_scheduler_started_while_a_query_holds_torch_at_one_thread_still_decodes_with_all(small_model, small_settings,
                                                                                              monkeypatch):
    import torch

    from assistant.generation import LocalEngine

    seen = []
    prefill = small_model.prefill
    monkeypatch.setattr(small_model, "prefill",
                        lambda *a, **k: (seen.append(torch.get_num_threads()), prefill(*a, **k))[1])
    previous = torch.get_num_threads()
    engine = LocalEngine(small_model, small_settings)
    torch.set_num_threads(1)  # a visitor's query embedding, at the moment the scheduler thread starts
    try:
        answer(engine.stream(QUESTION, GenerationParams(max_new_tokens=2)))
    finally:
        torch.set_num_threads(previous)
        engine.close()
    assert seen == [small_model.torch_threads] and small_model.torch_threads == previous


def test_a_loop_is_cut_short_and_said_so(engine):
    text, done = answer(engine.stream(LOOP, GenerationParams(max_new_tokens=300)))
    assert done.finish_reason == "repetition" and done.usage.completion_tokens < 150
    kept = without_loop(text)
    assert 20 < len(kept) < len(text) / 2 and text.startswith(kept)


def test_the_loop_stop_can_be_turned_off_per_request(engine):
    text, done = answer(engine.stream(LOOP, GenerationParams(max_new_tokens=120, stop_repetition=0)))
    assert done.finish_reason == "length" and done.usage.completion_tokens == 120
