"""Ingest throughput: text-PDF pages per minute through kb.ingest, and the time split by stage.

    python -m bench.ingest [--pages 150] [--quick]

The PDF is generated (fpdf2): every page 350-450 words of filler sentences in a core font, so pypdf
extracts a real text layer and no page needs OCR. The end-to-end figure is one kb.ingest call into
a fresh store (model already loaded); the stage split times the same public pieces one by one
(load_document, Chunker.split_pages, embed_batch) on the same file, and attributes the rest of the
end-to-end time to storing (SQLite rows + FTS5 terms + FAISS add + index file).
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

from bench.common import load_embedder, report, sentences, settings_for, setup_offline, timed


def make_pdf(path: Path, pages: int, seed: int = 0) -> int:
    """Write a text PDF of `pages` pages; returns the number of words written."""
    from fpdf import FPDF

    rng = random.Random(seed)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=10)
    words = 0
    for number in range(1, pages + 1):
        text = sentences(rng, rng.randint(350, 450))
        words += len(text.split())
        pdf.add_page()
        pdf.multi_cell(0, 4.6, f"Section {number}. {text}")
    pdf.output(str(path))
    return words


def run(pages: int) -> None:
    from knowledge.chunking import Chunker
    from knowledge.kb import KnowledgeBase
    from knowledge.loading import load_document

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        pdf = Path(tmp) / "generated.pdf"
        with timed() as t_make:
            words = make_pdf(pdf, pages)
        settings = settings_for(Path(tmp) / "kb")
        embedder = load_embedder(settings)
        embedder.embed_batch(["warm-up so the first batch does not pay for lazy initialisation"])

        kb = KnowledgeBase(settings, embedder)
        with timed() as t_total:
            result = kb.ingest([pdf])[0]
        kb.close()
        if result.status != "indexed":
            raise SystemExit(f"ingest failed: {result.error}")

        with timed() as t_extract:
            document = load_document(pdf, settings)
        chunker = Chunker(embedder.token_offsets, settings.chunk_tokens, settings.chunk_overlap)
        with timed() as t_chunk:
            spans = chunker.split_pages(document.pages)
        with timed() as t_embed:
            embedder.embed_batch([s.text for s in spans])

    total = t_total[0]
    store = max(total - t_extract[0] - t_chunk[0] - t_embed[0], 0.0)
    rows = [
        ("end to end (kb.ingest)", f"{total:.2f}", "100%", f"{pages / total * 60:.0f}"),
        ("extract (pypdf, load_document)", f"{t_extract[0]:.2f}", f"{t_extract[0] / total:.0%}",
         f"{pages / t_extract[0] * 60:.0f}"),
        ("chunk (Chunker.split_pages)", f"{t_chunk[0]:.2f}", f"{t_chunk[0] / total:.0%}",
         f"{pages / t_chunk[0] * 60:.0f}"),
        ("embed (embed_batch)", f"{t_embed[0]:.2f}", f"{t_embed[0] / total:.0%}", f"{pages / t_embed[0] * 60:.0f}"),
        ("store (remainder: SQLite + FTS5 + FAISS)", f"{store:.2f}", f"{store / total:.0%}", "-"),
    ]
    report(
        f"Ingest: {pages}-page text PDF ({words} words, {result.chunks} chunks of <= {settings.chunk_tokens} tokens)",
        ("stage", "seconds", "share", "pages/min"), rows,
        [f"Embedder: {embedder.name} (batch {settings.embedding_batch_size}). PDF generated in {t_make[0]:.1f} s "
         "(not counted). Target: >= 600 pages/min end to end. Stage rows are separate timed runs of the same "
         "public pieces; the store row is what is left of the end-to-end time (0 when noise from other processes "
         "made the separate runs slower than the end-to-end one)."],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=150, help="pages in the generated PDF (default 150)")
    parser.add_argument("--quick", action="store_true", help="20 pages: a smoke run")
    args = parser.parse_args(argv)
    setup_offline()
    run(20 if args.quick else args.pages)


if __name__ == "__main__":
    main()
