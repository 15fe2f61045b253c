"""Details an answer states that its passages do not: numbers, names and rates ("per month" for "per year").

Small models copy a passage's number wrongly, carry a name over from an earlier turn, or turn a yearly fee into a
monthly one, while citing the right passage: a sentence-level citation check cannot see that, these checks can.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.tasks.events import Source
from knowledge.chunking import sentence_spans
from knowledge.lexical import STOPWORDS, cjk_chars, query_terms

_CITATION = re.compile(r"\[(\d{1,3})\]")

# Not part of a word ("v2", "3rd"): Latin letters and digits only, since a Chinese number stands between characters
# ("共有167174名居民", which \w would have hidden on both sides)
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.,])\d+(?:[.,]\d+)*(?![A-Za-z0-9_])")
_LIST_MARKER = re.compile(r"^\s*(?:[-*]\s+)?\d+[.)、]\s", re.MULTILINE)
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
          "seventeen eighteen nineteen").split()
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i > 1}
_NUMBER_WORD = re.compile(rf"\b(?:({'|'.join(_TENS)})(?:[- ]({'|'.join(_UNITS[1:10])}))?|({'|'.join(_UNITS)}))\b",
                          re.IGNORECASE)
_CJK_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
_CJK_NUMBER = re.compile(r"[一二三四五六七八九两]?十[一二三四五六七八九]?|[零一二三四五六七八九两]")


def unsupported_numbers(text: str, sources: list[Source]) -> tuple[str, ...]:
    """Numbers the answer states (not list markers or [n]) that no source holds, in digits or in words.

    Small models copy a passage's number wrongly ("3410" for "extension 4410") while citing the right passage;
    a sentence-level citation check cannot see that, a number check can.
    """
    held = set()
    for source in sources:
        held |= {_plain(n) for n in _NUMBER.findall(source.text)} | _spelled_numbers(source.text)
    stated = _NUMBER.findall(_LIST_MARKER.sub(" ", _CITATION.sub(" ", text)))
    return tuple(dict.fromkeys(n for n in stated if _plain(n) not in held))


def _plain(number: str) -> str:
    """"4,410" and "4410" alike, "7.50" and "7.5" alike."""
    number = re.sub(r",(?=\d{3}\b)", "", number)
    return number.rstrip("0").rstrip(".") if re.fullmatch(r"\d+\.\d+", number) else number


def _spelled_numbers(text: str) -> set[str]:
    """The numbers 0-99 a text writes in words: "twenty-six", "five", 二十六, 五."""
    found = set()
    for tens, unit, single in _NUMBER_WORD.findall(text):
        found.add(str(_TENS[tens.lower()] + (_UNITS.index(unit.lower()) if unit else 0)) if tens
                  else str(_UNITS.index(single.lower())))
    for word in _CJK_NUMBER.findall(text):
        if "十" in word:
            before, _, after = word.partition("十")
            found.add(str(10 * (_CJK_DIGITS[before] if before else 1) + (_CJK_DIGITS[after] if after else 0)))
        else:
            found.add(str(_CJK_DIGITS[word]))
    return found


# --------------------------------------------------------------------------- names

# A run of capitalised words ("Acme Corp", "Northwind Traders Ltd."), with "of"/"&" inside ("Bank of China"); "and"
# ends a name ("Northwind and Initech" are two), and so do a line break and a Chinese character ("GmbH签订": GmbH)
_JOINERS = ("of", "&", "de", "la", "von", "van")  # small words inside a name ("Bank of China")
# Latin letters with accents belong to the word ("Hervé", "Jumièges"; without them the name was cut at the accent
# and "Herv" flagged); × and ÷ sit in that range and are not letters
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de"
_NAME = re.compile(rf"(?<![{_LATIN}0-9])[{_UPPER}][{_LATIN}0-9'’&-]*(?:[ \t]+(?:(?:{'|'.join(_JOINERS)})[ \t]+)?"
                   rf"[{_UPPER}][{_LATIN}0-9'’&-]*)*")
# Where a sentence (or a list item, heading or label) starts: its first word is capitalised whatever it is
_STARTS = re.compile(r"(?:^|[.!?:;。！？：；]\s*|\n\s*(?:[-*#>]+\s*|\d+[.)、]\s*)?|\*\*|[\"“(（])\s*$")
# Words a grounded answer uses about the sources themselves
_ABOUT_SOURCES = {"source", "sources", "page", "pages", "passage", "passages", "document", "documents"}
# A Chinese organisation's name ends in one of these
_ORG = re.compile(r"[\u4e00-\u9fff]{2,12}?(?:股份有限公司|有限责任公司|有限公司|公司|集团|银行|大学|医院|研究院|研究所|事务所)")
_ORG_SUFFIX = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|公司|集团|银行|大学|医院|研究院|研究所|事务所)$")


def unsupported_names(text: str, held: str) -> tuple[str, ...]:
    """Names the answer states that the held text (passages, file names, the question) does not.

    English: a run of capitalised words ("Acme Corp") with a word the held text does not hold in any case; a
    sentence's first word counts only when the held text lacks it in lower case too ("However" is grammar, "Acme"
    a name). Chinese: an organisation ("华为技术有限公司") whose name, the four characters before "有限公司" and
    its kin, shares at most half its character pairs with the held text. Each is checked only against passages in
    its own script: over English passages "北风贸易有限公司" translates Northwind Traders, and over Chinese ones
    "Beijing" translates 北京.
    """
    lowered = held.lower()
    words = set(re.findall(r"\w+", lowered)) | _cut_word(text, lowered)
    chinese = cjk_chars(held) * 3 > len(re.findall(r"[A-Za-z]", held))  # a Chinese character ~ 3 Latin letters
    # a name in the other script than the passages' is a translation ("Beijing" for 北京), which words cannot check
    found = [] if chinese else [name for name in _english_names(text, words) if not _held_name(name, words)]
    found += [_org_name(org) for org in _ORG.findall(text) if chinese and not _held_org(org, lowered)]
    return tuple(dict.fromkeys(found))


def _cut_word(text: str, held: str) -> set[str]:
    """The answer's last word when the answer was cut inside a held word at its token limit ("Upper Norm")."""
    cut = re.search(r"(\w+)$", text.rstrip())
    return {cut.group(1).lower()} if cut and re.search(rf"\b{re.escape(cut.group(1).lower())}\w", held) else set()


def _english_names(text: str, words: set[str]) -> list[str]:
    """Capitalised runs; a sentence's first word is left out when it is a held word or the run's only word."""
    names = []
    for match in _NAME.finditer(text):
        name = match.group()
        first, _, rest = name.partition(" ")
        grammar = not rest or first.lower() in words or first.lower() in STOPWORDS
        if grammar and _STARTS.search(text[: match.start()]):
            name = _LEADING_SMALL.sub("", rest)
        if name:
            names.append(name)
    return names


_LEADING_SMALL = re.compile(rf"^(?:(?:{'|'.join(_JOINERS)})\s+)+")


def _held_name(name: str, words: set[str]) -> bool:
    """Every word of the name (but initials and the small words inside it) is held or is about the sources."""
    parts = [w for w in re.findall(r"\w+", name.lower()) if w not in _JOINERS and len(w) > 1 and not w.isdigit()]
    return all(w in words or w in _ABOUT_SOURCES for w in parts)


def _held_org(org: str, held: str) -> bool:
    """Half or more of the character pairs of the name's last four characters before its suffix are held."""
    core = _ORG_SUFFIX.sub("", org)[-4:]
    pairs = [core[i : i + 2] for i in range(len(core) - 1)] or [core]
    return sum(p in held for p in pairs) * 2 >= len(pairs)


def _org_name(org: str) -> str:
    """The organisation as shown: its last four characters before the suffix, and the suffix ("华为技术有限公司")."""
    suffix = _ORG_SUFFIX.search(org).group()
    return org[: -len(suffix)][-4:] + suffix


# --------------------------------------------------------------------------- rates

# "a year" is left out: "within a year" is a length of time, not a rate
_MONTHS = "january february march april may june july august september october november december spring summer autumn " \
          "fall winter"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_RATES = {
    "year": r"\bper (?:year|annum)\b|\b(?:annual(?:ly)?|yearly|each year|every year)\b|/\s*(?:year|yr)\b|每年|年费|年薪|每一年"
            rf"|\b(?:each|every) (?:{'|'.join(_MONTHS.split())})\b",  # "paid each January" is a yearly rate
    "month": r"\bper month\b|\b(?:monthly|each month|every month)\b|/\s*(?:month|mo)\b|每月|每个月|月费|月薪",
    "week": r"\bper week\b|\b(?:weekly|each week|every week)\b|每周|每星期|每个星期|周薪"
            rf"|\b(?:each|every) (?:{'|'.join(_DAYS.split())})\b",
    "day": r"\bper day\b|\b(?:daily|each day|every day)\b|每天|每日|日薪",
    "hour": r"\bper hour\b|\b(?:hourly|each hour|every hour)\b|/\s*(?:hour|hr)\b|每小时|每个小时|时薪",
}
_RATE = {unit: re.compile(pattern, re.IGNORECASE) for unit, pattern in _RATES.items()}


def unsupported_rates(text: str, held: str) -> tuple[str, ...]:
    """How often the answer says something happens or is paid ("每月", "per week") when no passage says that
    period at all: "300 USD per year" summarised as "每月300美元" states a number the passage holds."""
    stated = {unit: pattern.search(text) for unit, pattern in _RATE.items()}
    return tuple(match.group() for unit, match in stated.items() if match and not _RATE[unit].search(held))


def _spaced(text: str) -> str:
    """File-name joins as spaces: "employee_handbook.pdf" holds "Employee" and "Handbook", "report_2022" 2022."""
    return re.sub(r"[_.\-]", " ", text)


def unsupported_words(text: str, sources: Sequence[Source], question: str = "") -> tuple[str, ...]:
    """The names the answer states that its sources (with their file names) and the question do not, and the rates
    it affirms that its passages do not: "Is the fee paid monthly?" answered "Yes, it is paid monthly" over a
    passage that says "per year" is wrong whatever the question said (and "No, not monthly" affirms nothing)."""
    held = _spaced("\n".join([question, *(f"{s.file_name} {s.text}" for s in sources)]))
    text = _CITATION.sub(" ", text)
    return unsupported_names(text, held) + unsupported_rates(_affirmed(text), "\n".join(s.text for s in sources))


def off_question(text: str, sources: Sequence[Source], question: str, cited: Sequence[int] = ()) -> bool:
    """Whether the answer rests only on passage sentences that share no word with the question.

    A passage often holds several facts: asked who approves claims above EUR 1,000, the 0.5B answered "Lena Brandt
    [1]" from the same passage's "The company's data protection officer is Lena Brandt", at 88% confidence (a
    walkthrough). The answer's own words (those the question lacks) are looked up in the cited passages (all when
    none is cited): when every sentence holding at least half of them shares no word with the question, the answer
    is about something else. An answer with no words of its own, or none found in a sentence, is not judged here.
    """
    asked = set(query_terms(question))
    new = _own_words(text, question)
    if not asked or not new:
        return False
    chosen = [s for s in sources if s.number in cited] or list(sources)
    sentences = [set(query_terms(s.text[a:b])) for s in chosen for a, b in sentence_spans(s.text)]
    holding = [words for words in sentences if 2 * len(new & words) >= len(new)]
    return bool(holding) and not any(asked & words for words in holding)


def repeats_question(text: str, question: str) -> bool:
    """Whether the answer has no words of its own: it only repeats the question ("France is a region in France [1]."
    for "What is France a region of?") or is a bare marker ("[1]"). A yes or a no is an answer."""
    return bool(question.strip()) and not _own_words(text, question) and not _YES_NO.search(_CITATION.sub(" ", text))


def _own_words(text: str, question: str) -> set[str]:
    """The answer's terms that the question lacks (citation markers aside)."""
    return set(query_terms(_CITATION.sub(" ", text))) - set(query_terms(question))


_YES_NO = re.compile(r"\b(?:yes|no|not|true|false|none|neither)\b|[是否不没对无]", re.IGNORECASE)


_NEGATION = re.compile(r"\b(?:not|no|never|neither|nor|rather than|instead of)\b|n't\b|不|没有|并非|而非|并未",
                       re.IGNORECASE)


def _affirmed(text: str) -> str:
    """The text's sentences that deny nothing ("not monthly but yearly" names a period only to deny it)."""
    return " ".join(s for s in re.split(r"(?<=[.!?。！？；;])\s*", text) if not _NEGATION.search(s))


# --------------------------------------------------------------------------- the question's own numbers

# A number the question states: "2019", "1,000", "9th", "1990s", "1000's" (its ordinal or plural ending dropped)
_ASKED_NUMBER = re.compile(r"(?<![A-Za-z0-9_.,])(\d+(?:[.,]\d+)*)(st|nd|rd|th|s|'s)?(?![A-Za-z0-9_])")
# ...but not a page ("page 3", "第3页"), and not a count the visitor asks for ("list 3 reasons", "top 5")
_NOT_ASKED = re.compile(r"(?:\bpages?|\bp\.|\bpp\.|\btop|第)\s*$", re.IGNORECASE)
_COUNT_WANTED = re.compile(r"^\s*(?:\w+\s)?(?:sentences?|bullets?|points?|words?|examples?|items?|reasons?|ways?|things?|"
                           r"lines?|paragraphs?|tips?|steps?|questions?|options?|ideas?)\b|^\s*页", re.IGNORECASE)
_ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
             "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
_ORDINAL_WORD = re.compile(rf"\b({'|'.join(_ORDINALS)})\b", re.IGNORECASE)


def absent_numbers(question: str, sources: Sequence[Source]) -> tuple[str, ...]:
    """The numbers the question states that none of its passages holds, as the question wrote them.

    A question about "the 9th century" over passages that speak of 911 asks about something the documents do not
    describe (SQuAD 2.0 writes unanswerable questions this way); so does "the 2023 report" over 2022's. A century
    is held by a year in it ("10th century" and 911), a decade by a year in it ("1990s" and 1994).
    """
    held = set()
    for source in sources:
        text = f"{_spaced(source.file_name)} {source.text}"
        held |= {_plain(n) for n, _ in _ASKED_NUMBER.findall(text)} | _spelled_numbers(text) | _ordinal_numbers(text)
    years = {int(n) for n in held if n.isdigit() and 100 <= int(n) <= 2999}
    return tuple(dict.fromkeys(m.group() for m in _ASKED_NUMBER.finditer(question)
                               if _asked(question, m) and not _held_number(m, question, held, years)))


def _asked(question: str, match: re.Match) -> bool:
    """A number the question asks about, not a page it points at or a count of things it wants."""
    return not _NOT_ASKED.search(question[: match.start()]) and not _COUNT_WANTED.match(question[match.end():])


def _held_number(match: re.Match, question: str, held: set[str], years: set[int]) -> bool:
    number, ending = _plain(match.group(1)), (match.group(2) or "").lower()
    if number in held:
        return True
    if ending in ("s", "'s") and number.isdigit() and number.endswith("0"):  # a decade, or "1000's": a century
        width = 10 if not number.endswith("00") else 100
        return any(int(number) <= year < int(number) + width for year in years)
    if ending in ("st", "nd", "rd", "th") and number.isdigit() and re.match(r"\s+century", question[match.end():],
                                                                              re.IGNORECASE):
        return any((year - 1) // 100 + 1 == int(number) for year in years)
    return False


def _ordinal_numbers(text: str) -> set[str]:
    """The numbers a text writes as ordinal words: "tenth" is 10."""
    return {str(_ORDINALS.index(word.lower()) + 1) for word in _ORDINAL_WORD.findall(text)}
