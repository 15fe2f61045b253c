"""Contract review: scan every chunk (recall first, not top-k) for CUAD clause types; rules rate the risk."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace

from assistant import prompts
from assistant.markdown import literal
from assistant.events import Done, GenerationParams, TextDelta
from assistant.generation import Engine, without_loop
from assistant.safety import document_stream
from assistant.tasks.clauses import BY_NAME, CLAUSE_TYPES, ClauseType, display_name
from assistant.tasks.events import Explaining, Progress
from assistant.tasks.similar import ClauseFinder, long_enough
from knowledge.chunking import sentence_spans
from knowledge.lexical import cjk_chars, has_cjk, rewrapped_cjk, unit_starts
from knowledge.types import Chunk

log = logging.getLogger(__name__)

RISK_ORDER = {"high": 0, "medium": 1, "low": 2, "none": 3}
MIN_QUOTE_CHARS = 60
# A category's best rule match and up to two more of its clauses: CUAD marks several places for many categories
# (assignment, liability caps), and a reviewer wants them all. 3 was chosen on the dev sets (BENCHMARKS.md).
QUOTES_PER_CATEGORY = 3
# The exported report's fixed text, in the contract's language.
REPORT_WORDS = {
    "en": {"title": "# Contract review: {document}", "columns": "| Category | Found | Page | Risk |",
           "heading": "## {name} — {status} (risk: {risk})", "where": "*{file}, page {page}*",
           "ask": "**Ask your lawyer:** {question}", "also": "Also in this contract:", "yes": "yes", "no": "no",
           "missing": "missing (a standard clause)",
           "found": "found", "not found": "not found", "possible": "possibly", "high": "high", "medium": "medium", "low": "low",
           "none": "none", "similar": "possibly found: no rule matched, but this passage is like clauses CUAD's "
                                      "annotators marked as {name} (similarity {score:.2f}); check it",
           "classifier": "possibly found: no rule matched, but a classifier trained on clauses CUAD's annotators "
                         "marked reads this passage as {name} (probability {score:.2f}); check it",
           "rules_only": "*Only the rules read this contract: the search for clauses no rule matches needs a "
                         "multilingual search model for its language, so a clause type marked not found may still "
                         "be there.*"},
    "zh": {"title": "# 合同审阅：{document}", "columns": "| 条款类型 | 是否找到 | 页码 | 风险 |",
           "heading": "## {name} — {status}（风险：{risk}）", "where": "*{file}，第 {page} 页*",
           "ask": "**请咨询律师：** {question}", "also": "合同中另见：", "yes": "是", "no": "否", "found": "已找到",
           "missing": "缺失（常见条款）",
           "not found": "未找到", "possible": "可能",
           "similar": "可能存在：没有规则匹配，但这段文字与 CUAD 标注的“{name}”条款相似（相似度 {score:.2f}），请核对",
           "classifier": "可能存在：没有规则匹配，但基于 CUAD 标注条款训练的分类器认为这段文字属于“{name}”"
                         "（概率 {score:.2f}），请核对",
           "high": "高", "medium": "中", "low": "低", "none": "无",
           "rules_only": "*本合同只经过规则审阅：查找规则未匹配的条款需要支持中文的多语言检索模型，因此标为“未找到”的条款类型"
                         "仍可能存在。*"},
}


@dataclass(frozen=True)
class Passage:
    """Another place in the contract that a category's rules match."""

    quote: str
    page: int | None


@dataclass(frozen=True)
class Finding:
    """One category's result. Streamed when found; again with `explanation` once the model has one."""

    category: str
    found: bool
    quote: str
    file_name: str
    page: int | None
    risk: str
    question: str
    explanation: str = ""
    # "rules": a pattern matched. Possible matches: "classifier" (a classifier trained on CUAD's examples of it
    # says so) or "similar" (like CUAD's examples of it).
    basis: str = "rules"
    score: float | None = None  # a possible match's: the classifier's probability, or the mean cosine likeness
    also: tuple[Passage, ...] = ()  # the category's other rule matches, in document order (same file)

    @property
    def places(self) -> tuple[Passage, ...]:
        """Every place quoted, the best first; none when the category was not found."""
        return (Passage(self.quote, self.page), *self.also) if self.found else ()

    @property
    def possible(self) -> bool:
        """Found by a search for what no rule matched, not by a rule: for a person to check."""
        return self.basis != "rules"


@dataclass(frozen=True)
class ReviewReport:
    """All categories, riskiest first."""

    document: str
    findings: tuple[Finding, ...]
    lang: str = "en"  # the contract's language ("zh" or "en"): lawyer questions and the Markdown export use it
    # Only the rules looked: the search for what no rule matched was asked for, but none handles this language
    # (Chinese needs a multilingual embedder), so a category "not found" may still be in the contract.
    rules_only: bool = False

    def to_json(self) -> str:
        return json.dumps({"document": self.document, "language": self.lang, "rules_only": self.rules_only,
                           "findings": [asdict(f) | {"status": _status(f).replace(" ", "_")} for f in self.findings]},
                          ensure_ascii=False, indent=2)

    def to_markdown(self) -> str:
        words = REPORT_WORDS.get(self.lang, REPORT_WORDS["en"])
        names = {f.category: display_name(f.category, self.lang) for f in self.findings}
        lines = [words["title"].format(document=_md(self.document)), ""]
        lines += [words["rules_only"], ""] if self.rules_only else []
        lines += [words["columns"], "|---|---|---|---|"]
        lines += [f"| {names[f.category]} | {words[found_word(f)]} | {pages_of(f)} | {words[f.risk]} |"
                  for f in self.findings]
        for f in self.findings:
            status = words[_status(f)]
            lines += ["", words["heading"].format(name=names[f.category], status=status, risk=words[f.risk])]
            if f.possible:
                lines += ["", words[f.basis].format(name=names[f.category], score=f.score or 0.0)]
            if f.found:
                lines += [f"> {_md(f.quote)}", "", words["where"].format(file=_md(f.file_name), page=f.page)]
            if f.also:
                lines += ["", words["also"]]
                for other in f.also:
                    lines += ["", f"> {_md(other.quote)}", "", words["where"].format(file=_md(f.file_name), page=other.page)]
            if f.explanation:
                lines += ["", _md(f.explanation)]
            lines += ["", words["ask"].format(question=f.question)]
        return "\n".join(lines) + "\n"


_HEADING_STATUS = {"yes": "found", "no": "not found"}  # the report's headings say "found", its table "yes"


def _status(finding: Finding) -> str:
    """found, possible, missing (a standard clause absent) or not found (an optional one): the headings' and the
    JSON's word (REPORT_WORDS key), where the table says yes and no."""
    return _HEADING_STATUS.get(found_word(finding), found_word(finding))


def pages_of(finding: Finding) -> str:
    """Every page a finding quotes, once each, the best quote's first ("2, 5, 9")."""
    return ", ".join(dict.fromkeys(str(p.page) for p in finding.places if p.page))


def _md(text: str) -> str:
    """Document text, file names and model text as literal Markdown: no HTML, links, images or table breaks."""
    return literal(" ".join(str(text).split()))


def found_word(finding: Finding) -> str:
    """The REPORT_WORDS key for a finding's found column: yes, possible (not a rule's finding), missing (a
    standard clause that is not there: its absence carries the risk shown) or no."""
    if finding.found:
        return "possible" if finding.possible else "yes"
    return "missing" if finding.risk != "none" else "no"


def contract_language(chunks: Sequence[Chunk]) -> str:
    """"zh" when the contract's opening chunks are mostly Chinese (a Chinese character ~ 3 Latin letters), else "en"."""
    text = "".join(c.text for c in chunks[:5])
    cjk = cjk_chars(text)
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "zh" if cjk and cjk * 3 >= latin else "en"


def review_contract(chunks: Sequence[Chunk], engine: Engine | None = None, cancel: threading.Event | None = None,
                    lang: str | None = None, finders: Sequence[ClauseFinder] = (),
                    quotes: int = QUOTES_PER_CATEGORY) -> Iterator[Progress | Finding | Explaining | ReviewReport]:
    """Scan every chunk; stream Progress, a Finding per category as found, then the missing ones; then, for each
    finding the model explains, Explaining as it starts and the Finding again with its explanation; then the report.

    Args:
        chunks: the whole contract, in order (`KnowledgeBase.chunks(doc_id)`).
        engine: when given, explains each risky clause found (the rules set the risk, the model explains).
        cancel: set to stop (the report then covers what was scanned).
        lang: the report's language for lawyer questions and the export; default: the contract's own.
        finders: when given, categories the rules did not find are looked for by the first finder that
            handles the contract's language; its findings are possible matches (`basis` is the finder's).
        quotes: the most places quoted per category found by the rules (the best match, then `also`).
    """
    lang = lang or contract_language(chunks)
    found = yield from _scan_rules(chunks, lang, cancel, quotes)
    finder = next((f for f in finders if f.handles(lang)), None)
    if finders and finder is None:
        log.info("possible_findings_skipped reason=no_finder_for_language lang=%s", lang)
    if finder is not None and not _stopped(cancel):
        for finding in find_possible(finder, chunks, [c for c in CLAUSE_TYPES if c.name not in found], lang):
            found[finding.category] = finding
            yield finding
    missing = [_missing(c, lang) for c in CLAUSE_TYPES if c.name not in found]
    yield from missing
    if engine is not None:
        to_explain = _to_explain(found.values())
        for number, finding in enumerate(to_explain, 1):
            if _stopped(cancel):
                break
            yield Explaining(finding.category, number, len(to_explain))
            found[finding.category] = explained = replace(finding, explanation=explain(engine, finding, cancel))
            yield explained
    name = chunks[0].file_name if chunks else ""
    yield ReviewReport(name, tuple(sorted([*found.values(), *missing], key=finding_order)), lang,
                       rules_only=bool(finders) and finder is None)


def _scan_rules(chunks: Sequence[Chunk], lang: str, cancel: threading.Event | None, quotes: int):
    """The rule pass: yields Progress and findings as they turn up; returns each category's finding.

    A category's finding quotes its best-scoring sentence (the first on ties), with up to `quotes` - 1 other
    matching sentences as `also`.
    """
    matches: dict[str, list[tuple[float, Finding]]] = {}
    for i, chunk in enumerate(chunks, 1):
        if _stopped(cancel):
            break
        for score, finding in scan_chunk(chunk, lang):
            if finding.category not in matches:
                yield finding  # stream at first sight...
            matches.setdefault(finding.category, []).append((score, finding))
        yield Progress(i, len(chunks), f"scanned {chunk.file_name} page {chunk.page}")
    found = {name: _best_with_others(places, quotes) for name, places in matches.items()}
    yield from (f for name, f in found.items() if f != matches[name][0][1])  # ...again once all are known
    return found


def _best_with_others(matches: list[tuple[float, Finding]], quotes: int) -> Finding:
    """The best-scoring match with the next best distinct ones (up to `quotes` in all) as `also`, in document order."""
    distinct: list[tuple[float, Finding]] = []
    for score, finding in matches:  # document order; overlapping chunks repeat a sentence, kept once at its best
        same = next((i for i, (_, kept) in enumerate(distinct)
                     if finding.quote in kept.quote or kept.quote in finding.quote), None)
        if same is None:
            distinct.append((score, finding))
        elif score > distinct[same][0]:
            distinct[same] = (score, finding)
    ranked = sorted(range(len(distinct)), key=lambda i: -distinct[i][0])  # stable: the first on ties
    best = distinct[ranked[0]][1]
    others = [distinct[i][1] for i in sorted(ranked[1:max(quotes, 1)])]
    return replace(best, also=tuple(Passage(f.quote, f.page) for f in others))


def _stopped(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


def scan_chunk(chunk: Chunk, lang: str = "en") -> list[tuple[float, Finding]]:
    """(score, finding) for every sentence of this chunk that some category's rules match, per category in order."""
    sentences = clause_spans(chunk.text)
    # each sentence on one line once, not once per clause type (PDF line breaks fall mid-sentence, mid-word in Chinese)
    flats = [flat(chunk.text, start, end) for start, end in sentences]
    return [(score, Finding(clause.name, True, _quote(chunk.text, sentences, index), chunk.file_name, chunk.page,
                            clause.risk_found, clause.question_in(lang)))
            for clause in CLAUSE_TYPES for score, index in _matching_sentences(clause, flats)]


def clause_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans, also split where a line of Chinese text starts a unit without a 。 before it (`unit_starts`):
    the header lines "甲方：…" and "第一条 服务内容 …" are not one sentence."""
    bounds = [0, *unit_starts(text), len(text)]
    return [(a + start, a + end) for a, b in zip(bounds, bounds[1:]) for start, end in sentence_spans(text[a:b])]


_HEADING = re.compile(r"(?:[A-Z0-9][A-Z0-9&,.()'’-]*\s+){3,}(?=[A-Z][a-z])")  # 3+ capitalised words, then prose


def _matching_sentences(clause: ClauseType, sentences: list[str]) -> list[tuple[float, int]]:
    """(score, index) of each sentence (on one line: `flat`) the clause's patterns match: how many match, plus 1
    unless heading-like.

    Heading-like: under 8 words, or matched only inside a capitalised heading glued to the sentence
    ("GOVERNING LAW AND JURISDICTION This agreement supersedes...").
    """
    patterns, excludes = clause.compiled(), clause.compiled_excludes()
    scored = []
    for index, sentence in enumerate(sentences):
        matches = [m for m in (p.search(sentence) for p in patterns) if m]
        if not matches or any(x.search(sentence) for x in excludes):
            continue
        heading = _HEADING.match(sentence) if not sentence.isupper() else None
        in_heading = heading is not None and all(m.end() <= heading.end() for m in matches)
        prose = (len(sentence.split()) >= 8 or has_cjk(sentence)) and not in_heading
        scored.append((len(matches) + (1.0 if prose else 0.0), index))
    return scored


def find_possible(finder: ClauseFinder, chunks: Sequence[Chunk], clauses: Sequence[ClauseType],
                  lang: str) -> list[Finding]:
    """Possible findings for the given categories, by a finder that handles the contract's language.

    The classifier and the examples are English; a Chinese contract is searched only by likeness with a
    multilingual embedder.
    """
    places = _sentences(chunks)
    by_name = {c.name: c for c in clauses}
    findings = []
    for match in finder.best([text for *_, text in places], list(by_name)):
        chunk, spans, index, _ = places[match.index]
        clause = by_name[match.category]
        findings.append(Finding(clause.name, True, _quote(chunk.text, spans, index), chunk.file_name, chunk.page,
                                clause.risk_found, clause.question_in(lang), basis=finder.basis, score=match.score))
    return findings


def _sentences(chunks: Sequence[Chunk]) -> list[tuple[Chunk, list[tuple[int, int]], int, str]]:
    """Every distinct sentence of the contract long enough to be a clause.

    Returns (chunk, its sentence spans, the sentence's index, its text with whitespace collapsed) each.
    """
    places, seen = [], set()
    for chunk in chunks:
        spans = clause_spans(chunk.text)
        for index, (start, end) in enumerate(spans):
            text = " ".join(chunk.text[start:end].split())
            if long_enough(text) and text not in seen:  # chunks overlap: a sentence once
                seen.add(text)
                places.append((chunk, spans, index, text))
    return places


# Where a new clause begins: "第七条", "Article 7", "Section 7.2", "12. Governing…" (the next clause is not context)
_CLAUSE_START = re.compile(r"\s*(?:第[一二三四五六七八九十百零〇两\d]+条|(?:article|section|clause)\s+[\dIVXivx]+\b"
                           r"|\d+(?:\.\d+)*[.)]?\s+[A-Z])", re.IGNORECASE)


# A sentence that opens by pointing back ("The foregoing limitation shall not apply to…", "上述责任限制…") says
# nothing alone: the reader (and the model explaining it) needs the sentence it points at
_REFERS_BACK = re.compile(
    r"\s*(?:(?:notwithstanding|subject to|except for|except as (?:set forth|provided) in)\s+)?(?:the\s+)?"
    r"(?:foregoing|above|preceding|aforementioned|aforesaid)\b"
    r"|\s*(?:such|this|these|that)\s+(?:limitations?|limits?|caps?|exclusions?|restrictions?|waivers?)\b"
    r"|\s*(?:上述|前述|前款|上款)", re.IGNORECASE)


def _quote(text: str, sentences: list[tuple[int, int]], index: int) -> str:
    """The matching sentence on one line (`flat`), plus the one before when it opens by pointing back ("The
    foregoing limitation…"), and the next one when it is too short to stand alone and the clause goes on.

    Short is under MIN_QUOTE_CHARS (a third of that for Chinese, which says as much in fewer characters).
    """
    start, end = sentences[index]
    if index > 0 and _REFERS_BACK.match(text, start):
        start = sentences[index - 1][0]
    minimum = MIN_QUOTE_CHARS // 3 if has_cjk(text[start:end]) else MIN_QUOTE_CHARS
    if end - start < minimum and index + 1 < len(sentences):
        following = sentences[index + 1]
        if not _CLAUSE_START.match(text, following[0]):
            end = following[1]
    return flat(text, start, end)


def flat(text: str, start: int, end: int) -> str:
    """text[start:end] on one line: a Chinese line the PDF wrapped is joined without a space (`rewrapped_cjk`),
    other line breaks and runs of spaces become one space."""
    return " ".join(rewrapped_cjk(text, start, end).split())


def _missing(clause: ClauseType, lang: str) -> Finding:
    return Finding(clause.name, False, "", "", None, clause.risk_missing, clause.question_in(lang))


def _to_explain(findings) -> list[Finding]:
    return sorted((f for f in findings if RISK_ORDER[f.risk] <= RISK_ORDER["medium"]), key=finding_order)


def explain(engine: Engine, finding: Finding, cancel: threading.Event | None = None) -> str:
    """The model's short explanation of a clause (its visible answer only, not its reasoning)."""
    if has_cjk(finding.quote):  # asked in Chinese: asked in English, small models explain Chinese clauses in English
        prompt = prompts.CLAUSE_EXPLAIN_ZH.render(category=display_name(finding.category, "zh"),
                                                  question=BY_NAME[finding.category].question_in("zh"),
                                                  file_name=finding.file_name, page=finding.page, quote=finding.quote)
    else:
        prompt = prompts.CLAUSE_EXPLAIN.render(category=finding.category,
                                               description=BY_NAME[finding.category].description,
                                               question=BY_NAME[finding.category].question_in("en"),
                                               file_name=finding.file_name, page=finding.page, quote=finding.quote)
    params = GenerationParams(max_new_tokens=160, temperature=0.0, reasoning=False)  # R1 would think it all away
    # the quote is document text: the word filter masks the explanation but does not refuse it
    events = list(document_stream(engine)([{"role": "user", "content": prompt}], params, cancel))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    if any(isinstance(e, Done) and e.finish_reason == "repetition" for e in events):
        text = without_loop(text)  # the engine stopped a loop: one copy is kept
    return without_prompt_echoes(" ".join(text.split()))


def without_prompt_echoes(explanation: str) -> str:
    """The explanation without sentences that repeat the prompt's own instructions or an earlier sentence (small
    models do both; a walkthrough saw one sentence three times)."""
    sentences = [explanation[start:end].strip() for start, end in sentence_spans(explanation)]
    kept = [s for s in dict.fromkeys(sentences)
            if s and not any(echo in s.lower() for echo in prompts.CLAUSE_EXPLAIN_ECHOES)]
    return _AFTER_CJK_STOP.sub("", " ".join(kept)).strip()  # Chinese sentences follow each other without a space


_AFTER_CJK_STOP = re.compile(r"(?<=[。！？；]) +")


def finding_order(finding: Finding) -> tuple[int, int, str]:
    """The report's order, also the screen's: highest risk first, found before not found, then by name."""
    return (RISK_ORDER[finding.risk], 0 if finding.found else 1, finding.category)
