"""Render PDF pages to images for OCR with pypdfium2 (renders any page, even where pypdf finds no image)."""

from __future__ import annotations

import logging
from typing import Iterator

import pypdfium2 as pdfium
from PIL import Image

log = logging.getLogger(__name__)


def render_pages(data: bytes, page_numbers: list[int], dpi: int, max_pixels: int) -> Iterator[Image.Image]:
    """Yield the given 1-based pages as RGB images, one at a time (pdfium is not thread-safe).

    The scale is lowered for oversized pages so no bitmap exceeds `max_pixels` (a page can
    claim a huge media box).
    """
    pdf = pdfium.PdfDocument(data, password="")
    try:
        for number in page_numbers:
            page = pdf[number - 1]
            try:
                yield _render(page, dpi, max_pixels)
            finally:
                page.close()
    finally:
        pdf.close()


def _render(page, dpi: int, max_pixels: int) -> Image.Image:
    width_pt, height_pt = page.get_size()
    scale = dpi / 72
    pixels = width_pt * height_pt * scale * scale
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
        log.warning("render_scaled_down width_pt=%.0f height_pt=%.0f scale=%.2f", width_pt, height_pt, scale)
    return page.render(scale=scale, grayscale=True).to_pil()
