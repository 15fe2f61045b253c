"""DeepSeek Knowledge Assistant: the composition root and Gradio UI (the only module that imports gradio)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import gradio as gr

from knowledge.config import KnowledgeSettings
from knowledge.sessions import SessionKnowledgeBases
from knowledge.types import IngestResult, SearchResult

log = logging.getLogger("app")

DOC_COLUMNS = ["File", "Pages", "OCR'd pages", "Chunks", "Status"]


# --- handlers: plain functions, tested directly ---------------------------------------------------


def ingest_files(stores: SessionKnowledgeBases, files: list[str] | None, session_id: str,
                 progress=None) -> tuple[list[list], str]:
    """Ingest uploads into the visitor's own store; returns (documents table, per-file report)."""
    if not files:
        return documents_table(stores, session_id), "Choose one or more files first."
    kb = stores.get(session_id)
    paths = [Path(f) for f in files]
    results = kb.ingest(paths, progress=progress)
    return documents_table(stores, session_id, results), "\n".join(f"- {_report_line(r)}" for r in results)


def documents_table(stores: SessionKnowledgeBases, session_id: str,
                    recent: list[IngestResult] | None = None) -> list[list]:
    """Stored documents plus this batch's failures (so no file disappears without a word)."""
    rows = [[d.name, d.pages, d.ocr_pages, d.chunks, "indexed"] for d in stores.get(session_id).documents()]
    rows += [[r.file_name, 0, 0, 0, f"error: {r.error}"] for r in recent or [] if r.status == "error"]
    return rows


def search(stores: SessionKnowledgeBases, query: str, session_id: str, k: int = 5) -> str:
    """Markdown list of cited passages from the visitor's own documents."""
    if not query.strip():
        return "Type a question or keywords."
    results = stores.get(session_id).search(query, k)
    if not results:
        return "Nothing found in your documents."
    return "\n\n".join(_result_markdown(i, r) for i, r in enumerate(results, 1))


def _result_markdown(rank: int, result: SearchResult) -> str:
    text = " ".join(result.text.split())
    quote = text[:400] + ("…" if len(text) > 400 else "")
    return f"**[{rank}] {_escape(result.file_name)}, page {result.page}** (score {result.score:.3f})\n\n> {_escape(quote)}"


def _report_line(result: IngestResult) -> str:
    name = _escape(result.file_name)
    if result.status == "error":
        return f"❌ {_escape(result.error or '')}"
    if result.status == "duplicate":
        return f"↺ {name}: already indexed"
    return f"✅ {name}: {result.pages} pages, {result.ocr_pages} OCR'd, {result.chunks} chunks, {result.seconds:.1f} s"


def _escape(text: str) -> str:
    """Document text and file names are data: never let them become HTML or Markdown structure."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("*", "\\*").replace("_", "\\_").replace("[", "\\[").replace("`", "\\`"))


# --- UI ----------------------------------------------------------------------------------------------


def build_knowledge_tab(stores: SessionKnowledgeBases) -> None:
    with gr.Tab("Knowledge"):
        upload = gr.File(label="Documents (PDF, scans, images, text, Markdown, Word)", file_count="multiple",
                         type="filepath")
        ingest_button = gr.Button("Add to my knowledge base", variant="primary")
        report = gr.Markdown()
        table = gr.Dataframe(headers=DOC_COLUMNS, label="My documents", interactive=False)
        query = gr.Textbox(label="Search my documents", placeholder="e.g. termination notice period")
        results = gr.Markdown()

    def on_ingest(files, request: gr.Request, progress=gr.Progress()):
        return ingest_files(stores, files, request.session_hash, lambda f, m: progress(f, desc=m))

    def on_search(text, request: gr.Request):
        return search(stores, text, request.session_hash)

    ingest_button.click(on_ingest, [upload], [table, report], api_name="ingest", concurrency_limit=2)
    query.submit(on_search, [query], [results], api_name="search")


def build_demo(stores: SessionKnowledgeBases) -> gr.Blocks:
    # delete_cache: uploaded temp files older than 6 h are removed every hour.
    with gr.Blocks(title="DeepSeek Knowledge Assistant", delete_cache=(3600, 6 * 3600)) as demo:
        gr.Markdown("# DeepSeek Knowledge Assistant\nUpload documents, then search them with page citations. "
                    "Your documents are private to this browser session.")
        build_knowledge_tab(stores)
        demo.unload(lambda request: stores.drop(request.session_hash) if request else None)
    return demo


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s %(message)s")
    from knowledge.embeddings import load_embedder

    settings = KnowledgeSettings()
    stores = SessionKnowledgeBases(settings, load_embedder(settings))
    demo = build_demo(stores)
    demo.queue(default_concurrency_limit=4).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        max_file_size=f"{int(settings.max_file_mb)}mb",
    )


if __name__ == "__main__":
    main()
