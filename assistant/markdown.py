"""Text shown as Markdown that must stay text: document passages, file names, model output in reports."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]#|~!])")


def literal(text: str) -> str:
    """Make text inert in Markdown: no HTML, no emphasis, links, images, headings, tables or code."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)
