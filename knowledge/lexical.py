"""Terms for BM25: words for Latin scripts, jieba segmentation for Chinese, NFKC and lower case."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata

import jieba

jieba.setLogLevel(logging.WARNING)

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have how i in is it its of on or that the this to was were "
    "what when where which who whom why will with do does did can you your we our they their there "
    "he him his she her hers them theirs these those me my mine us "
    "的 了 是 在 和 与 及 或 也 就 都 而 吗 呢 吧 啊 什么 哪 哪里 哪个 谁 如何 怎么 为什么 多少 几 "
    # pronouns: a follow-up's "它的总部" or "his salary" must be matched by its subject's words alone
    "它 它们 他 他们 她 她们 其 这 那 这个 那个 这些 那些".split()
)


# A line break between two Chinese characters is where a PDF line wrapped, not a word boundary: "分\n机" is 分机
# (or after a Chinese punctuation mark: "面试，\n第二轮" is one sentence)
_WRAPPED_CJK = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff01-\uff60])[ \t]*\n[ \t]*(?=[\u3400-\u9fff])")


def unwrap_cjk(text: str) -> str:
    """The text without the line breaks that fall between two Chinese characters."""
    return _WRAPPED_CJK.sub("", text)


# What starts a new unit on its own line: an article or chapter ("第六条", "一、", "（二）", "3."), or a label
# ("甲方：", "住所：", "日期：")
_UNIT_START = re.compile(r"\s*(?:第[一二三四五六七八九十百零〇两\d]+[条章节款]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]"
                         r"|\d+(?:\.\d+)*[、.．](?!\d)|[\u4e00-\u9fff]{1,6}\s*(?:[（(][^）)]{0,12}[）)])?\s*[:：])")


_LINE_START = re.compile(r"\n\s*")


def unit_starts(text: str) -> list[int]:
    """Where a line of Chinese text starts a new unit (`_UNIT_START`: "第七条…", "乙方：…", "一、"): the offsets after
    its line break. None in text without Chinese: an English PDF wraps mid-sentence, "…under Section\n5. The…"."""
    if not has_cjk(text):
        return []
    return [m.end() for m in _LINE_START.finditer(text) if _UNIT_START.match(text, m.end())]


@functools.lru_cache(maxsize=64)  # contract review asks once per sentence of a chunk, with the chunk's text
def wrap_breaks(text: str) -> frozenset[int]:
    """The positions of the line breaks (and the spaces around them) a PDF put inside Chinese sentences:
    "不得\n向第三方披露" is one sentence, and joined with a space it reads "不得 向".

    A break stays before a line that starts a new unit ("第七条…", "乙方：…") and after a heading: a line that starts
    one and is shorter than the text's longest by 20% ("第六条 适用法律"; widths count a full-width character as
    two). A paragraph's end needs no space: "…解决。本合同" reads right.
    """
    matches = list(_WRAPPED_CJK.finditer(text))
    if not matches:  # no Chinese line break (an English contract): no line widths to measure
        return frozenset()
    width = max(map(_width, text.split("\n")), default=0)
    drop: set[int] = set()
    for match in matches:
        line = text[text.rfind("\n", 0, match.start()) + 1:match.start()]
        heading = _UNIT_START.match(line) and _width(line) < 0.8 * width
        if not heading and not _UNIT_START.match(text, match.end()):
            drop.update(range(match.start(), match.end()))
    return frozenset(drop)


def _width(line: str) -> int:
    line = line.strip()
    return len(line) + sum(1 for ch in line if unicodedata.east_asian_width(ch) in "WF")


def rewrapped_cjk(text: str, start: int = 0, end: int | None = None) -> str:
    """text[start:end] without the line breaks a PDF put inside Chinese sentences (`wrap_breaks`, found in the whole
    text); other line breaks stay, so a heading ("第三条 合同期限") is not glued to its article as `unwrap_cjk`
    glues it (for display)."""
    breaks = wrap_breaks(text)
    end = len(text) if end is None else end
    return "".join(ch for i, ch in enumerate(text[start:end], start) if i not in breaks)


def terms(text: str) -> list[str]:
    """All index terms of a text, in order."""
    text = unwrap_cjk(unicodedata.normalize("NFKC", text).lower())
    out: list[str] = []
    position = 0
    for match in _CJK_RUN.finditer(text):
        out.extend(_WORD.findall(text[position : match.start()]))
        out.extend(t for t in jieba.cut_for_search(match.group()) if t.strip())
        position = match.end()
    out.extend(_WORD.findall(text[position:]))
    return out


def query_terms(text: str) -> list[str]:
    """Distinct terms of a query without stop words (they match everything and only cost time)."""
    seen: dict[str, None] = {}
    for term in terms(text):
        if term not in STOPWORDS:
            seen.setdefault(term, None)
    return list(seen)


def has_cjk(text: str) -> bool:
    return bool(_CJK_RUN.search(text))


def cjk_chars(text: str) -> int:
    """How many CJK ideographs the text holds."""
    return sum(len(m.group()) for m in _CJK_RUN.finditer(text))
