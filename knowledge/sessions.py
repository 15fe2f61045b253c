"""One private knowledge base per visitor session, in its own directory, removed on leave or after a TTL."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

from knowledge.config import KnowledgeSettings
from knowledge.embeddings import Embedder
from knowledge.errors import StoreError
from knowledge.kb import KnowledgeBase
from knowledge.lock import DirectoryLock

log = logging.getLogger(__name__)

EXPORTS_DIR = "_exports"  # the default home of the sessions' report downloads, one folder per session key
_KEY = re.compile(r"[0-9a-f]{24}")
PRIVATE_DIR = 0o700  # owner only: visitors' documents are not for other uids on the machine


class SessionKnowledgeBases:
    """Maps a session id to its own KnowledgeBase; the embedder (the heavy part) is shared.

    Session ids are hashed into directory names, so no id can point outside the root. The root and every
    session's directory are private to the app's user (0o700): other uids on the machine, the code sandbox's
    per-run uid among them, cannot list or read a visitor's store.
    """

    def __init__(self, settings: KnowledgeSettings, embedder: Embedder, root: Path | None = None,
                 ttl_s: float = 2 * 3600, max_stores: int = 500):
        self._settings = settings
        self._embedder = embedder
        self.root = Path(root or tempfile.mkdtemp(prefix="dka-sessions-"))
        self.root.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)  # an existing root keeps its mode
        self._remove_stale()
        self._ttl_s = ttl_s
        self._max_stores = max_stores
        self._bases: dict[str, tuple[KnowledgeBase, float]] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str) -> KnowledgeBase:
        """The session's knowledge base, created on first use: call it to store something.

        Raises:
            StoreError: "too_many_sessions" when `max_stores` sessions already have a store (each holds open
                files; API clients choose their own session ids and never leave).
        """
        with self._lock:
            if session_id not in self._bases and len(self._bases) >= self._max_stores:
                log.warning("session_store_refused stores=%d limit=%d", len(self._bases), self._max_stores)
                raise StoreError("too_many_sessions", limit=self._max_stores)
            base = self._bases[session_id][0] if session_id in self._bases else self._create(session_id)
            self._bases[session_id] = (base, time.monotonic())
            return base

    def view(self, session_id: str) -> KnowledgeBase | NoDocuments:
        """The session's knowledge base to read from, or an empty one: reading creates nothing on disk."""
        with self._lock:
            if session_id not in self._bases:
                return NoDocuments()
            base = self._bases[session_id][0]
            self._bases[session_id] = (base, time.monotonic())
            return base

    def drop(self, session_id: str) -> None:
        """Close and delete a session's store (on tab close or expiry)."""
        with self._lock:
            entry = self._bases.pop(session_id, None)
        if entry:
            entry[0].close()
        shutil.rmtree(self._directory(session_id), ignore_errors=True)
        log.info("session_store_dropped session=%s", session_key(session_id))

    def expire(self) -> int:
        """Drop sessions idle for longer than the TTL; returns how many."""
        cutoff = time.monotonic() - self._ttl_s
        with self._lock:
            stale = [sid for sid, (_, used) in self._bases.items() if used < cutoff]
        for session_id in stale:
            self.drop(session_id)
        return len(stale)

    def __len__(self) -> int:
        return len(self._bases)

    def close_all(self) -> None:
        for session_id in list(self._bases):
            self.drop(session_id)

    def _remove_stale(self) -> None:
        """Delete stores left by a previous process (a crash or SIGKILL): their sessions can never return."""
        # Only directories named like our own session keys: the root may be a shared, operator-chosen folder.
        for stale in (p for p in self.root.iterdir() if p.is_dir() and _KEY.fullmatch(p.name)):
            if _in_use(stale):  # another app process shares this root: its visitors' stores stay
                continue
            shutil.rmtree(stale, ignore_errors=True)
            log.warning("stale_session_store_removed path=%s", stale)
        exports = self.root / EXPORTS_DIR
        for stale in (p for p in exports.iterdir() if p.is_dir() and _KEY.fullmatch(p.name)) if exports.is_dir() else ():
            if not _in_use(self.root / stale.name):  # reports of a session whose store is gone or unheld
                shutil.rmtree(stale, ignore_errors=True)

    def active_keys(self) -> set[str]:
        """The directory names (session keys) of the sessions holding a store now."""
        with self._lock:
            return {session_key(session_id) for session_id in self._bases}

    def _create(self, session_id: str) -> KnowledgeBase:
        directory = self._directory(session_id)
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        directory.chmod(PRIVATE_DIR)  # mkdir's mode is masked by the umask, and skipped if the folder exists
        settings = self._settings.model_copy(update={"data_dir": directory})
        return KnowledgeBase(settings, self._embedder)

    def _directory(self, session_id: str) -> Path:
        return self.root / session_key(session_id)


class NoDocuments:
    """What a session that has stored nothing reads: no documents, no chunks, no results."""

    def documents(self) -> list:
        return []

    def chunks(self, doc_id: int) -> list:
        return []

    def search(self, query: str, k: int = 5) -> list:
        return []

    def delete(self, doc_id: int) -> bool:
        return False

    def clear(self) -> None:
        return None

    def __len__(self) -> int:
        return 0


def session_key(session_id: str) -> str:
    """A fixed-length hex name for a session id: safe as a directory name, reveals nothing of the id."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _in_use(directory: Path) -> bool:
    """Whether a live process holds the store's writer lock (a dead one's lock went with it)."""
    lock = DirectoryLock(directory)
    try:
        lock.acquire()
    except StoreError:
        return True
    lock.release()
    return False
