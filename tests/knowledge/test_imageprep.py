"""Page clean-up before OCR: skew, polarity, text size, degenerate images, and real Tesseract on a bad photo."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from knowledge import imageprep, ocr
from tests.factory import LATIN_FONT

SENTENCE = "The quarterly revenue of Northwind grew by seventeen percent"


def text_page(lines: list[str], size: tuple[int, int] = (1400, 700), font_px: int = 36) -> Image.Image:
    page = Image.new("L", size, 255)
    draw, font = ImageDraw.Draw(page), ImageFont.truetype(LATIN_FONT, font_px)
    for i, line in enumerate(lines):
        draw.text((60, 60 + i * int(font_px * 1.6)), line, font=font, fill=0)
    return page


def shadowed(page: Image.Image) -> Image.Image:
    """A phone photo's look: light falling off across the page, washed-out ink, noise, a slight blur."""
    pixels = np.asarray(page, dtype=np.float32)
    rows, cols = np.mgrid[0:pixels.shape[0], 0:pixels.shape[1]]
    light = 0.45 + 0.55 * (cols / pixels.shape[1]) * (0.6 + 0.4 * rows / pixels.shape[0])
    pixels = (pixels * 0.7 + 40) * light + np.random.default_rng(0).normal(0, 8, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.8))


LINES = [SENTENCE, "Invoice 7731 was paid by bank transfer on the fifth of March", "The lighthouse keeper logged "
         "a storm", "with waves of eleven metres", "Photosynthesis converts sunlight into glucose"]


@pytest.mark.parametrize("tilt", [-4.0, 2.5])
def test_the_skew_is_measured_and_undone(tilt):
    page = text_page(LINES).rotate(tilt, resample=Image.BICUBIC, expand=True, fillcolor=255)
    assert imageprep.skew_angle(page) == pytest.approx(-tilt, abs=0.5)
    assert imageprep.skew_angle(imageprep.prepare_page(page)) == pytest.approx(0.0, abs=0.5)


def test_text_is_scaled_to_the_height_tesseract_reads_best():
    small = text_page(LINES, size=(700, 350), font_px=14)
    assert imageprep.text_height(small) < 20
    assert imageprep.text_height(imageprep.prepare_page(small)) == pytest.approx(imageprep.TEXT_HEIGHT_PX, rel=0.25)
    close = text_page(LINES, font_px=36)  # near the target already: left alone
    assert imageprep.prepare_page(close).size == close.size


def test_light_text_on_a_dark_page_is_turned_dark_on_light():
    page = text_page(LINES)
    assert imageprep.dark_text(page) and not imageprep.dark_text(ImageOps.invert(page))
    assert imageprep.dark_text(shadowed(page))  # a shadow is not a dark page
    prepared = np.asarray(imageprep.prepare_page(ImageOps.invert(page)))
    assert np.median(prepared) > 200  # a white page again


@pytest.mark.parametrize("image", [Image.new("L", (1, 1), 0), Image.new("RGB", (5, 3), "white"),
                                   Image.new("L", (300, 200), 0), Image.new("RGBA", (40, 4000), (0, 0, 0, 0)),
                                   Image.new("1", (64, 64), 1)], ids=["dot", "tiny", "black", "strip", "bilevel"])
def test_degenerate_images_pass_through(image):
    prepared = imageprep.prepare_page(image)
    assert prepared.mode == "L" and prepared.width >= 1 and prepared.height >= 1


def test_a_shadowed_tilted_photo_reads_only_after_the_clean_up():
    photo = shadowed(text_page(LINES)).rotate(3, resample=Image.BICUBIC, expand=True, fillcolor=200)
    as_is = ocr.ocr_image(photo, "eng", prepare=False)
    cleaned = ocr.ocr_image(photo, "eng", prepare=True)
    assert SENTENCE not in " ".join(as_is.split())
    assert SENTENCE in " ".join(cleaned.split()) and "7731" in cleaned


@pytest.mark.parametrize("turn", [90, 180])
def test_a_sideways_or_upside_down_page_is_read_upright(turn):
    page = text_page(LINES).rotate(turn, expand=True)
    assert SENTENCE not in " ".join(ocr.ocr_image(page, "eng", prepare=False).split())
    assert SENTENCE in " ".join(ocr.ocr_image(page, "eng").split())


def test_a_page_without_text_is_not_turned():
    blank = Image.new("L", (800, 600), 255)
    ImageDraw.Draw(blank).ellipse((100, 100, 500, 400), outline=0, width=9)
    assert ocr.orientation(imageprep.prepare_page(blank), 30) == 0
    assert ocr.ocr_image(blank, "eng").strip() in ("", "O", "o", "()")
