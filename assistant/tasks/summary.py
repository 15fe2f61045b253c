"""Whole-document requests: "summarise the handbook" reads passages spread over the whole handbook, not the top-k.

Retrieval ranks passages by how well they match a question's words; a summary request has no such words (only the
document's name and words like "summarise"), so its top-k passages are a few arbitrary ones: in a walkthrough,
"Summarise the whole employee handbook, chapter by chapter" drew one of its two pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from knowledge.lexical import query_terms, terms
from knowledge.types import Chunk

# Words that ask for a summary of a document as a whole.
SUMMARY_TERMS = frozenset(
    "summarise summarize summarised summarized summary summaries overview outline recap gist tldr "
    "总结 概括 摘要 概述 归纳".split())

# Words that say what to do with the documents, not what to find in them: "Summarise the whole handbook, chapter by
# chapter" must be judged by "handbook" alone (a walkthrough's summary request was refused: 1 of its 6 terms matched).
REQUEST_TERMS = SUMMARY_TERMS | frozenset(
    "briefly explain describe list whole entire full detail details detailed chapter chapters section sections part "
    "parts main key points document documents doc docs file files text contents tell give write please "
    "要点 主要 内容 全文 文档 文件 详细 一下 介绍 说明 列出 请 告诉 章节 部分 全部 整个 这份 该".split())


@dataclass(frozen=True)
class WholeDocument:
    """A stored document a summary can read from start to end.

    Attributes:
        name: its file name.
        added_at: when it was uploaded (seconds since the epoch): "this document" means the newest first.
        read: its chunks in reading order.
        shared: it belongs to the shared library, not to the visitor ("summarise this document" is not about it).
    """

    name: str
    added_at: float
    read: Callable[[], Sequence[Chunk]]
    shared: bool = False


def whole_documents(retriever) -> list[WholeDocument]:
    """The documents a retriever can hand over whole, newest first; [] when it can only search.

    A retriever offers them through `whole_documents()`, or as a knowledge base's `documents()` and `chunks(id)`.
    """
    if hasattr(retriever, "whole_documents"):
        found = retriever.whole_documents()
    elif hasattr(retriever, "documents") and hasattr(retriever, "chunks"):
        found = documents_of(retriever)
    else:
        return []
    return sorted(found, key=lambda d: -d.added_at)


def documents_of(base, shared: bool = False) -> list[WholeDocument]:
    """A knowledge base's documents as WholeDocuments."""
    return [WholeDocument(info.name, info.added_at, _reader(base, info.doc_id), shared) for info in base.documents()]


def _reader(base, doc_id: int) -> Callable[[], Sequence[Chunk]]:
    return lambda: base.chunks(doc_id)


def is_summary_request(question: str) -> bool:
    """Whether the question asks for a summary ("Summarise…", "give an overview of…", "总结一下…")."""
    return bool(SUMMARY_TERMS & set(query_terms(question)))


def named_documents(question: str, documents: Sequence[WholeDocument]) -> list[WholeDocument]:
    """The documents a summary request is about: those its other words name, or when it names none ("summarise this
    document"), all the visitor's own (the shared library's only when the visitor has none).

    A document is named when more than half of the request's other words are in its file name (the best-named
    ones win). None named: [] (the request is about a topic, "summarise the termination rules", or a part of a
    document, "summarise the payroll policy of the handbook": retrieval's job).
    """
    wanted = set(query_terms(question)) - REQUEST_TERMS
    if not wanted:
        return [d for d in documents if not d.shared] or list(documents)
    shares = [len(wanted & _name_terms(d.name)) / len(wanted) for d in documents]
    best = max(shares, default=0.0)
    return [d for d, share in zip(documents, shares) if share > 0.5 and share == best]


def _name_terms(name: str) -> set[str]:
    return set(terms(re.sub(r"[_\W]+", " ", name)))


def spread_chunks(documents: Sequence[WholeDocument], budget: int) -> tuple[list[Chunk], int]:
    """At most `budget` chunks spread evenly over the documents' text (a share per document, newest first), in
    reading order, and how many chunks the documents have in all."""
    contents = [list(d.read()) for d in documents]
    shares = [budget // len(contents) + (i < budget % len(contents)) for i in range(len(contents))] if contents else []
    picked = [chunk for chunks, share in zip(contents, shares) for chunk in spread(chunks, share)]
    return picked, sum(len(chunks) for chunks in contents)


def spread(chunks: Sequence[Chunk], count: int) -> list[Chunk]:
    """`count` chunks evenly spaced from the first to the last, on as many pages as possible."""
    if count >= len(chunks):
        return list(chunks)
    if count <= 0:
        return []
    page_starts = [c for i, c in enumerate(chunks) if i == 0 or c.page != chunks[i - 1].page]
    pool = page_starts if len(page_starts) >= count else list(chunks)
    if count == 1:
        return [pool[0]]
    return [pool[round(i * (len(pool) - 1) / (count - 1))] for i in range(count)]
