"""Grounded chat: retrieve for the (rewritten) question, answer from numbered sources with [n] citations."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from assistant import prompts
from assistant.answerability import Verdict
from assistant.events import Done, Event, GenerationParams, Notice, TextDelta, Usage
from assistant.generation import Engine, without_loop
from assistant.reasoning import Message
from assistant.safety import document_stream
from assistant.tasks.events import Answer, Source, Sources, SummaryScope
from assistant.tasks.grounding import (absent_numbers, off_question, repeats_question, unsupported_numbers,
                                       unsupported_words)
from assistant.tasks.phrasing import without_instructions
from assistant.tasks.summary import (REQUEST_TERMS, is_summary_request, name_terms, named_documents, spread_chunks,
                                     whole_documents)
from knowledge.chunking import sentence_spans
from knowledge.lexical import cjk_chars, has_cjk, query_terms, terms
from knowledge.types import SearchResult

log = logging.getLogger(__name__)

_CITATION = re.compile(r"\[(\d{1,3})\]")
# The dot of "Ltd." or "etc." ends no sentence when the sentence goes on in lower case, or with "[1]." after it;
# a title's ("Dr. Smith") or a company's ("Northwind Traders Ltd. Employee Handbook") before any word
_ABBREVIATION_DOT = "|".join(rf"(?<=\b{a})" for a in "Ltd Inc Co Corp Mr Mrs Ms Dr St No vs etc".split())
_NAME_DOT = "|".join(rf"(?<=\b{a})" for a in "Ltd Inc Corp Mr Mrs Ms Dr".split())
_SENTENCE = re.compile(rf"(?:[^.!?。！？\n]|[.!?](?=\w)|(?:{_ABBREVIATION_DOT})\.(?=[ \t]+[a-z0-9]|[ \t]*\[\d+\][.!?])"
                       rf"|(?:{_NAME_DOT})\.(?=[ \t]+[A-Z]))+[.!?。！？]*")  # "3.5", "report.pdf", "a@b.example" too
_INJECTION = re.compile(
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier|preceding) (?:instructions|prompts?|rules)"
    r"|disregard (?:all |any )?(?:the )?(?:previous|prior|above|earlier) |you are now |new instructions?:"
    r"|system (?:prompt|notice|message|override)|(?:answer|reply|respond) (?:to )?(?:every|all|any) questions? with"
    r"|忽略(?:之前|以上|前面|上述)?的?(?:所有)?(?:指令|指示|提示)|你现在是|系统(?:提示|指令)",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
# How sure a refusal is when the question's own number is in no passage: a rule, not a measurement (the passages
# might write the number in a form the check does not read, "MMXXIII" for 2023)
ABSENT_NUMBER_CONFIDENCE = 0.9
_SPACED_CITATION = re.compile(r"[ \t]*\[(\d{1,3})\]")
_TRAILING_CITATION = re.compile(r"([.!?。！？])\s*((?:\[\d{1,3}\])+)(?![.!?。！？])")  # "Ltd. [1]." is not one


class Retriever(Protocol):
    """What chat needs from the knowledge base."""

    def search(self, query: str, k: int = 5) -> list[SearchResult]: ...


@dataclass(frozen=True)
class ChatOptions:
    """Retrieval and refusal knobs (defaults tuned on the dev sets; see BENCHMARKS.md).

    Attributes:
        k: sources given to the model.
        min_dense: a source is relevant if its cosine similarity to the question reaches this...
        min_coverage: ...or if this fraction of the question's terms appear in it.
        min_coverage_words_only: the fraction when no result has a dense score (the embedder cannot read the
            question's language): words are then the only evidence (CMRC 2018: 42 of 43 questions keep their
            paragraph at 0.5, 37 at 0.6).
        rewrite: rewrite follow-up questions with the conversation before retrieving.
        answerability: refuse when the engine's answerability probe says the sources do not answer the
            question (engines without a probe: no effect).
        max_new_tokens: answer length cap.
        summary_passages: passages a request to summarise whole documents gets, spread over them (0: such
            requests are searched like any question).
        question_numbers: answer "not in your documents" without asking the model when the question states a
            number (a year, a century, a version) that none of the passages holds.
    """

    k: int = 5
    min_dense: float = 0.45
    min_coverage: float = 0.6
    rewrite: bool = True
    max_new_tokens: int | None = None
    answerability: bool = True
    summary_passages: int = 8
    min_coverage_words_only: float = 0.5
    question_numbers: bool = True


def answer(engine: Engine, retriever: Retriever, question: str, history: Sequence[Message] = (),
           options: ChatOptions = ChatOptions(), cancel: threading.Event | None = None) -> Iterator[Event]:
    """Stream a grounded answer: Sources, then the model's events, then Answer, then Done.

    Args:
        engine: the chat model.
        retriever: the visitor's knowledge base.
        question: the user's latest message.
        history: earlier turns as {"role", "content"} (visible text only).
        options: retrieval/refusal settings.
        cancel: set to stop generation.

    The operator's word filter (when the engine has one) checks the question itself, before anything is
    retrieved: the prompt also holds document passages, and a document's words are never a reason to refuse.
    """
    refusal = refused(engine, question)
    if refusal is not None:
        yield refusal
        yield Done("stop", Usage(0, 0))
        return
    query = rewrite_question(engine, question, history, cancel) if options.rewrite and history else question
    sources, scope = summary_sources(retriever, [query, question], options)
    asked = without_instructions(question)  # what to look for: "Answer in one word:" is about the reply
    if scope is None:
        sources = retrieve(retriever, asked, without_instructions(query), options)
    yield Sources(tuple(sources), query, scope)
    if not sources:
        yield from _not_found(question, confidence=1.0)
        return
    absent = absent_numbers(asked, sources) if options.question_numbers and not scope else ()
    if absent:
        log.info("question numbers absent from every passage: %s", absent)
        yield from _not_found(question, confidence=ABSENT_NUMBER_CONFIDENCE, absent=absent)
        return
    messages = build_messages(question, sources, history)
    # A summary's passages are the named document itself: there is no question for the probe to find unanswered
    verdict = answerability(engine, messages, language(question)) if options.answerability and not scope else None
    if verdict is not None and verdict.refuse:
        log.info("answerability probe refuses p=%.3f threshold=%.3f", verdict.probability, verdict.threshold)
        yield from _not_found(question, confidence=verdict.probability, unanswerable=verdict.probability)
        return
    text, done = [], None
    for event in document_stream(engine)(messages, GenerationParams(max_new_tokens=options.max_new_tokens), cancel):
        if isinstance(event, Done):
            done = event
            continue
        if isinstance(event, TextDelta):
            text.append(event.text)
        yield event
    raw = "".join(text)
    if done is not None and done.finish_reason == "repetition":
        raw = without_loop(raw)  # the engine stopped a loop: its copies leave the answer
    final = finish_answer(raw, sources, language(question), question)
    yield final if verdict is None else replace(final, unanswerable=round(verdict.probability, 4))
    yield done or Done("error", Usage(0, 0))


def retrieve(retriever: Retriever, question: str, query: str, options: ChatOptions) -> list[Source]:
    """The relevant passages for the (rewritten) query, merged with those for the question as asked (a rewrite can
    spoil one that stands on its own) and, after a long pasted text, for the question alone (the text's words drown
    it). A question that cannot stand alone ("And what about a material breach?", "那违约呢？") is not searched as asked:
    its few words would outrank the passages the conversation is about."""
    sources = select_sources(retriever.search(query, options.k), query, options)
    alone = [] if query != question and _FOLLOW_UP.search(question) else [question, last_sentence(question)]
    for also in [q for q in dict.fromkeys(alone) if q != query]:
        sources = merge_sources(sources, select_sources(retriever.search(also, options.k), also, options), options.k)
    return sources


_FOLLOW_UP = re.compile(r"^\s*(?:and|also|but|so|what about|how about|same for)\b|^\s*(?:那么?|还有|另外)"
                        r"|^[^.!?。！？]{0,30}呢[？?]?\s*$", re.IGNORECASE)


def summary_sources(retriever: Retriever, asked: Sequence[str],
                    options: ChatOptions) -> tuple[list[Source], SummaryScope | None]:
    """For a request to summarise whole documents (the first of `asked` that is one), passages spread evenly over
    them in reading order; ([], None) for any other question, or when the retriever cannot hand documents over.

    Every passage is the named document's own text: its relevance is 1.
    """
    for text in dict.fromkeys(asked):
        if options.summary_passages <= 0 or not is_summary_request(text):
            continue
        documents = named_documents(text, whole_documents(retriever))
        chunks, total = spread_chunks(documents, options.summary_passages) if documents else ([], 0)
        if chunks:
            sources = [Source(i, c.file_name, c.page, c.text, 1.0) for i, c in enumerate(chunks, start=1)]
            log.info("summary_sources documents=%d used=%d total=%d", len(documents), len(chunks), total)
            return sources, SummaryScope(tuple(dict.fromkeys(c.file_name for c in chunks)), len(chunks), total)
    return [], None


def select_sources(results: list[SearchResult], query: str, options: ChatOptions) -> list[Source]:
    """Keep the relevant results, numbered from 1, best first.

    A result is relevant by dense similarity, or by its share of the question's terms (those that are not
    request words such as "summarise"; its file name counts too). A question of request words alone ("总结一下这份
    文档") wants the documents themselves: every result just passes.
    """
    asked = set(query_terms(query))
    wanted = asked - REQUEST_TERMS
    # No dense score at all: the search ran on words alone (Chinese with an English-only embedder)
    min_coverage = options.min_coverage_words_only if all(r.dense_score is None for r in results) \
        else options.min_coverage
    sources = []
    for result in results:
        coverage = _coverage(result, wanted) if wanted or not asked else min_coverage
        dense = result.dense_score or 0.0
        if dense >= options.min_dense or coverage >= min_coverage:
            # relevance, 0..1: the better of dense cosine similarity and query-term coverage.
            relevance = min(1.0, max(dense, coverage))
            sources.append(Source(len(sources) + 1, result.file_name, result.page, result.text, round(relevance, 3),
                                  None if result.dense_score is None else round(dense, 3),
                                  round(coverage, 3) if wanted else None))
    return sources


LONG_QUESTION_CHARS = 600


def last_sentence(question: str) -> str:
    """The last sentence of a long question (the question after a pasted text), at most its last line and 40 words
    (150 characters of Chinese); a short question as it is.

    A pasted page of other words drowns the question's own terms: in a walkthrough, 8,000 characters of filler and
    then "What is the help desk extension?" found no passage.
    """
    if len(question) <= LONG_QUESTION_CHARS:
        return question
    spans = sentence_spans(question)
    last = question[spans[-1][0]:spans[-1][1]] if spans else question
    last = last.splitlines()[-1].strip() or last  # a line of its own after the text
    if len(last) > LONG_QUESTION_CHARS // 2:  # no sentence end in the pasted text: its last words
        last = last[-LONG_QUESTION_CHARS // 4:] if has_cjk(last) else " ".join(last.split()[-40:])
    return last


def merge_sources(first: list[Source], second: list[Source], k: int) -> list[Source]:
    """The k most relevant of both lists (the same passage once), renumbered from 1."""
    seen, merged = set(), []
    for source in sorted([*first, *second], key=lambda s: -s.relevance):
        key = (source.file_name, source.page, source.text)
        if key not in seen:
            seen.add(key)
            merged.append(source)
    return [replace(source, number=i) for i, source in enumerate(merged[:k], start=1)]


def _coverage(result: SearchResult, wanted: set[str]) -> float:
    """The share of the wanted terms in the result's text or its file's name ("the lease" names lease.pdf)."""
    if not wanted:
        return 0.0
    have = set(terms(result.text)) | name_terms(result.file_name.rsplit(".", 1)[0])
    return len(wanted & have) / len(wanted)


def build_messages(question: str, sources: list[Source], history: Sequence[Message] = ()) -> list[Message]:
    """System rules, earlier visible turns, then the sources and question in the last user turn."""
    block = "\n\n".join(prompts.SOURCE.render(number=s.number, file_name=s.file_name, page=s.page,
                                               text=neutralise_instructions(s.text)) for s in sources)
    lang = language(question)
    system_template, user_template = prompts.CHAT_PROMPTS[lang]
    system = system_template.render(not_found=prompts.NOT_FOUND[lang])
    user = user_template.render(sources=block, question=question, not_found=prompts.NOT_FOUND[lang])
    return [{"role": "system", "content": system}, *answered_turns(history), {"role": "user", "content": user}]


def answered_turns(history: Sequence[Message]) -> list[Message]:
    """Earlier user/assistant turns without the exchanges the assistant refused.

    A small model shown its own "not in your documents" copies it: in a browser walkthrough, after one refusal
    the 0.5B refused 5 of 6 answerable questions it answered in a fresh chat. (The rewrite still sees them.)
    """
    turns = [{"role": m["role"], "content": m["content"]} for m in history if m["role"] in ("user", "assistant")]
    refused = {i for i, m in enumerate(turns) if m["role"] == "assistant" and _is_refusal(m["content"])}
    refused |= {i - 1 for i in refused if i > 0 and turns[i - 1]["role"] == "user"}
    return [m for i, m in enumerate(turns) if i not in refused]


def _is_refusal(text: str) -> bool:
    return any(_is_not_found(text, lang) for lang in prompts.NOT_FOUND)


def neutralise_instructions(text: str) -> str:
    """Replace sentences of document text that try to instruct the assistant (prompt injection).

    The UI still shows the passage as it is; only the model's copy is changed.
    """
    out = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        out.append(prompts.REDACTED_INSTRUCTION if _INJECTION.search(sentence) else sentence)
    return " ".join(out)


def finish_answer(text: str, sources: list[Source], lang: str, question: str = "") -> Answer:
    """Parse citations and score confidence once the answer is complete (details no source holds halve it)."""
    numbers = [int(n) for n in _CITATION.findall(text)]
    valid = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= len(sources)))
    invalid = tuple(dict.fromkeys(n for n in numbers if not 1 <= n <= len(sources)))
    if _is_not_found(text, lang):
        return Answer(text.strip(), (), confidence=round(1 - max(s.relevance for s in sources), 2), not_found=True)
    text, added = attribute(_without_source_headers(text, sources), sources)
    text = _without_markers_beyond(text, len(sources))
    cited = tuple(dict.fromkeys(n for n in map(int, _CITATION.findall(text)) if 1 <= n <= len(sources)))
    numbers, words = unsupported_numbers(text, sources), unsupported_words(text, sources, question)
    elsewhere, echo = off_question(text, sources, question, cited), repeats_question(text, question)
    trust = confidence(text, sources, cited, invalid) * (0.5 if numbers or words or elsewhere or echo else 1.0)
    return Answer(text.strip(), cited, round(trust, 2), invalid_citations=invalid,
                  attributed=tuple(n for n in added if n not in valid), unsupported_numbers=numbers,
                  unsupported_words=words, off_question=elsewhere, repeats_question=echo)


def _without_source_headers(text: str, sources: list[Source]) -> str:
    """Drop copies of the prompt's source headers ("[1] report.pdf, page 3:", any case) and source lists the model
    wrote itself ("来源： [1] report.pdf，第 3 页"): small models echo them, and the page lists the cited sources."""
    for source in sources:
        header = re.escape(f"{source.file_name}, page {source.page}:")
        text = re.sub(rf"(?:\[\d{{1,3}}\]\s*)?{header}[ \t]*", "", text, flags=re.IGNORECASE)
    names = sorted({s.file_name for s in sources}, key=len, reverse=True)
    kept = [line for line in text.splitlines() if not _is_source_list_line(line, names)]
    return "\n".join(kept)


_SOURCE_LABEL = re.compile(r"^\W*(?:来源|资料来源|参考来源|出处|参考|sources?|references?|citations?)\W*[:：]", re.IGNORECASE)
_PAGE_MENTION = re.compile(r"第\s*\d+\s*页|\b(?:pages?|pp?\.)\s*\d+", re.IGNORECASE)


def _is_source_list_line(line: str, names: list[str]) -> bool:
    """A line that only lists sources: an optional "Sources:" label, markers, file names, page numbers, punctuation."""
    rest = _SOURCE_LABEL.sub("", line)
    labelled = rest != line
    for name in names:
        rest = re.sub(re.escape(name), "", rest, flags=re.IGNORECASE)
    named = len(rest) < len(_SOURCE_LABEL.sub("", line))
    rest = _PAGE_MENTION.sub("", _CITATION.sub("", rest))
    return (labelled or named) and bool(line.strip()) and not re.sub(r"[\W_]", "", rest)


def _without_markers_beyond(text: str, count: int) -> str:
    """Drop [n] markers that point at no source (attribution left them): a reader must not look for a [3] that isn't."""
    return _SPACED_CITATION.sub(lambda m: m.group() if 1 <= int(m.group(1)) <= count else "", text)


def attribute(text: str, sources: list[Source], min_support: float = 0.6) -> tuple[str, tuple[int, ...]]:
    """Check each answer sentence's [n] against the sources; add or re-point markers where one source clearly holds it.

    Small models often answer right but forget the marker, or cite the wrong passage. A source holds a
    sentence (of at least two content terms) when it has `min_support` of the sentence's content terms
    and every number the sentence states ("founded in 911": a passage about the duchy without "911"
    does not hold it). A sentence no cited source holds gets the holding source with the largest share;
    if none holds the numbers too, the content share alone decides (as before numbers were checked);
    otherwise it is left as the model wrote it. Returns the new text and the numbers put in.
    """
    text = _TRAILING_CITATION.sub(r" \2\1", text)
    source_terms = {s.number: set(terms(s.text)) for s in sources}
    source_numbers = {s.number: set(_DIGITS.findall(s.text)) for s in sources}
    added: list[int] = []

    def check(match: re.Match) -> str:
        sentence = match.group()
        claim = _CITATION.sub(" ", sentence)
        wanted = set(query_terms(claim))
        if len(wanted) < 2 or not source_terms:
            return sentence
        support = {n: len(wanted & have) / len(wanted) for n, have in source_terms.items()}
        numbers = set(_DIGITS.findall(claim))
        cited = [int(n) for n in _CITATION.findall(sentence)]
        best = (_best_holder(support, min_support, cited, lambda n: numbers <= source_numbers.get(n, set()))
                if numbers else None)
        if best is None:
            best = _best_holder(support, min_support, cited, lambda n: True)
        if best is None:
            return sentence
        added.append(best)
        tail = sentence[len(sentence.rstrip(".!?。！？ ")):]
        return f"{_CITATION.sub('', sentence[:len(sentence) - len(tail)]).rstrip()} [{best}]{tail}"

    return _SENTENCE.sub(check, text), tuple(dict.fromkeys(added))


def _best_holder(support: dict[int, float], min_support: float, cited: list[int], holds_numbers) -> int | None:
    """The source to cite instead, or None: when a cited source already holds the sentence, or none does."""
    holders = [n for n, share in support.items() if share >= min_support and holds_numbers(n)]
    if not holders or any(n in holders for n in cited):
        return None
    return max(holders, key=lambda n: (support[n], -n))


def confidence(text: str, sources: list[Source], cited: tuple[int, ...], invalid: tuple[int, ...]) -> float:
    """retrieval x (0.5 + 0.5 x coverage) - 0.2 per invalid citation, clipped to 0..1.

    retrieval: mean relevance of the cited sources (the best source's if none is cited);
    coverage: share of the answer's sentences that carry a valid-looking [n] marker.
    """
    by_number = {s.number: s for s in sources}
    retrieval = sum(by_number[n].relevance for n in cited) / len(cited) if cited else max(s.relevance for s in sources)
    # "claim. [1]" cites the sentence before it: move such markers inside the sentence first.
    text = _TRAILING_CITATION.sub(r" \2\1", text)
    sentences = [s for s in _SENTENCE.findall(text) if len(s.strip()) > 3]
    coverage = sum(1 for s in sentences if _CITATION.search(s)) / len(sentences) if sentences else 0.0
    return round(min(1.0, max(0.0, retrieval * (0.5 + 0.5 * coverage) - 0.2 * len(invalid))), 2)


def answerability(engine: Engine, messages: list[Message], lang: str) -> Verdict | None:
    """The engine's answerability probe on the answer prompt; None when the engine has none (remote, or no probe)."""
    check = getattr(engine, "answerability", None)
    return check(messages, lang) if check is not None else None


def refused(engine: Engine, question: str) -> Notice | None:
    """The word filter's refusal of the visitor's question, in its language; None when allowed or no filter."""
    check = getattr(engine, "refusal", None)
    return check(question) if check is not None else None


def _not_found(question: str, confidence: float, unanswerable: float | None = None,
               absent: tuple[str, ...] = ()) -> Iterator[Event]:
    text = prompts.NOT_FOUND[language(question)]
    yield TextDelta(text)
    yield Answer(text, (), confidence=round(confidence, 2), not_found=True,
                 unanswerable=None if unanswerable is None else round(unanswerable, 4), absent_numbers=absent)
    yield Done("stop", Usage(0, 0))


def _is_not_found(text: str, lang: str) -> bool:
    """Whether the reply is the refusal sentence (a model may write the polite 您 for the prompt's 你)."""
    phrase = prompts.NOT_FOUND[lang]
    core = phrase.rstrip(".。")
    return core.lower() in text.lower().replace("您", "你") and len(text.strip()) < len(phrase) * 2


def rewrite_question(engine: Engine, question: str, history: Sequence[Message],
                     cancel: threading.Event | None = None) -> str:
    """A standalone version of a follow-up question, for retrieval (the model sees the original).

    The question was checked by the word filter in `answer`; this prompt adds only earlier, masked turns.
    """
    recent = [m for m in history if m["role"] in ("user", "assistant")][-4:]
    lines = "\n".join(f"{m['role']}: {m['content'][:500]}" for m in recent)
    prompt = prompts.REWRITE_QUESTION.render(history=lines, question=question)
    params = GenerationParams(max_new_tokens=96, temperature=0.0, reasoning=False)  # R1 would think it all away
    pieces = [e.text for e in document_stream(engine)([{"role": "user", "content": prompt}], params, cancel)
              if isinstance(e, TextDelta)]
    rewritten = " ".join("".join(pieces).split()).strip().strip('"')
    unusable = "empty" if not rewritten else "too long" if len(rewritten) > 4 * len(question) + 200 else \
        "an answer" if not rewrites(rewritten, question) else None
    if unusable:
        log.info("question_rewrite_unused reason=%s", unusable)
        return f"{recent[-2]['content'] if len(recent) >= 2 else ''} {question}".strip()
    return rewritten


def rewrites(rewritten: str, question: str) -> bool:
    """Whether a model's rewrite is the question again: it cites nothing, still asks when the question asked, and
    keeps at least half the question's own words. Small models answer instead: the 0.5B turned "And what about for a
    material breach?" after a question on termination for convenience into "Nine (90) days' prior written notice is
    needed … [1]." (a walkthrough), and "What is the capital of France?" into "The capital of France is Paris."."""
    if _CITATION.search(rewritten) or (_ASKS.search(question) and not _ASKS.search(rewritten)):
        return False
    wanted = set(query_terms(question)) - REQUEST_TERMS
    return len(wanted & set(query_terms(rewritten))) * 2 >= len(wanted)


_ASKS = re.compile(r"[?？]|什么|多少|哪|谁|吗|怎么|如何|是否|几|^\s*(?:what|who|whom|whose|when|where|which|why|how|is|are|"
                   r"was|were|do|does|did|can|could|should|will|would|may|must|has|have)\b", re.IGNORECASE)


def language(text: str) -> str:
    """"zh" for a question written in Chinese: more Chinese characters than Latin words. An English question that
    names a Chinese title ("…in the travel policy (差旅报销制度)?") is English, and is answered in English."""
    return "zh" if cjk_chars(text) > len(_LATIN_WORD.findall(text)) else "en"


_LATIN_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")

