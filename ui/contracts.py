"""Contract review tab: findings stream into a table; the report downloads as Markdown and JSON."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import gradio as gr

from assistant.tasks.clauses import display_name
from assistant.tasks.contracts import Finding, ReviewReport, finding_order, found_word, review_contract
from assistant.tasks.events import Explaining, Progress
from knowledge.errors import KnowledgeError
from knowledge.sessions import PRIVATE_DIR
from ui.i18n import t
from ui.messages import columns, counted, error_text, knowledge_error_text, request_language, say
from ui.render import escape, finding_row, table_frame
from ui.services import Services, picked_document


@dataclass
class ReviewView:
    """What the tab shows at one moment of a review."""

    rows: list[list] = field(default_factory=list)
    status: str = ""
    markdown_path: str | None = None
    json_path: str | None = None


# ---------------------------------------------------------------- handlers (plain functions, tested directly)


def review_stream(services: Services, session_id: str, upload: str | None, doc_id: int | str | None,
                  explain: bool = True, cancel: threading.Event | None = None,
                  lang: str = "en") -> Iterator[ReviewView]:
    """Review an uploaded file (ingested into the session first) or one of the session's documents.

    An upload joins the visitor's documents: the final status says so (or that the copy already there was reviewed).
    """
    origin = None
    if upload:
        try:
            result = services.stores.get(session_id).ingest([Path(upload)], names=[Path(upload).name])[0]
        except KnowledgeError as error:
            yield ReviewView(status=f"❌ {escape(knowledge_error_text(error, lang))}")
            return
        if result.status == "error":
            yield ReviewView(status=f"❌ {escape(error_text(result, lang))}")
            return
        doc_id, origin = result.doc_id, "review.stored" if result.status == "duplicate" else "review.added"
    documents = {d.doc_id: d.name for d in services.stores.view(session_id).documents()}
    doc_id = picked_document(doc_id, documents)
    if doc_id is None:
        yield ReviewView(status=say(lang, "review.pick"))
        return
    note = say(lang, origin, name=escape(documents[doc_id])) if origin else ""
    yield from _review(services, session_id, doc_id, documents[doc_id], explain, cancel, lang, note)


def _review(services: Services, session_id: str, doc_id: int, name: str, explain: bool,
            cancel: threading.Event | None, lang: str, note: str = "") -> Iterator[ReviewView]:
    chunks = services.stores.view(session_id).chunks(doc_id)
    view, findings = ReviewView(status=say(lang, "review.reviewing", name=escape(name))), {}
    engine = services.runtime.chat if explain else None
    with services.metrics.track("review"):
        for event in review_contract(chunks, engine, cancel, finders=services.clause_finders):
            match event:
                case Progress(done=done, total=total):
                    view.status = say(lang, "review.scanning", name=escape(name), done=done, total=total)
                case Explaining(category=category, number=number, total=total):
                    view.status = say(lang, "review.explaining", category=escape(display_name(category, lang)),
                                      number=number, total=total)
                case Finding():
                    findings[event.category] = event  # a re-emitted category replaces its row
                case ReviewReport():
                    view.markdown_path, view.json_path = write_report(services, session_id, event, doc_id)
                    view.status = report_summary(event, stopped=bool(cancel and cancel.is_set()), lang=lang) + note
            # the report's order: high risk on top, where the eye starts (not 11th of 22 in a scrolled table)
            view.rows = [finding_row(f, lang) for f in sorted(findings.values(), key=finding_order)]
            yield replace(view)


def write_report(services: Services, session_id: str, report: ReviewReport, doc_id: int) -> tuple[str, str]:
    """The report as `<document>-review.md` and `.json` in the session's private exports folder.

    One folder per document: "lease v1.pdf" and "lease_v1.docx" make the same file name, not the same file.
    """
    stem = re.sub(r"[^\w.-]+", "_", Path(report.document).stem)[:60] or "contract"
    directory = services.exports_dir(session_id) / f"doc-{doc_id}"
    directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    markdown, data = directory / f"{stem}-review.md", directory / f"{stem}-review.json"
    markdown.write_text(report.to_markdown(), encoding="utf-8")
    data.write_text(report.to_json(), encoding="utf-8")
    return str(markdown), str(data)


def report_summary(report: ReviewReport, stopped: bool = False, lang: str = "en") -> str:
    found = sum(1 for f in report.findings if f.found)
    possible = sum(1 for f in report.findings if f.possible)
    risky = sum(1 for f in report.findings if f.risk == "high")
    missing = sum(1 for f in report.findings if found_word(f) == "missing")
    head = say(lang, "review.stopped" if stopped else "review.done")
    possibly = say(lang, "review.possible", count=possible) if possible else ""
    summary = say(lang, "review.summary", head=head, document=escape(report.document), found=found,
                  possible=possibly, total=len(report.findings), risky=counted(lang, risky, "risky"),
                  missing=counted(lang, missing, "missing"))
    return summary + (say(lang, "review.rules_only") if report.rules_only else "")


# ---------------------------------------------------------------- UI


@dataclass
class ContractsTab:
    picker: gr.Dropdown
    tab: gr.Tab
    table: gr.Dataframe
    view: list[gr.components.Component]  # table, status, downloads: what `empty_review` resets


def build_contracts(services: Services) -> ContractsTab:
    with gr.Tab(t("tab.contracts"), id="contracts") as tab:
        gr.Markdown(t("contracts.intro"))
        with gr.Row():
            upload = gr.File(label=t("contracts.upload"), file_count="single", type="filepath", scale=2,
                             elem_id="contract-upload")
            with gr.Column(scale=2):
                picker = gr.Dropdown(label=t("contracts.pick"), choices=[], elem_id="contract-pick",
                                     allow_custom_value=True)  # API clients may name a document by id or file name
                explain = gr.Checkbox(services.settings.explain_findings, label=t("contracts.explain"),
                                      elem_id="contract-explain")
                with gr.Row():
                    review = gr.Button(t("contracts.review"), variant="primary", elem_id="review")
                    stop = gr.Button(t("chat.stop"), variant="stop")
        status = gr.Markdown(elem_id="review-status")
        table = gr.Dataframe(headers=columns("en", "findings"), value=[], label=t("contracts.findings"),
                             interactive=False, wrap=True, max_height=640, elem_id="findings",
                             column_widths=["15%", "7%", "9%", "6%", "42%", "21%"])
        with gr.Row():
            markdown_file = gr.DownloadButton(t("contracts.download_md"), elem_id="download-md", interactive=False)
            json_file = gr.DownloadButton(t("contracts.download_json"), elem_id="download-json", interactive=False)

    def on_review(file, doc_id, explain_on, request: gr.Request):
        lang = request_language(request)
        with services.stops.running(request.session_hash, "review") as cancel:
            for view in review_stream(services, request.session_hash, file, doc_id, explain_on, cancel, lang):
                yield (table_frame(view.rows, lang, "findings"), view.status, download(view.markdown_path),
                       download(view.json_path))

    def on_stop(request: gr.Request):
        services.stops.stop(request.session_hash, "review")

    def arm(request: gr.Request):  # from the click on, Stop reaches the review, also while it waits in the queue
        services.stops.arm(request.session_hash, "review")
        lang = request_language(request)  # and the last review's findings and status leave the page
        return empty_review(lang, say(lang, "review.queued"))

    view = [table, status, markdown_file, json_file]
    armed = review.click(arm, None, view, queue=False, api_visibility="private")
    armed.then(on_review, [upload, picker, explain], view, api_name="review",
               concurrency_id="model", concurrency_limit=services.settings.model_concurrency)
    stop.click(on_stop, None, None, queue=False, api_name="stop_review")
    one_document_at_a_time(upload, picker)
    return ContractsTab(picker, tab, table, view)


def empty_review(lang: str = "en", status: str = "") -> tuple:
    """The review tab with no review: header-only table, the status given, downloads off (a new review starting,
    or the reviewed document removed)."""
    return table_frame([], lang, "findings"), status, download(None), download(None)


def download(path: str | None) -> gr.DownloadButton:
    """A report's download button: pressable only while there is a report (a failed review has none)."""
    return gr.DownloadButton(value=path, interactive=path is not None)


def one_document_at_a_time(upload: gr.File, picker: gr.Dropdown) -> None:
    """Choosing in the picker empties the upload box, and uploading empties the picker: review takes what shows.

    (An upload wins over the picker, so a file left in the box would be reviewed again whatever was picked.)
    """
    picker.select(lambda: None, None, upload, queue=False, api_visibility="private")
    upload.upload(lambda: None, None, picker, queue=False, api_visibility="private")
