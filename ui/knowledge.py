"""Knowledge tab: upload (a progress bar per file), the documents table, delete and clear."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from knowledge.errors import KnowledgeError
from knowledge.types import DocumentInfo, IngestResult
from ui.i18n import t
from ui.messages import columns, counted, error_text, knowledge_error_text, request_language, say
from ui.render import escape, ingest_line, table_frame
from ui.services import Services, picked_document

FileProgress = Callable[[int, int, str, float, str], None]  # (file index, files, name, fraction, message)


# ---------------------------------------------------------------- handlers (plain functions, tested directly)


def ingest_files(services: Services, session_id: str, files: list[str] | None,
                 progress: FileProgress | None = None, lang: str = "en",
                 failed: Sequence[list] = ()) -> tuple[list[list], str, list[list]]:
    """Ingest uploads one file at a time into the visitor's own store; returns (table, report, failed rows).
    `failed`: the rows of earlier uploads that failed, kept in the table unless a file of that name comes again."""
    results, report = ingest_results(services, session_id, files, progress, lang)
    kept = failed_rows(failed, results, lang)
    return documents_table(services, session_id, kept, lang), report, kept


def ingest_results(services: Services, session_id: str, files: list[str] | None,
                   progress: FileProgress | None = None, lang: str = "en") -> tuple[list[IngestResult], str]:
    """Ingest uploads one file at a time into the visitor's own store; returns (results, report)."""
    if not files:
        return [], say(lang, "ingest.choose")
    try:
        kb = services.stores.get(session_id)
    except KnowledgeError as error:
        return [], f"- ❌ {escape(knowledge_error_text(error, lang))}"
    results: list[IngestResult] = []
    with services.metrics.track("ingest"):
        for index, path in enumerate(Path(f) for f in files):
            report = (lambda f, m, i=index, n=path.name: progress(i, len(files), n, f, m)) if progress else None
            results += kb.ingest([path], progress=report, names=[path.name])
    return results, "\n".join(f"- {ingest_line(r, lang)}" for r in results)


def failed_rows(earlier: Sequence[list], results: Sequence[IngestResult], lang: str = "en") -> list[list]:
    """The table rows of failed uploads: the earlier ones (a walkthrough's vanished after the next delete) unless a
    file of that name came again in this batch, then this batch's."""
    again = {r.file_name for r in results}
    return [list(row) for row in earlier if row[0] not in again] + [
        [r.file_name, 0, 0, 0, say(lang, "docs.error", error=error_text(r, lang).removeprefix(f"{r.file_name}: "))]
        for r in results if r.status == "error"]  # the name is in its own column


def documents_table(services: Services, session_id: str, failed: Sequence[list] = (),
                    lang: str = "en") -> list[list]:
    """The visitor's documents, then the uploads that failed (so no file disappears without a word)."""
    indexed = say(lang, "docs.indexed")
    documents = services.stores.view(session_id).documents()
    label = labels(documents)
    return [[label[d.doc_id], d.pages, d.ocr_pages, d.chunks, indexed] for d in documents] + [list(r) for r in failed]


def document_choices(services: Services, session_id: str) -> list[tuple[str, int]]:
    """(label, doc_id) pairs for the document pickers."""
    documents = services.stores.view(session_id).documents()
    label = labels(documents)
    return [(label[d.doc_id], d.doc_id) for d in documents]


def labels(documents: list[DocumentInfo]) -> dict[int, str]:
    """Each document's name as the table and pickers show it: a name two documents share (an edited file uploaded
    again) is numbered in the order they were added, "handbook.txt (2)", so the visitor can tell which to delete."""
    seen: dict[str, int] = {}
    named = {}
    for d in sorted(documents, key=lambda d: (d.added_at, d.doc_id)):
        seen[d.name] = seen.get(d.name, 0) + 1
        named[d.doc_id] = d.name if seen[d.name] == 1 else f"{d.name} ({seen[d.name]})"
    return named


def delete_document(services: Services, session_id: str, doc_id: int | str | None,
                    lang: str = "en", failed: Sequence[list] = ()) -> tuple[list[list], str]:
    """Delete one of the visitor's documents, named by id or file name (see `picked_document`); the failed uploads'
    rows stay."""
    kb = services.stores.view(session_id)
    documents = kb.documents()
    doc_id = picked_document(doc_id, {d.doc_id: d.name for d in documents})
    if doc_id is None:
        return documents_table(services, session_id, failed, lang), say(lang, "docs.pick")
    kb.delete(doc_id)
    services.forget_reports(session_id, doc_id)
    name = labels(documents)[doc_id]
    return documents_table(services, session_id, failed, lang), say(lang, "docs.deleted", name=escape(name))


def clear_documents(services: Services, session_id: str, lang: str = "en") -> tuple[list[list], str]:
    """Delete all the visitor's documents; the failed uploads' rows go too."""
    services.stores.view(session_id).clear()
    services.forget_reports(session_id)
    return documents_table(services, session_id, lang=lang), say(lang, "docs.cleared")


def confirm_clear_js() -> str:
    """Browser code for "Clear all": the visitor's answer to a confirm() in the page's language (gr.I18n's choice:
    the browser's first language) becomes the handler's input, so Cancel deletes nothing."""
    return f"() => {_confirm_call('docs.confirm_clear')}"


def confirm_delete_js() -> str:
    """Browser code for "Delete": the same, naming the picked document as the picker shows it."""
    return (f"(doc, ok, ...rest) => [doc, doc === null || doc === undefined || doc === '' ? true : "
            f"{_confirm_call('docs.confirm_delete', name=True)}, ...rest]")


def _confirm_call(key: str, name: bool = False) -> str:
    values = {"name": "{name}"} if name else {}  # filled in the browser with what the picker shows
    texts = json.dumps({lang: say(lang, key, **values) for lang in ("en", "zh")}, ensure_ascii=False)
    shown = ".replace('{name}', document.querySelector('#knowledge-pick input')?.value || '')" if name else ""
    return (f"(() => {{ const t = {texts}; const zh = (navigator.language || '').toLowerCase().startsWith('zh'); "
            f"return confirm((zh ? t.zh : t.en){shown}); }})()")


def library_markdown(services: Services, lang: str = "en") -> str:
    if services.library is None:
        return ""
    docs = services.library.documents()
    names = ", ".join(escape(d.name) for d in docs[:20]) + (" …" if len(docs) > 20 else "")
    return say(lang, "docs.library", documents=counted(lang, len(docs), "document"), names=names)


# ---------------------------------------------------------------- UI


@dataclass
class KnowledgeTab:
    """What other tabs wire to: the indexing event, the picker, the events that change the documents."""

    tab: gr.Tab
    table: gr.Dataframe
    indexing: gr.events.Dependency
    picker: gr.Dropdown
    changed: list[gr.events.Dependency]
    removed: list[gr.events.Dependency]  # delete and clear all: a review shown of what was removed must go
    failed: gr.State  # the table rows of the visitor's failed uploads (shown below their documents)


def gradio_progress(progress: gr.Progress) -> FileProgress:
    """Two bars: files done, and the current file's own progress."""
    def report(index: int, total: int, name: str, fraction: float, message: str) -> None:
        progress((index + fraction, total), desc=message, unit="files")  # the message names the file
    return report


def build_knowledge(services: Services, locked: list[gr.components.Component] = ()) -> KnowledgeTab:
    """The tab; `locked` components (the chat input) are disabled from the upload click until indexing ends."""
    with gr.Tab(t("tab.knowledge"), id="knowledge") as tab:
        gr.Markdown(t("knowledge.intro"))
        if services.library is not None:
            gr.Markdown(library_markdown(services))
        upload = gr.File(label=t("knowledge.upload"), file_count="multiple", type="filepath", elem_id="upload")
        ingest_button = gr.Button(t("knowledge.add"), variant="primary", elem_id="ingest")
        report = gr.Markdown(elem_id="ingest-report")
        # Wrapped cells and fixed shares: a long file name wraps instead of pushing the other columns away.
        table = gr.Dataframe(headers=columns("en", "documents"), value=[], label=t("knowledge.table"),
                             interactive=False, wrap=True, elem_id="documents",
                             column_widths=["36%", "9%", "11%", "9%", "35%"])
        with gr.Row():
            picker = gr.Dropdown(label=t("knowledge.pick"), choices=[], scale=3, elem_id="knowledge-pick",
                                 allow_custom_value=True)  # API clients may name a document by id or file name
            delete = gr.Button(t("knowledge.delete"), variant="stop", scale=1, elem_id="delete-document")
            clear = gr.Button(t("knowledge.clear"), variant="stop", scale=1, elem_id="clear-all")
        confirmed = gr.Checkbox(True, visible=False)  # set by the browser's confirm() before Delete or Clear all runs
        failed = gr.State([])  # the table rows of this visitor's failed uploads

    def on_ingest(files, earlier, request: gr.Request, progress=gr.Progress()):
        lang = request_language(request)
        rows, report, kept = ingest_files(services, request.session_hash, files, gradio_progress(progress), lang,
                                          earlier or [])
        return table_frame(rows, lang, "documents"), report, kept

    def on_delete(doc_id, confirm: bool, earlier, request: gr.Request):
        if not confirm:  # the visitor cancelled the browser's confirmation
            return gr.skip(), gr.skip()
        lang = request_language(request)
        rows, message = delete_document(services, request.session_hash, doc_id, lang, earlier or [])
        return table_frame(rows, lang, "documents"), message

    def on_clear(confirm: bool, request: gr.Request):
        if not confirm:  # the visitor cancelled the browser's confirmation
            return gr.skip(), gr.skip(), gr.skip()
        lang = request_language(request)
        rows, message = clear_documents(services, request.session_hash, lang)
        return table_frame(rows, lang, "documents"), message, []

    def refresh_picker(current, request: gr.Request):  # a pick that still exists stays (e.g. a cancelled delete)
        choices = document_choices(services, request.session_hash)
        return gr.Dropdown(choices=choices, value=current if current in {doc_id for _, doc_id in choices} else None)

    def interactive(enabled: bool):
        return lambda: [type(c)(interactive=enabled) for c in locked]

    # One chain, so the unlock can never overtake the lock. The upload box is locked too, then emptied once its
    # files are in (their report lines stay): the next "Add" sends only new files, never deleted ones again.
    locked = [*locked, upload]
    lock = ingest_button.click(interactive(False), None, locked, queue=False, api_visibility="private")
    indexing = lock.then(on_ingest, [upload, failed], [table, report, failed], api_name="ingest", concurrency_id="ingest",
                         concurrency_limit=services.settings.ingest_concurrency)
    indexing.success(lambda: None, None, upload, queue=False, api_visibility="private")
    indexing.then(interactive(True), None, locked, queue=False, api_visibility="private")
    deleted = delete.click(on_delete, [picker, confirmed, failed], [table, report], js=confirm_delete_js(),
                           api_name="delete_document")
    cleared = clear.click(on_clear, [confirmed], [table, report, failed], js=confirm_clear_js(),
                          api_name="clear_documents")
    changed = [indexing, deleted, cleared]
    for dependency in changed:
        dependency.then(refresh_picker, picker, picker, api_visibility="private")
    return KnowledgeTab(tab, table, indexing, picker, changed, removed=[deleted, cleared], failed=failed)
