"""Hand-built hostile PDFs: lying page counts, huge page trees, deep nesting."""

from __future__ import annotations

from pathlib import Path

PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def write_pdf(path: Path, objects: list[bytes]) -> Path:
    """Objects numbered from 1, with a correct xref table and trailer."""
    body, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(body)
    return path


def claims_million_pages(path: Path) -> Path:
    """A page tree whose /Count claims 10^6 pages but which holds one real page."""
    return write_pdf(path, [CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1000000 >>", PAGE])


def million_page_references(path: Path, n: int = 1_000_000) -> Path:
    """A page tree with a million /Kids references (all to one page object)."""
    return write_pdf(path, [CATALOG, b"<< /Type /Pages /Kids [" + b"3 0 R " * n + b"] /Count %d >>" % n, PAGE])


def deeply_nested(path: Path, depth: int = 100_000) -> Path:
    """A catalog holding arrays nested 100,000 deep."""
    deep = b"[" * depth + b"]" * depth
    return write_pdf(path, [b"<< /Type /Catalog /Pages 2 0 R /Deep " + deep + b" >>",
                            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", PAGE])
