"""What every tab's handlers share: per-session stores, the engines, the optional library, metrics, stop switches."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from assistant.runtime import Runtime
from assistant.sandbox import SandboxLimits
from assistant.tasks.similar import ClauseFinder
from assistant.tasks.summary import WholeDocument, documents_of
from knowledge.kb import KnowledgeBase
from knowledge.retrieval import Ranking, reciprocal_rank_fusion
from knowledge.sessions import EXPORTS_DIR, PRIVATE_DIR, NoDocuments, SessionKnowledgeBases, session_key
from knowledge.types import SearchResult
from ui.config import AppSettings
from ui.metrics import Metrics

log = logging.getLogger(__name__)


class StopSwitches:
    """One threading.Event per running (session, task): Stop sets it, the next request gets a fresh one.

    A request that may wait in the queue is armed when it is submitted (`arm`), so a Stop pressed while it
    waits reaches it too; `start` then hands it that event instead of a fresh one. A request holds its event
    through `running`, which lets go of it when the request ends; `prune` drops armed events whose request
    never started (a closed tab), so nothing is kept per visitor once they are gone.
    """

    def __init__(self) -> None:
        self._running: dict[tuple[str, str], threading.Event] = {}
        self._armed: dict[tuple[str, str], tuple[threading.Event, float]] = {}
        self._lock = threading.Lock()

    def arm(self, session_id: str, task: str) -> None:
        """A request of this task was just submitted: from now on Stop reaches it, even while it waits."""
        with self._lock:
            self._armed[(session_id, task)] = (threading.Event(), time.monotonic())

    def start(self, session_id: str, task: str) -> threading.Event:
        """The starting request's event: the one armed at its submission (Stop may have set it), else a fresh one."""
        key = (session_id, task)
        with self._lock:
            armed = self._armed.pop(key, None)
            self._running[key] = event = armed[0] if armed else threading.Event()
        return event

    @contextmanager
    def running(self, session_id: str, task: str) -> Iterator[threading.Event]:
        """`start`, and forget the event when the request ends (finished, failed or abandoned by its client)."""
        event = self.start(session_id, task)
        try:
            yield event
        finally:
            with self._lock:
                if self._running.get((session_id, task)) is event:
                    del self._running[(session_id, task)]

    def stop(self, session_id: str, task: str | None = None) -> None:
        with self._lock:
            events = [*self._running.items(), *((key, event) for key, (event, _) in self._armed.items())]
            for (sid, name), event in events:
                if sid == session_id and task in (None, name):
                    event.set()

    def forget(self, session_id: str) -> None:
        self.stop(session_id)
        with self._lock:
            for events in (self._running, self._armed):
                for key in [k for k in events if k[0] == session_id]:
                    del events[key]

    def prune(self, older_than_s: float) -> int:
        """Drop armed events whose request has not started for `older_than_s` seconds; returns how many."""
        cutoff = time.monotonic() - older_than_s
        with self._lock:
            stale = [key for key, (_, armed_at) in self._armed.items() if armed_at < cutoff]
            for key in stale:
                del self._armed[key]
        return len(stale)

    def __len__(self) -> int:
        with self._lock:
            return len(self._running) + len(self._armed)


def picked_document(value: int | str | None, documents: dict[int, str]) -> int | None:
    """The document a picker's value names: its id (a number, also as text) or its file name; None if none.

    The pickers accept values that are not among their choices, so an API client can name a document it has
    not had listed first (Gradio would refuse them otherwise); anything else is not one of the visitor's.
    """
    if isinstance(value, str):
        value = value.strip()
        by_name = [doc_id for doc_id, name in documents.items() if name == value]
        if by_name:
            return by_name[0]
        value = int(value) if value.isdecimal() and value.isascii() else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value in documents else None


class SessionRetriever:
    """The visitor's own documents plus the read-only shared library, merged by reciprocal rank.

    Each list is already ranked (dense + keyword fused); comparing raw dense scores across them would drop a
    passage that only keyword search found (no dense score) behind any library hit.
    """

    def __init__(self, own: KnowledgeBase | NoDocuments, library: KnowledgeBase | None):
        self._own, self._library = own, library

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        results = self._own.search(query, k)
        if self._library is None or not len(self._library):
            return results
        merged = results + self._library.search(query, k)
        rankings = [Ranking(list(range(len(results))), []), Ranking(list(range(len(results), len(merged))), [])]
        return [merged[i] for i, _ in reciprocal_rank_fusion(rankings)][:k]  # a tie: the visitor's own first

    def whole_documents(self) -> list[WholeDocument]:
        """The visitor's documents and the shared library's, for summaries of whole documents."""
        return documents_of(self._own) + (documents_of(self._library, shared=True) if self._library is not None else [])


@dataclass
class Services:
    """Built once in app.main (or by a test) and passed to every `build_<tab>`."""

    settings: AppSettings
    stores: SessionKnowledgeBases
    runtime: Runtime
    embedder_name: str = ""
    library: KnowledgeBase | None = None
    metrics: Metrics = field(default_factory=Metrics)
    stops: StopSwitches = field(default_factory=StopSwitches)
    exports_root: Path | None = None
    max_file_mb: float = 100.0
    # contract review's search for what no rule matched, the first that handles a contract's language (none: rules only)
    clause_finders: tuple[ClauseFinder, ...] = ()
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)  # the Code tab's runs
    embedder_multilingual: bool = True  # False: Chinese is searched by its words only (the status line says so)

    def retriever(self, session_id: str) -> SessionRetriever:
        return SessionRetriever(self.stores.view(session_id), self.library)

    def exports_dir(self, session_id: str) -> Path:
        """A private folder for this session's downloadable reports (removed with the session)."""
        directory = self._exports_of(session_id)
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.utime(directory)  # used now: the reports inside may be re-written deeper down, which leaves this mtime
        return directory

    def forget_reports(self, session_id: str, doc_id: int | None = None) -> None:
        """Remove the review reports of one deleted document (None: of all): what was deleted leaves no copies."""
        directory = self._exports_of(session_id)
        for folder in [directory / f"doc-{doc_id}"] if doc_id is not None else directory.glob("doc-*"):
            shutil.rmtree(folder, ignore_errors=True)

    def end_session(self, session_id: str) -> None:
        """The visitor left: stop their generations, delete their documents, vectors and exports."""
        self.stops.forget(session_id)
        self.stores.drop(session_id)
        shutil.rmtree(self._exports_of(session_id), ignore_errors=True)

    def expire(self) -> int:
        """Drop idle sessions' stores and stale exports (run periodically)."""
        dropped = self.stores.expire()
        self.stops.prune(self.settings.session_ttl_s)
        cutoff, active = time.time() - self.settings.session_ttl_s, self.stores.active_keys()
        for directory in self.exports_folder().iterdir():
            try:
                stale = directory.name not in active and directory.stat().st_mtime < cutoff
            except OSError:  # end_session removed it between the listing and now
                continue
            if stale:
                shutil.rmtree(directory, ignore_errors=True)
        return dropped

    def _exports_of(self, session_id: str) -> Path:
        return self.exports_folder() / session_key(session_id)

    def exports_folder(self) -> Path:
        """Where every session's exports folder lives (absolute: Gradio serves downloads from it)."""
        root = (self.exports_root or self.stores.root / EXPORTS_DIR).resolve()
        root.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        return root
