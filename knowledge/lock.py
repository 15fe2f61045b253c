"""One writer per store directory: an advisory lock held while a KnowledgeBase is open.

Each KnowledgeBase keeps its FAISS index in memory, so two processes writing one directory (the app
twice, or the CLI beside the app on its library) would each miss the other's documents and race on
duplicates. The second one is refused with a clear message instead.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import IO

from knowledge.errors import StoreError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here, the store works as before
    fcntl = None

log = logging.getLogger(__name__)

LOCK_FILE = ".writer.lock"


class DirectoryLock:
    """An exclusive, non-blocking flock on DIRECTORY/.writer.lock; the holder's pid is written in it."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise StoreError("in_use") naming the process that holds it."""
        if fcntl is None:
            return
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open until release()
        except OSError as exc:  # a read-only store: nothing can be written to it, so there is nothing to guard
            log.info("store_lock_skipped path=%s error=%r", self.path, exc)
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            raise StoreError("in_use", directory=self.path.parent, owner=owner) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the flock
            self._handle = None
