"""Gradio handlers are plain functions: test them directly with real stores."""

from __future__ import annotations

import pytest

import app
from knowledge.sessions import SessionKnowledgeBases
from tests import factory


@pytest.fixture
def stores(settings, embedder, tmp_path):
    registry = SessionKnowledgeBases(settings, embedder, root=tmp_path / "sessions")
    yield registry
    registry.close_all()


def test_ingest_reports_every_file_and_lists_failures(stores, docs, tmp_path):
    bad = factory.empty_file(tmp_path / "<b>evil<b>.pdf")
    table, report = app.ingest_files(stores, [str(docs["docx"]), str(bad)], "s1")
    assert table[0] == ["handbook.docx", 2, 0, 2, "indexed"]
    assert table[-1][0] == "<b>evil<b>.pdf" and table[-1][-1].startswith("error:")
    assert "✅ handbook.docx" in report and "<b>" not in report and "&lt;b&gt;evil" in report


def test_search_is_private_to_the_session(stores, docs):
    app.ingest_files(stores, [str(docs["docx"])], "alice")
    assert "handbook.docx, page 2" in app.search(stores, "paid leave", "alice")
    assert app.search(stores, "paid leave", "bob") == "Nothing found in your documents."


def test_document_text_is_escaped(stores, tmp_path):
    page = tmp_path / "xss.txt"
    page.write_text("<script>alert('x')</script> The password policy needs twelve characters.", encoding="utf-8")
    app.ingest_files(stores, [str(page)], "s")
    shown = app.search(stores, "password policy", "s")
    assert "<script>" not in shown and "&lt;script&gt;" in shown
