"""Static-slot decoding (the layout CUDA graphs replay) must decode exactly like the dynamic cache.

Runs the real SmolLM2-135M on CPU with capture off: the same static shapes, masks and slot copies as on a
GPU, minus the graph capture itself (which needs CUDA; `bench.generation --gpu` exercises it there).
"""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, DynamicCache, Qwen2Config

from assistant.graphs import GraphDecoder, StaticSlots, bucket
from assistant.model import LoadedModel

PROMPTS = ["The capital of France is", "List three prime numbers and explain why each is prime:",
           "def fibonacci(n):"]


def twin(model: LoadedModel, max_rows: int = 4, max_len: int = 2048) -> LoadedModel:
    """The same weights and tokenizer with static-slot decoding (small length buckets so they are crossed)."""
    other = LoadedModel(model.model, model.tokenizer, model.info, model.context_length)
    other.graphs = GraphDecoder(model.model, max_rows, max_len, capture=False, min_len=16)
    return other


def run(model: LoadedModel, plan: list[tuple[str, object]]) -> list[list[int]]:
    """Follow a plan of prefill/decode/merge/select steps; return the tokens each step produced."""
    batch, produced = None, []
    for action, argument in plan:
        match action:
            case "prefill":
                batch, first = model.prefill([model.encode(p) for p in argument], [0.0] * len(argument),
                                             [1.0] * len(argument))
                produced.append(first)
            case "join":
                joining, first = model.prefill([model.encode(p) for p in argument], [0.0] * len(argument),
                                               [1.0] * len(argument))
                batch = model.merge(batch, joining)
                produced.append(first)
            case "keep":
                batch = model.select(batch, argument)
            case "decode":
                produced += [model.decode_step(batch) for _ in range(argument)]
    return produced


def test_bucket_sizes():
    assert [bucket(n, 1, 16) for n in (1, 2, 3, 5, 16, 17)] == [1, 2, 4, 8, 16, 16]
    assert [bucket(n, 256, 8192) for n in (1, 256, 257, 5000, 9000)] == [256, 256, 512, 8192, 8192]


def test_static_slots_decode_like_the_dynamic_cache(small_model):
    plan = [("prefill", PROMPTS), ("decode", 40)]  # 40 steps cross the 16 -> 32 -> 64 length buckets
    static = twin(small_model)
    assert run(static, plan) == run(small_model, plan)
    assert static.graphs.width > 32


def test_rows_joining_and_leaving_mid_stream(small_model):
    plan = [("prefill", PROMPTS[:2]), ("decode", 6), ("join", PROMPTS[2:]), ("decode", 6), ("keep", [0, 2]),
            ("decode", 6), ("keep", [1]), ("decode", 4)]
    static = twin(small_model)
    assert run(static, plan) == run(small_model, plan)


def test_batch_too_long_for_the_slots_continues_eagerly(small_model):
    prompt_tokens = len(small_model.encode(PROMPTS[1]))
    static = twin(small_model, max_len=prompt_tokens + 5)
    plan = [("prefill", PROMPTS[1:2]), ("decode", 12)]
    assert run(static, plan) == run(small_model, plan)
    assert static.graphs.width == prompt_tokens + 5  # the slots filled up, then eager steps


def test_batch_with_more_rows_than_slots_decodes_eagerly(small_model):
    static = twin(small_model, max_rows=2)
    plan = [("prefill", PROMPTS), ("decode", 5)]
    assert run(static, plan) == run(small_model, plan)
    assert static.graphs.slots is None  # never loaded


@pytest.mark.parametrize("rows", [1, 3])
def test_slots_hand_back_the_exact_cache(small_model, rows):
    static = twin(small_model)
    batch, _ = static.prefill([static.encode(p) for p in PROMPTS[:rows]], [0.0] * rows, [1.0] * rows)
    before = [layer.keys.clone() for layer in batch.cache.layers]
    static.decode_step(batch)
    assert isinstance(batch.cache, StaticSlots)
    static.select(batch, list(range(rows)))  # back to a dynamic cache
    for old, layer in zip(before, batch.cache.layers, strict=True):
        assert layer.keys.shape[2] == old.shape[2] + 1
        assert (layer.keys[:, :, :old.shape[2]] == old).all()


class FakeGraph:
    """Stands in for a captured CUDA graph on CPU: replay runs the step eagerly, optionally corrupting it."""

    def __init__(self, decoder: GraphDecoder, shape: tuple[int, int], corrupt: bool) -> None:
        self.decoder, self.shape, self.corrupt = decoder, shape, corrupt
        self.out = torch.zeros(shape[0], decoder.model.config.vocab_size)
        self.replays = 0

    def replay(self) -> None:
        self.replays += 1
        self.out.copy_(self.decoder._forward(*self.shape))
        if self.corrupt:
            self.out.mul_(-1.0)


def with_fake_capture(model: LoadedModel, monkeypatch, corrupt: bool = False, error: bool = False) -> GraphDecoder:
    decoder = model.graphs
    decoder.capture = True

    def capture(shape):
        if error:
            raise RuntimeError("operation not permitted when stream is capturing")
        graph = FakeGraph(decoder, shape, corrupt)
        return graph, graph.out

    monkeypatch.setattr(decoder, "_capture", capture)
    return decoder


def test_replayed_graphs_decode_like_the_dynamic_cache(small_model, monkeypatch):
    static = twin(small_model)
    decoder = with_fake_capture(static, monkeypatch)
    plan = [("prefill", PROMPTS[:2]), ("decode", 20), ("join", PROMPTS[2:]), ("decode", 4)]
    assert run(static, plan) == run(small_model, plan)
    # The third row grew the slots from 2 to 4 rows: the 2-row graphs went with the old slots.
    assert decoder.capture and set(decoder._graphs) == {(4, 32), (4, 64)}
    assert sum(graph.replays for graph, _ in decoder._graphs.values()) == 4


@pytest.mark.parametrize("failure", ["corrupt", "error"])
def test_graphs_that_fail_or_disagree_are_switched_off(small_model, monkeypatch, failure):
    static = twin(small_model)
    decoder = with_fake_capture(static, monkeypatch, corrupt=failure == "corrupt", error=failure == "error")
    plan = [("prefill", PROMPTS), ("decode", 8)]
    assert run(static, plan) == run(small_model, plan)
    assert not decoder.capture and not decoder._graphs


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA device")
@pytest.mark.parametrize("rows", [1, 3])
def test_cuda_graph_replay_matches_the_eager_static_step(rows):
    """On a GPU: replaying the captured step gives the eager static step's logits, across buckets and batches."""
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=128, tie_word_embeddings=False)
    model = AutoModelForCausalLM.from_config(config).to("cuda", torch.bfloat16).eval()
    prompt = torch.randint(0, 1000, (rows, 12), device="cuda")
    results = []
    for capture in (False, True):
        decoder = GraphDecoder(model, max_rows=4, max_len=128, capture=capture, min_len=16)
        with torch.inference_mode():
            out = model(input_ids=prompt, use_cache=True, past_key_values=DynamicCache(config=config))
            decoder.load(out.past_key_values, torch.ones_like(prompt))
            tokens, logits = out.logits[:, -1].argmax(-1), []
            for step in range(24):  # crosses the 16 -> 32 -> 64 length buckets
                logits.append(decoder.step(tokens, torch.full((rows,), 12 + step, device="cuda")).float().clone())
                tokens = logits[-1].argmax(-1)
        results.append(torch.stack(logits))
    assert len(decoder._graphs) == 3  # one per length bucket
    torch.testing.assert_close(results[1], results[0], atol=2e-2, rtol=0)
