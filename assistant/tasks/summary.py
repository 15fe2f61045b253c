"""Whole-document requests: "summarise the handbook" reads passages spread over the whole handbook, not the top-k.

Retrieval ranks passages by how well they match a question's words; a summary request has no such words (only the
document's name and words like "summarise"), so its top-k passages are a few arbitrary ones: in a walkthrough,
"Summarise the whole employee handbook, chapter by chapter" drew one of its two pages.
"""

from __future__ import annotations

import functools
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


# Words that ask for a document's main points, not for a part of it ("the five most important rules in the
# handbook"): a handbook that says "rules" somewhere is still named by it.
OVERVIEW_TERMS = frozenset(
    "most important major essential rules points terms topics obligations provisions requirements ideas things "
    "messages takeaways one two three four five six seven eight nine ten 重点".split())


@dataclass(frozen=True)
class WholeDocument:
    """A stored document a summary can read from start to end.

    Attributes:
        name: its file name.
        added_at: when it was uploaded (seconds since the epoch): the newest is summarised first.
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
    """The document's chunks, read once however often asked (naming a document reads it, and so does the summary)."""
    return functools.cache(lambda: base.chunks(doc_id))


# Asking what a document says, in other words than "summarise": 员工手册讲了哪些内容？ What is the lease about? What
# are the main rules in the handbook? (Its words "rules", "important" are in no passage: session 18's walkthrough got
# "not in your documents" for "List the five most important rules in the handbook.")
_SUMMARY_PHRASES = re.compile(
    r"主要(?:内容|规定|条款|规则)|要点|重点|大意|概要|(?:讲|说|写)(?:了|的是)?(?:什么|哪些)"
    r"|what(?:'s| is| does)\b.{1,80}\b(?:about|cover|say)\b|\btakeaways\b"
    r"|\b(?:main|key|most important|important|major|essential)\s+(?:\w+\s+)?"
    r"(?:rules|points|terms|topics|obligations|provisions|requirements|ideas|things|messages)\b",
    re.IGNORECASE)


def is_summary_request(question: str) -> bool:
    """Whether the question asks for a summary ("Summarise…", "give an overview of…", "总结一下…", "…讲了哪些内容")."""
    return bool(SUMMARY_TERMS & set(query_terms(question))) or bool(_SUMMARY_PHRASES.search(question))


def named_documents(question: str, documents: Sequence[WholeDocument]) -> list[WholeDocument]:
    """The documents a summary request is about: those its other words name, or when it names none ("summarise this
    document"), all the visitor's own (the shared library's only when the visitor has none).

    A document is named when more than half of the request's other words are in its file name, or when the request
    holds its whole name and the rest of its words are not in its text ("用三句话总结员工手册": 三句话 is how to
    answer; "summarise the payroll policy of the employee handbook": payroll is a part, retrieval's job). The
    best-named ones win. None named: [] (a topic, "summarise the termination rules": retrieval's job).
    """
    # split as name_terms splits a name: "northwind_handbook.docx", typed as the table shows it, is three words
    wanted = set(query_terms(_name_words(question))) - REQUEST_TERMS - OVERVIEW_TERMS
    if not wanted:
        return [d for d in documents if not d.shared] or list(documents)
    shares = {id(d): _naming(wanted, d) for d in documents}
    best = max(shares.values(), default=0.0)
    return [d for d in documents if shares[id(d)] > 0.5 and shares[id(d)] == best]


def _naming(wanted: set[str], document: WholeDocument) -> float:
    """The share of the request's words in the document's file name; for a document whose name the request holds
    (more than half its words, or the whole name), 1 unless its other words (not in the name, nor in the
    document's opening lines, where its title is) are mostly in its text: then it asks about a part, 0."""
    name, stem = name_terms(document.name), name_terms(document.name.rsplit(".", 1)[0])
    share = len(wanted & name) / len(wanted)
    if not (share > 0.5 or (stem and stem <= wanted)):
        return share
    chunks = list(document.read())
    rest = wanted - name - (set(terms(chunks[0].text[:200])) if chunks else set())
    return 0.0 if rest and _mostly_in(rest, chunks) else 1.0


def name_terms(name: str) -> set[str]:
    """The index terms of a file name ("employee_handbook-2024.pdf": employee, handbook, 2024, pdf)."""
    return set(terms(_name_words(name)))


def _name_words(text: str) -> str:
    """The text with underscores and punctuation as spaces: "employee_handbook-2024.pdf" is four words."""
    return re.sub(r"[_\W]+", " ", text)


def _mostly_in(words: set[str], chunks: Sequence[Chunk]) -> bool:
    """Whether at least half of `words` occur in the chunks' text."""
    have = {term for chunk in chunks for term in terms(chunk.text)}
    return len(words & have) >= len(words) / 2


def spread_chunks(documents: Sequence[WholeDocument], budget: int) -> tuple[list[Chunk], int]:
    """At most `budget` chunks spread evenly over the documents' text (shares dealt in turn, newest first), in
    reading order, and how many chunks the documents have in all."""
    contents = [list(d.read()) for d in documents]
    shares = _shares([len(chunks) for chunks in contents], budget)
    picked = [chunk for chunks, share in zip(contents, shares) for chunk in spread(chunks, share)]
    return picked, sum(len(chunks) for chunks in contents)


def _shares(sizes: list[int], budget: int) -> list[int]:
    """Passages per document, dealt one at a time in turn to the documents that have more: a one-passage notice
    leaves its unused share to a long handbook (a walkthrough's 4 documents got 5 of 8 passages)."""
    shares = [0] * len(sizes)
    while budget > 0 and (open_ := [i for i, size in enumerate(sizes) if shares[i] < size]):
        for i in open_[:budget]:
            shares[i] += 1
        budget -= len(open_[:budget])
    return shares


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
