"""Word (.docx) text with python-docx, split into pages at hard page breaks, tables included."""

from __future__ import annotations

import io

from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_pages(data: bytes) -> list[str]:
    """Body text in document order; a hard page break (`w:br w:type="page"`) starts a new page."""
    document = Document(io.BytesIO(data))
    pages: list[list[str]] = [[]]
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            if _has_page_break(block):
                pages.append([])
            pages[-1].append(block.text)
        elif isinstance(block, Table):
            pages[-1].extend(_table_lines(block))
    return ["\n".join(lines).strip() for lines in pages]


def _has_page_break(paragraph: Paragraph) -> bool:
    return any(br.get(f"{_W}type") == "page" for br in paragraph._p.iter(f"{_W}br"))


def _table_lines(table: Table) -> list[str]:
    return [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
