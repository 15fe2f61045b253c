"""SQLite holds documents, pages, chunks (text, offsets, vector) and an FTS5 BM25 index; one transaction per change."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from knowledge.errors import StoreError
from knowledge.types import Chunk, DocumentInfo

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, content_hash TEXT NOT NULL UNIQUE,
    pages INTEGER NOT NULL, ocr_pages INTEGER NOT NULL, chunks INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE, number INTEGER NOT NULL,
    ocr INTEGER NOT NULL, chars INTEGER NOT NULL, error TEXT, PRIMARY KEY (doc_id, number));
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, page INTEGER NOT NULL, start_char INTEGER NOT NULL, end_char INTEGER NOT NULL,
    text TEXT NOT NULL, vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms, tokenize = 'unicode61 remove_diacritics 2');
"""

_CHUNK_COLUMNS = "c.id, c.doc_id, d.name, c.page, c.ordinal, c.text, c.start_char, c.end_char"


class MetadataStore:
    """Thread-safe wrapper around one SQLite file in WAL mode with full fsync."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA secure_delete=ON")  # a deleted document's text is overwritten, not left in free pages
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise _store_error(path, exc) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- meta -------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._query("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        """Bumped in the same transaction as every change, so the FAISS file can be matched to it."""
        return int(self.get_meta("generation") or 0)

    # --- writes -----------------------------------------------------------------------------------

    def add_document(self, doc: dict, pages: list[tuple], chunks: list[tuple], vectors: np.ndarray,
                     terms: list[str]) -> tuple[int, np.ndarray]:
        """Insert a document with its pages and chunks atomically.

        Args:
            doc: name, content_hash, pages, ocr_pages, size_bytes.
            pages: (number, ocr, chars, error) per page.
            chunks: (ordinal, page, start_char, end_char, text) per chunk.
            vectors: one float32 row per chunk.
            terms: space-joined BM25 terms per chunk.

        Returns:
            The document id and the new chunk ids (int64), in chunk order.
        """
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO documents(name, content_hash, pages, ocr_pages, chunks, size_bytes, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (doc["name"], doc["content_hash"], doc["pages"], doc["ocr_pages"], len(chunks),
                 doc["size_bytes"], time.time()),
            )
            doc_id = int(cursor.lastrowid)
            db.executemany("INSERT INTO pages VALUES (?, ?, ?, ?, ?)", [(doc_id, *p) for p in pages])
            ids = [self._insert_chunk(db, doc_id, c, v, t) for c, v, t in zip(chunks, vectors, terms)]
            self._bump(db)
        return doc_id, np.asarray(ids, dtype=np.int64)

    @staticmethod
    def _insert_chunk(db, doc_id: int, chunk: tuple, vector: np.ndarray, terms: str) -> int:
        cursor = db.execute(
            "INSERT INTO chunks(doc_id, ordinal, page, start_char, end_char, text, vector) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (doc_id, *chunk, np.asarray(vector, dtype=np.float32).tobytes()),
        )
        db.execute("INSERT INTO chunks_fts(rowid, terms) VALUES (?, ?)", (cursor.lastrowid, terms))
        return int(cursor.lastrowid)

    def delete_document(self, doc_id: int) -> np.ndarray | None:
        """Delete a document and its chunks; returns the removed chunk ids, or None if there was no such document."""
        with self._transaction() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
            db.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(i,) for i in ids])
            deleted = db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount
            if not deleted:
                return None
            self._bump(db)
        self._forget_deleted_text()
        return np.asarray(ids, dtype=np.int64)

    def _forget_deleted_text(self) -> None:
        """Merge the full-text index (its old segments still hold the deleted terms) and empty the WAL into the file."""
        with self._lock:
            self._db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('optimize')")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- reads ------------------------------------------------------------------------------------

    def find_by_hash(self, content_hash: str) -> DocumentInfo | None:
        rows = self._documents("WHERE content_hash = ?", (content_hash,))
        return rows[0] if rows else None

    def documents(self) -> list[DocumentInfo]:
        return self._documents("ORDER BY id", ())

    def _documents(self, clause: str, args: tuple) -> list[DocumentInfo]:
        sql = ("SELECT id, name, pages, ocr_pages, chunks, size_bytes, content_hash, added_at FROM documents "
               + clause)
        return [DocumentInfo(*row) for row in self._query(sql, args)]

    def chunks_by_ids(self, ids: list[int]) -> dict[int, Chunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})"
        return {row[0]: _chunk(row) for row in self._query(sql, tuple(int(i) for i in ids))}

    def chunks_of(self, doc_id: int) -> list[Chunk]:
        sql = (f"SELECT {_CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id "
               "WHERE c.doc_id = ? ORDER BY c.ordinal")
        return [_chunk(row) for row in self._query(sql, (doc_id,))]

    def chunk_count(self) -> int:
        return int(self._query("SELECT count(*) FROM chunks", ()).fetchone()[0])

    def iter_vectors(self, dim: int, batch: int = 50_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) of every chunk in batches: what rebuilding the FAISS index reads."""
        last = -1
        while True:
            rows = self._query("SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim)
            last = int(ids[-1])
            yield ids, vectors

    def lexical_search(self, query_terms: list[str], limit: int) -> list[tuple[int, float]]:
        """BM25 over chunk terms: (chunk id, score) best first; any term may match."""
        if not query_terms:
            return []
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in query_terms)
        sql = "SELECT rowid, -bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts) LIMIT ?"
        return [(int(r[0]), float(r[1])) for r in self._query(sql, (match, limit))]

    # --- plumbing ---------------------------------------------------------------------------------

    def _query(self, sql: str, args: tuple):
        with self._lock:
            try:
                return _Rows(self._db.execute(sql, args).fetchall())
            except sqlite3.Error as exc:
                raise _store_error(self.path, exc) from exc

    def _bump(self, db) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    @contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE ... COMMIT under the lock; any error rolls back (sqlite errors become StoreError)."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _store_error(self.path, exc) from exc
                raise


class _Rows(list):
    """A fetched result that still offers fetchone/fetchall, so the lock is not held while iterating."""

    def fetchone(self):
        return self[0] if self else None

    def fetchall(self):
        return list(self)


def _chunk(row) -> Chunk:
    chunk_id, doc_id, name, page, ordinal, text, start, end = row
    return Chunk(doc_id=doc_id, file_name=name, page=page, ordinal=ordinal, text=text, start_char=start,
                 end_char=end, chunk_id=chunk_id)


def _store_error(path: Path, exc: Exception) -> StoreError:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return StoreError("store_read_only", directory=path.parent)
    if "disk is full" in text or "database or disk is full" in text:
        return StoreError("store_full", directory=path.parent)
    if "unable to open" in text:
        return StoreError("store_unopenable", directory=path, detail=text)
    if "closed database" in text:  # the session ended (tab closed, or idle past its TTL) under a running request
        return StoreError("store_closed")
    return StoreError("store_failed", directory=path, detail=text)
