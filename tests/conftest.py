"""Shared fixtures: offline environment, the real embedder (loaded once), generated documents."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import pytest  # noqa: E402

from tests import factory  # noqa: E402


@pytest.fixture(scope="session")
def embedder():
    from knowledge.config import KnowledgeSettings
    from knowledge.embeddings import load_embedder

    return load_embedder(KnowledgeSettings())


@pytest.fixture(scope="session")
def docs(tmp_path_factory):
    """Every good test document, made once per session."""
    d = tmp_path_factory.mktemp("docs")
    return {
        "text_pdf": factory.text_pdf(d / "report.pdf"),
        "scanned_pdf": factory.scanned_pdf(d / "scan.pdf"),
        "english_png": factory.english_png(d / "english.png"),
        "chinese_png": factory.chinese_png(d / "chinese.png"),
        "docx": factory.docx_file(d / "handbook.docx"),
        "gbk_txt": factory.gbk_text(d / "contract_gbk.txt"),
    }


@pytest.fixture
def settings(tmp_path):
    from knowledge.config import KnowledgeSettings

    return KnowledgeSettings(data_dir=tmp_path / "store")


@pytest.fixture
def kb(settings, embedder):
    from knowledge.kb import KnowledgeBase

    base = KnowledgeBase(settings, embedder)
    yield base
    base.close()
