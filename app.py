"""DeepSeek Knowledge Assistant: the composition root. Builds settings, stores and models once, then the page."""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

import gradio as gr

from assistant.config import AssistantSettings
from assistant.runtime import load_runtime
from assistant.sandbox import SandboxLimits
from assistant.tasks.classifier import ClauseClassifier, load_other_sentences
from assistant.tasks.similar import ClauseFinder, SimilarClauses, load_examples
from knowledge.config import KnowledgeSettings
from knowledge.kb import KnowledgeBase
from knowledge.loading import SUPPORTED_SUFFIXES
from knowledge.sessions import SessionKnowledgeBases
from ui.chat import ChatTab, build_chat, chat_inputs, example_visibility
from ui.code import build_code
from ui.config import AppSettings
from ui.contracts import ContractsTab, build_contracts, empty_review
from ui.i18n import I18N, t
from ui.knowledge import KnowledgeTab, build_knowledge, document_choices, documents_table
from ui.messages import request_language
from ui.metrics import Metrics, build_metrics
from ui.page import first_scripts
from ui.render import status_markdown, table_frame
from ui.services import Services

log = logging.getLogger("app")

ASSETS = Path(__file__).resolve().parent / "assets"


# ---------------------------------------------------------------- composition


def build_services(settings: AppSettings, knowledge: KnowledgeSettings, assistant: AssistantSettings) -> Services:
    """Load the embedder and the models once; every session shares them (and nothing else)."""
    from knowledge.embeddings import load_embedder  # sentence-transformers loads here, not at import

    embedder = load_embedder(knowledge)
    stores = SessionKnowledgeBases(knowledge, embedder, root=settings.sessions_dir, ttl_s=settings.session_ttl_s,
                                   max_stores=settings.max_sessions)
    runtime = load_runtime(assistant)
    library = load_library(settings, knowledge, embedder)
    metrics = Metrics(active_generations=lambda: getattr(runtime.chat, "active_requests", 0))
    return Services(settings, stores, runtime, embedder.name, library, metrics, max_file_mb=knowledge.max_file_mb,
                    clause_finders=load_clause_finders(assistant, embedder),
                    sandbox=SandboxLimits(isolation=assistant.sandbox_isolation),
                    embedder_multilingual=embedder.multilingual)


def load_clause_finders(assistant: AssistantSettings, embedder) -> tuple[ClauseFinder, ...]:
    """Contract review's search for what no rule matched: the classifier (English), then likeness (the rest).

    With warm-up on, the classifier is trained and the examples embedded in the background now.
    """
    if not assistant.clause_likeness:
        return ()
    examples = load_examples()
    similar = SimilarClauses(embedder, examples, threshold=assistant.clause_likeness_threshold)
    finders: tuple[ClauseFinder, ...] = (similar,)
    if assistant.clause_search == "classifier":
        finders = (ClauseClassifier(examples, load_other_sentences(), assistant.clause_classifier_threshold), similar)
    if assistant.warmup:  # a first review waits for these threads (locks), not for a second training
        for finder in finders:
            threading.Thread(target=finder.prepare, name=f"clause-{finder.basis}", daemon=True).start()
    return finders


def load_library(settings: AppSettings, knowledge: KnowledgeSettings, embedder) -> KnowledgeBase | None:
    """The operator's read-only shared library: the folder is ingested (new files only) at start-up."""
    if settings.library_dir is None:
        return None
    library = KnowledgeBase(knowledge.model_copy(update={"data_dir": settings.library_store}), embedder)
    files = sorted(p for p in Path(settings.library_dir).rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES)
    for result in library.ingest(files):
        log.info("library_ingest file=%r status=%s error=%r", result.file_name, result.status, result.error)
    return library


# ---------------------------------------------------------------- the page


def build_demo(services: Services) -> gr.Blocks:
    """The page: status line, metrics, and one tab per task, each wiring its own events."""
    ttl = int(services.settings.session_ttl_s)
    # delete_cache: Gradio's copies of uploads and downloads older than the session TTL go every 10 minutes.
    with gr.Blocks(title="DeepSeek Knowledge Assistant", delete_cache=(600, ttl), analytics_enabled=False) as demo:
        gr.Markdown(t("app.title"))
        status = gr.Markdown(status_markdown(services.runtime, services.embedder_name,
                                                 multilingual=services.embedder_multilingual), elem_id="status-line")
        build_metrics(services)
        chat = chat_inputs()
        with gr.Tabs(overflow_behavior="wrap"):  # on a phone every tab in sight, not two behind a ⋯ menu
            knowledge = build_knowledge(services, locked=[chat.question, chat.send])
            build_chat(services, chat)
            contracts = build_contracts(services)
            build_code(services)
        refresh_on_change(demo, services, knowledge, contracts)
        follow_language(demo, services, status, chat)

        def on_unload(request: gr.Request):
            services.end_session(request.session_hash)

        demo.unload(on_unload)
    services.metrics.queue_length = lambda: len(demo._queue)
    return demo


def refresh_on_change(demo: gr.Blocks, services: Services, knowledge: KnowledgeTab, contracts: ContractsTab) -> None:
    """Pickers and the table follow the session's documents, whichever tab changed them; headers its language."""
    def pickers(request: gr.Request):
        return gr.Dropdown(choices=document_choices(services, request.session_hash), value=None)

    def table_and_picker(failed, request: gr.Request):
        lang = request_language(request)
        rows = documents_table(services, request.session_hash, failed or [], lang)
        return table_frame(rows, lang, "documents"), pickers(request)

    def headers(request: gr.Request):
        """Table header rows in the visitor's language from the start (labels elsewhere translate in the page)."""
        lang = request_language(request)
        return table_frame([], lang, "documents"), table_frame([], lang, "findings")

    demo.load(headers, None, [knowledge.table, contracts.table], api_visibility="private", queue=False)
    for dependency in knowledge.changed:
        dependency.then(pickers, None, contracts.picker, api_visibility="private")
    contracts.tab.select(pickers, None, contracts.picker, api_visibility="private")
    def no_review(request: gr.Request):
        return empty_review(request_language(request))

    for dependency in knowledge.removed:  # its reports were deleted with it: no quotes or dead downloads remain
        dependency.then(no_review, None, contracts.view, api_visibility="private")
    # A contract uploaded in the review tab joined the documents: the delete picker must offer it too.
    knowledge.tab.select(table_and_picker, knowledge.failed, [knowledge.table, knowledge.picker],
                         api_visibility="private")


def follow_language(demo: gr.Blocks, services: Services, status: gr.Markdown, chat: ChatTab) -> None:
    """What the server writes into the page at start (status line, example questions) in the visitor's language."""
    def status_line(request: gr.Request):
        return status_markdown(services.runtime, services.embedder_name, request_language(request),
                               services.embedder_multilingual)

    def examples(request: gr.Request):
        shown = example_visibility(request_language(request))
        return [gr.Dataset(visible=shown[code]) for code in chat.examples]

    demo.load(status_line, None, status, api_visibility="private", queue=False)
    demo.load(examples, None, list(chat.examples.values()), api_visibility="private", queue=False)


def create_app(services: Services, demo: gr.Blocks):
    """FastAPI app: Prometheus text at /metrics, the Gradio page at /."""
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse

    app = FastAPI()
    app.middleware("http")(first_scripts)

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(services.metrics.exposition(), media_type="text/plain; version=0.0.4")

    demo.queue(default_concurrency_limit=services.settings.model_concurrency, max_size=services.settings.max_queue)
    # Gradio accepts only files a visitor uploaded (not any server path an API client names) once the Blocks
    # "has launched"; launch() sets that, mount_gradio_app does not, and without it /ingest read server files.
    demo.has_launched = True
    # Uploads over the knowledge base's own size limit are refused before they reach the disk. Reports are
    # written under the exports folder, which may lie outside the working and temp directories Gradio allows.
    return gr.mount_gradio_app(app, demo, path="", max_file_size=f"{int(services.max_file_mb)}mb", i18n=I18N,
                               css_paths=[ASSETS / "style.css"], footer_links=["api", "settings"],
                               allowed_paths=[str(services.exports_folder())])


def expire_sessions_forever(services: Services, stop: threading.Event) -> None:
    """Drop idle visitors' stores and exports (TTL) even if their tab never sent an unload."""
    interval = min(600.0, services.settings.session_ttl_s / 4)
    while not stop.wait(interval):
        try:
            dropped = services.expire()
        except Exception:  # one failed pass must not end expiry for the life of the process
            log.exception("sessions_expire_failed")
            continue
        if dropped:
            log.info("sessions_expired count=%d", dropped)


def offline_if_hub_unreachable(timeout_s: float = 3.0) -> bool:
    """With no route to the Hub (an air-gapped machine), load models from the local cache at once.

    Otherwise every model's first lookup retries for over a minute before the fallback. Returns
    whether offline mode was switched on here.
    """
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout_s).close()
        return False
    except OSError as exc:
        log.warning("hub_unreachable host=%s error=%r action=%r", host, str(exc),
                    "loading models from the local cache only (HF_HUB_OFFLINE=1)")
        os.environ["HF_HUB_OFFLINE"] = "1"
        constants.HF_HUB_OFFLINE = True  # huggingface_hub read the variable at import; its checks read this
        return True


def main() -> None:
    # Stores, exports and Gradio's copies of uploads are for this app's user alone: not other uids on the
    # machine (the code sandbox's run uid among them). Set here, not at import: tests and importers keep theirs.
    os.umask(0o077)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s %(message)s")
    import uvicorn

    offline_if_hub_unreachable()
    settings = AppSettings()
    services = build_services(settings, KnowledgeSettings(), AssistantSettings())
    demo = build_demo(services)
    app = create_app(services, demo)
    stop = threading.Event()
    threading.Thread(target=expire_sessions_forever, args=(services, stop), name="session-ttl", daemon=True).start()
    try:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    finally:
        stop.set()
        services.stores.close_all()
        services.runtime.close()


if __name__ == "__main__":
    main()
