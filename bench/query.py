"""Query latency at 10k/100k chunks end to end (kb.search) and 1M vectors (FaissStore), flat vs IVF, with IVF recall@10.

    python -m bench.query [--e2e-sizes 10000,100000] [--store-sizes 1000000] [--queries 50] [--quick]

End to end: a real KnowledgeBase ingests generated text files through kb.ingest, with an embedder
whose passages are synthetic vectors (embedding 100k real chunks would take hours here) and whose
queries are embedded by the real model; kb.search then does everything it does in production (embed
the query, FAISS, BM25 over SQLite FTS5, fusion, fetch the chunks). Chunks are ~128 words drawn from a
Zipf distribution over a 30k-word vocabulary (so BM25 sees realistic term frequencies). The IVF
run reopens the same store with a low approx_index_threshold, so the index is rebuilt as IVF from
the vectors in SQLite. At 1M only FaissStore is measured (the query embedding and BM25 are not).

Synthetic vectors are clustered (unit vectors near 1 of n/100 random centres), not uniform: uniformly
random vectors in 384 dimensions have no near neighbours, which makes any approximate index look bad.
Recall@10 is FaissStore IVF vs exact flat search, for queries that are perturbed stored vectors.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
from pathlib import Path

import numpy as np

from bench.common import WORDS, load_embedder, mean, percentile, report, settings_for, setup_offline, timed

CHUNK_WORDS = 128
CHUNKS_PER_FILE = 1000
_WORD = re.compile(r"\S+")


class ClusteredVectors:
    """Deterministic clustered unit vectors: centre + gaussian noise, normalised (cosine to centre ~0.65)."""

    def __init__(self, dim: int, clusters: int, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.dim = dim
        self.centres = _unit(self.rng.standard_normal((clusters, dim), dtype=np.float32))

    def sample(self, n: int) -> np.ndarray:
        which = self.rng.integers(0, len(self.centres), n)
        noise = self.rng.standard_normal((n, self.dim), dtype=np.float32) * 0.06
        return _unit(self.centres[which] + noise)

    def near(self, vectors: np.ndarray) -> np.ndarray:
        """Queries: stored vectors nudged a little (a query is close to, not equal to, what it finds)."""
        return _unit(vectors + self.rng.standard_normal(vectors.shape, dtype=np.float32) * 0.03)


def _unit(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


class SyntheticPassageEmbedder:
    """Embedder protocol: synthetic passage vectors (kept for the recall check), real query embeddings.

    Tokens are whitespace-separated words, so CHUNK_WORDS-word chunks come out of the real Chunker.
    """

    multilingual = False

    def __init__(self, real, vectors: ClusteredVectors):
        self._real = real
        self._vectors = vectors
        self.dim = real.dim
        self.name = f"synthetic passages + {real.name} queries"
        self.stored: list[np.ndarray] = []

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        batch = self._vectors.sample(len(texts))
        self.stored.append(batch)
        return batch

    def embed_query(self, text: str) -> np.ndarray:
        return self._real.embed_query(text)

    def token_offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        return [[m.span() for m in _WORD.finditer(t)] for t in texts]


class ZipfWords:
    """Words with a Zipf-Mandelbrot frequency over a 30k-word vocabulary (common English words first).

    A realistic vocabulary matters for BM25: with a few hundred words every query term would match
    almost every chunk, and FTS5 would score them all.
    """

    def __init__(self, vocabulary: int = 30_000, seed: int = 0):
        rng = np.random.default_rng(seed)
        letters = np.array(list("abcdefghiklmnoprstuvwy"))
        invented = {"".join(rng.choice(letters, rng.integers(4, 11))) for _ in range(vocabulary)}
        invented = rng.permutation(sorted(invented - set(WORDS))).tolist()
        self.words = np.array(list(dict.fromkeys(WORDS)) + invented)[:vocabulary]
        weights = 1.0 / (np.arange(len(self.words)) + 2.7) ** 1.07
        self.p = weights / weights.sum()
        self.rng = rng

    def sample(self, n: int, skip_common: int = 0) -> list[str]:
        p = self.p.copy()
        p[:skip_common] = 0
        return self.rng.choice(self.words, n, p=p / p.sum()).tolist()

    def paragraph(self, words: int) -> str:
        tokens = self.sample(words)
        out, i = [], 0
        while i < len(tokens):
            n = int(self.rng.integers(8, 21))
            sentence = " ".join(tokens[i:i + n])
            out.append(sentence[:1].upper() + sentence[1:] + ".")
            i += n
        return " ".join(out)


def write_corpus(directory: Path, chunks: int, seed: int = 0) -> list[Path]:
    """Text files of CHUNKS_PER_FILE paragraphs of ~CHUNK_WORDS words (one chunk each, give or take)."""
    words = ZipfWords(seed=seed)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(0, chunks, CHUNKS_PER_FILE):
        paragraphs = [words.paragraph(CHUNK_WORDS - 20) for _ in range(min(CHUNKS_PER_FILE, chunks - number))]
        path = directory / f"corpus_{number // CHUNKS_PER_FILE:04d}.txt"
        path.write_text("\n\n".join(paragraphs), encoding="utf-8")
        paths.append(path)
    return paths


def make_queries(count: int, seed: int = 1) -> list[str]:
    """Questions of 5-10 words drawn from the corpus distribution, minus the 100 most common words."""
    words, rng = ZipfWords(seed=0), random.Random(seed)
    return [" ".join(words.sample(rng.randint(5, 10), skip_common=100)) + "?" for _ in range(count)]


def latencies(search, queries: list[str], k: int = 10) -> list[float]:
    search(queries[0], k)  # warm-up
    out = []
    for query in queries:
        with timed() as t:
            search(query, k)
        out.append(t[0] * 1000)
    return out


def recall_at_10(flat, approx, queries: np.ndarray) -> float:
    _, exact = flat.search(queries, 10)
    _, found = approx.search(queries, 10)
    return mean([len(set(e) & set(f)) / 10 for e, f in zip(exact.tolist(), found.tolist())])


def store_pair(vectors: np.ndarray, settings):
    """A flat FaissStore and an IVF FaissStore holding the same vectors, and the IVF build time."""
    from knowledge.vectorstore import FaissStore

    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    flat = FaissStore(vectors.shape[1], 1 << 62, settings.ivf_nprobe, False)
    flat.add(ids, vectors)
    approx = FaissStore(vectors.shape[1], 1 << 62, settings.ivf_nprobe, False)
    approx.add(ids, vectors)
    with timed() as t:
        approx.build_approximate()
    return flat, approx, t[0]


def end_to_end(size: int, query_count: int, real, settings_base: dict) -> list[tuple]:
    from knowledge.kb import KnowledgeBase

    queries = make_queries(query_count)
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        paths = write_corpus(Path(tmp) / "docs", size)
        vectors = ClusteredVectors(real.dim, max(size // 100, 10))
        embedder = SyntheticPassageEmbedder(real, vectors)
        settings = settings_for(Path(tmp) / "kb", chunk_tokens=CHUNK_WORDS, chunk_overlap=0.0,
                                approx_index_threshold=1 << 62, use_gpu=False, **settings_base)
        kb = KnowledgeBase(settings, embedder)
        with timed() as t_ingest:
            kb.ingest(paths)
        chunks = len(kb)
        flat_ms = latencies(kb.search, queries)
        kb.close()
        for stale in settings.data_dir.glob("index-*.faiss"):
            stale.unlink()  # the FAISS file is a cache of SQLite: reopening rebuilds it, here as IVF
        ivf_settings = settings.model_copy(update={"approx_index_threshold": 1000})
        with timed() as t_rebuild:
            kb = KnowledgeBase(ivf_settings, embedder)
        ivf_ms = latencies(kb.search, queries)
        kb.close()
        stored = np.vstack(embedder.stored)
        flat, approx, _ = store_pair(stored, settings)
        picks = stored[np.random.default_rng(2).integers(0, len(stored), 200)]
        recall = recall_at_10(flat, approx, vectors.near(picks))
    common = f"kb.search end to end, {chunks:,} chunks (ingest {t_ingest[0]:.0f} s)"
    return [
        (common, "flat", "-", f"{percentile(flat_ms, 50):.1f}", f"{percentile(flat_ms, 99):.1f}", "1.000"),
        (common, "IVF", f"{t_rebuild[0]:.1f} (reopen + rebuild)", f"{percentile(ivf_ms, 50):.1f}",
         f"{percentile(ivf_ms, 99):.1f}", f"{recall:.3f}"),
    ]


def store_only(size: int, query_count: int, dim: int, settings) -> list[tuple]:
    vectors = ClusteredVectors(dim, max(size // 100, 10))
    stored = np.vstack([vectors.sample(min(100_000, size - i)) for i in range(0, size, 100_000)])
    flat, approx, build_s = store_pair(stored, settings)
    queries = vectors.near(stored[np.random.default_rng(2).integers(0, size, max(query_count, 200))])

    def one_by_one(store) -> list[float]:
        out = []
        for row in queries[:query_count]:
            with timed() as t:
                store.search(row[None, :], 10)
            out.append(t[0] * 1000)
        return out

    flat_ms, ivf_ms = one_by_one(flat), one_by_one(approx)
    recall = recall_at_10(flat, approx, queries)
    label = f"FaissStore.search only, {size:,} vectors"
    return [(label, "flat", "-", f"{percentile(flat_ms, 50):.1f}", f"{percentile(flat_ms, 99):.1f}", "1.000"),
            (label, "IVF", f"{build_s:.1f}", f"{percentile(ivf_ms, 50):.1f}", f"{percentile(ivf_ms, 99):.1f}",
             f"{recall:.3f}")]


def run(e2e_sizes: list[int], store_sizes: list[int], query_count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-query-model-") as tmp:
        settings = settings_for(Path(tmp))
        real = load_embedder(settings)
    rows = []
    for size in e2e_sizes:
        rows += end_to_end(size, query_count, real, {})
        print(f"done: end to end at {size:,}", flush=True)
    for size in store_sizes:
        rows += store_only(size, query_count, real.dim, settings)
        print(f"done: store only at {size:,}", flush=True)
    report("Query latency (k=10), flat vs IVF", ("what was measured", "index", "IVF build s", "p50 ms", "p99 ms",
                                                  "recall@10 vs flat"), rows,
           [f"{query_count} queries per row, one at a time. IVF: nlist = 4*sqrt(n) (FaissStore.build_approximate), "
            f"nprobe = {settings.ivf_nprobe}. Query embedding: {real.name}. Passage vectors are synthetic and "
            "clustered (see the module docstring); end-to-end rows include query embedding, BM25 and fusion."])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.query", description=__doc__.splitlines()[0])
    parser.add_argument("--e2e-sizes", default="10000,100000", help="chunk counts for kb.search end to end")
    parser.add_argument("--store-sizes", default="1000000", help="vector counts for FaissStore alone ('' for none)")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="2k and 20k end to end, 100k store only, 20 queries")
    args = parser.parse_args(argv)
    setup_offline()
    if args.quick:
        args.e2e_sizes, args.store_sizes, args.queries = "2000,20000", "100000", 20
    sizes = lambda text: [int(s) for s in text.split(",") if s.strip()]  # noqa: E731
    run(sizes(args.e2e_sizes), sizes(args.store_sizes), args.queries)


if __name__ == "__main__":
    main()
