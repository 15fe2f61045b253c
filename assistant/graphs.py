"""CUDA-graph decoding: one decode step of the resident model replayed from a captured graph.

Eager decoding of a 1-7B model on a GPU is bound by Python and kernel launches (several hundred small
kernels per token), not by reading the weights, which is the real limit. A captured CUDA graph launches
them all at once. Graphs need fixed shapes and fixed addresses, so while a batch decodes here its KV cache
lives in static slots `[max_rows, kv_heads, max_len, head_dim]` per layer; a graph is captured per
(row bucket, length bucket) and attends over the first `length` columns through an additive mask. Rows past
the batch's own are idle padding. Prefill stays eager (it is one large, efficient pass).

The same code runs eagerly without capture (`capture=False`): that is how CPU tests check that the static
layout decodes exactly like the dynamic cache.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from transformers import DynamicCache

logger = logging.getLogger(__name__)


class StaticSlots:
    """Per-layer KV tensors that the model writes one column into per step (duck-types a transformers Cache).

    `rows` and `length` select the view a forward pass sees; `write_at` is the column being written.
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor, layers: int, max_rows: int, max_len: int) -> None:
        def empty(like: torch.Tensor) -> torch.Tensor:  # keys and values may differ in width (MLA)
            return torch.zeros((max_rows, like.shape[1], max_len, like.shape[3]), dtype=like.dtype, device=like.device)

        self.keys = [empty(keys) for _ in range(layers)]
        self.values = [empty(values) for _ in range(layers)]
        self.write_at = torch.zeros(1, dtype=torch.long, device=keys.device)
        self.rows, self.length = max_rows, max_len

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *args: Any,
               **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Write the step's keys/values at `write_at`; return the view attention reads."""
        keys = self.keys[layer_idx][:self.rows, :, :self.length]
        values = self.values[layer_idx][:self.rows, :, :self.length]
        keys.index_copy_(2, self.write_at, key_states)
        values.index_copy_(2, self.write_at, value_states)
        return keys, values

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """Columns visible to the current view (transformers asks only when position ids are missing)."""
        return self.length


def bucket(value: int, smallest: int, largest: int) -> int:
    """The smallest power-of-two multiple of `smallest` that holds `value`, capped at `largest`."""
    size = smallest
    while size < value:
        size *= 2
    return min(size, largest)


class GraphDecoder:
    """Decode steps on static KV slots, replayed from CUDA graphs captured per shape bucket.

    Args:
        model: the transformers causal LM (on its device).
        max_rows: most rows a batch can have here (the engine's batch limit).
        max_len: most columns (the model's context length).
        capture: capture and replay CUDA graphs; False runs the same static-shaped step eagerly.
        min_len: smallest length bucket.
    """

    def __init__(self, model: Any, max_rows: int, max_len: int, capture: bool = True, min_len: int = 256) -> None:
        self.model = model
        self.max_rows, self.max_len, self.min_len = max_rows, max_len, min(min_len, max_len)
        self.capture = capture
        self.slots: StaticSlots | None = None
        self.width = 0  # columns in use by the loaded batch
        self._graphs: dict[tuple[int, int], tuple[Any, torch.Tensor]] = {}
        self._pool: Any = None
        self._buffers: dict[str, torch.Tensor] = {}

    def fits(self, rows: int, width: int) -> bool:
        """Whether a batch of `rows` rows can take one more column here."""
        return rows <= self.max_rows and width + 1 <= self.max_len

    def load(self, cache: DynamicCache, attention_mask: torch.Tensor) -> StaticSlots:
        """Copy a dynamic cache (rows x width, left-padded) into the slots; return the slots as the new cache."""
        rows, width = attention_mask.shape
        layers = cache.layers
        if self.slots is None or len(self.slots.keys[0]) < rows:
            self._allocate(layers[0], len(layers), bucket(rows, 1, self.max_rows), attention_mask.device)
        for index, layer in enumerate(layers):
            self.slots.keys[index][:rows, :, :width].copy_(layer.keys)
            self.slots.values[index][:rows, :, :width].copy_(layer.values)
        mask = self._buffers["mask"]
        mask.zero_()
        mask[:rows, :width] = attention_mask.bool()
        mask[rows:, 0] = True  # idle rows attend to one column, so their softmax has no NaN
        self.width = width
        return self.slots

    def unload(self, rows: int) -> DynamicCache:
        """The loaded batch's cache as a dynamic cache (copies), for merging or dropping rows."""
        layers = [(k[:rows, :, :self.width].clone(), v[:rows, :, :self.width].clone())
                  for k, v in zip(self.slots.keys, self.slots.values, strict=True)]
        return DynamicCache(ddp_cache_data=layers)

    def step(self, last_tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Feed one token per row at column `width`; return the logits [rows, vocab] (valid until the next step)."""
        rows = last_tokens.shape[0]
        buffers = self._buffers
        buffers["mask"][:rows, self.width] = True
        self.slots.write_at.fill_(self.width)
        buffers["input_ids"][:rows, 0].copy_(last_tokens)
        buffers["positions"][:rows, 0].copy_(positions)
        shape = (bucket(rows, 1, self.max_rows), bucket(self.width + 1, self.min_len, self.max_len))
        logits = self._replay(shape) if self.capture else self._forward(*shape)
        self.width += 1
        return logits[:rows]

    # -- internals

    def _allocate(self, like: Any, layers: int, rows: int, device: torch.device) -> None:
        """Slots for `rows` rows (grown by powers of two as batches grow); graphs of older slots are dropped."""
        self.slots, self._graphs, self._pool = None, {}, None
        self.slots = StaticSlots(like.keys, like.values, layers, rows, self.max_len)
        self._buffers = {
            "mask": torch.zeros((rows, self.max_len), dtype=torch.bool, device=device),
            "input_ids": torch.zeros((rows, 1), dtype=torch.long, device=device),
            "positions": torch.zeros((rows, 1), dtype=torch.long, device=device),
        }
        size = sum(t.numel() * t.element_size() for t in self.slots.keys + self.slots.values)
        logger.info("static kv slots rows=%d length=%d mib=%.0f graphs=%s", rows, self.max_len, size / 2**20,
                    self.capture)

    def _forward(self, rows: int, length: int) -> torch.Tensor:
        self.slots.rows, self.slots.length = rows, length
        visible = self._buffers["mask"][:rows, None, None, :length]
        dtype = self.slots.keys[0].dtype
        additive = torch.where(visible, torch.zeros((), dtype=dtype, device=visible.device),
                               torch.full((), torch.finfo(dtype).min, dtype=dtype, device=visible.device))
        out = self.model(input_ids=self._buffers["input_ids"][:rows], attention_mask=additive,
                         position_ids=self._buffers["positions"][:rows], past_key_values=self.slots, use_cache=True)
        return out.logits[:, -1, :]

    def _replay(self, shape: tuple[int, int]) -> torch.Tensor:
        if shape not in self._graphs:
            try:
                self._graphs[shape] = self._capture(shape)
            except RuntimeError as error:  # e.g. a model whose step syncs with the host (data-dependent MoE routing)
                logger.warning("decode step cannot be captured as a CUDA graph (%s); decoding eagerly", error)
                self.capture = False
                return self._forward(*shape)
            return self._verified(shape)
        graph, logits = self._graphs[shape]
        graph.replay()
        return logits

    def _verified(self, shape: tuple[int, int]) -> torch.Tensor:
        """First replay of a new graph, checked against the same step run eagerly; a mismatch turns graphs off."""
        expected = self._forward(*shape).float()  # the step is idempotent: both write the same KV column
        graph, logits = self._graphs[shape]
        graph.replay()
        gap = float((logits.float() - expected).abs().max())
        if gap > 0.05 * max(1.0, float(expected.abs().max())) or not torch.equal(logits.argmax(-1), expected.argmax(-1)):
            logger.warning("captured decode step disagrees with eager (max gap %.3g); decoding eagerly", gap)
            self.capture, self._graphs, self._pool = False, {}, None
        return expected.to(logits.dtype)

    def _capture(self, shape: tuple[int, int]) -> tuple[Any, torch.Tensor]:
        """Warm the shape up on a side stream (as torch requires), then capture one step into a graph."""
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):  # writes the same column the replay will write: harmless
                self._forward(*shape)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        # thread_local: the embedder or another model may use the GPU from other threads while this one captures
        with torch.cuda.graph(graph, pool=self._pool, capture_error_mode="thread_local"):
            logits = self._forward(*shape)
        self._pool = graph.pool()
        logger.info("captured decode graph rows=%d length=%d graphs=%d", *shape, len(self._graphs) + 1)
        return graph, logits
