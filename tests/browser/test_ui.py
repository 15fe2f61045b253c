"""The real page in headless Debian Chromium (Playwright) against the real app and small offline model on loopback.

Screenshots of each tab go to a temporary folder; `UPDATE_SCREENSHOTS=1` writes them to assets/ for the README.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from bench.app_server import AppFailed, running_app
from tests import factory

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else Path(tempfile.mkdtemp(prefix="shots-"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
QUESTION = "What is the termination notice period?"
VERDICTS = ("passed", "failed", "error", "timeout", "blocked", "memory", "killed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python app.py` on a free loopback port: offline, tiny SmolLM2 fallback, greedy, short answers."""
    try:
        with running_app(tmp_path_factory.mktemp("app")) as url:
            yield url
    except AppFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("apt-get install chromium")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("upload")
    return {"report": factory.text_pdf(folder / "report.pdf"), "contract": factory.contract_pdf(folder / "contract.pdf"),
            "broken": factory.empty_file(folder / "broken.pdf")}


@pytest.fixture(scope="module")
def alice(browser, server):
    """One visitor's page, shared by the tests that build on each other (upload, then ask...)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(server)
    page.get_by_role("tab", name="Knowledge").wait_for()
    yield page
    context.close()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def wait_text(page, selector: str, text: str, timeout_ms: float = 60_000) -> None:
    """Wait until the element's visible text contains `text` (robust to Gradio's hidden duplicate cells)."""
    page.wait_for_function("([sel, text]) => (document.querySelector(sel)?.innerText || '').includes(text)",
                           arg=[selector, text], timeout=timeout_ms)


def shoot(page, tab: str) -> None:
    page.screenshot(path=str(ASSETS / f"screenshot-{tab}.png"), full_page=True)


def test_upload_then_ask_streams_a_cited_answer(alice, files):
    page = alice
    page.locator("#upload input[type=file]").set_input_files([str(files["report"]), str(files["broken"])])
    wait_text(page, "#upload", "KB")  # uploaded: the file shows its size
    page.locator("#ingest").click()
    wait_text(page, "#documents", "indexed")
    assert "report.pdf" in page.locator("#documents").inner_text()
    wait_text(page, "#ingest-report", "✅ report.pdf: 4 pages")
    wait_text(page, "#ingest-report", "❌ broken.pdf")
    assert "broken.pdf" in page.locator("#documents").inner_text()  # a failed file has its row too
    # the box empties once its files are in, so the next "Add" cannot send report.pdf again
    page.wait_for_function("() => !document.querySelector('#upload').innerText.includes('report.pdf')")
    shoot(page, "knowledge")

    open_tab(page, "Chat")
    box = page.locator("#question textarea")
    box.fill("What is")
    box.press("Shift+Enter")  # a new line, not a send
    assert box.input_value() == "What is\n"
    box.fill(QUESTION)
    box.press("Enter")  # sends
    page.wait_for_function("() => document.querySelector('#question textarea').value === ''")  # taken at once
    box.fill("a next question typed while the answer streams")
    seen, log = set(), page.locator("#chatbot [role=log]")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        seen.add(log.inner_text())
        if "Confidence" in page.locator("#confidence").inner_text():
            break
        time.sleep(0.05)
    answers = {s for s in seen if QUESTION in s and s.replace(QUESTION, "").strip()}
    assert len(answers) >= 2, seen  # the answer appeared piece by piece
    assert box.input_value() == "a next question typed while the answer streams"  # streaming left the box alone
    box.fill("")
    sources = page.locator("#sources").inner_text()
    assert "[1] report.pdf — page 3" in sources and "ninety days" in sources
    assert "Confidence" in page.locator("#confidence").inner_text()
    # Stop is red only while an answer streams
    page.wait_for_function("() => !document.querySelector('#stop').classList.contains('stop')", timeout=10_000)
    page.wait_for_timeout(500)  # its colour fades: the screenshot waits for the fade
    shoot(page, "chat")


LEAVING = "() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e); " \
          "return e.defaultPrevented; }"


def test_leaving_a_page_that_holds_documents_asks_first(browser, server, alice):
    """A walkthrough lost seven uploaded files to a reload, without a word: the session ends with the page."""
    assert alice.evaluate(LEAVING)  # alice has a document and a chat
    # staying keeps her session (Gradio's own listener, which closes it, did not run): the review test below goes on
    # with her documents on the server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(server)
        page.get_by_role("tab", name="Knowledge").wait_for(timeout=30_000)
        assert not page.evaluate(LEAVING)  # nothing to lose: no question
    finally:
        context.close()


def test_a_second_visitor_cannot_see_the_first_ones_document(browser, server, alice):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(server)
        page.get_by_role("tab", name="Knowledge").wait_for()
        assert "report.pdf" not in page.locator("#documents").inner_text()
        open_tab(page, "Chat")
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#send").click()
        wait_text(page, "#sources", "No passages")
        wait_text(page, "#chatbot", "You have no documents yet")  # pointed at the Knowledge tab
        assert "report.pdf" not in page.locator("#chatbot").inner_text()
        open_tab(page, "Contract review")
        page.locator("#contract-pick input").click()
        assert page.get_by_role("option", name="report.pdf").count() == 0
    finally:
        context.close()
    open_tab(alice, "Knowledge")  # ...while the first visitor still has it (the tab re-renders its table on opening)
    wait_text(alice, "#documents", "report.pdf")


def test_contract_review_streams_findings_and_offers_reports(alice, files):
    page = alice
    open_tab(page, "Contract review")
    page.locator("#contract-upload input[type=file]").set_input_files(str(files["contract"]))
    wait_text(page, "#contract-upload", "KB")
    page.locator("#contract-explain input").uncheck()
    page.locator("#review").click()
    wait_text(page, "#review-status", "Review done")
    assert "contract.pdf was added to your documents" in page.locator("#review-status").inner_text()
    findings = page.locator("#findings").inner_text()
    assert "Governing Law" in findings and "State of New York" in findings
    first = page.locator("#findings .virtual-row").first.inner_text()  # the report's order: high risk on top
    assert "Uncapped Liability" in first and "high" in first
    # a cell's several quotes keep their line breaks (a table cell collapses them by default)
    assert page.locator("#findings .virtual-row .body-cell span").first.evaluate(
        "e => getComputedStyle(e).whiteSpace") == "pre-line"
    with page.expect_download() as download:
        page.locator("#download-json").click()
    assert download.value.suggested_filename == "contract-review.json"
    shoot(page, "contracts")

    page.locator("#contract-pick input").click()  # another document: the uploaded one leaves the box
    page.get_by_role("option", name="report.pdf").click()
    page.wait_for_function("() => !document.querySelector('#contract-upload').innerText.includes('contract.pdf')")
    page.locator("#review").click()
    wait_text(page, "#review-status", "Review done: report.pdf")
    open_tab(page, "Knowledge")  # the contract uploaded for review can be deleted there
    page.locator("#knowledge-pick input").click()
    page.get_by_role("option", name="contract.pdf").click()
    asked = []
    page.once("dialog", lambda dialog: asked.append(dialog.message) or dialog.dismiss())  # Cancel: nothing goes
    page.locator("#delete-document").click()
    page.wait_for_timeout(1500)
    assert asked == ["Delete contract.pdf? This cannot be undone."]
    assert "contract.pdf" in page.locator("#documents").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-document").click()  # the picker takes values it never listed (API): its own still work
    wait_text(page, "#ingest-report", "Deleted contract.pdf")
    assert "contract.pdf" not in page.locator("#documents").inner_text()
    assert "broken.pdf" in page.locator("#documents").inner_text()  # the failed upload's row outlives a delete
    open_tab(page, "Contract review")  # the review on show went with the removal: no quotes, no dead downloads
    page.wait_for_function("() => !document.querySelector('#findings').innerText.includes('Governing Law')")
    assert page.locator("#download-json").is_disabled() and "Review done" not in page.locator("#review-status").inner_text()


def test_generate_code_and_run_its_tests(alice):
    page = alice
    open_tab(page, "Code")
    page.locator("#code-prompt textarea").fill("Write a Python function add(a, b) that returns a + b.")
    tests = page.locator("#code-tests .cm-content")
    tests.click()
    page.keyboard.type("assert add(2, 3) == 5")
    page.locator("#generate").click()
    page.wait_for_function("() => document.querySelector('#run-tests')?.disabled")  # its verdict would be overwritten
    result = page.locator("#code-result")
    page.wait_for_function(
        "verdicts => verdicts.some(v => (document.querySelector('#code-result')?.innerText || '').includes(v))",
        arg=list(VERDICTS), timeout=90_000)
    assert "def " in page.locator("#code-output").inner_text()
    assert any(v in result.inner_text() for v in VERDICTS)
    page.wait_for_function("() => !document.querySelector('#run-tests')?.disabled")  # free again once generated
    page.locator("#run-tests").click()
    wait_text(page, "#code-result", "your tests")
    shoot(page, "code")


def test_page_follows_the_browsers_language(browser, server, files, tmp_path):
    """Static labels (gr.I18n, in the page) and the handlers' own messages (Accept-Language) are Chinese.

    Also: a long file name wraps in the documents table (every column stays in view), and "Clear all" asks first.
    """
    long_name = tmp_path / ("quarterly-report-of-the-northern-region-" * 4 + "final.txt")
    long_name.write_text("The canteen opens at 7:30.", encoding="utf-8")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(server)
        page.get_by_role("tab", name="问答").wait_for(timeout=30_000)
        assert page.get_by_role("tab", name="合同审阅").count() == 1
        wait_text(page, "#status-line", "问答模型")  # the status line too
        page.locator("#upload input[type=file]").set_input_files([str(files["report"]), str(long_name)])
        wait_text(page, "#upload", "KB")
        page.locator("#ingest").click()
        wait_text(page, "#ingest-report", "✅ report.pdf：4 页")
        table = page.locator("#documents").inner_text()
        assert "已索引" in table and "文件" in table and "页数" in table  # rows and header row in Chinese
        right = page.evaluate("() => Math.max(...[...document.querySelectorAll('#documents th')]"
                              ".filter(th => th.innerText.includes('状态')).map(th => th.getBoundingClientRect().right))")
        assert 0 < right <= 1280  # the last column is not pushed off the page by the long name
        open_tab(page, "问答")
        assert "提前多少天书面通知可以终止合同？" in page.locator("#examples-zh").inner_text()
        open_tab(page, "知识库")
        page.once("dialog", lambda dialog: dialog.dismiss())  # Cancel: nothing is deleted
        page.locator("#clear-all").click()
        time.sleep(1.5)
        assert "report.pdf" in page.locator("#documents").inner_text()
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#clear-all").click()
        wait_text(page, "#ingest-report", "你的文档已全部删除")
    finally:
        context.close()


def test_lang_in_the_address_overrides_the_browsers_language(browser, server):
    """A walkthrough: `?lang=zh` did nothing on an English browser. The page's labels and the server's own text
    follow it; `?lang=en` gives a Chinese browser the English page."""
    for locale, address, tab, status in (("en-US", "?lang=zh", "问答", "问答模型"), ("zh-CN", "?lang=en", "Chat", "Chat model")):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            page.goto(server + address)
            page.get_by_role("tab", name=tab).wait_for(timeout=30_000)
            wait_text(page, "#status-line", status)
        finally:
            context.close()


def test_a_phone_sees_every_tab_in_one_row(browser, server):
    """A walkthrough on a 390 px phone: Gradio put two of the four tabs behind a "⋯" menu."""
    for locale in ("en-US", "zh-CN"):
        context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            page.goto(server)
            page.locator("button[role=tab]").first.wait_for(timeout=30_000)
            tabs = [t for t in page.locator("button[role=tab]").all() if t.is_visible()]
            assert len(tabs) == 4, [t.inner_text() for t in tabs]
            assert len({round(t.bounding_box()["y"]) for t in tabs}) == 1  # one row, not wrapped
            if locale == "en-US":  # the answer's sources come before the question box, not after the examples
                open_tab(page, "Chat")
                top = {e: page.locator(e).bounding_box()["y"] for e in ("#chatbot", "#sources", "#question")}
                assert top["#chatbot"] < top["#sources"] < top["#question"], top
        finally:
            context.close()


def test_gradio_client_example(server, files, alice):
    """examples/client_example.py (the README's API example) works against the real app, in its own session."""
    spec = importlib.util.spec_from_file_location("client_example", ROOT / "examples" / "client_example.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    result = example.main(server, str(files["contract"]), "What law governs this agreement?")
    assert [row[0] for row in result["documents"]] == ["contract.pdf"]  # not alice's report.pdf
    assert "contract.pdf — page 3" in result["sources"] and "State of New York" in result["sources"]
    assert result["answer"].strip() and "Confidence" in result["confidence"]
    assert result["review_status"].startswith("✅ Review done")
    assert any(v in result["code_result"] for v in VERDICTS)
    assert result["left_after_delete"] == [] and "contract.pdf" in result["delete_message"]
    with urllib.request.urlopen(server + "metrics", timeout=5) as response:
        metrics = response.read().decode()
    assert 'dka_request_latency_seconds{event="chat",quantile="0.99"}' in metrics
    assert 'dka_requests_total{event="ingest",outcome="ok"}' in metrics and "dka_queue_length 0" in metrics
    assert float(metrics.split("\ndka_generated_tokens_total ")[1].split()[0]) > 0


def test_upload_over_the_size_limit_is_refused_by_the_server(server, tmp_path):
    """A 200 MB upload (over the 100 MB limit) is refused at the door; the app keeps serving."""
    from gradio_client import Client, handle_file

    big = tmp_path / "huge.pdf"
    with open(big, "wb") as handle:
        handle.truncate(200 * 2**20)
    client = Client(server, verbose=False)
    with pytest.raises(Exception, match=r"(?i)(too large|exceeds|maximum|413|size)"):
        client.predict([handle_file(str(big))], api_name="/ingest")
    with urllib.request.urlopen(server + "metrics", timeout=5) as response:
        assert response.status == 200
