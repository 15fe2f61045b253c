"""Chunking: token budget, overlap, sentence ends (including CJK), offsets and pages."""

from __future__ import annotations

import re

from knowledge.chunking import Chunker, sentence_spans
from knowledge.types import Page


def word_offsets(texts):
    """A stand-in tokenizer: every word or CJK character is one token."""
    return [[m.span() for m in re.finditer(r"[\u4e00-\u9fff]|[^\s\u4e00-\u9fff]+", t)] for t in texts]


def tokens(text: str) -> int:
    return len(word_offsets([text])[0])


def test_sentence_spans_cover_latin_and_cjk_punctuation():
    text = "第一句。第二句！Third sentence. Fourth? 第五；\n\nLast line"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "第一句。", "第二句！", "Third sentence.", "Fourth?", "第五；", "Last line"]


def test_sentence_spans_do_not_end_at_company_suffixes_titles_or_dates():
    text = ('This Agreement is effective as of _Dec. 8, 2005 by and between Acme, Inc. ("Acme") and BETA CORP. '
            '("Beta"). Mr. Smith signs, e.g. today. It ends in Dec. Then No. 5 applies. See section no. The end.')
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        'This Agreement is effective as of _Dec. 8, 2005 by and between Acme, Inc. ("Acme") and BETA CORP. ("Beta").',
        "Mr. Smith signs, e.g. today.", "It ends in Dec.", "Then No. 5 applies.", "See section no.", "The end."]


def test_chunks_respect_budget_and_never_cut_sentences():
    sentences = [f"Sentence {i} has exactly six words." for i in range(100)]
    page = Page(1, " ".join(sentences))
    spans = Chunker(word_offsets, chunk_tokens=50, overlap=0.2).split_pages([page])
    assert len(spans) > 10
    for span in spans:
        assert span.tokens <= 50 and tokens(span.text) == span.tokens
        assert span.text.startswith("Sentence") and span.text.endswith("words.")
        assert page.text[span.start_char:span.end_char] == span.text


def test_overlap_is_about_the_configured_fraction():
    page = Page(1, " ".join(f"S{i} a b c d." for i in range(200)))  # 6 tokens a sentence
    spans = Chunker(word_offsets, chunk_tokens=60, overlap=0.2).split_pages([page])
    for first, second in zip(spans, spans[1:]):
        shared = first.end_char - second.start_char
        assert shared > 0
        overlap_tokens = tokens(page.text[second.start_char:first.end_char])
        assert 6 <= overlap_tokens <= 12


def test_zero_overlap_tiles_the_text():
    page = Page(1, " ".join(f"S{i} a b c d." for i in range(50)))
    spans = Chunker(word_offsets, chunk_tokens=30, overlap=0.0).split_pages([page])
    assert all(a.end_char < b.start_char for a, b in zip(spans, spans[1:]))
    assert sum(s.tokens for s in spans) == tokens(page.text)


def test_sentence_longer_than_budget_is_split_at_tokens():
    page = Page(1, " ".join(f"w{i}" for i in range(125)) + ".")
    spans = Chunker(word_offsets, chunk_tokens=50, overlap=0.2).split_pages([page])
    assert [s.tokens for s in spans] == [50, 50, 25]
    assert "".join(s.text for s in spans).replace(" ", "") == page.text.replace(" ", "")


def test_cjk_text_breaks_at_chinese_full_stops():
    text = "".join(f"这是第{i}句话，内容很短。" for i in range(40))
    spans = Chunker(word_offsets, chunk_tokens=40, overlap=0.2).split_pages([Page(3, text)])
    assert all(s.text.endswith("。") for s in spans)
    assert all(s.page == 3 for s in spans)


def test_chunks_stay_on_their_page_and_are_numbered_across_pages():
    pages = [Page(1, "Alpha one. Alpha two."), Page(2, "   "), Page(3, "Gamma one.")]
    spans = Chunker(word_offsets, chunk_tokens=50).split_pages(pages)
    assert [(s.page, s.ordinal, s.text) for s in spans] == [(1, 0, "Alpha one. Alpha two."), (3, 1, "Gamma one.")]


def test_real_tokenizer_counts_a_whole_long_page(embedder):
    """A 3000-token page must become several 512-token chunks, not one (the model's tokenizer truncates)."""
    page = Page(1, " ".join(f"Clause {i} obliges the supplier to deliver parcel number {i} on time." for i in range(250)))
    assert len(embedder.token_offsets([page.text])[0]) > 2500
    spans = Chunker(embedder.token_offsets, chunk_tokens=512, overlap=0.2).split_pages([page])
    assert len(spans) >= 6 and all(400 <= s.tokens <= 512 for s in spans[:-1])
    assert spans[-1].text.endswith("parcel number 249 on time.")


def test_real_tokenizer_budget(embedder):
    page = Page(1, " ".join(f"The committee approved proposal number {i} after a long debate." for i in range(300)))
    spans = Chunker(embedder.token_offsets, chunk_tokens=128, overlap=0.2).split_pages([page])
    assert all(len(embedder.token_offsets([s.text])[0]) <= 128 for s in spans)
    assert all(s.text.endswith("debate.") for s in spans)
