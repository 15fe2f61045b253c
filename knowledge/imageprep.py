"""Page images cleaned up for OCR: shadows flattened, skew undone, text scaled to the size Tesseract reads best.

Measured by `python -m evals.ocr` (BENCHMARKS.md): a phone photo's shadow took Tesseract from a few percent of
characters wrong to nearly all of them (0.003 and 0.035 after this, English and Chinese), and a 3° tilt to 14% of
English characters wrong (0.003 after); clean scans read as before.
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image, ImageFilter

log = logging.getLogger(__name__)

TEXT_HEIGHT_PX = 40  # the height of a line's ink Tesseract read best at (chi_sim and eng, 24-48 tried: BENCHMARKS.md)
MAX_SKEW_DEG = 6.0
SKEW_STEP_DEG = 0.25


def prepare_page(image: Image.Image) -> Image.Image:
    """A grayscale copy of a page with an even white background, level lines and text of TEXT_HEIGHT_PX.

    Args:
        image: a page photo or scan, any mode.

    Returns:
        The image to OCR (a new image; the argument is left as it is).
    """
    gray = image.convert("L")
    if not dark_text(gray):  # light text on a dark page: the background estimate below wants dark on light
        gray = Image.eval(gray, lambda v: 255 - v)
    page = flatten_background(gray)
    angle = skew_angle(page)
    if abs(angle) >= 0.5:
        page = page.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    scale = _text_scale(text_height(page))
    if scale != 1.0:
        page = page.resize((max(1, round(page.width * scale)), max(1, round(page.height * scale))), Image.LANCZOS)
    log.debug("ocr_prepared skew=%.2f scale=%.2f size=%sx%s", angle, scale, page.width, page.height)
    return page


def dark_text(gray: Image.Image) -> bool:
    """Whether the text is darker than the page: thin strokes that a closing (max, then min filter) erases are dark,
    those an opening erases are light. A shadow across the page is too broad for either to change."""
    scale = min(1.0, 600 / max(gray.width, 1))  # A4 at 300 dpi: 12-pixel characters, strokes of 1-2 pixels
    small = gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.BILINEAR)
    pixels = np.asarray(small, dtype=np.float32)
    closed = np.asarray(small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.MinFilter(5)), dtype=np.float32)
    opened = np.asarray(small.filter(ImageFilter.MinFilter(5)).filter(ImageFilter.MaxFilter(5)), dtype=np.float32)
    return float((closed - pixels).sum()) >= float((pixels - opened).sum())


def flatten_background(gray: Image.Image) -> Image.Image:
    """Divide the page by its own background (its lightest tone around each point, smoothed): a shadow or a light
    gradient across a photo becomes white, the text stays dark."""
    small = _shrunk(gray, 8)
    background = small.filter(ImageFilter.MaxFilter(7)).filter(ImageFilter.GaussianBlur(4)).resize(gray.size,
                                                                                                   Image.BILINEAR)
    ratio = np.asarray(gray, dtype=np.float32) / np.maximum(np.asarray(background, dtype=np.float32), 1.0)
    return Image.fromarray(np.clip(ratio * 255.0, 0, 255).astype(np.uint8))


def skew_angle(gray: Image.Image) -> float:
    """The rotation (degrees, counter-clockwise) that levels the text lines: the one whose row profile of ink is
    most peaked, searched over ±MAX_SKEW_DEG on a third-size copy."""
    mask = Image.fromarray(ink(_shrunk(gray, 3)).astype(np.uint8) * 255)
    angles = np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + SKEW_STEP_DEG / 2, SKEW_STEP_DEG)
    scores = [np.var(np.asarray(mask.rotate(a, resample=Image.NEAREST), dtype=np.float32).sum(axis=1)) for a in angles]
    return float(angles[int(np.argmax(scores))])


def _shrunk(gray: Image.Image, factor: int) -> Image.Image:
    """A 1/factor-size copy (at least one pixel each way) for the whole-page estimates, which need no detail."""
    return gray.resize((max(1, gray.width // factor), max(1, gray.height // factor)), Image.BILINEAR)


def text_height(gray: Image.Image) -> float:
    """The median height in pixels of the page's bands of ink rows (its text lines); 0 with no text."""
    rows = ink(gray).mean(axis=1) > 0.002
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rows.astype(np.int8), [0]])))
    heights = edges[1::2] - edges[::2]
    heights = heights[heights >= 3]  # specks and rules are not lines
    return float(np.median(heights)) if heights.size else 0.0


def _text_scale(height: float) -> float:
    """The resize that brings lines of `height` pixels to TEXT_HEIGHT_PX (within 0.5x..4x; none when close)."""
    if height <= 0:
        return 1.0
    scale = min(4.0, max(0.5, TEXT_HEIGHT_PX / height))
    return 1.0 if abs(scale - 1.0) <= 0.2 else scale


def ink(gray: Image.Image) -> np.ndarray:
    """Dark pixels (below Otsu's threshold) as a boolean array."""
    pixels = np.asarray(gray, dtype=np.uint8)
    return pixels < otsu_threshold(pixels)


def otsu_threshold(pixels: np.ndarray) -> int:
    """The gray level that best splits the pixels into two classes (Otsu, 1979)."""
    share = np.bincount(pixels.ravel(), minlength=256).astype(np.float64) / max(pixels.size, 1)
    below, mean_below = np.cumsum(share), np.cumsum(share * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_below[-1] * below - mean_below) ** 2 / (below * (1.0 - below))
    return int(np.nanargmax(between)) if np.isfinite(between).any() else 128
