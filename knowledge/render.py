"""Render PDF pages to images for OCR with pypdfium2 (renders any page, even where pypdf finds no image)."""

from __future__ import annotations

import logging
import threading
from typing import Iterator

import pypdfium2 as pdfium
from PIL import Image

log = logging.getLogger(__name__)

# PDFium is not thread-safe, not even for different documents (pypdfium2's documentation says so), and
# ingest threads and contract-review uploads render at the same time: every pypdfium2 call (open, render,
# close) in this module holds this lock. It is held per call, never across a yield, so two documents
# rendering at once take turns page by page.
_PDFIUM_LOCK = threading.Lock()


def render_pages(data: bytes, page_numbers: list[int], dpi: int, max_pixels: int) -> Iterator[Image.Image]:
    """Yield the given 1-based pages as grayscale images, one at a time.

    The scale is lowered for oversized pages so no bitmap exceeds `max_pixels` (a page can
    claim a huge media box). Safe to call from several threads.

    Args:
        data: the PDF file's bytes.
        page_numbers: the pages to render, 1-based, in the order wanted.
        dpi: the resolution to render at.
        max_pixels: the most pixels one page's image may have.

    Raises:
        pypdfium2.PdfiumError: PDFium cannot open the file or load a page.
    """
    with _PDFIUM_LOCK:
        pdf = pdfium.PdfDocument(data, password="")
    try:
        for number in page_numbers:
            with _PDFIUM_LOCK:
                image = _render_page(pdf, number, dpi, max_pixels)
            yield image
    finally:
        with _PDFIUM_LOCK:
            pdf.close()


def _render_page(pdf: pdfium.PdfDocument, number: int, dpi: int, max_pixels: int) -> Image.Image:
    """Render one page and close what PDFium allocated, so no finalizer calls into PDFium later, unlocked."""
    page = pdf[number - 1]
    try:
        width_pt, height_pt = page.get_size()
        bitmap = page.render(scale=_scale(width_pt, height_pt, dpi, max_pixels), grayscale=True)
        image = bitmap.to_pil()  # shares the bitmap's Python-owned buffer, which outlives close()
        bitmap.close()
        return image
    finally:
        page.close()


def _scale(width_pt: float, height_pt: float, dpi: int, max_pixels: int) -> float:
    scale = dpi / 72
    pixels = width_pt * height_pt * scale * scale
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
        log.warning("render_scaled_down width_pt=%.0f height_pt=%.0f scale=%.2f", width_pt, height_pt, scale)
    return scale
