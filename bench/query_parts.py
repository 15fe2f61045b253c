"""Where kb.search's time goes at ~100k chunks, and overlapped vs one-after-the-other dense + BM25.

    python -m bench.query_parts [--size 113000] [--queries 100]

Builds the same synthetic store as bench.query (113k paragraphs make ~100k chunks; IVF index), then
times each part of a search on its own and the whole search two ways: as shipped (the query is
embedded on one core while BM25 runs on the other) and the obvious alternative (embed with torch's
default threads, then BM25, then FAISS, one after the other).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.common import load_embedder, percentile, report, settings_for, setup_offline
from bench.query import ClusteredVectors, SyntheticPassageEmbedder, latencies, make_queries, write_corpus


def build(root: Path, size: int, real):
    from knowledge.kb import KnowledgeBase

    embedder = SyntheticPassageEmbedder(real, ClusteredVectors(real.dim, max(size // 100, 10)))
    settings = settings_for(root / "kb", chunk_tokens=128, chunk_overlap=0.0, approx_index_threshold=50_000,
                            use_gpu=False)
    kb = KnowledgeBase(settings, embedder)
    kb.ingest(write_corpus(root / "docs", size))
    return kb


def sequential(kb, real):
    """The alternative: embed (torch's default threads), then FAISS, then BM25, then fuse, on one thread."""
    from knowledge import lexical
    from knowledge.retrieval import Ranking, reciprocal_rank_fusion

    def search(query: str, k: int) -> None:
        vector = real._encode([query])[0]
        scores, ids = kb._vectors.search(vector[None, :], 50)
        hits = kb._metadata.lexical_search(lexical.query_terms(query)[:64], 50)
        fused = reciprocal_rank_fusion([Ranking(ids[0].tolist(), scores[0].tolist()),
                                        Ranking([c for c, _ in hits], [s for _, s in hits])], 20)[:k]
        kb._metadata.chunks_by_ids([c for c, _ in fused])
    return search


def parts(kb, real) -> list[tuple[str, object]]:
    from knowledge import lexical

    vectors = {}
    return [
        ("embed the query, 1 torch thread (as shipped)", lambda q, k: vectors.setdefault(q, real.embed_query(q))),
        ("embed the query, torch default threads", lambda q, k: real._encode([q])),
        ("FAISS IVF search (k=50)", lambda q, k: kb._vectors.search(vectors[q][None, :], 50)),
        ("BM25 (SQLite FTS5, k=50)", lambda q, k: kb._metadata.lexical_search(lexical.query_terms(q)[:64], 50)),
        ("kb.search, one after the other (alternative)", sequential(kb, real)),
        ("kb.search, dense and BM25 overlapped (as shipped)", kb.search),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.query_parts", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=113_000, help="paragraphs to ingest (~0.89 chunk each)")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)
    setup_offline()
    queries = make_queries(args.queries)
    with tempfile.TemporaryDirectory(prefix="bench-query-parts-") as tmp:
        real = load_embedder(settings_for(Path(tmp) / "model"))
        kb = build(Path(tmp), args.size, real)
        rows = []
        for label, search in parts(kb, real):
            ms = latencies(search, queries)
            rows.append((label, f"{percentile(ms, 50):.1f}", f"{percentile(ms, 99):.1f}"))
        chunks, kind = len(kb), kb._vectors.kind
        kb.close()
    shipped, alternative = float(rows[-1][1]), float(rows[-2][1])
    report(f"kb.search parts at {chunks:,} chunks ({kind} index)", ("part", "p50 ms", "p99 ms"), rows,
           [f"{args.queries} queries one at a time. Overlapped vs one after the other: "
            f"{alternative / shipped:.2f}x faster at p50."])


if __name__ == "__main__":
    main()
