"""The knowledge base with real parts end to end: ingest, cited search, dedupe, delete, persistence, atomicity."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from knowledge.kb import KnowledgeBase
from tests import factory


def top(kb, query: str, k: int = 3):
    return [(r.file_name, r.page) for r in kb.search(query, k)]


def test_mixed_batch_every_file_reported_and_searchable(kb, docs, tmp_path):
    bad = factory.corrupt_pdf(tmp_path / "broken.pdf")
    paths = [docs["text_pdf"], bad, docs["scanned_pdf"], docs["chinese_png"], docs["docx"], docs["gbk_txt"]]
    seen = []
    results = kb.ingest(paths, progress=lambda f, m: seen.append((f, m)))
    assert [r.status for r in results] == ["indexed", "error", "indexed", "indexed", "indexed", "indexed"]
    assert results[1].file_name == "broken.pdf" and "not a readable PDF" in results[1].error
    assert (results[0].pages, results[0].ocr_pages) == (4, 0)
    assert (results[2].pages, results[2].ocr_pages) == (2, 2)
    assert all(r.chunks >= 1 for r in results if r.ok)
    assert seen[-1][0] == 1.0 and len(kb.documents()) == 5

    assert top(kb, "When did Marie Curie win the Nobel Prize in Chemistry?")[0] == ("report.pdf", 2)
    assert top(kb, "How long is the termination notice period of the lease?")[0] == ("report.pdf", 3)
    assert top(kb, "How high were the waves in the storm the lighthouse keeper logged?")[0] == ("scan.pdf", 2)
    assert top(kb, "How many days of paid leave do employees get?")[0] == ("handbook.docx", 2)
    assert top(kb, "本合同的管辖法律是什么")[0][0] in {"chinese.png", "contract_gbk.txt"}
    assert {f for f, _ in top(kb, "提前多少天书面通知终止合同", k=2)} == {"chinese.png", "contract_gbk.txt"}


def test_search_results_carry_text_and_scores(kb, docs):
    kb.ingest([docs["text_pdf"]])
    result = kb.search("coffee beans warehouse Rotterdam", k=1)[0]
    assert "4,200 pallets" in result.text and result.chunk.citation == "report.pdf:1"
    assert result.dense_rank == 1 and result.lexical_rank == 1 and 0 < result.dense_score <= 1


def test_reupload_identical_content_is_a_noop(kb, docs, tmp_path):
    copy = tmp_path / "renamed copy.pdf"
    copy.write_bytes(docs["text_pdf"].read_bytes())
    first, again = kb.ingest([docs["text_pdf"], copy])
    assert first.status == "indexed" and again.status == "duplicate" and again.doc_id == first.doc_id
    assert len(kb.documents()) == 1 and len(kb) == first.chunks


def test_delete_removes_vectors_and_rows(kb, docs):
    text, docx = kb.ingest([docs["text_pdf"], docs["docx"]])
    assert kb.delete(text.doc_id) is True
    assert kb.delete(text.doc_id) is False
    assert [d.name for d in kb.documents()] == ["handbook.docx"] and len(kb) == docx.chunks
    assert all(r.file_name == "handbook.docx" for r in kb.search("Marie Curie Nobel Prize", k=5))
    assert kb.chunks(text.doc_id) == []


def test_persists_across_instances_and_rebuilds_a_missing_index(settings, embedder, docs):
    kb = KnowledgeBase(settings, embedder)
    kb.ingest([docs["text_pdf"]])
    kb.close()
    again = KnowledgeBase(settings, embedder)
    assert top(again, "Marie Curie Nobel Prize")[0] == ("report.pdf", 2)
    again.close()
    for index_file in settings.data_dir.glob("index-*.faiss"):
        index_file.unlink()  # as if the process died between the SQLite commit and the index write
    rebuilt = KnowledgeBase(settings, embedder)
    assert len(rebuilt) == rebuilt.documents()[0].chunks
    assert top(rebuilt, "Marie Curie Nobel Prize")[0] == ("report.pdf", 2)


def test_a_second_process_on_the_same_store_is_refused_until_the_first_closes(settings, embedder):
    """Each process keeps its index in memory: two writers on one directory would miss each other's documents."""
    kb = KnowledgeBase(settings, embedder)
    script = textwrap.dedent(f"""
        from knowledge.errors import StoreError
        from knowledge.lock import DirectoryLock
        try:
            DirectoryLock({str(settings.data_dir)!r}).acquire()
            print("acquired")
        except StoreError as exc:
            print(exc.code, exc)
    """)
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert other.stdout.startswith("in_use ") and "in use by another process" in other.stdout
    assert f"(pid {os.getpid()})" in other.stdout
    kb.close()
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == "acquired"
    KnowledgeBase(settings, embedder).close()  # and this process can open it again


def test_a_delete_whose_index_file_cannot_be_written_still_succeeds(settings, embedder, docs, monkeypatch, caplog):
    kb = KnowledgeBase(settings, embedder)
    text, docx = kb.ingest([docs["text_pdf"], docs["docx"]])

    def full_disk(path):
        raise RuntimeError("No space left on device")

    monkeypatch.setattr(kb._vectors, "save", full_disk)
    assert kb.delete(text.doc_id) is True and "faiss_index_not_saved" in caplog.text
    assert [d.name for d in kb.documents()] == ["handbook.docx"] and len(kb) == docx.chunks
    kb.close()
    again = KnowledgeBase(settings, embedder)  # the index on disk predates the delete: rebuilt, without it
    assert len(again) == docx.chunks and all(r.file_name == "handbook.docx" for r in again.search("Marie Curie"))
    again.close()


def test_a_store_refused_at_opening_leaves_nothing_open(settings, embedder, docs, monkeypatch):
    from knowledge.errors import StoreError
    from knowledge.metadata import MetadataStore

    KnowledgeBase(settings, embedder).close()
    closed, close = [], MetadataStore.close
    monkeypatch.setattr(MetadataStore, "close", lambda self: closed.append(self) or close(self))

    class Other:
        name, dim, multilingual = "other-model", embedder.dim, False

    with pytest.raises(StoreError, match="built with embedder"):
        KnowledgeBase(settings, Other())
    assert len(closed) == 1
    KnowledgeBase(settings, embedder).close()  # and its writer lock was let go


def test_failure_while_storing_leaves_store_unchanged(kb, docs, monkeypatch):
    kb.ingest([docs["docx"]])
    before = (len(kb), [d.name for d in kb.documents()])

    def explode(*args, **kwargs):
        raise RuntimeError("simulated crash inside the transaction")

    monkeypatch.setattr(kb._metadata, "_insert_chunk", explode)
    result = kb.ingest_file(docs["text_pdf"])
    assert result.status == "error"
    assert (len(kb), [d.name for d in kb.documents()]) == before
    assert result.error_code == "unexpected" and result.error_values["name"] == docs["text_pdf"].name
    assert result.error == f"{docs['text_pdf'].name}: unexpected error (RuntimeError('simulated crash inside the " \
                           "transaction'))"


def test_kill_mid_ingest_keeps_finished_documents(settings, docs, tmp_path):
    """A process killed (os._exit) while embedding its second file: the first survives, nothing half-written."""
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        from knowledge.config import KnowledgeSettings
        from knowledge.embeddings import load_embedder
        from knowledge.kb import KnowledgeBase
        settings = KnowledgeSettings(data_dir={str(settings.data_dir)!r})
        embedder = load_embedder(settings)
        kb = KnowledgeBase(settings, embedder)
        kb.ingest([Path({str(docs['docx'])!r})])
        real = embedder.embed_batch
        def dying(texts):
            real(texts)
            os._exit(9)
        embedder.embed_batch = dying
        kb.ingest([Path({str(docs['text_pdf'])!r})])
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 9, proc.stderr[-2000:]
    from knowledge.embeddings import load_embedder

    kb = KnowledgeBase(settings, load_embedder(settings))
    assert [d.name for d in kb.documents()] == ["handbook.docx"]
    assert len(kb) == kb.documents()[0].chunks
    assert top(kb, "paid leave days", k=1)[0] == ("handbook.docx", 2)


def test_store_built_with_another_embedder_is_refused(settings, embedder, docs):
    from knowledge.errors import StoreError

    KnowledgeBase(settings, embedder).ingest([docs["gbk_txt"]])

    class Other:
        name, dim, multilingual = "other-model", embedder.dim, False

    with pytest.raises(StoreError, match="built with embedder"):
        KnowledgeBase(settings, Other())


def test_unwritable_data_dir_is_a_clear_error(tmp_path, embedder):
    from knowledge.config import KnowledgeSettings
    from knowledge.errors import StoreError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")  # fails for root too, unlike chmod
    with pytest.raises(StoreError, match="data directory .* is not writable"):
        KnowledgeBase(KnowledgeSettings(data_dir=blocker / "kb"), embedder)


def test_vectors_in_sqlite_match_the_index(kb, docs):
    kb.ingest([docs["text_pdf"]])
    ids, vectors = next(kb._metadata.iter_vectors(kb.embedder.dim))
    index_ids, index_vectors = kb._vectors.export()
    order = np.argsort(index_ids)
    assert np.array_equal(index_ids[order], ids) and np.allclose(index_vectors[order], vectors)


def test_same_file_ingested_twice_at_once_is_a_duplicate(settings, tmp_path, monkeypatch):
    """Both ingests pass the first duplicate check before either stores: the second must still say duplicate."""
    from knowledge import kb as kb_module
    from tests.knowledge.hash_embedder import HashEmbedder

    base = KnowledgeBase(settings, HashEmbedder())
    path = tmp_path / "contract.txt"
    path.write_text("The governing law is the law of France. Notice period is 30 days.", encoding="utf-8")
    both_checked = threading.Barrier(2)
    real_load = kb_module.load_document

    def load_after_both_checked(*args, **kwargs):
        both_checked.wait(timeout=60)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(kb_module, "load_document", load_after_both_checked)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: base.ingest([path], names=["contract.txt"])[0], range(2)))
    indexed, duplicate = sorted(results, key=lambda r: r.status != "indexed")
    assert (indexed.status, duplicate.status) == ("indexed", "duplicate"), duplicate.error
    assert duplicate.doc_id == indexed.doc_id and duplicate.warnings == ["identical to 'contract.txt', already indexed"]
    assert [d.name for d in base.documents()] == ["contract.txt"] and len(base) == indexed.chunks
    base.close()


def test_store_error_shown_to_users_has_no_server_path(kb, docs, caplog):
    import sqlite3

    class FailingConnection:  # every query now fails inside SQLite (closing still closes the real one)
        close = kb._metadata._db.close

        def execute(self, *args):
            raise sqlite3.OperationalError("disk I/O error")

    kb._metadata._db = FailingConnection()
    result = kb.ingest_file(docs["gbk_txt"])
    assert result.status == "error" and result.error_code == "store_failed"
    assert result.error.startswith("knowledge store error at store/kb.sqlite3: ")
    server_paths = (str(kb.directory), str(docs["gbk_txt"].parent))
    assert not any(p in result.error or p in str(result.error_values) for p in server_paths)
    assert str(kb.directory) in caplog.text  # the operator still sees where


def test_a_store_closed_under_a_request_says_the_session_ended(kb, docs):
    kb._metadata.close()  # what ending the session does while an upload or a question is on its way
    result = kb.ingest_file(docs["gbk_txt"])
    assert result.status == "error" and result.error_code == "store_closed"
    assert "session ended" in result.error and str(kb.directory) not in result.error


def test_a_deleted_documents_text_is_gone_from_the_files_on_disk(kb, tmp_path):
    """Not only from search: SQLite's free pages, the full-text index's old segments and the WAL held it."""
    secret = tmp_path / "secret.txt"
    secret.write_text("The vault combination is ZORBLAXCODE seven seven one. " * 20)
    [result] = kb.ingest([secret])
    kb.delete(result.doc_id)
    files = [p for p in kb.settings.data_dir.rglob("*") if p.is_file()]
    assert files and not [p.name for p in files if b"ZORBLAXCODE" in p.read_bytes().upper()]


def test_a_crash_after_deleting_the_last_document_leaves_no_index_with_its_vectors(settings, embedder, docs):
    """The delete committed in SQLite, the process died before the index was written: the old file goes at open."""
    kb = KnowledgeBase(settings, embedder)
    [result] = kb.ingest([docs["docx"]])
    kb._metadata.delete_document(result.doc_id)  # the SQLite half of delete(), as if killed right after it
    kb.close()
    assert list(settings.data_dir.glob("index-*.faiss"))
    reopened = KnowledgeBase(settings, embedder)
    assert reopened.documents() == [] and len(reopened) == 0
    assert not list(settings.data_dir.glob("index-*.faiss"))
    reopened.close()
