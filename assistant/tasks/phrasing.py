"""What a question asks about, without what it says about the answer's form ("Answer in one word:", "用一句话回答")."""

from __future__ import annotations

import re

_COUNT = r"(?:one|a|an|two|three|four|five|a\s+few|\d+)"
_UNIT = r"(?:short\s+|single\s+|brief\s+)?(?:sentences?|words?|lines?|paragraphs?|phrases?|bullet\s+points?|bullets?)"
_IN_FORM = rf"in\s+(?:exactly\s+|at\s+most\s+|no\s+more\s+than\s+)?{_COUNT}\s+{_UNIT}"
_HOW = rf"(?:briefly|concisely|only|yes\s+or\s+no|{_IN_FORM}|(?:with|using)\s+(?:{_COUNT}\s+)?[\w-]+(?:\s+[\w-]+)?)"
# "Answer with one adverb:", "Reply in exactly three words:", "Answer briefly,", "In one short sentence,"
_LEADING = re.compile(rf"^\s*(?:please\s+)?(?:(?:answer|reply|respond)(?:\s+{_HOW})?|{_IN_FORM})\s*[:：,，]\s*",
                      re.IGNORECASE)
# "... ? Answer in one word." / "..., in one sentence?" / "... (one sentence)"
_TRAILING = re.compile(rf"(?<=[?？.!。])\s*(?:please\s+)?(?:answer|reply|respond)(?:\s+{_HOW})?\s*[.!]?\s*$"
                       rf"|[\s,，;；]*\(?\s*{_IN_FORM}\s*\)?(?=\s*[?？.!]?\s*$)", re.IGNORECASE)
# 用一句话回答 / 请简要回答 / 只回答是或否, wherever they stand
_CHINESE = re.compile(r"(?:请)?(?:(?:用|以)[一二两三四五几\d]+(?:句话?|个词|个字|段话?)(?:来)?(?:回答|说明|概括|总结|作答)?"
                      r"|(?:简要|简短|简单|简洁)地?(?:回答|说明|作答)|只?回答(?:是或否|“是”或“否”))[：:，,。]?")


def without_instructions(question: str) -> str:
    """The question without its instructions about the answer's form, or the question itself when that is all it
    is ("Answer briefly." stays as it is).

    Those words are about the reply, not the documents: a walkthrough's "Answer with one adverb: when is the fee
    paid?" and "用一句话回答：…" matched too few of their words in the passage that answers them, and were refused.
    The model is still given the question as asked.
    """
    bare = _CHINESE.sub("", _TRAILING.sub("", _LEADING.sub("", question))).strip()
    return bare if bare and bare != question.strip() and re.search(r"\w", bare) else question
