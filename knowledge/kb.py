"""KnowledgeBase: the facade the app and CLI use (ingest, search, list, delete) over one data directory."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from pathlib import Path
from typing import Callable

from knowledge import lexical
from knowledge.chunking import Chunker
from knowledge.config import KnowledgeSettings
from knowledge.embeddings import Embedder
from knowledge.errors import KnowledgeError, StoreError
from knowledge.loading import check_file, load_document
from knowledge.lock import DirectoryLock
from knowledge.metadata import MetadataStore
from knowledge.retrieval import HybridRetriever
from knowledge.types import Chunk, DocumentInfo, IngestResult, LoadedDocument, SearchResult
from knowledge.vectorstore import FaissStore

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
INDEX_PREFIX = "index-"


class KnowledgeBase:
    """Documents, chunks and vectors under one directory; safe to share between threads.

    SQLite is the source of truth (one transaction per document); the FAISS file is a cache named
    after the SQLite generation it matches, rebuilt from the stored vectors when it is missing or
    stale, so a crash at any point leaves a loadable store with only whole documents in it.
    """

    def __init__(self, settings: KnowledgeSettings, embedder: Embedder):
        self.settings = settings
        self.embedder = embedder
        self.directory = Path(settings.data_dir)
        _make_writable_dir(self.directory)
        self._lock = threading.RLock()
        self._writer = DirectoryLock(self.directory)
        self._writer.acquire()  # a second process on this directory is refused here, before anything is opened
        try:
            self._open()
        except BaseException:
            self._writer.release()
            raise
        self._chunker = Chunker(embedder.token_offsets, settings.chunk_tokens, settings.chunk_overlap)
        self._retriever = HybridRetriever(embedder, self._vectors, self._metadata, settings.retrieve_candidates,
                                          settings.rrf_k)

    def _open(self) -> None:
        settings = self.settings
        self._metadata = MetadataStore(self.directory / "kb.sqlite3")
        try:
            self._check_embedder()
            self._vectors = FaissStore(self.embedder.dim, settings.approx_index_threshold, settings.ivf_nprobe,
                                       settings.use_gpu)
            self._load_index()
        except BaseException:
            self._metadata.close()
            raise

    # --- queries ----------------------------------------------------------------------------------

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        """Hybrid search; results carry file name and page for citation."""
        with self._lock:
            return self._retriever.search(query, k)

    def documents(self) -> list[DocumentInfo]:
        return self._metadata.documents()

    def chunks(self, doc_id: int) -> list[Chunk]:
        """Every chunk of a document in order (contract review scans them all)."""
        return self._metadata.chunks_of(doc_id)

    def __len__(self) -> int:
        return len(self._vectors)

    # --- changes ----------------------------------------------------------------------------------

    def ingest(self, paths: list[Path], progress: Progress | None = None,
               names: list[str] | None = None) -> list[IngestResult]:
        """Ingest files one by one; a failing file is reported and the others go on.

        Args:
            paths: files on disk.
            progress: called with (fraction done, message).
            names: display names (e.g. the uploads' original names), parallel to paths.

        Returns:
            One IngestResult per path, in order.
        """
        names = names or [p.name for p in paths]
        results = []
        for i, (path, name) in enumerate(zip(paths, names)):
            _report(progress, i / max(len(paths), 1), f"{name}: reading")
            results.append(self.ingest_file(Path(path), name))
            _report(progress, (i + 1) / len(paths), _summary(results[-1]))
        self._persist_or_warn(results)
        return results

    def _persist_or_warn(self, results: list[IngestResult]) -> None:
        """The changes are committed in SQLite; a failed index write only costs a rebuild at next start (it is
        logged, and each successful result of an ingest gets a warning)."""
        try:
            self.persist()
        except StoreError as exc:
            log.warning("faiss_index_not_saved error=%r", str(exc))
            shown = _without_paths(exc, [self.directory])
            for result in results:
                if result.ok:
                    result.warnings.append(f"search index not saved ({shown}); it will be rebuilt on next start")

    def ingest_file(self, path: Path, name: str | None = None) -> IngestResult:
        """Ingest one file; never raises for a bad file (the error is in the result)."""
        name = name or path.name
        started = time.perf_counter()
        try:
            result = self._ingest(path, name)
        except Exception as exc:  # a loader bug must not lose the rest of the batch either
            result = self._failed(exc, path, name)
        result.seconds = time.perf_counter() - started
        log.info("ingested file=%r status=%s pages=%d ocr_pages=%d chunks=%d seconds=%.2f error=%r",
                 name, result.status, result.pages, result.ocr_pages, result.chunks, result.seconds, result.error)
        return result

    def _failed(self, exc: Exception, path: Path, name: str) -> IngestResult:
        """The error result users see: without server paths (the store's, the upload folder's); the log keeps them."""
        if not isinstance(exc, KnowledgeError):
            log.exception("ingest_failed file=%r", name)
            exc = KnowledgeError("unexpected", name=name, detail=repr(exc))
        shown = _without_paths(exc, [self.directory, path.parent])
        if str(shown) != str(exc):
            log.warning("ingest_failed file=%r error=%r", name, str(exc))
        return IngestResult(file_name=name, status="error", error=str(shown), error_code=shown.code,
                            error_values=shown.values)

    def delete(self, doc_id: int) -> bool:
        """Remove a document's rows and vectors; returns whether it existed."""
        with self._lock:
            ids = self._metadata.delete_document(doc_id)
            if ids is None:
                return False
            self._vectors.delete(ids)
            self._persist_or_warn([])  # the document is gone (SQLite); a stale index file is rebuilt at next start
            return True

    def clear(self) -> None:
        for doc in self.documents():
            self.delete(doc.doc_id)

    def persist(self) -> None:
        """Write the FAISS index for the current generation, then drop stale index files."""
        with self._lock:
            generation = self._metadata.generation
            target = self.directory / f"{INDEX_PREFIX}{generation}.faiss"
            try:
                if not target.exists():
                    self._vectors.save(target)
                for stale in self.directory.glob(f"{INDEX_PREFIX}*.faiss*"):
                    if stale != target:
                        stale.unlink(missing_ok=True)
            except (OSError, RuntimeError) as exc:  # faiss reports write failures as RuntimeError
                raise StoreError("index_unsaved", directory=self.directory, detail=_reason(exc)) from exc

    def close(self) -> None:
        """Close the store; waits for a write in progress (an ingest's commit, a delete) to finish first."""
        with self._lock:
            self._metadata.close()
            self._writer.release()

    # --- internals --------------------------------------------------------------------------------

    def _ingest(self, path: Path, name: str) -> IngestResult:
        check_file(path, self.settings, name)  # before hashing: a 3 GB .iso is refused without reading it
        data_hash, size = _hash_file(path)
        existing = self._metadata.find_by_hash(data_hash)
        if existing:
            return _duplicate(name, existing)
        document = load_document(path, self.settings, name)
        spans = self._chunker.split_pages(document.pages)
        warnings = [f"page {p.number}: {p.error}" for p in document.pages if p.error]
        if not spans:
            raise KnowledgeError("no_text", name=name, pages=len(document.pages),
                                 problems=f" ({'; '.join(warnings)})" if warnings else "")
        vectors = self.embedder.embed_batch([s.text for s in spans])
        stored = self._store(document, spans, vectors, data_hash, size)
        if isinstance(stored, DocumentInfo):
            return _duplicate(name, stored)
        return IngestResult(file_name=name, status="indexed", pages=len(document.pages),
                            ocr_pages=document.ocr_pages, chunks=len(spans), doc_id=stored, warnings=warnings)

    def _store(self, document: LoadedDocument, spans, vectors, data_hash: str, size: int) -> int | DocumentInfo:
        """Add the document and return its id; or return the stored document with the same content.

        The check in _ingest runs before loading, so an identical file ingested at the same time (a double
        click, two tabs of one session) may have been stored since: checked again here, under the lock
        that serialises the inserts, it is a duplicate instead of a UNIQUE constraint error.
        """
        doc = {"name": document.name, "content_hash": data_hash, "pages": len(document.pages),
               "ocr_pages": document.ocr_pages, "size_bytes": size}
        pages = [(p.number, int(p.ocr), len(p.text), p.error) for p in document.pages]
        chunks = [(s.ordinal, s.page, s.start_char, s.end_char, s.text) for s in spans]
        terms = [" ".join(lexical.terms(s.text)) for s in spans]
        with self._lock:
            existing = self._metadata.find_by_hash(data_hash)
            if existing:
                return existing
            doc_id, ids = self._metadata.add_document(doc, pages, chunks, vectors, terms)
            self._vectors.add(ids, vectors)
        return doc_id

    def _check_embedder(self) -> None:
        stored = self._metadata.get_meta("embedder")
        current = f"{self.embedder.name}|{self.embedder.dim}"
        if stored is None:
            self._metadata.set_meta("embedder", current)
        elif stored != current:
            raise StoreError("other_embedder", directory=self.directory, stored=repr(stored.split("|")[0]),
                             model=repr(self.embedder.name))

    def _load_index(self) -> None:
        path = self.directory / f"{INDEX_PREFIX}{self._metadata.generation}.faiss"
        if path.exists():
            try:
                self._vectors.load(path)
                if len(self._vectors) == self._metadata.chunk_count():
                    return
            except Exception as exc:
                log.warning("faiss_index_unreadable path=%s error=%r", path, exc)
        self._rebuild_index()

    def _rebuild_index(self) -> None:
        """Rebuild FAISS from the vectors in SQLite (after a crash between commit and index write)."""
        self._vectors = FaissStore(self.embedder.dim, self.settings.approx_index_threshold,
                                   self.settings.ivf_nprobe, self.settings.use_gpu)
        for ids, vectors in self._metadata.iter_vectors(self.embedder.dim):
            self._vectors.add(ids, vectors)
        log.info("faiss_index_rebuilt_from_sqlite vectors=%d", len(self._vectors))
        if len(self._vectors):
            self.persist()
            return
        for stale in self.directory.glob(f"{INDEX_PREFIX}*.faiss*"):  # it holds deleted documents' vectors
            with contextlib.suppress(OSError):  # a read-only store keeps it; it is rebuilt again at each open
                stale.unlink()


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        raise KnowledgeError("unreadable", name=path.name, detail=exc.strerror or str(exc)) from exc
    return digest.hexdigest(), size


def _duplicate(name: str, existing: DocumentInfo) -> IngestResult:
    return IngestResult(file_name=name, status="duplicate", pages=existing.pages, ocr_pages=existing.ocr_pages,
                        chunks=existing.chunks, doc_id=existing.doc_id, same_as=existing.name,
                        warnings=[f"identical to {existing.name!r}, already indexed"])


def _without_paths(exc: KnowledgeError, paths: list[Path]) -> KnowledgeError:
    """The same error with each server path in its values cut to its last part, for messages users see."""
    # Longest first, so a folder inside another is cut whole; never "/" or ".", which would cut every slash or dot.
    cuts = sorted({p for path in paths for p in (path, path.resolve()) if len(p.parts) > 1}, key=lambda p: -len(str(p)))
    values = {key: _cut_paths(value, cuts) for key, value in exc.values.items()}
    return type(exc)(exc.code, **values)


def _cut_paths(value, paths: list[Path]):
    if not isinstance(value, (str, Path)):
        return value
    text = str(value)
    for path in paths:
        text = text.replace(str(path), path.name)
    return text


def _make_writable_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise StoreError("dir_unwritable", directory=directory, detail=exc.strerror or str(exc)) from exc


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return "the disk is full" if "No space" in text or "too large" in text.lower() else text.splitlines()[0][:200]


def _report(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), message)


def _summary(result: IngestResult) -> str:
    if result.status == "error":
        return f"{result.file_name}: error: {result.error}"
    return (f"{result.file_name}: {result.status}, {result.pages} pages, {result.ocr_pages} OCR'd, "
            f"{result.chunks} chunks, {result.seconds:.1f} s")
