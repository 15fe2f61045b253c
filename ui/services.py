"""What every tab's handlers share: per-session stores, the engines, the optional library, metrics, stop switches."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant.runtime import Runtime
from assistant.tasks.similar import ClauseFinder
from knowledge.kb import KnowledgeBase
from knowledge.sessions import SessionKnowledgeBases, session_key
from knowledge.types import SearchResult
from ui.config import AppSettings
from ui.metrics import Metrics

log = logging.getLogger(__name__)


class StopSwitches:
    """One threading.Event per (session, task): Stop sets it, the next request of that task gets a fresh one."""

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, session_id: str, task: str) -> threading.Event:
        with self._lock:
            self._events[(session_id, task)] = event = threading.Event()
        return event

    def stop(self, session_id: str, task: str | None = None) -> None:
        with self._lock:
            for (sid, name), event in self._events.items():
                if sid == session_id and task in (None, name):
                    event.set()

    def forget(self, session_id: str) -> None:
        self.stop(session_id)
        with self._lock:
            for key in [k for k in self._events if k[0] == session_id]:
                del self._events[key]


class SessionRetriever:
    """The visitor's own documents plus the read-only shared library, merged by dense similarity."""

    def __init__(self, own: KnowledgeBase, library: KnowledgeBase | None):
        self._own, self._library = own, library

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        results = self._own.search(query, k)
        if self._library is None or not len(self._library):
            return results
        merged = results + self._library.search(query, k)
        return sorted(merged, key=lambda r: r.dense_score or 0.0, reverse=True)[:k]


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

    def retriever(self, session_id: str) -> SessionRetriever:
        return SessionRetriever(self.stores.get(session_id), self.library)

    def exports_dir(self, session_id: str) -> Path:
        """A private folder for this session's downloadable reports (removed with the session)."""
        directory = self._exports_root() / session_key(session_id)
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def end_session(self, session_id: str) -> None:
        """The visitor left: stop their generations, delete their documents, vectors and exports."""
        self.stops.forget(session_id)
        self.stores.drop(session_id)
        shutil.rmtree(self._exports_root() / session_key(session_id), ignore_errors=True)

    def expire(self) -> int:
        """Drop idle sessions' stores and stale exports (run periodically)."""
        dropped = self.stores.expire()
        cutoff = time.time() - self.settings.session_ttl_s
        for directory in self._exports_root().iterdir():
            if directory.stat().st_mtime < cutoff:
                shutil.rmtree(directory, ignore_errors=True)
        return dropped

    def _exports_root(self) -> Path:
        root = self.exports_root or self.stores.root / "_exports"
        root.mkdir(parents=True, exist_ok=True)
        return root
