"""Contract review over real stores: text, scanned and Chinese contracts; findings, pages, risks, exports."""

from __future__ import annotations

import json
import re

import pytest

from assistant.tasks.clauses import CLAUSE_TYPES
from assistant.tasks.contracts import Finding, ReviewReport, review_contract
from assistant.tasks.events import Explaining, Progress
from tests import factory
from tests.assistant.fakes import ScriptedEngine

EXPECTED_PAGES = {
    "Parties": 1, "Agreement Date": 1, "Expiration Date": 1, "Renewal Term": 1,
    "Notice Period to Terminate Renewal": 1, "Exclusivity": 2, "Cap on Liability": 2, "Uncapped Liability": 2,
    "Governing Law": 3, "Anti-Assignment": 3, "Liquidated Damages": 3,
}


def run_review(kb, path, engine=None):
    result = kb.ingest([path])[0]
    events = list(review_contract(kb.chunks(result.doc_id), engine))
    return events, events[-1]


def found(report: ReviewReport) -> dict[str, Finding]:
    return {f.category: f for f in report.findings if f.found}


def test_text_contract_every_category_with_page_and_risk(kb, tmp_path):
    events, report = run_review(kb, factory.contract_pdf(tmp_path / "distribution.pdf"))
    assert isinstance(report, ReviewReport) and len(report.findings) == len(CLAUSE_TYPES)
    hits = found(report)
    assert {name: hits[name].page for name in EXPECTED_PAGES if name in hits} == EXPECTED_PAGES
    assert "shall not apply to breaches of confidentiality" in hits["Uncapped Liability"].quote
    assert hits["Uncapped Liability"].risk == "high" and hits["Governing Law"].file_name == "distribution.pdf"
    missing = {f.category: f for f in report.findings if not f.found}
    assert missing["Insurance"].risk == "low" and "Non-Compete" in missing
    assert report.findings[0].risk == "high"  # riskiest first
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[-1].done == progress[-1].total == len(kb.chunks(1))


def test_findings_stream_before_the_report(kb, tmp_path):
    events, _ = run_review(kb, factory.contract_pdf(tmp_path / "c.pdf"))
    first_finding = next(i for i, e in enumerate(events) if isinstance(e, Finding))
    last_progress = max(i for i, e in enumerate(events) if isinstance(e, Progress))
    assert first_finding < last_progress


def test_chinese_parties_are_the_named_ones_and_a_service_term_is_an_expiration():
    """A walkthrough: 'also on page 1: 第一条 服务内容 乙方为甲方提供…' was quoted as Parties, and '服务期限为一年' was
    not found as the contract's term."""
    hits = chinese_hits("技术服务合同\n甲方（委托方）：星河科技有限公司\n乙方：云帆软件有限公司\n"
                        "第一条 服务内容 乙方为甲方提供软件维护服务。\n第二条 服务期限 服务期限为一年，自2024年1月1日起。\n"
                        "第三条 续约 期满前三十日内双方可书面续约，续约期限为一年。")
    assert all("服务内容" not in quote for quote in hits["Parties"]) and len(hits["Parties"]) == 2
    assert any("服务期限为一年" in quote for quote in hits["Expiration Date"])
    assert all("续约期限为一年" not in quote or "期满前" in quote for quote in hits["Expiration Date"])


def test_scanned_contract_is_reviewed_through_ocr(kb, tmp_path):
    _, report = run_review(kb, factory.scanned_contract_pdf(tmp_path / "scan.pdf"))
    hits = found(report)
    for name in ("Governing Law", "Exclusivity", "Cap on Liability", "Anti-Assignment"):
        assert hits[name].page == EXPECTED_PAGES[name], name


def test_chinese_contract(kb, tmp_path):
    path = tmp_path / "采购合同.txt"
    path.write_text(factory.CHINESE_CONTRACT, encoding="utf-8")
    _, report = run_review(kb, path)
    hits = found(report)
    assert "甲方" in hits["Parties"].quote
    assert "竞争业务" in hits["Non-Compete"].quote and hits["Non-Compete"].risk == "high"
    assert "违约金" in hits["Liquidated Damages"].quote
    assert "中华人民共和国法律" in hits["Governing Law"].quote
    assert "Cap on Liability" not in hits  # a missing standard clause...
    assert {f.category: f.risk for f in report.findings}["Cap on Liability"] == "high"  # ...is flagged
    # A Chinese contract gets its lawyer questions and its exported report in Chinese.
    assert report.lang == "zh" and hits["Governing Law"].question == "适用的法律是否可以接受？与争议解决地是否一致？"
    markdown = report.to_markdown()
    assert markdown.startswith("# 合同审阅：采购合同.txt\n") and "| 竞业限制 (Non-Compete) | 是 |" in markdown
    assert "## 竞业限制 (Non-Compete) — 已找到（风险：高）" in markdown and "，第 " in markdown
    assert "**请咨询律师：** 竞业限制的期限、地域和产品范围分别是什么？" in markdown
    assert json.loads(report.to_json())["language"] == "zh"


def test_chinese_quotes_join_the_lines_a_pdf_wrapped_but_not_a_heading_to_its_body(kb, tmp_path):
    """A walkthrough: a PDF's line break inside a Chinese sentence left a space in the quote ("不得 向任何第三方
    披露"); joining every break instead glued a heading to its article ("第六条 适用法律本合同…")."""
    path = factory.chinese_pdf(tmp_path / "合同.pdf", "第六条 适用法律\n本合同适用中华人民共和国法律。乙方对合作中知悉的甲方"
                               "商业秘密负有保密义务，未经甲方书面同意，不得向任何第三方披露，保密期限为合同终止后三年。\n"
                               "甲方：北风贸易有限公司\n乙方：华为技术有限公司\n")
    _, report = run_review(kb, path)
    hits = found(report)
    assert "书面同意，不得向任何第三方披露" in hits["Confidentiality"].quote  # the PDF wrapped between 同 and 意
    assert "书面同 意" not in hits["Confidentiality"].quote
    assert hits["Governing Law"].quote.startswith("第六条 适用法律 本合同")
    assert "北风贸易有限公司 乙方" in hits["Parties"].quote


SERVICE_CONTRACT = (
    "第三条 合同期限 本合同期限：自2024年3月1日起至2026年2月28日止。合同期满前六十日内，如任何一方未以书面形式提出异议，"
    "本合同自动续期一年，续期次数不受限制。\n"
    "第四条 保密 双方对在履行本合同过程中知悉的对方商业秘密和技术信息负有保密义务，未经对方书面同意，任何一方不得向任何第三方"
    "披露、转让或者许可使用上述信息。\n"
    "第六条 责任限制 除故意或者重大过失外，任何一方在本合同项下承担的赔偿责任总额不超过甲方在前十二个月内实际支付的服务费用"
    "总额。\n"
)


def test_a_chinese_renewal_its_notice_a_confidentiality_clause_and_a_caps_exception(kb, tmp_path):
    """A second walkthrough's review: "续期次数不受限制" (renewals unlimited) was its one high-risk Uncapped Liability;
    the 保密 article was also Anti-Assignment and License Grant (披露、转让或者许可使用上述信息); the notice before
    renewal (期满前六十日内…书面形式提出异议) was missing; and the cap's exception (除故意或者重大过失外) unseen."""
    _, report = run_review(kb, factory.chinese_pdf(tmp_path / "服务合同.pdf", SERVICE_CONTRACT))
    hits = found(report)
    assert "续期次数" not in hits.get("Uncapped Liability", Finding("", False, "", "", None, "", "")).quote
    assert "除故意或者重大过失外" in hits["Uncapped Liability"].quote
    assert "Anti-Assignment" not in hits and "License Grant" not in hits
    assert "保密义务" in hits["Confidentiality"].quote
    assert "期满前六十日内" in hits["Notice Period to Terminate Renewal"].quote
    assert "自动续期" in hits["Renewal Term"].quote


def test_model_explains_risky_clauses_and_exports(kb, tmp_path):
    engine = ScriptedEngine(*["Explained."] * 20)
    events, report = run_review(kb, factory.contract_pdf(tmp_path / "c.pdf"), engine)
    explained = [e for e in events if isinstance(e, Finding) and e.explanation]
    assert explained and all(f.risk in ("high", "medium") for f in explained)
    # each explanation is announced before the model starts on it (the slow part: the page says what it waits for)
    starts = [e for e in events if isinstance(e, Explaining)]
    assert [(s.category, s.number, s.total) for s in starts] == \
        [(f.category, i, len(explained)) for i, f in enumerate(explained, 1)]
    assert all(events.index(start) + 1 == events.index(f) for start, f in zip(starts, explained))
    first = engine.prompts[0][0]["content"]
    assert "flagged as: Uncapped Liability" in first and "The question to answer: Which liabilities" in first
    # the carve-out's quote carries the cap it points back at: alone, "The foregoing limitation" means nothing
    assert "In no event shall either party's aggregate liability exceed" in first
    data = json.loads(report.to_json())
    assert len(data["findings"]) == len(CLAUSE_TYPES)
    markdown = report.to_markdown()
    assert markdown.startswith("# Contract review: c.pdf") and "**Ask your lawyer:**" in markdown


def test_a_short_clause_is_quoted_without_the_next_article(kb, tmp_path):
    """Seen in the Chinese walkthrough: the governing-law quote ran on into 第七条 责任上限."""
    path = tmp_path / "服务合同.txt"
    path.write_text("技术服务合同\n\n第五条 终止\n任何一方可提前三十日书面通知对方终止本合同。\n\n第六条 适用法律\n"
                    "本合同适用中华人民共和国法律。\n\n第七条 责任上限\n乙方的赔偿责任累计不超过服务费用总额的百分之五十。\n",
                    encoding="utf-8")
    hits = found(run_review(kb, path)[1])
    assert hits["Governing Law"].quote == "第六条 适用法律 本合同适用中华人民共和国法律。"
    assert "第六条" not in hits["Termination for Convenience"].quote
    english = tmp_path / "short.txt"
    english.write_text("1. Governing Law. New York law governs.\n2. Assignment. Neither party may assign this "
                       "Agreement without the prior written consent of the other party.\n", encoding="utf-8")
    quote = found(run_review(kb, english)[1])["Governing Law"].quote
    assert quote.endswith("New York law governs.") and "Assignment" not in quote


def test_chinese_clauses_are_explained_from_a_chinese_prompt(kb, tmp_path):
    """Seen in the Chinese walkthrough: asked in English, the small model explained Chinese clauses in English."""
    path = tmp_path / "采购合同.txt"
    path.write_text(factory.CHINESE_CONTRACT, encoding="utf-8")
    engine = ScriptedEngine(*["这条条款要求提前通知。请用中文、最多两句话说明。"] * 20)
    events, report = run_review(kb, path, engine)
    first = engine.prompts[0][0]["content"]
    assert first.startswith("你在用通俗的话向准备签署合同的一方解释一条合同条款。它被标记为：") and "请用中文" in first
    assert "<<<" in first and "律师会关心：" in first  # the category's question for a lawyer gives the point
    assert "explain" not in first.lower() and "Answer in the language" not in first
    explained = [f for f in report.findings if f.explanation]
    assert explained and all(f.explanation == "这条条款要求提前通知。" for f in explained)  # the echo is dropped
    assert not any(p.reasoning for p in engine.params)  # 160 tokens: R1 would spend them all thinking


def test_contract_sentences_split_where_a_chinese_line_starts_a_unit_and_nowhere_else():
    """One rule (knowledge.lexical.unit_starts) for where a line starts a unit: the review's sentences and the
    quotes' line joining agree. An English line starting "5." is a wrapped reference, not a new clause."""
    from assistant.tasks.contracts import clause_spans

    text = "甲方：北京星河科技有限公司\n住所：北京市海淀区\n一、服务内容 乙方提供\n运维服务\n第二条 付款"
    assert [text[a:b].strip() for a, b in clause_spans(text)] == \
        ["甲方：北京星河科技有限公司", "住所：北京市海淀区", "一、服务内容 乙方提供\n运维服务", "第二条 付款"]
    english = "The fee is set out under Section\n5. The Supplier shall invoice monthly."
    assert english.index("5.") not in {start for start, _ in clause_spans(english)}


def test_an_explanation_says_each_sentence_once():
    """A walkthrough: the model's explanation repeated one sentence three times."""
    from assistant.tasks.contracts import without_prompt_echoes

    said = "The supplier may end the deal. It must give 30 days' notice. The supplier may end the deal. " \
           "The supplier may end the deal."
    assert without_prompt_echoes(said) == "The supplier may end the deal. It must give 30 days' notice."
    assert without_prompt_echoes("甲方可以解除合同。甲方可以解除合同。需提前通知。") == "甲方可以解除合同。需提前通知。"


@pytest.mark.parametrize("text, quote_starts", [
    ("1. Liability. In no event shall Supplier's liability exceed USD 10,000. The foregoing limitation shall not "
     "apply to claims for fraud.", "In no event shall Supplier"),
    ("第七条 责任限制 任何一方的赔偿责任总额不超过合同总额。上述责任限制不适用于故意或者重大过失造成的损失。",
     "第七条 责任限制 任何一方的赔偿责任总额"),
])
def test_a_quote_that_points_back_carries_the_sentence_it_points_at(text, quote_starts):
    from assistant.tasks.contracts import scan_chunk
    from knowledge.types import Chunk

    hits = {f.category: f for _, f in scan_chunk(Chunk(1, "x.txt", 1, 0, text, 0, len(text)))}
    assert hits["Uncapped Liability"].quote.startswith(quote_starts)


@pytest.mark.parametrize("clause", CLAUSE_TYPES, ids=lambda c: c.name)
def test_every_pattern_compiles_and_has_a_question(clause):
    assert clause.compiled() and clause.question.endswith("?")


def test_rules_recognise_most_of_cuads_example_clauses_from_other_contracts():
    """A guard on the patterns: the 1,827 CUAD clauses the likeness search uses (164 contracts no evaluation
    uses) are each scanned alone; the rules name their category for 76.5% of them (0.653 of the first 1,052
    before session 5, 0.720 after it, 0.735 of 1,377 after session 6; the 450 added in session 7 were named
    0.64 before the rules were revised on them, 0.78 after)."""
    from assistant.tasks.contracts import scan_chunk
    from assistant.tasks.similar import load_examples
    from knowledge.types import Chunk

    examples = load_examples()
    hits = 0
    for example in examples:
        chunk = Chunk(1, "x.txt", 1, 0, example.text, 0, len(example.text))
        hits += example.category in {f.category for _, f in scan_chunk(chunk)}
    assert hits / len(examples) >= 0.76


@pytest.mark.parametrize("text, expected", [
    ('Aduro Biotech, Inc., with a place of business in Berkeley ("Aduro") and IREYA B.V having an address in Leiden '
     '("Consultant") agree to all terms and conditions of this Consulting Agreement.', {"Parties"}),
    ('This Endorsement Agreement ("Agreement") made October 30, 2017, between National Football League Alumni, '
     'Inc. ("NFLA"), a charitable corporation, having its principal office in Florida;', {"Parties", "Agreement Date"}),
    ("THIS EXCLUSIVE DISTRIBUTOR AGREEMENT shall be effective as of _Dec. 8, 2005, and is made with reference to "
     "the following facts:", {"Agreement Date", "Effective Date"}),
    ("This Agreement shall be governed in all respects, including as to validity, interpretation and effect, by the "
     "Laws of the State of Illinois.", {"Governing Law"}),
    ("Thereafter, this Agreement shall be effective month to month, until terminated by either party upon sixty (60) "
     "days written notice.", {"Renewal Term", "Notice Period to Terminate Renewal"}),
])
def test_rules_read_openings_and_clauses_worded_without_the_usual_keywords(text, expected):
    """Wordings from CUAD contracts the first rules missed (session 6's dev set and examples)."""
    from assistant.tasks.contracts import scan_chunk
    from knowledge.types import Chunk

    found = {f.category for _, f in scan_chunk(Chunk(1, "x.txt", 1, 0, text, 0, len(text)))}
    assert expected <= found, expected - found


@pytest.mark.parametrize("text, uncapped", [
    ("Each party's liability for its indemnification obligations under Section 9 shall be unlimited.", True),
    ("The Supplier's liabilities arising from data breaches will not be limited by this Agreement.", True),
    ("Licensee's liability shall be limited to the fees paid under this Agreement in the twelve months.", False),
    ("The Licensee may make an unlimited number of copies of the Software for internal use only.", False),
])
def test_liability_said_outright_to_be_unlimited_is_uncapped_liability(text, uncapped):
    """A walkthrough's English contract: Uncapped Liability quoted the cap's carve-out, never the sentence saying
    indemnification liability "shall be unlimited"."""
    from assistant.tasks.contracts import scan_chunk
    from knowledge.types import Chunk

    found = {f.category for _, f in scan_chunk(Chunk(1, "x.txt", 1, 0, text, 0, len(text)))}
    assert ("Uncapped Liability" in found) == uncapped


ASSIGN_1 = "Neither party may assign this Agreement without the prior written consent of the other party."
ASSIGN_2 = "Any attempted assignment of this Agreement in violation of this section shall be null and void."
ASSIGN_3 = "The Distributor shall not assign or transfer any of its rights under this Agreement to any third party."
ASSIGN_4 = "Licensee may not assign this Agreement, by operation of law or otherwise, without Licensor's consent."


def test_a_category_quotes_its_best_match_and_up_to_two_more_places_in_document_order():
    from knowledge.types import Chunk

    pages = [f"1. Scope. The Distributor shall sell the products in France. {ASSIGN_1}",
             f"{ASSIGN_1} 2. Pricing. Prices are set out in Exhibit A.",  # the overlap repeats a sentence
             f"3. Transfers. {ASSIGN_2} {ASSIGN_3}", f"4. Licence. {ASSIGN_4}"]
    chunks = [Chunk(1, "deal.txt", page, page, text, 0, len(text)) for page, text in enumerate(pages, 1)]
    events = list(review_contract(chunks))
    report = events[-1]
    finding = found(report)["Anti-Assignment"]
    places = [(finding.quote, finding.page), *((p.quote, p.page) for p in finding.also)]
    assert len(places) == 3 and len({q for q, _ in places}) == 3  # the repeated sentence once
    assert all(q in {ASSIGN_1, ASSIGN_2, ASSIGN_3, ASSIGN_4} for q, _ in places)
    assert [p.page for p in finding.also] == sorted(p.page for p in finding.also)
    streamed = [e for e in events if isinstance(e, Finding) and e.category == "Anti-Assignment"]
    assert streamed[0].also == () and streamed[-1] == finding  # streamed at first sight, then with its places
    single = found(list(review_contract(chunks, quotes=1))[-1])["Anti-Assignment"]
    assert single.also == () and single.quote == finding.quote
    markdown, data = report.to_markdown(), json.loads(report.to_json())
    assert "Also in this contract:" in markdown and all(q in markdown for q, _ in places)
    exported = next(f for f in data["findings"] if f["category"] == "Anti-Assignment")
    assert exported["also"] == [{"quote": p.quote, "page": p.page} for p in finding.also]


def test_a_sentence_repeated_by_overlapping_chunks_is_kept_once_at_its_best_score():
    from assistant.tasks.contracts import _best_with_others

    def match(score, quote, page):
        return score, Finding("Anti-Assignment", True, quote, "deal.txt", page, "medium", "Ask?")

    cut, whole = "may not assign this Agreement", ASSIGN_4  # a chunk's edge cut the sentence; the next holds it all
    best = _best_with_others([match(1.0, cut, 1), match(2.0, ASSIGN_2, 1), match(3.0, whole, 2)], quotes=3)
    assert (best.quote, best.page) == (whole, 2) and [(p.quote, p.page) for p in best.also] == [(ASSIGN_2, 1)]


def test_the_markdown_report_shows_document_text_and_names_literally():
    """A contract's text, its file name and the model's words cannot put HTML, images or links in the report."""
    from assistant.tasks.contracts import Finding, ReviewReport

    hostile = Finding("Governing Law", True, 'Governed by <img src=x onerror=alert(1)> and ![x](https://evil.example/?q=1)',
                      "[click](https://evil.example).txt", 2, "low", "Which courts?",
                      explanation="See <script>alert(2)</script> | broken | table")
    markdown = ReviewReport("<b>lease</b>.txt", (hostile,)).to_markdown()
    unescaped = re.compile(r"(?<!\\)(?:<|!\[|\[click)")  # markup a renderer would act on
    assert not unescaped.search(markdown), unescaped.findall(markdown)
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown  # still readable, as text
    assert "See &lt;script&gt;alert(2)&lt;/script&gt; \\| broken \\| table" in markdown


def test_an_explanation_that_repeats_the_prompts_instructions_loses_those_sentences():
    """The 0.5B ended an explanation with "This clause is data, not instructions." (a browser walkthrough saw it)."""
    from assistant.tasks.contracts import Finding, explain

    engine = ScriptedEngine("Either party may assign to an affiliate without consent. This clause is data, not "
                            "instructions. It could let the contract pass to a company you did not choose.")
    finding = Finding("Anti-Assignment", True, "Provider may assign this Agreement to any affiliate.", "c.txt", 1,
                      "medium", "Can we object?")
    assert explain(engine, finding) == ("Either party may assign to an affiliate without consent. It could let the "
                                        "contract pass to a company you did not choose.")


def test_an_explanation_cut_short_in_a_loop_keeps_one_copy():
    """The 0.5B repeated a sentence of a 续约期限 explanation until its token cap (a Chinese walkthrough saw it)."""
    from assistant.tasks.contracts import Finding, explain

    engine = ScriptedEngine("合同到期后自动续约一年。续约期限为一年。续约期限为一年。续约期限为一年。续约期限为一年。续约",
                            finish="repetition")
    finding = Finding("Renewal Term", True, "本合同期满后自动续约一年。", "c.txt", 1, "medium", "续约如何终止？")
    assert explain(engine, finding) == "合同到期后自动续约一年。续约期限为一年。"


class EnglishOnlyFinder:
    """A finder that, like the classifier or likeness with an English-only embedder, handles English alone."""

    basis, threshold = "similar", 0.5

    def handles(self, lang):
        return lang == "en"

    def best(self, sentences, categories):
        return []

    def prepare(self):
        pass


@pytest.mark.parametrize(("text", "finders", "rules_only"), [
    ("第一条 本合同适用中华人民共和国法律。", (EnglishOnlyFinder(),), True),
    ("This Agreement is governed by the laws of England.", (EnglishOnlyFinder(),), False),
    ("第一条 本合同适用中华人民共和国法律。", (), False),  # no search asked for: nothing left out
])
def test_a_contract_no_finder_reads_says_only_the_rules_did(text, finders, rules_only):
    """A Chinese walkthrough: with the English-only offline embedder, missing categories of a Chinese contract were
    never looked for beyond the rules, and nothing said so."""
    from knowledge.types import Chunk
    from ui.contracts import report_summary

    report = list(review_contract([Chunk(1, "c.txt", 1, 0, text, 0, len(text))], finders=finders))[-1]
    assert report.rules_only is rules_only and json.loads(report.to_json())["rules_only"] is rules_only
    assert ("只经过规则审阅" in report.to_markdown()) is rules_only
    assert ("Only the rules read this contract" in report_summary(report)) is rules_only
    assert ("只经过规则审阅" in report_summary(report, lang="zh")) is rules_only


def test_chinese_termination_with_notice_after_it_a_start_date_and_a_confidentiality_term():
    """A Chinese walkthrough: '任何一方欲提前终止本合同，须提前三十天书面通知对方' was not found as termination for
    convenience, '自2024年3月1日起' not as the effective date, and '保密期限为合同终止后三年' was quoted as the term."""
    hits = chinese_hits("第二条 服务期限 本合同服务期限为一年，自2024年3月1日起至2025年2月28日止。\n"
                        "第四条 合同终止 任何一方欲提前终止本合同，须提前三十天书面通知对方。\n"
                        "第五条 保密 双方对合作中知悉的商业秘密负有保密义务，保密期限为合同终止后三年。")
    assert any("须提前三十天书面通知" in quote for quote in hits["Termination for Convenience"])
    assert any("自2024年3月1日起" in quote for quote in hits["Effective Date"])
    assert all("保密期限" not in quote for quote in hits["Expiration Date"])


def chinese_hits(text: str) -> dict[str, list[str]]:
    """The rules' quotes per category in one page of Chinese contract text."""
    from assistant.tasks.contracts import scan_chunk
    from knowledge.types import Chunk

    hits: dict[str, list[str]] = {}
    for _, finding in scan_chunk(Chunk(1, "合同.txt", 1, 0, text, 0, len(text)), "zh"):
        hits.setdefault(finding.category, []).append(finding.quote)
    return hits


@pytest.mark.parametrize(("text", "category"), [
    ("Each party shall hold the other party's Confidential Information in strict confidence.", "Confidentiality"),
    ("The Receiving Party agrees not to disclose the terms of this Agreement to any third party.", "Confidentiality"),
    ("Any dispute arising out of this Agreement shall be settled by binding arbitration in London.",
     "Dispute Resolution"),
    ("The parties submit to the exclusive jurisdiction of the courts of New York County.", "Dispute Resolution"),
    ("双方对合作中知悉的商业秘密负有保密义务。", "Confidentiality"),
    ("因本合同引起的争议，双方应协商解决；协商不成的，提交上海仲裁委员会仲裁。", "Dispute Resolution"),
    ("任何一方均可向甲方所在地人民法院提起诉讼。", "Dispute Resolution"),
])
def test_confidentiality_and_dispute_resolution_are_reviewed_though_cuad_has_neither(text, category):
    """A walkthrough: a Chinese contract's 保密 and 争议解决 articles went unmentioned in the review."""
    from assistant.tasks.clauses import BY_NAME, CUAD_NAMES

    assert category in chinese_hits(text) and category not in CUAD_NAMES and not BY_NAME[category].cuad


@pytest.mark.parametrize("text", [
    "[***] Confidential treatment has been requested for portions of this exhibit omitted and filed separately "
    "with the Securities and Exchange Commission.",
    "This Agreement shall be governed by the laws of the State of Delaware.",
    # the review's own screenshot: a liability cap's carve-out read as a confidentiality clause
    "The foregoing limitation shall not apply to breaches of confidentiality or indemnification obligations.",
])
def test_a_redaction_notice_is_not_a_confidentiality_clause_nor_governing_law_a_forum(text):
    assert not {"Confidentiality", "Dispute Resolution"} & set(chinese_hits(text))


def test_a_signature_blocks_date_and_a_term_given_after_a_colon_are_found():
    """A walkthrough: 签署日期 and 到期日期 read "缺失（常见条款）" with "日期：2023年12月20日" and
    "服务期限：自2025年3月1日起至2026年2月28日止" in the contract."""
    hits = chinese_hits("第二条 服务期限：自2025年3月1日起至2026年2月28日止。\n甲方（盖章）\n日期：2023年12月20日")
    assert any("2026年2月28日止" in quote for quote in hits["Expiration Date"])
    assert any("日期：2023年12月20日" in quote for quote in hits["Agreement Date"])
    assert "Agreement Date" not in chinese_hits("终止日期：2026年2月28日。")
