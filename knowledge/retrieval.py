"""Hybrid retrieval: dense (FAISS) and BM25 (SQLite FTS5) rankings fused by weighted reciprocal rank."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from knowledge import lexical
from knowledge.embeddings import Embedder
from knowledge.metadata import MetadataStore
from knowledge.types import SearchResult
from knowledge.vectorstore import FaissStore


MAX_QUERY_TERMS = 64
# The dense side of a search (embed the query + FAISS) runs here while the caller runs BM25.
_DENSE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dense-query")


@dataclass(frozen=True)
class Ranking:
    """One retriever's answer: chunk ids best first, with its raw scores."""

    ids: list[int]
    scores: list[float]
    weight: float = 1.0


def reciprocal_rank_fusion(rankings: list[Ranking], k: int = 60) -> list[tuple[int, float]]:
    """Weighted RRF: score(id) = sum over rankings of weight / (k + rank), rank starting at 1."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking.ids, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + ranking.weight / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


class HybridRetriever:
    """Runs both retrievers for a query and returns our own SearchResult objects."""

    def __init__(self, embedder: Embedder, vectors: FaissStore, metadata: MetadataStore,
                 candidates: int = 50, rrf_k: int = 60):
        self._embedder = embedder
        self._vectors = vectors
        self._metadata = metadata
        self._candidates = candidates
        self._rrf_k = rrf_k

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        """Top-k chunks for the query, best first."""
        if not query.strip() or len(self._vectors) == 0:
            return []
        n = max(self._candidates, k)
        dense_job = _DENSE.submit(self._dense, query, n)
        sparse = self._lexical(query, n)
        dense = dense_job.result()
        fused = reciprocal_rank_fusion([dense, sparse], self._rrf_k)[:k]
        chunks = self._metadata.chunks_by_ids([chunk_id for chunk_id, _ in fused])
        # A dense ranking given no weight (Chinese with an English-only embedder) is not reported: a caller must not
        # judge relevance by it (a walkthrough's chat kept a passage of cosine 0.59 about something else and dropped
        # the keyword search's first hit, the right one, at 0.36)
        dense_at = {cid: (rank, score) for rank, (cid, score) in enumerate(zip(dense.ids, dense.scores), 1)
                    if dense.weight > 0}
        lexical_at = {cid: rank for rank, cid in enumerate(sparse.ids, 1)}
        return [
            SearchResult(chunk=chunks[cid], score=score, dense_score=dense_at.get(cid, (None, None))[1],
                         dense_rank=dense_at.get(cid, (None, None))[0], lexical_rank=lexical_at.get(cid))
            for cid, score in fused if cid in chunks and score > 0
        ]

    def _dense(self, query: str, n: int) -> Ranking:
        scores, ids = self._vectors.search(self._embedder.embed_query(query)[None, :], n)
        keep = ids[0] >= 0
        # An English-only embedder ranks Chinese text close to randomly: let BM25 carry such queries.
        weight = 0.0 if lexical.has_cjk(query) and not self._embedder.multilingual else 1.0
        return Ranking([int(i) for i in ids[0][keep]], [float(s) for s in scores[0][keep]], weight)

    def _lexical(self, query: str, n: int) -> Ranking:
        # A pasted 100k-character "question" must not become a 10k-term OR query.
        hits = self._metadata.lexical_search(lexical.query_terms(query)[:MAX_QUERY_TERMS], n)
        return Ranking([cid for cid, _ in hits], [score for _, score in hits])
