"""DeepSeek architectures through the real loading path: tiny random models with the real R1 tokenizer, and GGUF."""

from __future__ import annotations

import threading

import pytest
import torch
from transformers import AutoModelForCausalLM, DeepseekV3Config, Qwen2Config

from assistant.events import Done, GenerationParams, ReasoningDelta, TextDelta
from assistant.generation import LocalEngine, Sampling
from assistant.model import converted_dir, load_model
from assistant.offline import OFFLINE_MODELS, _package_file


def r1_distill_tiny(vocab_size):
    """DeepSeek-R1-Distill-Qwen shapes (Qwen2, GQA, untied head, rope 10000), scaled down."""
    return Qwen2Config(vocab_size=vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, intermediate_size=128, tie_word_embeddings=False,
                       max_position_embeddings=131072, rope_theta=10000.0, bos_token_id=151646, eos_token_id=151643)


def deepseek_v3_tiny(vocab_size):
    """DeepSeek-V3 shapes: MLA attention and routed experts, scaled down."""
    return DeepseekV3Config(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, moe_intermediate_size=32,
                            num_hidden_layers=2, first_k_dense_replace=1, num_attention_heads=4,
                            num_key_value_heads=4, n_routed_experts=4, num_experts_per_tok=2, n_group=1,
                            topk_group=1, kv_lora_rank=16, q_lora_rank=32, qk_rope_head_dim=8, qk_nope_head_dim=8,
                            v_head_dim=8, max_position_embeddings=4096, bos_token_id=151646, eos_token_id=151643)


@pytest.fixture(scope="module", params=[r1_distill_tiny, deepseek_v3_tiny], ids=["qwen2-r1-distill", "deepseek-v3"])
def tiny_dir(request, r1_tokenizer, tmp_path_factory):
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(request.param(len(r1_tokenizer)))
    directory = tmp_path_factory.mktemp(request.param.__name__)
    model.save_pretrained(directory)
    r1_tokenizer.save_pretrained(directory)
    return directory


def test_tiny_deepseek_loads_and_streams_batched(tiny_dir, small_settings):
    settings = small_settings.model_copy(update={"offline_model": "none"})
    model = load_model(str(tiny_dir), settings)
    assert not model.info.offline_fallback and model.info.label == tiny_dir.name
    assert model.is_reasoning_model and 151643 in model.eos_ids
    engine = LocalEngine(model, settings)
    conversation = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    alone = list(engine.stream(conversation, GenerationParams(max_new_tokens=6)))
    results = []
    threads = [threading.Thread(target=lambda: results.append(list(engine.stream(conversation, GenerationParams(
        max_new_tokens=6))))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.close()
    assert isinstance(alone[-1], Done) and alone[-1].usage.completion_tokens <= 6
    assert [events[-1].batch_size for events in results] == [2, 2]
    assert all(events == alone[:-1] + [events[-1]] for events in results)  # same greedy tokens when batched


def test_gguf_file_is_converted_once_and_cached(small_settings):
    spec = OFFLINE_MODELS["smollm2-135m"]
    gguf = _package_file(*spec.parts[0], spec)
    model = load_model(str(gguf), small_settings.model_copy(update={"offline_model": "none"}))
    assert not model.info.offline_fallback and model.info.label == gguf.name
    assert (converted_dir(gguf, small_settings.cache_dir) / "model.safetensors").is_file()


def test_a_long_chat_trimmed_for_an_r1_model_keeps_the_answering_rules(tiny_dir, small_settings):
    """R1 models get the system rules inside a user turn: trimming must drop old turns, never those rules."""
    settings = small_settings.model_copy(update={"offline_model": "none"})
    model = load_model(str(tiny_dir), settings)
    model.context_length = 400
    engine = LocalEngine(model, settings)
    try:
        old_turns = [{"role": role, "content": f"old turn {i}: " + "filler words " * 30}
                     for i in range(6) for role in ("user", "assistant")]
        conversation = [{"role": "system", "content": "RULES: cite sources as [n]."}, *old_turns,
                        {"role": "user", "content": "What is the notice period?"}]
        _, ids, warning = engine._prompt(conversation, Sampling(16, 0.0, 1.0))
    finally:
        engine.close()
    prompt = model.decode(ids)
    assert warning and "dropped" in warning and len(ids) <= 400 - 16
    assert "RULES: cite sources as [n]." in prompt and "What is the notice period?" in prompt
    assert "old turn 0" not in prompt


def r1_engine(tiny_dir, small_settings, opens_think: bool) -> LocalEngine:
    """The tiny R1-shaped model behind an engine, with the GGUF's template (the model opens `<think>`) or, with
    `opens_think`, a newer one that ends the prompt inside it."""
    settings = small_settings.model_copy(update={"offline_model": "none"})
    model = load_model(str(tiny_dir), settings)
    if opens_think:
        model.tokenizer.chat_template = model.tokenizer.chat_template.replace(
            "{{'<｜Assistant｜>'}}{% endif %}", "{{'<｜Assistant｜><think>\\n'}}{% endif %}")
    return LocalEngine(model, settings)


@pytest.mark.parametrize("opens_think", [False, True], ids=["model-opens", "template-opens"])
def test_a_short_request_gets_an_answer_not_r1s_reasoning(tiny_dir, small_settings, r1_tokenizer, opens_think):
    """A question rewrite has 96 tokens and a clause explanation 160: R1 would spend them thinking and write no
    answer. Such requests close the `<think>` block empty in the prompt, and the reply streams as the answer.
    Both R1 templates: the GGUF's (the model opens `<think>`) and newer ones that end the prompt inside it."""
    engine = r1_engine(tiny_dir, small_settings, opens_think)
    ask = [{"role": "user", "content": "Rewrite the last question."}]
    try:
        _, thinking, _ = engine._prompt(ask, Sampling(16, 0.0, 1.0))
        _, direct, _ = engine._prompt(ask, Sampling(16, 0.0, 1.0, reasoning=False))
        default = {type(e) for e in engine.stream(ask, GenerationParams(max_new_tokens=8, temperature=0.0))}
        events = {type(e) for e in engine.stream(ask, GenerationParams(max_new_tokens=8, temperature=0.0,
                                                                        reasoning=False))}
    finally:
        engine.close()
    from evals.answers import reasons
    assert reasons(engine)  # evals.answers gives it the app's answer length, not 160 tokens of thinking
    thinking, direct = r1_tokenizer.decode(thinking), r1_tokenizer.decode(direct)
    assert thinking.endswith("<｜Assistant｜><think>\n" if opens_think else "<｜Assistant｜>")
    assert direct.startswith(thinking) and direct.endswith("<think>\n\n</think>\n\n")
    assert TextDelta in events and ReasoningDelta not in events
    if opens_think:  # the random model never closes its thinking: all of it is reasoning
        assert ReasoningDelta in default and TextDelta not in default


@pytest.mark.parametrize("opens_think", [False, True], ids=["model-opens", "template-opens"])
def test_an_answer_prefix_is_continued_and_streamed_first(tiny_dir, small_settings, r1_tokenizer, opens_think):
    """Asked for tests, the 0.5B wrote the solution again; begun with "```python ... def test_" it writes tests.
    The start goes into the prompt after R1's closed `<think>` block and comes back as the answer's first text."""
    engine = r1_engine(tiny_dir, small_settings, opens_think)
    ask, start = [{"role": "user", "content": "Write tests."}], "```python\ndef test_"
    try:
        _, ids, _ = engine._prompt(ask, Sampling(16, 0.0, 1.0, answer_prefix=start))
        events = list(engine.stream(ask, GenerationParams(max_new_tokens=6, temperature=0.0, answer_prefix=start)))
    finally:
        engine.close()
    assert r1_tokenizer.decode(ids).endswith("<think>\n\n</think>\n\n" + start)
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert texts[0] == start and len(texts) > 1 and not any(isinstance(e, ReasoningDelta) for e in events)
