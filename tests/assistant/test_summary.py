"""Whole-document summaries: which requests, which documents, which passages; end to end on a real knowledge base."""

from __future__ import annotations

import pytest

from assistant.tasks.chat import ChatOptions, answer
from assistant.tasks.events import Answer, Sources
from assistant.tasks.summary import WholeDocument, is_summary_request, named_documents, spread, spread_chunks
from knowledge.types import Chunk
from tests import factory
from tests.assistant.fakes import ScriptedEngine

pytestmark = pytest.mark.usefixtures("offline_env")

CHAPTERS = [f"Chapter {n}: the {topic} policy is described in this chapter of the employee handbook."
            for n, topic in enumerate("hiring payroll leave travel safety equipment security conduct training "
                                      "benefits grievance departure".split(), start=1)]


@pytest.fixture
def offline_env(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def chunks(name: str, pages: list[int]) -> list[Chunk]:
    return [Chunk(1, name, page, i, f"{name} text {i}", 0, 10) for i, page in enumerate(pages)]


def document(name: str, pages: list[int], added_at: float = 0.0, shared: bool = False) -> WholeDocument:
    return WholeDocument(name, added_at, lambda: chunks(name, pages), shared)


@pytest.mark.parametrize("question, expected", [
    ("Summarise the whole employee handbook in detail, chapter by chapter.", True),
    ("Give me an overview of lease.pdf", True),
    ("总结一下这份文档", True),
    ("请概括员工手册的主要内容", True),
    ("What is the termination notice period?", False),
    ("Describe the payroll policy.", False),
    ("本合同的管辖法律是什么？", False),
    ("List the five most important rules in the handbook.", True),  # session 18: refused by the relevance gate
    ("What are the main rules in the handbook?", True),
    ("What are the key terms of this contract?", True),
    ("这份合同的要点有哪些？", True),
    ("What are the rules about leave?", False),
    ("Which terms apply to late payment?", False),
])
def test_summary_requests_are_told_from_questions(question, expected):
    assert is_summary_request(question) is expected


def test_a_request_is_about_the_documents_its_words_name():
    handbook, lease = document("employee_handbook.pdf", [1]), document("lease.pdf", [1])
    assert named_documents("Summarise the whole employee handbook, chapter by chapter.", [lease, handbook]) == [
        handbook]
    assert named_documents("Give me an overview of lease.pdf", [lease, handbook]) == [lease]
    # a walkthrough: the name as the documents table shows it was one word, "employee_handbook", half a match
    assert named_documents("Summarise employee_handbook.pdf", [lease, handbook]) == [handbook]
    assert named_documents("请概括员工手册", [document("员工手册.docx", [1]), lease])[0].name == "员工手册.docx"
    # a topic, or a part of a document: retrieval's job
    assert named_documents("Summarise the termination rules", [lease, handbook]) == []
    policies = "The payroll policy: salaries are paid monthly."
    with_policy = WholeDocument("employee_handbook.pdf", 0.0, lambda: chunks("employee_handbook.pdf", [1]) + [
        Chunk(1, "employee_handbook.pdf", 2, 1, policies, 0, len(policies))])
    assert named_documents("Summarise the payroll policy of the employee handbook", [lease, with_policy]) == []


def test_a_request_naming_no_document_is_about_the_visitors_own():
    own, shared = document("notes.txt", [1]), document("library.pdf", [1], shared=True)
    assert named_documents("总结一下这份文档", [shared, own]) == [own]
    assert named_documents("Summarise the document", [shared]) == [shared]  # nothing of their own: the library's


def test_spread_reaches_from_the_first_page_to_the_last():
    pages = [p for p in range(1, 21) for _ in range(3)]  # 20 pages of 3 chunks
    picked = spread(chunks("long.pdf", pages), 8)
    assert [c.page for c in picked] == [1, 4, 6, 9, 12, 15, 17, 20]
    assert all(c.ordinal % 3 == 0 for c in picked)  # each page's first chunk
    few = spread(chunks("short.pdf", [1, 1, 1, 1, 2, 2]), 4)  # fewer pages than passages: chunks evenly
    assert [c.ordinal for c in few] == [0, 2, 3, 5]
    assert spread(chunks("tiny.pdf", [1, 2]), 8) == chunks("tiny.pdf", [1, 2])
    assert spread(chunks("x.pdf", [1, 2]), 0) == [] and [c.ordinal for c in spread(chunks("x", [1, 2]), 1)] == [0]


def test_passages_are_shared_between_documents_in_turn():
    picked, total = spread_chunks([document("a.pdf", list(range(1, 11))), document("b.pdf", list(range(1, 11))),
                                   document("c.pdf", [1])], 8)
    names = [c.file_name for c in picked]
    assert (names.count("a.pdf"), names.count("b.pdf"), names.count("c.pdf"), total) == (4, 3, 1, 21)


class ProbedEngine(ScriptedEngine):
    """A scripted engine with an answerability probe that would refuse everything."""

    def __init__(self, *replies):
        super().__init__(*replies)
        self.probed = 0

    def answerability(self, messages, lang):
        from assistant.answerability import Verdict

        self.probed += 1
        return Verdict(probability=0.99, threshold=0.5)


@pytest.fixture
def handbook_kb(kb, docs, tmp_path):
    handbook = factory.text_pdf(tmp_path / "employee_handbook.pdf", facts=CHAPTERS, filler_repeats=2)
    kb.ingest([handbook, docs["text_pdf"]])
    return kb


def test_a_summary_request_reads_the_whole_named_document(handbook_kb):
    engine = ProbedEngine("The handbook covers hiring [1] through departure [8].")
    events = list(answer(engine, handbook_kb, "Summarise the whole employee handbook, chapter by chapter."))
    sources = [e for e in events if isinstance(e, Sources)][0]
    pages = [s.page for s in sources.items]
    assert {s.file_name for s in sources.items} == {"employee_handbook.pdf"}
    assert len(pages) == 8 and pages == sorted(pages) and (pages[0], pages[-1]) == (1, 12)
    assert sources.summary.documents == ("employee_handbook.pdf",) and sources.summary.total >= 12
    assert engine.probed == 0  # no question for the probe to find unanswered
    final = [e for e in events if isinstance(e, Answer)][0]
    assert not final.not_found and final.cited == (1, 8)
    assert "[8] employee_handbook.pdf, page 12:" in engine.prompts[0][-1]["content"]


def test_other_questions_are_still_searched(handbook_kb):
    engine = ProbedEngine("unused")
    events = list(answer(engine, handbook_kb, "When did Marie Curie win the Nobel Prize in Chemistry?",
                         options=ChatOptions(answerability=False)))
    sources = [e for e in events if isinstance(e, Sources)][0]
    assert sources.summary is None and sources.items[0].file_name == "report.pdf"
    off = list(answer(ScriptedEngine("x"), handbook_kb, "Summarise the employee handbook",
                      options=ChatOptions(summary_passages=0, answerability=False)))
    assert [e for e in off if isinstance(e, Sources)][0].summary is None  # turned off: searched like any question


def test_a_short_documents_unused_share_goes_to_the_long_ones():
    """A walkthrough: four documents, two of them one passage each, were given 5 of the 8 passages."""
    picked, total = spread_chunks([document("notice.png", [1]), document("policy.pdf", [1]),
                                   document("handbook.pdf", list(range(1, 14))), document("contract.docx", [1, 2])], 8)
    names = [c.file_name for c in picked]
    assert (len(picked), names.count("handbook.pdf"), names.count("contract.docx"), total) == (8, 4, 2, 17)


def handbook(name: str = "员工手册.pdf") -> WholeDocument:
    pages = ["员工手册 目录", "第二章 薪酬：工资每月十日发放。", "第三章 休假：年假十五天。"]
    return WholeDocument(name, 0.0, lambda: [Chunk(1, name, i + 1, i, text, 0, len(text))
                                             for i, text in enumerate(pages)])


@pytest.mark.parametrize("question, named", [
    ("用三句话总结员工手册", True),  # 三句话 says how to answer: not in the handbook
    ("把员工手册概括成五点", True),
    ("员工手册讲了哪些内容？", True),
    ("员工手册的主要内容是什么", True),
    ("总结员工手册的薪酬和休假规定", False),  # a part of it: 薪酬, 休假 are in its text
])
def test_a_request_holding_a_documents_whole_name_is_about_it_unless_it_names_a_part(question, named):
    assert is_summary_request(question)
    assert (named_documents(question, [handbook(), document("lease.pdf", [1])]) != []) is named


def test_a_word_of_the_documents_title_names_it_too():
    """"Summarise the employee handbook" of handbook.pdf, whose first page says "Employee Handbook"."""
    name, pages = "handbook.pdf", ["Employee Handbook", "Chapter 4: the payroll rules. Salaries are paid monthly."]
    titled = WholeDocument(name, 0.0, lambda: [Chunk(1, name, i + 1, i, text, 0, len(text))
                                               for i, text in enumerate(pages)])
    assert named_documents("Summarise the employee handbook", [titled]) == [titled]
    assert named_documents("Summarise the payroll rules of the handbook", [titled]) == []



def test_a_request_for_a_documents_main_points_names_it_though_its_text_has_those_words():
    """Session 18: "List the five most important rules in the handbook." was refused by the relevance gate."""
    name, pages = "handbook.pdf", ["Employee Handbook", "Important: these rules apply to every employee."]
    titled = WholeDocument(name, 0.0, lambda: [Chunk(1, name, i + 1, i, text, 0, len(text))
                                               for i, text in enumerate(pages)])
    assert named_documents("List the five most important rules in the handbook.", [titled]) == [titled]
    assert named_documents("What are the main rules in the employee handbook?", [titled]) == [titled]
