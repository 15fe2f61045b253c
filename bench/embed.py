"""Embedding throughput: chunks per second at 512- and 128-token chunks for several batch sizes.

    python -m bench.embed [--chunks 64] [--batch-sizes 8,32,64] [--quick]

Chunks are cut from filler text at exactly N tokens of the embedder's own tokenizer (so "512-token"
means what the chunker means). Each (size, batch) cell embeds the same chunks once after a warm-up.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

from bench.common import load_embedder, report, sentences, settings_for, setup_offline, timed


def chunks_of(embedder, tokens: int, count: int, seed: int = 0) -> list[str]:
    """`count` texts of exactly `tokens` tokens each, cut at a token boundary.

    Sentences are tokenised one by one (each far below any truncation limit) and their token offsets
    shifted into the joined text, so the count does not depend on the tokenizer's truncation setting.
    """
    rng = random.Random(seed)
    return [_cut(embedder, rng, tokens) for _ in range(count)]


def _cut(embedder, rng: random.Random, tokens: int) -> str:
    text, ends = "", []
    while len(ends) < tokens:
        sentence = sentences(rng, 12)
        base = len(text) + (1 if text else 0)
        text = f"{text} {sentence}" if text else sentence
        ends += [base + end for _, end in embedder.token_offsets([sentence])[0]]
    return text[: ends[tokens - 1]]


def run(count: int, batch_sizes: list[int], token_sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        settings = settings_for(Path(tmp))
        embedder = load_embedder(settings)
    embedder.embed_batch(["warm-up"] * 4)
    rows = []
    for tokens in token_sizes:
        n = count * max(1, 512 // tokens // 2)  # more of the short chunks, for a similar run time
        texts = chunks_of(embedder, tokens, n)
        for batch in batch_sizes:
            embedder.batch_size = batch  # SentenceTransformerEmbedder reads it on every call
            with timed() as t:
                vectors = embedder.embed_batch(texts)
            assert vectors.shape == (n, embedder.dim)
            rows.append((tokens, batch, n, f"{t[0]:.2f}", f"{n / t[0]:.1f}", f"{n * tokens / t[0]:.0f}"))
    report(f"Embedding: {embedder.name} ({embedder.dim}-d)",
           ("chunk tokens", "batch", "chunks", "seconds", "chunks/s", "tokens/s"), rows,
           ["Chunks are filler English text cut at exactly N tokens of the model's tokenizer."])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.embed", description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=64, help="512-token chunks per cell (128-token: 2x)")
    parser.add_argument("--batch-sizes", default="8,32,64")
    parser.add_argument("--tokens", default="512,128")
    parser.add_argument("--quick", action="store_true", help="16 chunks, batch sizes 8 and 32")
    args = parser.parse_args(argv)
    setup_offline()
    if args.quick:
        args.chunks, args.batch_sizes = 16, "8,32"
    run(args.chunks, [int(b) for b in args.batch_sizes.split(",")], [int(t) for t in args.tokens.split(",")])


if __name__ == "__main__":
    main()
